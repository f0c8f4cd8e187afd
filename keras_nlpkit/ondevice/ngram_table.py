"""`NgramTable`: a word trigram count model stored as sorted arrays, read in place.

The query completer mixes it into its network and the spelling corrector scores
words in context with it. It ships as an array file (`array_file.py`) that both
runtimes map and binary-search, so loading builds nothing per n-gram:

    word_data, word_offsets   the lexicon, sorted by code point (`SortedWords`)
    word_counts               each lexicon word's count
    continuation              N₁₊(· w): how many distinct words precede id w
    bigram_starts             V + 1 offsets: the followers of id v are items
    bigram_words/_counts      bigram_starts[v]..[v+1] − 1: w (sorted) and c(v w)
    trigram_contexts          keys u · V + v, sorted; trigram_starts[i]..[i+1] − 1
    trigram_words/_counts     are key i's followers, as above
    model_ids (optional)      each lexicon word's id in a network's vocabulary

Ids: lexicon words 0..n−1 in sorted order, then `<s>` = n, `</s>` = n+1 and
`<unk>` = n+2 (every n-gram word outside the lexicon); V = n+3. Integer arrays take
the narrowest of uint16/uint32/uint64 that holds their values.
"""

import collections
import gzip
import zlib

import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.array_file import array_file_bytes
from keras_nlpkit.ondevice.array_file import read_array_file
from keras_nlpkit.ondevice.array_file import require
from keras_nlpkit.ondevice.sorted_words import SortedWords

START, END, UNKNOWN = "<s>", "</s>", "<unk>"
FORMAT = "ngram-table"
# Every word keeps this much continuation count, so no word has probability 0.
FLOOR = 1e-3
ARRAYS = (
    "word_data",
    "word_offsets",
    "word_counts",
    "continuation",
    "bigram_starts",
    "bigram_words",
    "bigram_counts",
    "trigram_contexts",
    "trigram_starts",
    "trigram_words",
    "trigram_counts",
)


def ngram_table_bytes(word_counts, ngram_counts, discount=0.75, model_ids=None):
    """The array file of a `NgramTable`.

    Args:
        word_counts: `{word: count}`, the lexicon.
        ngram_counts: `{(w1, w2): count, (w1, w2, w3): count}` over queries or
            sentences padded `<s> <s> … </s>` (`keras_nlpkit.text.count_ngrams`);
            other orders are ignored.
        discount: D of the absolute discounting, in (0, 1).
        model_ids: optional function word → a network's token id, stored per
            lexicon word as `model_ids`.
    """
    if not 0.0 < discount < 1.0:
        raise ValueError(f"`discount` must be in (0, 1). Received: discount={discount}")
    if not word_counts:
        raise ValueError("`word_counts` is empty: a table needs at least one word")
    words, order = SortedWords.from_words(list(word_counts))
    n = len(words)
    ids = {word: i for i, word in enumerate(words)}
    ids[START], ids[END] = n, n + 1
    unknown, size = n + 2, n + 3
    levels = {2: collections.Counter(), 3: collections.Counter()}
    for gram, count in ngram_counts.items():
        if len(gram) in levels:
            levels[len(gram)][tuple(ids.get(w, unknown) for w in gram)] += count
    arrays = {
        "word_data": words.data,
        "word_offsets": words.offsets,
        "word_counts": _narrow(np.asarray(list(word_counts.values()))[order]),
    }
    for order_, name in ((2, "bigram"), (3, "trigram")):
        grams = np.asarray(list(levels[order_]), dtype=np.uint64).reshape(-1, order_)
        counts = np.asarray(list(levels[order_].values()), dtype=np.uint64)
        context = grams[:, 0] if order_ == 2 else grams[:, 0] * size + grams[:, 1]
        follower = grams[:, -1]
        by = np.lexsort((follower, context))
        context, follower, counts = context[by], follower[by], counts[by]
        if order_ == 2:  # nearly every word is a context: one start per id, no keys
            starts = np.searchsorted(context, np.arange(size + 1, dtype=np.uint64))
        else:
            keys, starts = np.unique(context, return_index=True)
            arrays["trigram_contexts"] = _narrow(keys)
            starts = np.append(starts, len(context))
        arrays[f"{name}_starts"] = starts.astype(np.uint32)
        arrays[f"{name}_words"] = _narrow(follower)
        arrays[f"{name}_counts"] = _narrow(counts)
    arrays["continuation"] = _narrow(
        np.bincount(arrays["bigram_words"].astype(np.int64), minlength=size)
    )
    if model_ids is not None:
        arrays["model_ids"] = _narrow([model_ids(w) for w in words])
    meta = {"format": FORMAT, "format_version": 1, "discount": discount, "floor": FLOOR}
    return array_file_bytes(arrays, meta)


def _narrow(values):
    """The narrowest unsigned dtype of uint16/uint32/uint64 that holds `values`."""
    values = np.asarray(values)
    top = int(values.max(initial=0))
    dtype = np.uint16 if top < 2**16 else np.uint32 if top < 2**32 else np.uint64
    return values.astype(dtype)


class NgramTable:
    """P(w | u v) by interpolated absolute discounting, from an `ngram_table_bytes` file.

    P(w | u v) = max(c(u v w) − D, 0) / c(u v ·) + D · N₁₊(u v ·) / c(u v ·) · P(w | v),
    the same one level down, and at the bottom Kneser-Ney's continuation unigram
    P(w) ∝ N₁₊(· w) + 0.001 (Ney et al., 1994; Chen & Goodman, 1998). A context never
    seen falls through to the level below. The distribution covers the lexicon,
    `</s>` and `<unk>` (the mass of every word outside the lexicon), and sums to 1.

    Args:
        buffer: the file's bytes or memory map (`array_file.map_file`).
        source: how errors name the file.

    Example:
    ```python
    from keras_nlpkit.ondevice.ngram_table import NgramTable, ngram_table_bytes
    from keras_nlpkit.text.ngrams import count_ngrams

    queries = ["new york city", "new york times", "new jersey"]
    words = {"new": 3, "york": 2, "city": 1, "times": 1, "jersey": 1}
    table = NgramTable(ngram_table_bytes(words, count_ngrams(queries)))
    table.logprob(["new"], "york") > table.logprob(["new"], "jersey")   # True
    ```
    """

    def __init__(self, buffer, source="the n-gram table"):
        arrays, meta = read_array_file(buffer, source)
        if meta.get("format") != FORMAT or meta.get("format_version") != 1:
            raise UserInputError(
                f"{source}: not an n-gram table of format version 1. Received: "
                f"format={meta.get('format')!r}, format_version={meta.get('format_version')!r}"
            )
        (data, offsets, counts, continuation, *levels) = require(arrays, ARRAYS, source)
        self.words = SortedWords(data, offsets)
        self.counts = counts
        self.discount = float(meta["discount"])
        n = len(self.words)
        self.start_id, self.end_id, self.unknown_id = n, n + 1, n + 2
        self.size = n + 3
        if len(continuation) != self.size or len(counts) != n or len(levels[0]) != n + 4:
            raise UserInputError(f"{source}: the arrays' lengths disagree with the lexicon's")
        unigram = continuation.astype(np.float64) + float(meta["floor"])
        unigram[self.start_id] = 0.0  # `<s>` is never predicted
        self.unigram = unigram / unigram.sum()
        self._bigrams = levels[:3]  # (starts, words, counts)
        self._trigrams = levels[3:]  # (contexts, starts, words, counts)
        self._arrays = arrays

    def extra(self, name):
        """An optional array of the file (e.g. `model_ids`), or None."""
        return self._arrays.get(name)

    def index_of(self, word):
        """A word's id: its lexicon index, `end_id` for `</s>`, else -1."""
        if word == END:
            return self.end_id
        return self.words.index_of(word)

    def _context_ids(self, previous_words):
        """Ids of the last two previous words, `<s>`-padded; unknown words → `<unk>`."""
        ids = [self.start_id, self.start_id]
        for word in list(previous_words)[-2:]:
            i = self.words.index_of(word)
            ids.append(i if i >= 0 else self.unknown_id)
        return ids[-2:]

    def _followers(self, previous_words):
        """For the bigram then the trigram context: (follower ids, counts) or None."""
        u, v = self._context_ids(previous_words)
        starts, words, counts = self._bigrams
        lo, hi = int(starts[v]), int(starts[v + 1])
        found = [(words[lo:hi], counts[lo:hi]) if hi > lo else None]
        contexts, starts, words, counts = self._trigrams
        key = u * self.size + v
        at = len(contexts)
        if at and key <= int(contexts[-1]):  # else not there, and past the dtype's range
            # The key in the array's own dtype: a Python int would convert the whole array.
            at = int(np.searchsorted(contexts, contexts.dtype.type(key)))
        if at < len(contexts) and int(contexts[at]) == key:
            lo, hi = int(starts[at]), int(starts[at + 1])
            found.append((words[lo:hi], counts[lo:hi]))
        else:
            found.append(None)
        return found

    def distribution(self, previous_words):
        """P(id | previous words) for every id 0..V−1 (`<s>`'s is 0)."""
        p = self.unigram.copy()
        for level in self._followers(previous_words):
            if level is not None:
                words, counts = level
                total = float(counts.sum(dtype=np.float64))
                p *= self.discount * len(counts) / total
                p[words.astype(np.int64)] += (counts - self.discount) / total
        return p

    def likely(self, previous_words, threshold):
        """Lexicon indices of every word with P ≥ `threshold`, sorted.

        Only the contexts' followers and the words whose unigram share alone reaches
        it can (the back-off weights are below 1), so only those are scored.
        """
        levels = self._followers(previous_words)
        candidates = [np.flatnonzero(self.unigram[: self.start_id] >= threshold)]
        candidates += [words.astype(np.int64) for words, _ in filter(None, levels)]
        index = np.unique(np.concatenate(candidates))
        index = index[index < self.start_id]
        return index[self.probabilities_of(previous_words, index) >= threshold]

    def probabilities_of(self, previous_words, index):
        """P(w | previous words) of the words `index` (ids), with `distribution`'s
        arithmetic: the same numbers, without the whole vector."""
        index = np.asarray(index, dtype=np.int64)
        p = self.unigram[index]
        for level in self._followers(previous_words):
            if level is not None:
                words, counts = level
                total = float(counts.sum(dtype=np.float64))
                p = p * (self.discount * len(counts) / total)
                at = np.minimum(np.searchsorted(words, index), len(words) - 1)
                hit = words[at] == index
                p[hit] += (counts[at[hit]] - self.discount) / total
        return p

    def probabilities(self, previous_words):
        """P(w | the last two previous words) for each lexicon word, in sorted order."""
        return self.distribution(previous_words)[: self.start_id]

    def logprob(self, previous_words, word):
        """log P(`word` | previous words); a word outside the lexicon gets `<unk>`'s."""
        i = self.index_of(word)
        return float(
            np.log(self.probabilities_of(previous_words, [self.unknown_id if i < 0 else i])[0])
        )


def parse_ngrams(data, source):
    """`{(w1, w2[, w3]): count}` from the bytes of a 0.3 `ngrams.tsv.gz` file.

    Exports before 0.4 shipped the counts as gzipped `w1 w2[ w3]<TAB>count` lines;
    `QueryCompleter` still reads them (building the table in memory, slowly).
    """
    try:
        lines = gzip.decompress(data).decode("utf-8").splitlines()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        raise UserInputError(f"{source}: not a gzipped UTF-8 n-gram file") from None
    counts = collections.Counter()
    for number, line in enumerate(lines, 1):
        gram, tab, count = line.rpartition("\t")
        words = tuple(gram.split(" "))
        if not tab or not count.isdigit() or len(words) not in (2, 3) or not all(words):
            raise UserInputError(
                f"{source}: line {number} is not `w1 w2[ w3]<TAB>count`. Received: {line[:60]!r}"
            )
        counts[words] = int(count)
    if not counts:
        raise UserInputError(f"{source}: holds no n-gram")
    return counts

"""Search-query completion on the device, and the count-based peer it is measured against.

TensorFlow-free (NumPy and the LiteRT interpreter only), like `keras_nlpkit.runtime`:
this is the code a phone app mirrors.

How a suggestion strip is computed (`QueryCompleter.suggest`):

1. The words before the one being typed are fed to the exported word-level language
   model, one `step` (LSTM) or `decode` (GPT) call per word, from a cached state: a
   keystroke inside a word costs no model call, a space costs one.
2. The model's next-word distribution is spread over the *lexicon*, every word seen
   in training with its count: a word in the model's vocabulary gets its own
   probability; a rarer one shares the `<unk>` probability in proportion to its
   count. So rare words (names, places) can still be completed, which a fixed
   6k-word softmax alone could not. It is then mixed with a count model of the
   training queries shipped beside it (`InterpolatedNgram`, `ngrams.tsv.gz`), which
   remembers popular queries word for word where the network blurs them.
3. The suggestions are the k most probable lexicon words that start with the typed
   characters (a binary search over the sorted lexicon, then a partial sort). With
   word tokens the beam search over the step signature that the recipe calls for is
   exact at width k: one step scores every candidate word at once.

Typo tolerance (`QueryCompleter(..., corrector=...)`): previous words outside the
model's vocabulary are first repaired by the spelling model
(`keras_nlpkit.correction.SpellingCorrector`), and the typed prefix also matches
lexicon words whose beginning is one edit (substitution, insertion, deletion,
transposition) away, at a fixed log-probability penalty.
"""

import bisect
import collections
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from keras_nlpkit.io_utils import UserInputError
from keras_nlpkit.io_utils import read_text_lines
from keras_nlpkit.runtime import OnDeviceModel
from keras_nlpkit.tokenizers import WordTokenizer

LEXICON_FILE = "lexicon.tsv"
MARKER_FILE = "completion.json"  # marks a query-completion model (and its settings)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


# --- data ----------------------------------------------------------------------------------
def normalize_query(text):
    """Lower-case words separated by single spaces (METRICS.md's query form)."""
    return " ".join(text.lower().split())


def parse_query_line(line):
    """A query from a plain line or a TREC topic line (`id:query`, `id:n:query`)."""
    parts = line.split(":", 2)
    if len(parts) >= 2 and parts[0].strip().isdigit():
        if len(parts) == 3 and parts[1].strip().isdigit():
            return normalize_query(parts[2])
        return normalize_query(line.split(":", 1)[1])
    return normalize_query(line)


def read_queries(paths, argument="--corpus"):
    """Queries from text files, one a line; empty lines are dropped."""
    queries = []
    for path in paths:
        found = [q for q in map(parse_query_line, read_text_lines(path, argument)) if q]
        if not found:
            raise UserInputError(f"{argument}: no query in the file. Received: {path}")
        queries.extend(found)
    return queries


def split_queries(queries, dev_fraction, by="query"):
    """A stable train/dev split by hashing the query text (default) or each line.

    `"line"` treats the file as the log it is: a query issued again by another user
    may land in dev while an earlier issue of it trained the model, as happens to a
    deployed completer. `"query"` keeps every repeat of a query on one side, the
    stricter split (no dev query was seen whole in training).
    """
    if by not in ("line", "query"):
        raise ValueError(f"`by` must be 'line' or 'query'. Received: by={by!r}")
    train, dev = [], []
    for i, query in enumerate(queries):
        key = f"{i}\t{query}" if by == "line" else query
        digest = int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16)
        (dev if digest % 10000 < dev_fraction * 10000 else train).append(query)
    return train, dev


def word_counts(queries):
    return collections.Counter(word for query in queries for word in query.split())


def write_lexicon(path, counts):
    """`word<TAB>count` lines, sorted by word (binary search on the device)."""
    from keras_nlpkit.io_utils import atomic_write_text

    atomic_write_text(path, "".join(f"{w}\t{counts[w]}\n" for w in sorted(counts)))


def read_lexicon(path):
    words, counts = [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        word, count = line.rsplit("\t", 1)
        words.append(word)
        counts.append(int(count))
    return words, np.asarray(counts, dtype=np.float64)


# --- prefix search -------------------------------------------------------------------------
class Lexicon:
    """Sorted words with counts; `range(prefix)` finds the words starting with it."""

    def __init__(self, words, counts):
        order = sorted(range(len(words)), key=lambda i: words[i])
        self.words = [words[i] for i in order]
        self.counts = np.asarray(counts, dtype=np.float64)[order]
        self.index = {word: i for i, word in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def range(self, prefix):
        if not prefix:
            return 0, len(self.words)
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\U0010ffff", lo)
        return lo, hi


def top_in_range(scores, lo, hi, k):
    """Indices of the k best scores in [lo, hi), best first."""
    if hi - lo <= k:
        idx = np.arange(lo, hi)
    else:
        idx = lo + np.argpartition(-scores[lo:hi], k)[:k]
    return idx[np.argsort(-scores[idx], kind="stable")]


def one_edit_variants(prefix):
    """Strings one edit from `prefix`: deletions, transpositions, substitutions, insertions."""
    splits = [(prefix[:i], prefix[i:]) for i in range(len(prefix) + 1)]
    variants = {a + b[1:] for a, b in splits if b}
    variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    variants |= {a + c + b[1:] for a, b in splits if b for c in LETTERS}
    variants |= {a + c + b for a, b in splits for c in LETTERS}
    variants.discard(prefix)
    return variants


class PrefixCompleter:
    """Top-k lexicon words for a typed prefix, given a score per lexicon word.

    Subclasses define `scores(previous_words) -> (len(lexicon),)` log-scores.
    """

    def __init__(self, lexicon, typo_penalty=None, min_fuzzy_prefix=2):
        self.lexicon = lexicon
        self.typo_penalty = typo_penalty  # None: exact prefixes only
        self.min_fuzzy_prefix = min_fuzzy_prefix

    def suggest_words(self, previous_words, prefix, k=3):
        scores = self.scores(tuple(previous_words))
        lo, hi = self.lexicon.range(prefix)
        best = {int(i): float(scores[i]) for i in top_in_range(scores, lo, hi, k)}
        if self.typo_penalty is not None and len(prefix) >= self.min_fuzzy_prefix:
            for variant in one_edit_variants(prefix):
                lo, hi = self.lexicon.range(variant)
                if lo == hi:
                    continue
                for i in top_in_range(scores, lo, hi, k):
                    score = float(scores[i]) - self.typo_penalty
                    if score > best.get(int(i), -math.inf):
                        best[int(i)] = score
        ranked = sorted(best.items(), key=lambda item: -item[1])[:k]
        return [(self.lexicon.words[i], score) for i, score in ranked]

    def suggest(self, text, k=3):
        """Suggestions for the text typed so far (a trailing space: the next word)."""
        words = normalize_query(text).split()
        if text[-1:].isspace() or not words:
            previous, prefix = words, ""
        else:
            previous, prefix = words[:-1], words[-1]
        return [word for word, _ in self.suggest_words(previous, prefix, k)]


# --- the on-device model -------------------------------------------------------------------
def find_export_dir(model_dir, argument="--model"):
    """The export folder of a query-completion model: DIR/export, or DIR itself."""
    model_dir = Path(model_dir)
    for candidate in (model_dir / "export", model_dir):
        if (candidate / MARKER_FILE).is_file() and (candidate / LEXICON_FILE).is_file():
            return candidate
    if (model_dir / "spelling.json").is_file() or (model_dir / "export" / "spelling.json").is_file():
        raise UserInputError(
            f"{argument}: this is a spelling-correction model, not a query-completion one "
            f"(use `nlpkit correct`). Received: {model_dir}"
        )
    raise UserInputError(
        f"{argument}: not a query-completion model folder (no {MARKER_FILE} and "
        f"{LEXICON_FILE}, written by `nlpkit train query-completion`). Received: {model_dir}"
    )


class QueryCompleter(PrefixCompleter):
    """Query completion through the exported model in the LiteRT interpreter.

    Args:
        model_dir: a folder written by `nlpkit train query-completion` (or its
            `export/` folder).
        variant: which TFLite file: `"int8"` (default), `"dynamic_int8"`,
            `"float16"` or `"float32"`.
        corrector: optional spelling corrector (`correct(word, k)`) for typo
            tolerance; with it, typed prefixes also match one edit away.
        typo_penalty: log-probability subtracted from a candidate matched one
            edit away (default: the value in `completion.json`).
        ngram_weight: the count model's weight in the mixture, 0 for the network
            alone (default: the value in `completion.json`).

    Example:
    ```python
    from keras_nlpkit.completion import QueryCompleter

    completer = QueryCompleter("runs/queries")
    completer.suggest("new york ci")   # ['city', ...]
    ```
    """

    def __init__(self, model_dir, variant="int8", corrector=None, typo_penalty=None,
                 ngram_weight=None, num_threads=1, cache_size=256):
        export_dir = find_export_dir(model_dir)
        settings = json.loads((export_dir / MARKER_FILE).read_text(encoding="utf-8"))
        if corrector is not None and typo_penalty is None:
            typo_penalty = settings.get("typo_penalty", 5.0)
        super().__init__(Lexicon(*read_lexicon(export_dir / LEXICON_FILE)),
                         typo_penalty=typo_penalty if corrector is not None else None)
        self.model = OnDeviceModel(export_dir, variant=variant, num_threads=num_threads)
        self.tokenizer = self.model.tokenizer
        if not isinstance(self.tokenizer, WordTokenizer):
            raise UserInputError(f"--model: the model has no word tokenizer. Received: {model_dir}")
        self.corrector = corrector
        # Lexicon word → model id, and each out-of-vocabulary word's share of <unk>.
        self.token_ids = np.asarray([self.tokenizer.token_id(w) for w in self.lexicon.words])
        oov = self.token_ids == WordTokenizer.unknown_id
        self.oov = oov
        self.oov_share = np.where(oov, np.log(np.maximum(self.lexicon.counts, 1e-9)
                                             / max(self.lexicon.counts[oov].sum(), 1.0)), 0.0)
        # The count model mixed in (recipes since the n-gram file was added ship one).
        if ngram_weight is None:
            ngram_weight = settings.get("ngram_weight", 0.0)
        self.ngram_weight = float(ngram_weight)
        self.ngram = None
        if self.ngram_weight > 0.0:
            self.ngram = InterpolatedNgram(self.lexicon, read_ngrams(export_dir / NGRAM_FILE))
        self._cache = collections.OrderedDict()  # previous words -> [state, logprobs, scores]
        self._cache_size = cache_size
        self._corrections = {}

    def context_ids(self, previous_words):
        """Model ids of the previous words; with a corrector, unknown words are repaired."""
        ids = []
        for word in previous_words:
            token = self.tokenizer.token_id(word)
            if token == WordTokenizer.unknown_id and self.corrector is not None:
                token = self.tokenizer.token_id(self._correct(word))
            ids.append(token)
        return ids

    def _correct(self, word):
        if word not in self._corrections:
            best = self.corrector.correct(word, k=1)
            self._corrections[word] = best[0][0] if best else word
        return self._corrections[word]

    def next_word_logprobs(self, previous_words):
        """log P(next word | `<s>` previous words) over the model's vocabulary."""
        return self._context(tuple(previous_words))[1]

    def _context(self, previous_words):
        if previous_words in self._cache:
            self._cache.move_to_end(previous_words)
            return self._cache[previous_words]
        if not previous_words:
            logprobs, state = self.model.start([WordTokenizer.start_id])
        else:
            parent_state = self._context(previous_words[:-1])[0]
            token = self.context_ids(previous_words[-1:])
            logprobs, state = self.model.advance(token, parent_state)
            logprobs = logprobs[0]
        entry = [state, logprobs, None]
        self._cache[previous_words] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    def scores(self, previous_words):
        """log P(next word = each lexicon word | previous words), cached per context."""
        entry = self._context(tuple(previous_words))
        if entry[2] is None:
            logprobs = entry[1]
            scores = np.where(self.oov, logprobs[WordTokenizer.unknown_id] + self.oov_share,
                              logprobs[self.token_ids])
            if self.ngram is not None:
                mixed = ((1.0 - self.ngram_weight) * np.exp(scores)
                         + self.ngram_weight * self.ngram.probabilities(previous_words))
                scores = np.log(np.maximum(mixed, 1e-30))
            entry[2] = scores
        return entry[2]

    def sequence_logprobs(self, query):
        """log P of each token of `<s> query </s>` after `<s>` (perplexity's terms)."""
        ids = [WordTokenizer.start_id] + self.tokenizer.encode(query) + [WordTokenizer.end_id]
        from keras_nlpkit.runtime import log_softmax

        logits = self.model.logits(ids[:-1])  # (seq, vocab), one serving_default call
        logprobs = log_softmax(logits)
        return logprobs[np.arange(len(ids) - 1), ids[1:]]


# --- the count model mixed into the network's distribution ----------------------------------
NGRAM_FILE = "ngrams.tsv.gz"
START, END = "<s>", "</s>"


def count_ngrams(queries, max_order=3):
    """Counts of every 1..max_order-gram of `<s> <s> query </s>` with a real last word."""
    counts = collections.Counter()
    for query in queries:
        words = [START] * (max_order - 1) + query.split() + [END]
        for order in range(1, max_order + 1):
            for i in range(max_order - 1, len(words)):
                counts[tuple(words[i - order + 1 : i + 1])] += 1
    return counts


def write_ngrams(path, counts):
    """Gzipped `w1 w2[ w3]<TAB>count` lines, one per bigram and trigram.

    All are kept: dropping the singletons shrinks the file 8× but cost 0.012 KSR on
    the TREC queries' dev split. Gzip, which every phone has, makes it 4× smaller.
    """
    import gzip

    from keras_nlpkit.io_utils import atomic_write_bytes

    text = "".join(f"{' '.join(g)}\t{c}\n" for g, c in sorted(counts.items()) if len(g) > 1)
    atomic_write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))


def read_ngrams(path):
    import gzip

    counts = collections.Counter()
    for line in gzip.decompress(Path(path).read_bytes()).decode("utf-8").splitlines():
        gram, count = line.rsplit("\t", 1)
        counts[tuple(gram.split(" "))] = int(count)
    return counts


class InterpolatedNgram:
    """P(w | u v) over the lexicon by interpolated absolute discounting.

    P(w | u v) = max(c(u v w) − D, 0) / c(u v ·) + D · N₁₊(u v ·) / c(u v ·) · P(w | v),
    the same one level down, and at the bottom Kneser-Ney's continuation unigram,
    P(w) ∝ N₁₊(· w), the number of distinct words seen before w (Ney et al., 1994;
    Chen & Goodman, 1998). A context never seen falls through to the level below.
    `QueryCompleter` mixes it linearly with the network: the counts remember whole
    popular queries, the network generalises across similar ones.

    Args:
        lexicon: the `Lexicon` whose words are scored.
        counts: bigram and trigram counts (`count_ngrams`, `read_ngrams`).
        discount: D, in (0, 1).
    """

    def __init__(self, lexicon, counts, discount=0.75):
        if not 0.0 < discount < 1.0:
            raise ValueError(f"`discount` must be in (0, 1). Received: discount={discount}")
        self.lexicon = lexicon
        self.discount = discount
        left_contexts = np.zeros(len(lexicon))
        self.followers = collections.defaultdict(dict)  # context tuple -> {word: count}
        for gram, count in counts.items():
            if len(gram) < 2:
                continue
            self.followers[gram[:-1]][gram[-1]] = count
            if len(gram) == 2 and gram[-1] in lexicon.index:
                left_contexts[lexicon.index[gram[-1]]] += 1
        left_contexts += 1e-3  # every lexicon word keeps a little mass
        self.unigram = left_contexts / left_contexts.sum()

    def _table(self, context):
        """(lexicon indices, discounted shares, back-off weight) of a seen context."""
        followers = self.followers[context]
        total = float(sum(followers.values()))
        known = [(self.lexicon.index[w], c) for w, c in followers.items()
                 if w in self.lexicon.index]
        index = np.asarray([i for i, _ in known], dtype=np.int64)
        shares = np.asarray([c - self.discount for _, c in known]) / total
        return index, shares, self.discount * len(followers) / total

    def probabilities(self, previous_words):
        """P(· | the last two previous words) over the lexicon's words."""
        context = (START, START) + tuple(previous_words)
        p = self.unigram
        for order in (1, 2):
            key = context[len(context) - order :]
            if key in self.followers:
                index, shares, backoff = self._table(key)
                p = p * backoff
                p[index] += shares
        return p


# --- the peer ------------------------------------------------------------------------------
class TrigramCompleter(PrefixCompleter):
    """Stupid-backoff word trigram filtered by the typed prefix (Brants et al., 2007).

    S(w | u v) = c(u v w) / c(u v) if c(u v w) > 0, else 0.4 · S(w | v), down to
    0.4² · c(w) / N: the classic count-based completer, trained on the same
    queries, that the neural completer is measured against.
    """

    backoff = 0.4

    def __init__(self, queries, typo_penalty=None):
        unigrams = word_counts(queries)
        super().__init__(Lexicon(list(unigrams), list(unigrams.values())), typo_penalty)
        self.total = float(sum(unigrams.values()))
        self.bigrams = collections.defaultdict(collections.Counter)
        self.trigrams = collections.defaultdict(collections.Counter)
        for query in queries:
            words = ["<s>", "<s>"] + query.split()
            for u, v, w in zip(words, words[1:], words[2:]):
                self.bigrams[v][w] += 1
                self.trigrams[(u, v)][w] += 1
        base = math.log(self.backoff**2) + np.log(self.lexicon.counts / self.total)
        self.unigram_scores = base

    def scores(self, previous_words):
        context = ("<s>", "<s>") + tuple(previous_words)
        u, v = context[-2], context[-1]
        scores = self.unigram_scores.copy()
        for level, key, table in ((1, v, self.bigrams), (0, (u, v), self.trigrams)):
            if key in table:  # the highest order seen wins
                index, log_share = self._continuations(table, key)
                scores[index] = log_share + math.log(self.backoff**level)
        return scores

    def _continuations(self, table, key):
        """(lexicon indices, log relative counts) of a context's continuations, cached."""
        entry = table[key]
        if isinstance(entry, collections.Counter):
            words, counts = zip(*entry.items())
            index = np.asarray([self.lexicon.index[w] for w in words])
            counts = np.asarray(counts, dtype=np.float64)
            entry = table[key] = (index, np.log(counts / counts.sum()))
        return entry

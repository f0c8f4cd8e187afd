"""`InterpolatedNgram`: the count model the query completer mixes into the network.

The counts ship beside the model as `ngrams.tsv.gz`: gzipped UTF-8 lines
`w1 w2<TAB>count` and `w1 w2 w3<TAB>count`, one per bigram and trigram of the
training queries, `<s>` padding the start of a query and `</s>` ending it.
"""

import collections
import gzip
import zlib

import numpy as np

from keras_nlpkit.errors import UserInputError

NGRAM_FILE = "ngrams.tsv.gz"
START, END = "<s>", "</s>"


def parse_ngrams(data, source):
    """`{(w1, w2[, w3]): count}` from the bytes of an `ngrams.tsv.gz` file."""
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
        counts: bigram and trigram counts (`keras_nlpkit.text.count_ngrams`, `parse_ngrams`).
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
        known = [
            (self.lexicon.index[w], c) for w, c in followers.items() if w in self.lexicon.index
        ]
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

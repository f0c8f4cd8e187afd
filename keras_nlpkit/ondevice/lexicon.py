"""The lexicon file (`lexicon.tsv`, `known_words.tsv`) and prefix search over it.

One format for every recipe: UTF-8 `word<TAB>count` lines, most frequent first
(ties by spelling), no header. `parse_lexicon` reads it into `{word: count}` in
file order; `Lexicon` sorts the words for prefix search.
"""

import bisect

import numpy as np

from keras_nlpkit.errors import UserInputError

LEXICON_FILE = "lexicon.tsv"
KNOWN_WORDS_FILE = "known_words.tsv"


def parse_lexicon(data, source):
    """`{word: count}` from the bytes of a lexicon file; `source` names it in errors."""
    lexicon = {}
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserInputError(f"{source}: not UTF-8 text") from None
    for number, line in enumerate(lines, 1):
        word, tab, count = line.rpartition("\t")
        if not tab or not word or not count.isdigit():
            raise UserInputError(
                f"{source}: line {number} is not `word<TAB>count`. Received: {line[:60]!r}"
            )
        lexicon[word] = int(count)
    if not lexicon:
        raise UserInputError(f"{source}: the lexicon is empty")
    return lexicon


class Lexicon:
    """Sorted words with counts; `range(prefix)` finds the words starting with it.

    Args:
        words: the words, in any order.
        counts: one count per word.
    """

    def __init__(self, words, counts):
        order = sorted(range(len(words)), key=lambda i: words[i])
        self.words = [words[i] for i in order]
        self.counts = np.asarray(counts, dtype=np.float64)[order]
        self.index = {word: i for i, word in enumerate(self.words)}
        self.longest = max(map(len, self.words), default=0)

    @classmethod
    def from_counts(cls, counts):
        """A `Lexicon` of a `{word: count}` dict (e.g. `parse_lexicon`'s)."""
        return cls(list(counts), list(counts.values()))

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def range(self, prefix):
        """`(lo, hi)`: the words starting with `prefix` are `words[lo:hi]`."""
        if not prefix:
            return 0, len(self.words)
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\U0010ffff", lo)
        return lo, hi

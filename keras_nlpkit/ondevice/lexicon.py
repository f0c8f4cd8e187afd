"""The lexicon file (`lexicon.tsv`, `known_words.tsv`) and prefix search over it.

One format for every recipe: UTF-8 `word<TAB>count` lines, most frequent first
(ties by spelling), no header. `parse_lexicon` reads it into `{word: count}` in
file order; `Lexicon` sorts the words for prefix search (an `NgramTable` file
holds them sorted already).
"""

import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.sorted_words import SortedWords

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
        self.words, order = SortedWords.from_words(list(words))
        self.counts = np.asarray(counts, dtype=np.float64)[order]
        self.longest = self.words.longest_bytes()

    @classmethod
    def from_counts(cls, counts):
        """A `Lexicon` of a `{word: count}` dict (e.g. `parse_lexicon`'s)."""
        return cls(list(counts), list(counts.values()))

    @classmethod
    def from_sorted(cls, words, counts):
        """A `Lexicon` over a `SortedWords` as it lies (an `NgramTable`'s), without copying."""
        lexicon = cls.__new__(cls)
        lexicon.words = words
        lexicon.counts = np.asarray(counts, dtype=np.float64)
        lexicon.longest = words.longest_bytes()
        return lexicon

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.words

    def index_of(self, word):
        """The index of `word` in sorted order, or -1."""
        return self.words.index_of(word)

    def range(self, prefix):
        """`(lo, hi)`: the words starting with `prefix` are `words[lo:hi]`."""
        return self.words.range(prefix)

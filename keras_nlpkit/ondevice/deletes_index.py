"""`DeletesIndex`: SymSpell-style lookup of the lexicon words near a typed word."""

import numpy as np

from keras_nlpkit.ondevice.edit_distance import character_codes
from keras_nlpkit.ondevice.edit_distance import deletes
from keras_nlpkit.ondevice.edit_distance import osa_distances_encoded


class DeletesIndex:
    """SymSpell-style candidates: lexicon words within an edit distance of a word.

    Every word's first `prefix_length` characters, with up to `max_distance`
    characters deleted, point to the word; a query looks up its own deletes and
    keeps the words whose Damerau-Levenshtein (OSA) distance is small enough.

    Args:
        words: the lexicon words (a list; answers are indices into it).
        max_distance: the largest edit distance `lookup` answers.
        prefix_length: how much of each word the index keys on.
    """

    def __init__(self, words, max_distance=2, prefix_length=7):
        self.words = words
        self.max_distance = max_distance
        self.prefix_length = prefix_length
        index = {}
        by_prefix = {}
        for i, word in enumerate(words):
            by_prefix.setdefault(word[:prefix_length], []).append(i)
        for prefix, ids in by_prefix.items():
            for key in deletes(prefix, max_distance):
                index.setdefault(key, []).extend(ids)
        self.index = index
        self.codes, self.lengths = character_codes(words)

    def reachable(self, word, max_distance=None):
        """The indices of the words `lookup` measures: sharing a delete with `word`, and
        of a length within `max_distance` (an int array, ascending)."""
        max_distance = self.max_distance if max_distance is None else max_distance
        found = set()
        for key in deletes(word[: self.prefix_length], max_distance):
            found.update(self.index.get(key, ()))
        ids = np.sort(
            np.fromiter(found, np.int64, len(found))
        )  # in word order, as in every runtime
        return ids[np.abs(self.lengths[ids] - len(word)) <= max_distance]

    def lookup(self, word, max_distance=None):
        """`[(word index, distance), ...]` of the lexicon words within `max_distance`."""
        max_distance = self.max_distance if max_distance is None else max_distance
        ids = self.reachable(word, max_distance)
        distances = osa_distances_encoded(word, self.codes[ids], self.lengths[ids])
        keep = distances <= max_distance
        return list(zip(ids[keep].tolist(), distances[keep].tolist()))

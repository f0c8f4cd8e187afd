"""Damerau-Levenshtein (OSA) distances, edit alignments, deletes and the deletes index."""

import random

from keras_nlpkit.ondevice import DeletesIndex
from keras_nlpkit.ondevice import edit_operations
from keras_nlpkit.ondevice import osa_distances
from keras_nlpkit.ondevice.edit_distance import deletes


def brute_osa(a, b):
    """The OSA distance, one cell at a time (the textbook table)."""
    d = [[i + j if not i * j else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_vectorised_distances_equal_the_table():
    assert osa_distances("abcd", ["abcd", "abdc", "abd", "xabcd", "dcba"]).tolist() == [
        0,
        1,
        1,
        1,
        3,
    ]
    assert osa_distances("ca", ["abc"]).tolist() == [3]  # OSA, not full Damerau (2)
    rng = random.Random(2)
    for _ in range(200):
        word = "".join(rng.choice("abc'") for _ in range(rng.randint(0, 7)))
        others = [
            "".join(rng.choice("abc'") for _ in range(rng.randint(0, 7)))
            for _ in range(rng.randint(1, 6))
        ]
        assert osa_distances(word, others).tolist() == [brute_osa(word, o) for o in others]
    assert osa_distances("x", []).tolist() == []


def test_edit_operations():
    assert edit_operations("becuase", "because") == [("tra", "a", "u")]
    assert edit_operations("proble", "problem") == [("del", "e", "m")]
    assert edit_operations("xabcd", "abcd") == [("ins", "^", "x")]
    assert edit_operations("abandonned", "abandoned") == [("ins", "n", "n")]
    assert edit_operations("seperate", "separate") == [("sub", "a", "e")]
    assert edit_operations("same", "same") == []
    rng = random.Random(0)
    for _ in range(300):
        typo = "".join(rng.choice("abc") for _ in range(rng.randint(0, 6)))
        word = "".join(rng.choice("abc") for _ in range(rng.randint(1, 6)))
        assert len(edit_operations(typo, word)) == osa_distances(typo, [word])[0], (typo, word)


def test_deletes_and_the_index_find_every_word_within_the_distance():
    assert deletes("abc", 1) == {"abc", "bc", "ac", "ab"}
    assert deletes("ab", 2) == {"ab", "a", "b", ""}
    words = ["spelling", "spewing", "swelling", "spell", "smelling", "cat"]
    index = DeletesIndex(words, max_distance=2)
    found = dict(index.lookup("speling"))
    expected = {
        i: brute_osa("speling", w) for i, w in enumerate(words) if brute_osa("speling", w) <= 2
    }
    assert found == expected
    assert dict(index.lookup("speling", max_distance=1)) == {0: 1, 1: 1}  # spelling, spewing

"""The typos evaluation injects: one error of each kind, as named, on a fixed seed."""

import numpy as np
import pytest

from keras_nlpkit.ondevice.edit_distance import osa_distances
from keras_nlpkit.text.typos import KEYBOARD_NEIGHBOURS
from keras_nlpkit.text.typos import KINDS
from keras_nlpkit.text.typos import inject_typos
from keras_nlpkit.text.typos import misspell


def test_each_kind_makes_the_error_it_names():
    rng = np.random.default_rng(0)
    word = "necessary"
    for _ in range(20):
        substituted = misspell(word, rng, "substitute")
        (i,) = [j for j in range(len(word)) if substituted[j] != word[j]] or [None]
        assert i is None or substituted[i] in KEYBOARD_NEIGHBOURS[word[i]]
        assert len(misspell(word, rng, "delete")) == len(word) - 1
        assert len(misspell(word, rng, "insert")) == len(word) + 1
        swapped = misspell(word, rng, "transpose")
        assert sorted(swapped) == sorted(word) and osa_distances(word, [swapped])[0] <= 1
        assert len(misspell(word, rng, "double")) == len(word) + 1
        assert misspell(word, rng, "undouble") == "necesary"
        assert misspell("receive", rng, "phonetic") != "receive"
    with pytest.raises(ValueError, match="kind='swap'"):
        misspell(word, rng, "swap")


def test_keyboard_neighbours_are_adjacent_keys():
    assert set(KEYBOARD_NEIGHBOURS["s"]) == set("adwezx")
    assert set(KEYBOARD_NEIGHBOURS["q"]) == set("wa")
    assert all(ch not in near for ch, near in KEYBOARD_NEIGHBOURS.items())


def test_random_kinds_are_applicable_and_one_edit_away():
    rng = np.random.default_rng(1)
    for word in ("a", "it", "the", "letter", "zzz"):
        changed = 0
        for _ in range(30):
            typo = misspell(word, rng)
            changed += typo != word
            assert osa_distances(word, [typo])[0] <= 1, (word, typo)  # no phonetic swap applies
        assert changed >= 25, word  # a substitution can draw the same letter back rarely
    assert set(KINDS) == {
        "substitute",
        "delete",
        "insert",
        "transpose",
        "double",
        "undouble",
        "phonetic",
    }


def test_inject_typos_changes_one_word_of_three_letters_or_more():
    queries = ["new york city", "a b", "weather boston"]
    typed = inject_typos(queries, seed=0)
    assert typed == inject_typos(queries, seed=0)  # seeded
    assert typed[1] == "a b"  # no word of 3+ letters
    for query, typo in zip(queries, typed):
        changed = [(a, b) for a, b in zip(query.split(), typo.split()) if a != b]
        assert len(typo.split()) == len(query.split()) and len(changed) <= 1
        assert all(len(a) >= 3 for a, _ in changed)

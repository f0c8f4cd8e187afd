"""Prefix search over the lexicon, exact and one edit away, on fixed scores."""

import numpy as np
import pytest

from keras_nlpkit.ondevice import Lexicon
from keras_nlpkit.ondevice import PrefixCompleter
from keras_nlpkit.ondevice.prefix_completer import normalize_query
from keras_nlpkit.ondevice.prefix_completer import one_edit_variants
from keras_nlpkit.ondevice.prefix_completer import top_in_range


def test_prefix_search_and_one_edit_variants():
    lexicon = Lexicon(["york", "yorker", "you", "zoo", "ant"], [5, 1, 9, 2, 3])
    lo, hi = lexicon.range("yo")
    assert lexicon.words[lo:hi] == ["york", "yorker", "you"]
    assert lexicon.range("q")[0] == lexicon.range("q")[1]
    variants = one_edit_variants("yrok")
    assert {"york", "yok", "yrokk", "yrol"} <= variants and "yrok" not in variants
    assert len(variants) == len(set(variants))


class FixedScores(PrefixCompleter):
    """Scores by the previous word: what the network or the counts would say."""

    table = {
        (): {"york": -1.0, "yorker": -3.0, "you": -0.5, "zoo": -2.0, "ant": -4.0},
        ("new",): {"york": -0.1, "yorker": -0.2, "you": -5.0, "zoo": -6.0, "ant": -7.0},
    }

    def scores(self, previous_words):
        table = self.table[tuple(previous_words)]
        return np.asarray([table[w] for w in self.lexicon.words])


def test_the_strip_is_the_k_best_matching_words_in_score_order():
    lexicon = Lexicon(["york", "yorker", "you", "zoo", "ant"], [5, 1, 9, 2, 3])
    exact = FixedScores(lexicon)
    assert exact.suggest("yo") == ["you", "york", "yorker"]
    assert exact.suggest("new yo") == ["york", "yorker", "you"]
    assert exact.suggest("new ") == ["york", "yorker", "you"]  # a space: the next word
    assert exact.suggest("") == ["you", "york", "zoo"]
    assert exact.suggest("yrok") == [] and exact.suggest("qq", k=5) == []
    assert exact.suggest_words(("new",), "yo", 1) == [("york", -0.1)]
    fuzzy = FixedScores(lexicon, typo_penalty=2.0)
    # "yrok" is one transposition from "york": found, penalised by 2.
    assert fuzzy.suggest_words(("new",), "yrok", 3) == [("york", -2.1), ("yorker", -2.2)]
    assert fuzzy.suggest_words((), "y", 3) == [("you", -0.5), ("york", -1.0), ("yorker", -3.0)]


def test_helpers():
    assert normalize_query("  New   YORK ") == "new york"
    scores = np.asarray([0.0, 5.0, 1.0, 5.0, 3.0])
    assert top_in_range(scores, 0, 5, 3).tolist() == [1, 3, 4]  # ties: the lower index first
    assert top_in_range(scores, 2, 4, 5).tolist() == [3, 2]


def test_ties_at_the_k_th_place_go_to_the_lower_index():
    # Eight equal scores compete for the last two places: always indices 1 and 2.
    scores = np.asarray([9.0] + [1.0] * 8 + [5.0])
    for k, expected in ((3, [0, 9, 1]), (4, [0, 9, 1, 2])):
        assert top_in_range(scores, 0, len(scores), k).tolist() == expected
        reversed_order = top_in_range(scores[::-1].copy(), 0, len(scores), k).tolist()
        assert reversed_order == [9, 0, 1, 2][:k]


class PhraseScores(PrefixCompleter):
    """log P(next word | previous words), hand-set: "new" → york (0.8) → city (0.5)."""

    table = {
        (): {"new": 0.5, "york": 0.1, "city": 0.1, "times": 0.3},
        ("new",): {"new": 0.05, "york": 0.8, "city": 0.05, "times": 0.1},
        ("new", "york"): {"new": 0.05, "york": 0.05, "city": 0.5, "times": 0.4},
    }
    uniform = {"new": 0.25, "york": 0.25, "city": 0.25, "times": 0.25}  # any other context

    def scores(self, previous_words):
        table = self.table.get(tuple(previous_words), self.uniform)
        return np.log([table[w] for w in self.lexicon.words])


def test_phrases_grow_while_the_next_word_is_confident():
    completer = PhraseScores(Lexicon(["new", "york", "city", "times"], [1, 1, 1, 1]))
    log = np.log
    # Heads: new (0.5), times (0.3), york (0.1); new → york at 0.8 ≥ 0.45, then
    # york → city at 0.5 ≥ 0.45: "new york" (0.4) and "new york city" (0.2) outrank york.
    phrases = completer.suggest_phrases((), "", k=4, confidence=0.45)
    assert [words for words, _ in phrases] == [
        ("new",),
        ("new", "york"),
        ("times",),
        ("new", "york", "city"),
    ]
    np.testing.assert_allclose([s for _, s in phrases], log([0.5, 0.4, 0.3, 0.2]))
    # Not confident enough for the third word: phrases stop at two.
    assert completer.suggest_phrases((), "n", k=3, confidence=0.6) == [
        (("new",), log(0.5)),
        (("new", "york"), log(0.5) + log(0.8)),
    ]
    # Confidence 1: never a phrase, the words of `suggest_words`.
    assert completer.suggest_phrases((), "", k=3, confidence=1.0) == [
        ((w,), s) for w, s in completer.suggest_words((), "", 3)
    ]
    with pytest.raises(ValueError, match="`confidence`"):
        completer.suggest_phrases((), "", confidence=0.0)

"""BLEU and chrF: sacrebleu's figures, checked against a hand computation."""

import math

import pytest
import sacrebleu

from keras_nlpkit.evaluation.translation import translation_scores


def test_bleu_of_a_hand_made_pair_equals_the_hand_computed_figure():
    # 13a tokens: "The cat sat on the mat ." vs "The cat is on the mat ." — matching
    # n-grams 6/7, 4/6, 2/5, 1/4; same length, so no brevity penalty.
    scores = translation_scores(["The cat sat on the mat."], ["The cat is on the mat."])
    by_hand = 100 * math.exp(sum(math.log(p) for p in (6 / 7, 4 / 6, 2 / 5, 1 / 4)) / 4)
    assert scores["bleu"] == pytest.approx(by_hand, abs=1e-9)
    assert scores["brevity_penalty"] == 1.0
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp")
    assert scores["chrf_signature"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:0")


def test_corpus_scores_equal_sacrebleus_own_functions():
    hypotheses = ["Ein Hund rennt im Park.", "Zwei Katzen schlafen", "Ein Mann fährt Rad."]
    references = ["Ein Hund läuft im Park.", "Zwei Katzen schlafen.", "Ein Mann fährt Fahrrad."]
    scores = translation_scores(hypotheses, references)
    assert scores["bleu"] == sacrebleu.corpus_bleu(hypotheses, [references]).score
    assert scores["chrf"] == sacrebleu.corpus_chrf(hypotheses, [references]).score
    assert scores["sentences"] == 3
    # Case matters (cased BLEU).
    assert translation_scores(["the cat"], ["The cat"])["bleu"] < 100


def test_unaligned_or_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="aligned"):
        translation_scores(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="No sentence"):
        translation_scores([], [])

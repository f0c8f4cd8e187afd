"""`KneserNeyLM`: a hand-computed example, normalisation, and bad input."""

import numpy as np
import pytest

from keras_nlpkit.text.kneser_ney import KneserNeyLM


def test_a_bigram_model_computed_by_hand():
    # Stream "a b a b c" (ids 1 2 1 2 3) after one pad (0): bigrams 0 1, 1 2 (twice), 2 1, 2 3.
    lm = KneserNeyLM(order=2, vocabulary_size=4, pad_id=0).fit([1, 2, 1, 2, 3])
    # D2 = n1 / (n1 + 2 n2) = 3 / 5. Continuation counts N1+(· w): 1 → 2 (after 0 and 2),
    # 2 → 1, 3 → 1; D1 = 2 / 4; P1(w) = max(N1+ − .5, 0) / 4 + .5 · 3 / 4 / 4.
    unigram = np.array([0.09375, 0.46875, 0.21875, 0.21875])
    np.testing.assert_allclose(lm.probabilities([3]), unigram)  # context never seen: P1
    # After "a": c(a b) = 2 of c(a ·) = 2, one distinct follower.
    expected = 0.6 * 1 / 2 * unigram
    expected[2] += (2 - 0.6) / 2
    np.testing.assert_allclose(lm.probabilities([1]), expected)
    # The stream "a b": P(a | pad) = (1 − .6) / 1 + .6 · 1 / 1 · P1(a), then P(b | a).
    np.testing.assert_allclose(lm.log_probs([1, 2]), np.log([0.4 + 0.6 * 0.46875, 0.765625]))


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_probabilities_sum_to_one_for_every_context(order):
    rng = np.random.default_rng(order)
    ids = rng.zipf(1.5, 5000) % 50
    lm = KneserNeyLM(order=order, vocabulary_size=50, pad_id=0).fit(ids)
    for context in ([], ids[100:104], [49, 49, 49, 49], [0] * 4, ids[-3:]):
        p = lm.probabilities(context)
        assert p.shape == (50,) and np.all(p > 0)
        assert abs(p.sum() - 1.0) < 1e-9
    # log_probs reads each id after the ones before it, as probabilities does.
    np.testing.assert_allclose(
        np.exp(lm.log_probs(ids[:6])[-1]), lm.probabilities(ids[:5])[ids[5]], rtol=1e-12
    )


def test_a_higher_order_predicts_a_deterministic_text_better():
    ids = np.array([3, 4, 5, 1] * 30 + [6, 4, 7, 1] * 30)  # after 4: 5 or 7, by the word before
    perplexity = {
        n: float(np.exp(-KneserNeyLM(n, 8, 1).fit(ids).log_probs(ids).mean())) for n in (1, 2, 3)
    }
    assert perplexity[1] > perplexity[2] > perplexity[3]
    lm = KneserNeyLM(3, 8, 1).fit(ids)
    assert int(np.argmax(lm.probabilities([3, 4]))) == 5
    assert int(np.argmax(lm.probabilities([6, 4]))) == 7


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"order": 0, "vocabulary_size": 5}, "order"),
        ({"order": 3, "vocabulary_size": 0}, "vocabulary_size"),
        ({"order": 3, "vocabulary_size": 5, "pad_id": 5}, "pad_id"),
    ],
)
def test_bad_arguments_name_themselves(arguments, message):
    with pytest.raises(ValueError, match=message):
        KneserNeyLM(**arguments)


def test_ids_outside_the_vocabulary_and_an_untrained_model_are_refused():
    with pytest.raises(ValueError, match=r"`ids` must be in \[0, 5\)"):
        KneserNeyLM(2, 5).fit([1, 2, 9])
    with pytest.raises(ValueError, match="not trained"):
        KneserNeyLM(2, 5).probabilities([1])

"""The METRICS.md definitions on worked examples whose answers are known."""

import math

import numpy as np
import pytest

from keras_nlpkit.evaluation.metrics import accuracy_at_k
from keras_nlpkit.evaluation.metrics import analogy_accuracy
from keras_nlpkit.evaluation.metrics import kept_correct_rate
from keras_nlpkit.evaluation.metrics import latency_summary
from keras_nlpkit.evaluation.metrics import perplexity
from keras_nlpkit.evaluation.metrics import simulate_typing
from keras_nlpkit.evaluation.metrics import simulate_typing_phrases
from keras_nlpkit.evaluation.metrics import spearman
from keras_nlpkit.evaluation.metrics import word_similarity


def test_ksr_worked_example():
    # "new york city": 13 characters. "new" is suggested before any keystroke (1 tap);
    # "york" only after "yo" (2 characters + 1 tap); "city" never (4 characters,
    # no space after the last word). 8 keystrokes: KSR = 1 - 8/13.
    def suggest(previous, prefix):
        if not previous:
            return ["new", "news", "next"]
        if len(previous) == 1:
            return ["york", "yorker", "yo"] if prefix == "yo" else ["jersey", "mexico", "age"]
        return ["cat", "car", "cab"]

    result = simulate_typing(["new york city"], suggest, k=3)
    assert result["keystrokes"] == 8 and result["characters"] == 13
    assert result["ksr"] == round(1 - 8 / 13, 4)
    assert result["next_word_accuracy@1"] == round(1 / 3, 4)
    assert result["next_word_accuracy@3"] == round(1 / 3, 4)
    by_prefix = result["completion_accuracy@3_by_prefix"]
    assert by_prefix == {"0": round(1 / 3, 4), "1": 0.0, "2": 0.5, "3": 0.0}
    # A typed typo: the user types "yrok"; a word typed in full enters the context as typed.
    seen = []

    def never(previous, prefix):
        seen.append(previous)
        return []

    typed = simulate_typing(["new york"], never, typed_queries=["new yrok"])
    assert typed["keystrokes"] == len("new yrok") and ("new",) in seen
    with pytest.raises(ValueError, match="typed_queries"):
        simulate_typing(["new york"], never, typed_queries=["new"])


def test_ksr_with_phrases_worked_example():
    # "new york city hall" (18 characters). At the start the strip holds "new" and
    # "new york city": the longest right entry is tapped (1 keystroke, 3 words and
    # their spaces). Then "hall" is typed "h", tapped as "hall": 2 keystrokes.
    def suggest(previous, prefix):
        if not previous:
            return [("new",), ("new", "york", "city"), ("new", "jersey")]
        return [("hall",)] if prefix == "h" else [("house",)]

    result = simulate_typing_phrases(["new york city hall"], suggest)
    assert result["keystrokes"] == 3 and result["characters"] == 18
    assert result["ksr"] == round(1 - 3 / 18, 4)
    assert (result["taps"], result["phrase_taps"], result["words_by_phrase"]) == (2, 1, 3)

    # A wrong phrase is not tapped; with single words it is plain KSR.
    def words_only(previous, prefix):
        return [(w,) for w in simulate_words(previous, prefix)]

    def simulate_words(previous, prefix):
        return ["new", "york"] if not prefix else [prefix + "x"]

    queries = ["new york", "york new new"]
    phrased = simulate_typing_phrases(queries, words_only)
    plain = simulate_typing(queries, simulate_words)
    assert (phrased["ksr"], phrased["keystrokes"]) == (plain["ksr"], plain["keystrokes"])
    with pytest.raises(ValueError, match="no words"):
        simulate_typing_phrases([""], suggest)


def test_metrics_on_known_numbers():
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833)  # ties: mean ranks
    words = ["king", "queen", "man", "woman", "apple"]
    matrix = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1], [-1, -1, -1]], "float32")
    result = analogy_accuracy(
        words,
        matrix,
        [
            ("royal", "man", "king", "woman", "queen"),
            ("royal", "woman", "queen", "man", "king"),
            ("royal", "man", "woman", "king", "apple"),
            ("other", "man", "unknown", "king", "queen"),
        ],
    )
    assert result["asked"] == 3 and result["coverage"] == 0.75
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["sections"] == {"royal": pytest.approx(2 / 3)}
    sim = word_similarity(
        words,
        matrix,
        [("King", "queen", 5.0), ("man", "apple", 1.0), ("king", "man", 3.0), ("x", "y", 2.0)],
    )
    assert sim["found"] == 3 and sim["coverage"] == 0.75
    assert sim["spearman"] == pytest.approx(0.5)  # rank differences 1, 1, 0: 1 - 6*2/(3*8)


def test_spelling_metrics_and_perplexity_on_known_numbers():
    predictions = [["receive", "relieve"], ["Definitely"], [None], ["wierd", "weird"]]
    references = ["receive", "definitely", "separate", "weird"]
    assert accuracy_at_k(predictions, references, 1) == 0.5  # case-folded
    assert accuracy_at_k(predictions, references, 5) == 0.75
    assert kept_correct_rate(["the", None, "Cat"], ["the", "dog", "cat"]) == round(2 / 3, 4)
    with pytest.raises(ValueError, match="one length"):
        accuracy_at_k([["a"]], ["a", "b"])
    assert math.isclose(perplexity([math.log(4)] * 3), 4.0)
    assert math.isclose(perplexity(-np.log([0.5, 0.25])), math.sqrt(8))
    summary = latency_summary([0.001, 0.002, 0.003, 0.004])
    assert summary == {"median_ms": 2.5, "p95_ms": 3.85, "count": 4}
    assert latency_summary([]) == {"median_ms": None, "p95_ms": None, "count": 0}

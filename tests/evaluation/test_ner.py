"""Entity-level scores against hand-counted spans, and against conlleval's streaming rules."""

import numpy as np
import pytest

from keras_nlpkit.evaluation.ner import entity_scores
from keras_nlpkit.evaluation.ner import entity_spans
from keras_nlpkit.text.conll import split_tag


def counts(scores):
    return scores["correct"], scores["predicted"], scores["gold"]


@pytest.mark.parametrize(
    "tags, spans",
    [
        # IOB1: I- starts an entity, B- only splits two adjacent ones of one type.
        (["I-PER", "I-PER", "O", "I-LOC", "B-LOC"], [("PER", 0, 1), ("LOC", 3, 3), ("LOC", 4, 4)]),
        # BIO: the same entities.
        (["B-PER", "I-PER", "O", "B-LOC", "B-LOC"], [("PER", 0, 1), ("LOC", 3, 3), ("LOC", 4, 4)]),
        # A stray I- after O starts an entity; I- of another type starts another.
        (["O", "I-PER", "I-PER", "I-ORG"], [("PER", 1, 2), ("ORG", 3, 3)]),
        # B-X I-Y: two entities, not one.
        (["B-ORG", "I-LOC"], [("ORG", 0, 0), ("LOC", 1, 1)]),
        # An entity at the end of the sentence.
        (["O", "B-MISC", "I-MISC"], [("MISC", 1, 2)]),
        (["O", "O"], []),
        ([], []),
    ],
)
def test_spans(tags, spans):
    assert entity_spans(tags) == spans


def test_iob1_gold_against_bio_predictions():
    gold = [["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]]  # PER 0-1, LOC 3, LOC 4
    predicted = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC"]]  # PER 0-1, LOC 3-4
    scores = entity_scores(gold, predicted)
    assert counts(scores) == (1, 2, 3)
    assert scores["precision"] == 0.5 and scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))  # 0.4
    assert counts(scores["per_type"]["PER"]) == (1, 1, 1)
    assert counts(scores["per_type"]["LOC"]) == (0, 1, 2)
    # The same gold in BIO scores the same.
    assert entity_scores([["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]], predicted) == scores


def test_a_wrong_type_is_a_false_positive_and_a_false_negative():
    scores = entity_scores([["B-PER", "I-PER", "O"]], [["B-ORG", "I-ORG", "O"]])
    assert counts(scores) == (0, 1, 1) and scores["f1"] == 0.0
    assert counts(scores["per_type"]["PER"]) == (0, 0, 1)
    assert counts(scores["per_type"]["ORG"]) == (0, 1, 0)


@pytest.mark.parametrize(
    "predicted",
    [
        ["B-ORG", "I-ORG", "O", "O"],  # ends one token early
        ["B-ORG", "I-ORG", "I-ORG", "I-ORG"],  # ends one token late
        ["O", "B-ORG", "I-ORG", "O"],  # starts one token late
        ["B-ORG", "B-ORG", "I-ORG", "O"],  # split in two
    ],
)
def test_a_boundary_off_by_one_token_scores_nothing(predicted):
    scores = entity_scores([["B-ORG", "I-ORG", "I-ORG", "O"]], [predicted])
    assert scores["correct"] == 0 and scores["gold"] == 1


def test_a_stray_i_is_read_as_the_start_of_an_entity():
    # conlleval reads O I-PER I-PER as one PER entity: it matches gold B-PER I-PER.
    scores = entity_scores([["O", "B-PER", "I-PER"]], [["O", "I-PER", "I-PER"]])
    assert counts(scores) == (1, 1, 1) and scores["f1"] == 1.0


def test_adjacent_entities_of_one_type_need_their_b():
    gold = [["B-LOC", "B-LOC", "O"]]  # two entities
    assert counts(entity_scores(gold, [["B-LOC", "I-LOC", "O"]])) == (0, 1, 2)  # one long one
    assert counts(entity_scores(gold, [["I-LOC", "B-LOC", "O"]])) == (2, 2, 2)  # IOB1's way


def test_no_predictions_and_no_gold_give_zeros_not_errors():
    gold = [["B-PER", "O"], ["O", "B-LOC"]]
    empty = entity_scores(gold, [["O", "O"], ["O", "O"]])
    assert (empty["precision"], empty["recall"], empty["f1"]) == (0.0, 0.0, 0.0)
    assert counts(empty) == (0, 0, 2)
    spurious = entity_scores([["O", "O"]], [["B-PER", "O"]])
    assert (spurious["precision"], spurious["recall"], spurious["f1"]) == (0.0, 0.0, 0.0)
    nothing = entity_scores([["O"]], [["O"]])
    assert counts(nothing) == (0, 0, 0) and nothing["f1"] == 0.0 and nothing["per_type"] == {}
    assert entity_scores([], [])["f1"] == 0.0


def test_micro_average_over_sentences_and_no_span_crosses_a_sentence():
    gold = [
        ["B-PER", "O", "B-PER", "O", "B-PER"],
        ["B-LOC", "I-LOC"],
        ["O", "B-PER"],
    ]
    predicted = [
        ["B-PER", "O", "B-PER", "O", "B-PER"],  # 3 of 3
        ["B-LOC", "O"],  # LOC 0-0 against LOC 0-1
        ["I-PER", "I-PER"],  # one PER 0-1 (it does not continue sentence 2)
    ]
    scores = entity_scores(gold, predicted)
    assert counts(scores) == (3, 5, 5)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.6
    # Micro, not the mean of the types' F1 (PER 0.75, LOC 0).
    assert scores["per_type"]["PER"]["f1"] == 0.75 and scores["per_type"]["LOC"]["f1"] == 0.0


def test_mismatched_inputs_are_named():
    with pytest.raises(ValueError, match="as many sentences. Received: 1 and 2"):
        entity_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="sentence 0 has 2 gold tags and 1 predicted"):
        entity_scores([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="tag='E-PER'"):
        entity_scores([["E-PER"]], [["O"]])


def conlleval_counts(gold, predicted):
    """(correct, predicted, gold) by conlleval's rules: both tag streams read at once,
    tag by tag, on the raw (IOB1 or BIO) tags, a sentence end acting as an `O` line."""

    def ends(prev_prefix, prefix, prev_type, kind):
        return prev_prefix != "O" and (prefix in ("B", "O") or prev_type != kind)

    def starts(prev_prefix, prefix, prev_type, kind):
        return prefix != "O" and (prefix == "B" or prev_prefix == "O" or prev_type != kind)

    correct = found_gold = found_predicted = 0
    in_correct = False
    last_g, last_gt, last_p, last_pt = "O", None, "O", None
    for gold_tags, predicted_tags in zip(gold, predicted):
        for g, p in zip([*gold_tags, "O"], [*predicted_tags, "O"]):
            (gp, gt), (pp, pt) = split_tag(g), split_tag(p)
            end_g, end_p = ends(last_g, gp, last_gt, gt), ends(last_p, pp, last_pt, pt)
            if in_correct:
                if end_g and end_p and last_gt == last_pt:
                    in_correct = False
                    correct += 1
                elif end_g != end_p or gt != pt:
                    in_correct = False
            start_g, start_p = starts(last_g, gp, last_gt, gt), starts(last_p, pp, last_pt, pt)
            if start_g and start_p and gt == pt:
                in_correct = True
            found_gold += start_g
            found_predicted += start_p
            last_g, last_gt, last_p, last_pt = gp, gt, pp, pt
    return correct, found_predicted, found_gold


def test_agrees_with_conllevals_streaming_rules_on_random_tags():
    rng = np.random.default_rng(0)
    alphabet = ["O", "O", "O", "B-A", "I-A", "B-B", "I-B"]
    for _ in range(300):
        lengths = rng.integers(0, 9, rng.integers(1, 5))
        gold = [[alphabet[i] for i in rng.integers(0, len(alphabet), n)] for n in lengths]
        predicted = [
            [tag if rng.random() < 0.6 else alphabet[rng.integers(len(alphabet))] for tag in tags]
            for tags in gold
        ]
        assert counts(entity_scores(gold, predicted)) == conlleval_counts(gold, predicted), (
            gold,
            predicted,
        )

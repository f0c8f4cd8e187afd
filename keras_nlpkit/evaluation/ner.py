"""Named entities: entity-level precision, recall and F1 with exact span match.

The definition is the CoNLL shared tasks' scorer's (`conlleval`), in our code, and
docs/METRICS.md ("Named entities") states it with its edge cases:

- both tag sequences are made BIO first (`keras_nlpkit.text.conll.iob1_to_bio`), so
  IOB1 and BIO files score alike and a stray `I-X` (after `O` or another type)
  starts an entity, as conlleval reads it;
- an entity is `(type, first token, last token)`: a `B-X` starts one, and the `I-X`
  right after it extend it; entities never cross a sentence;
- a predicted entity is correct only if a gold entity has its type, first token and
  last token; a wrong type or a boundary off by one token is a false positive and a
  false negative at once;
- precision = correct / predicted, recall = correct / gold, F1 = 2PR / (P + R), each
  0 where its denominator is 0 (no prediction: P = 0 and F1 = 0), micro-averaged over
  every entity of the file (`overall`) and per type.
"""

import collections

from keras_nlpkit.text.conll import iob1_to_bio
from keras_nlpkit.text.conll import split_tag


def entity_spans(tags):
    """The entities of one sentence's tags (IOB1 or BIO): `[(type, first, last), ...]`.

    `first` and `last` are token positions, both included.
    `entity_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])` →
    `[("PER", 0, 1), ("LOC", 3, 3), ("LOC", 4, 4)]`.
    """
    spans = []
    for position, tag in enumerate(iob1_to_bio(tags)):
        prefix, entity_type = split_tag(tag)
        if prefix == "B":
            spans.append([entity_type, position, position])
        elif prefix == "I":  # BIO: it continues the entity of its type just before
            spans[-1][2] = position
    return [tuple(span) for span in spans]


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else 0.0


def _scores(correct, predicted, gold):
    precision, recall = _ratio(correct, predicted), _ratio(correct, gold)
    return {
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "correct": correct,
        "predicted": predicted,
        "gold": gold,
    }


def entity_scores(gold, predicted):
    """Entity-level scores of `predicted` against `gold` (the module docstring's rules).

    Args:
        gold: the gold tags, one list of tags a sentence (IOB1 or BIO).
        predicted: the predicted tags, as many sentences of the same lengths.

    Returns:
        `{"precision", "recall", "f1", "correct", "predicted", "gold", "per_type":
        {type: the same six}}`: fractions in [0, 1] and entity counts; `per_type`
        lists every type found in either, sorted.

    Example:
    ```python
    from keras_nlpkit.evaluation.ner import entity_scores

    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"]]  # the type of the second is wrong
    scores = entity_scores(gold, predicted)
    scores["precision"], scores["recall"]  # (0.5, 0.5)
    scores["per_type"]["LOC"]["recall"]  # 0.0
    ```
    """
    if len(gold) != len(predicted):
        raise ValueError(
            "`gold` and `predicted` must hold as many sentences. Received: "
            f"{len(gold)} and {len(predicted)} sentences"
        )
    counts = collections.defaultdict(lambda: [0, 0, 0])  # type: [correct, predicted, gold]
    for number, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(
                f"sentence {number} has {len(gold_tags)} gold tags and "
                f"{len(predicted_tags)} predicted ones; they must match. Received: "
                f"{list(gold_tags)[:8]} and {list(predicted_tags)[:8]}"
            )
        gold_spans = set(entity_spans(gold_tags))
        predicted_spans = set(entity_spans(predicted_tags))
        for entity_type, *_ in predicted_spans & gold_spans:
            counts[entity_type][0] += 1
        for entity_type, *_ in predicted_spans:
            counts[entity_type][1] += 1
        for entity_type, *_ in gold_spans:
            counts[entity_type][2] += 1
    totals = [sum(column) for column in zip(*counts.values())] or [0, 0, 0]
    return {
        **_scores(*totals),
        "per_type": {name: _scores(*counts[name]) for name in sorted(counts)},
    }

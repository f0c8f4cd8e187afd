"""`DistillationLoss` against hand-computed numbers; `LSTMClassifier`'s masks and export."""

import keras
import numpy as np
import pytest

from keras_nlpkit.export import export
from keras_nlpkit.models import DistillationAccuracy
from keras_nlpkit.models import DistillationLoss
from keras_nlpkit.models import LSTMClassifier
from keras_nlpkit.ondevice import OnDeviceModel

STUDENT = np.array([[0.3, -1.2, 0.8], [2.0, 0.1, -0.4], [-0.5, 0.5, 0.0]], "float32")
TEACHER = np.array([[1.0, -0.5, 0.2], [0.4, 0.3, -2.0], [0.0, 1.5, -1.0]], "float32")
LABELS = np.array([2, 0, 1])


def targets(labels, teacher=TEACHER):
    return np.concatenate([np.asarray(labels, "float32")[:, None], teacher], axis=1)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_pure_label_case_equals_cross_entropy_on_labels():
    # α = 1 weighs only the hard labels (the "α = 1"); at T = 1, and at any T.
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, STUDENT)
    for temperature in (1.0, 3.0):
        loss = DistillationLoss(temperature=temperature, alpha=1.0)(targets(LABELS), STUDENT)
        np.testing.assert_allclose(float(loss), float(expected), rtol=1e-6)


def test_soft_part_equals_a_hand_computed_kl():
    t = 2.0
    # Row 0 by hand: p = softmax(teacher / 2), q = softmax(student / 2), T² Σ p log(p / q).
    p = softmax(np.array([0.5, -0.25, 0.1]))
    q = softmax(np.array([0.15, -0.6, 0.4]))
    by_hand = 4.0 * np.sum(p * np.log(p / q))
    loss = DistillationLoss(temperature=t, alpha=0.0, reduction=None)(targets(LABELS), STUDENT)
    np.testing.assert_allclose(float(loss[0]), by_hand, rtol=1e-5)
    everything = softmax(TEACHER / t) * np.log(softmax(TEACHER / t) / softmax(STUDENT / t))
    np.testing.assert_allclose(np.asarray(loss), t * t * everything.sum(-1), rtol=1e-5)
    # The same teacher and student: nothing to learn.
    same = DistillationLoss(temperature=t, alpha=0.0)(targets(LABELS, STUDENT), STUDENT)
    assert abs(float(same)) < 1e-6


def test_unlabelled_rows_use_only_the_soft_part():
    loss = DistillationLoss(temperature=2.0, alpha=0.3, reduction=None)
    soft = np.asarray(DistillationLoss(2.0, alpha=0.0, reduction=None)(targets(LABELS), STUDENT))
    hard = np.asarray(DistillationLoss(2.0, alpha=1.0, reduction=None)(targets(LABELS), STUDENT))
    mixed = np.asarray(loss(targets([2, -1, -1]), STUDENT))
    np.testing.assert_allclose(mixed[0], 0.3 * hard[0] + 0.7 * soft[0], rtol=1e-5)
    np.testing.assert_allclose(mixed[1:], 0.7 * soft[1:], rtol=1e-5)  # whatever the label would be


def test_loss_config_round_trips_and_bad_values_are_named():
    loss = DistillationLoss(temperature=4.0, alpha=0.25)
    revived = keras.losses.deserialize(keras.losses.serialize(loss))
    assert (revived.temperature, revived.alpha) == (4.0, 0.25)
    with pytest.raises(ValueError, match="temperature=0"):
        DistillationLoss(temperature=0)
    with pytest.raises(ValueError, match="alpha=1.5"):
        DistillationLoss(alpha=1.5)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_unpadded_sentences_and_the_export_give_the_padded_batch_logits(bidirectional, tmp_path):
    keras.utils.set_random_seed(0)
    model = LSTMClassifier(30, 6, 5, 3, bidirectional=bidirectional, dropout=0.1)
    ids = np.array([[4, 9, 2, 7], [5, 0, 0, 0]], "int32")  # id 0 is a word (unknown), not padding
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], "int32")
    batch = np.asarray(model({"token_ids": ids, "padding_mask": mask}))
    one = np.asarray(model.sentence_logits(ids[1:, :2]))
    np.testing.assert_allclose(one[0], batch[1], atol=1e-6)
    samples = tmp_path / "samples.npz"
    np.savez(samples, token_ids=np.random.default_rng(0).integers(0, 30, (10, 5)).astype("int32"))
    export(model, tmp_path / "export", quantize=["float32"], representative_data=samples)
    device = OnDeviceModel(tmp_path / "export")
    logits = device.serve(token_ids=ids[1:, :2])["logits"]
    np.testing.assert_allclose(logits[0], batch[1], atol=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="hidden_dim=0"):
        LSTMClassifier(10, 4, 0, 2)
    with pytest.raises(ValueError, match="bidirectional='yes'"):
        LSTMClassifier(10, 4, 4, 2, bidirectional="yes")


def test_accuracy_counts_only_the_labelled_rows():
    metric = DistillationAccuracy()
    # Predicted: 2, 0, 1. Labelled rows 0 (right), 1 (unlabelled), 2 (wrong: label 0).
    metric.update_state(targets([2, -1, 0]), STUDENT)
    assert float(metric.result()) == 0.5
    metric.update_state(targets([-1, -1, -1]), STUDENT)  # nothing labelled: no change
    assert float(metric.result()) == 0.5
    weighted = DistillationAccuracy()
    weighted.update_state(targets([2, 0, 0]), STUDENT, sample_weight=np.array([1.0, 3.0, 0.0]))
    assert float(weighted.result()) == 1.0  # row 2 (wrong) weighs nothing
    revived = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(revived) is DistillationAccuracy and revived.name == "accuracy"

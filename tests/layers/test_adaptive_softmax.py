"""AdaptiveSoftmax: exact log-probabilities, the full softmax at one class, training, export."""

import math
import re

import keras
import numpy as np
import pytest
from keras import ops

from keras_nlpkit.export import export
from keras_nlpkit.layers import AdaptiveSoftmax
from keras_nlpkit.layers import adaptive_softmax
from tests.layer_test_case import run_layer_test

VOCABULARY = 50
CUTOFFS = [[], [1], [10], [10, 30], [5, 20, 49]]


def hidden_states(shape=(3, 7, 16), scale=3.0, seed=0):
    """Random hidden states, scaled so that the distributions are far from uniform."""
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype("float32")


def log_probs(layer, hidden):
    return np.asarray(layer(hidden), "float64")


@pytest.mark.parametrize("cutoffs", CUTOFFS)
def test_probabilities_sum_to_one(cutoffs):
    layer = AdaptiveSoftmax(VOCABULARY, cutoffs=cutoffs, bias_initializer="random_normal")
    total = np.exp(log_probs(layer, hidden_states())).sum(-1)  # (3, 7)
    np.testing.assert_allclose(total, 1.0, atol=1e-5, rtol=0)


def test_one_class_is_the_full_softmax_with_copied_weights():
    hidden = hidden_states()
    dense = keras.layers.Dense(VOCABULARY, bias_initializer="random_normal")
    expected = np.asarray(ops.log_softmax(dense(hidden), axis=-1))
    layer = AdaptiveSoftmax(VOCABULARY, cutoffs=[])
    layer.build(hidden.shape)
    layer.head.set_weights(dense.get_weights())  # head kernel (16, 50), bias (50,)
    assert [w.shape for w in layer.weights] == [(16, VOCABULARY), (VOCABULARY,)]
    np.testing.assert_allclose(np.asarray(layer(hidden)), expected, atol=1e-6, rtol=0)
    targets = np.random.default_rng(1).integers(0, VOCABULARY, hidden.shape[:2])
    np.testing.assert_allclose(
        np.asarray(layer.log_prob(hidden, targets)),
        np.take_along_axis(expected, targets[..., None], -1)[..., 0],
        atol=1e-6,
        rtol=0,
    )


@pytest.mark.parametrize("gathered_rows", [True, False], ids=["gathered_rows", "static"])
@pytest.mark.parametrize("cutoffs", CUTOFFS)
def test_log_prob_of_targets_equals_the_gathered_log_probs(cutoffs, gathered_rows, monkeypatch):
    # Both ways of computing the tails: the rows of each cluster's targets (TensorFlow,
    # PyTorch) and every cluster at every position (JAX's static shapes).
    monkeypatch.setattr(adaptive_softmax, "data_dependent_shapes", lambda: gathered_rows)
    layer = AdaptiveSoftmax(VOCABULARY, cutoffs=cutoffs, bias_initializer="random_normal")
    hidden = hidden_states()
    targets = np.random.default_rng(2).integers(0, VOCABULARY, hidden.shape[:2])
    # Every cluster boundary is among the targets.
    edges = sorted({0, VOCABULARY - 1} | {c for c in cutoffs} | {c - 1 for c in cutoffs})
    targets[0, : len(edges)] = edges
    full = log_probs(layer, hidden)
    expected = np.take_along_axis(full, targets[..., None], -1)[..., 0]
    got = np.asarray(layer.log_prob(hidden, targets))
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    # The call with targets returns the same, and adds their mean NLL as the loss.
    np.testing.assert_allclose(np.asarray(layer(hidden, targets=targets)), got, atol=1e-6)
    (loss,) = layer.losses
    np.testing.assert_allclose(float(loss), -got.mean(), rtol=1e-6)


def test_by_hand_four_words_two_clusters():
    # V = 4, cutoffs [2]: the head holds words 0, 1 and the entry of the tail {2, 3}.
    # hidden_dim 2, div_value 2: the tail projects to 2 // 2 = 1 dimension.
    layer = AdaptiveSoftmax(4, cutoffs=[2], div_value=2.0)
    layer.build((None, 2))
    ln2, ln3 = math.log(2), math.log(3)
    layer.head.set_weights([np.array([[0, ln2, 0], [0, 0, 0]]), np.zeros(3)])
    layer.tail_projections[0].set_weights([np.array([[1.0], [0.0]])])
    layer.tail_outputs[0].set_weights([np.array([[0.0, ln3]]), np.zeros(2)])
    hidden = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    # h = [1, 0]: head logits [0, ln 2, 0] → P = 1/4, 1/2 and 1/4 for the tail; the tail
    # logits [0, ln 3] → P(2 | tail) = 1/4, P(3 | tail) = 3/4.
    # h = [0, 1]: head uniform (1/3 each), tail uniform (1/2 each).
    expected = np.log([[1 / 4, 1 / 2, 1 / 16, 3 / 16], [1 / 3, 1 / 3, 1 / 6, 1 / 6]])
    np.testing.assert_allclose(np.asarray(layer(hidden)), expected, atol=1e-6, rtol=0)
    targets = np.array([3, 2])
    np.testing.assert_allclose(
        np.asarray(layer.log_prob(hidden, targets)), np.log([3 / 16, 1 / 6]), atol=1e-6
    )


def test_projection_sizes_shrink_by_div_value():
    layer = AdaptiveSoftmax(100, cutoffs=[10, 40, 70], div_value=4.0)
    layer.build((None, 64))
    assert layer.head.units == 10 + 3
    assert [p.units for p in layer.tail_projections] == [16, 4, 1]
    assert [o.units for o in layer.tail_outputs] == [30, 30, 30]


def test_layer_checks_log_probs(tmp_path):
    run_layer_test(
        AdaptiveSoftmax,
        {"vocabulary_size": 16, "cutoffs": [4, 10], "div_value": 2.0},
        hidden_states((2, 3, 8), scale=1.0),
        expected_output_shape=(2, 3, 16),
        expected_num_trainable_weights=8,
        tmp_path=tmp_path,
    )


def test_layer_checks_targets(tmp_path):
    run_layer_test(
        AdaptiveSoftmax,
        {"vocabulary_size": 16, "cutoffs": [4, 10], "div_value": 2.0},
        {
            "inputs": hidden_states((2, 3, 8), scale=1.0),
            "targets": np.array([[0, 5, 15], [3, 4, 12]], "int32"),
        },
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=8,
        tmp_path=tmp_path,
    )


def test_masked_positions_do_not_count_in_the_loss():
    layer = AdaptiveSoftmax(VOCABULARY, cutoffs=[10, 30])
    hidden = hidden_states()
    targets = np.random.default_rng(3).integers(0, VOCABULARY, hidden.shape[:2])
    mask = np.arange(7)[None, :] < np.array([[7], [3], [1]])
    log_prob = np.asarray(layer(hidden, targets=targets, mask=mask))
    (loss,) = layer.losses
    np.testing.assert_allclose(float(loss), -log_prob[mask].mean(), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cutoffs": [10, 10]}, "cutoffs=[10, 10]"),
        ({"cutoffs": [30, 10]}, "cutoffs=[30, 10]"),
        ({"cutoffs": [0]}, "cutoffs=[0]"),
        ({"cutoffs": [VOCABULARY]}, f"cutoffs=[{VOCABULARY}]"),
        ({"cutoffs": [10, 60]}, "cutoffs=[10, 60]"),
        ({"cutoffs": [2.5]}, "cutoffs=[2.5]"),
        ({"cutoffs": 10}, "cutoffs=10"),
        ({"div_value": 0}, "div_value=0"),
        ({"div_value": -4.0}, "div_value=-4.0"),
        ({"div_value": float("inf")}, "div_value=inf"),
        ({"vocabulary_size": 0}, "vocabulary_size=0"),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, message):
    kwargs = {"vocabulary_size": VOCABULARY, **kwargs}
    with pytest.raises(ValueError, match=re.escape(f"Received: {message}")):
        AdaptiveSoftmax(**kwargs)


def test_targets_out_of_range_are_refused():
    layer = AdaptiveSoftmax(VOCABULARY, cutoffs=[10])
    with pytest.raises(ValueError, match=f"targets containing {VOCABULARY}"):
        layer.log_prob(hidden_states((1, 2, 16)), np.array([[3, VOCABULARY]]))


def bigram_stream(length, seed=0):
    """Token ids where each next id depends on the previous one (a learnable bigram)."""
    rng = np.random.default_rng(seed)
    ids = [0]
    for _ in range(length - 1):
        ids.append((3 * ids[-1] + 1 + int(rng.integers(0, 2))) % VOCABULARY)
    ids = np.asarray(ids, "int32").reshape(-1, 9)
    return ids[:, :-1], ids[:, 1:]


def language_model(cutoffs=(8, 24)):
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    targets = keras.Input((None,), dtype="int32", name="targets")
    hidden = keras.layers.Embedding(VOCABULARY, 16, name="embedding")(token_ids)
    hidden = keras.layers.Dense(16, activation="tanh", name="hidden")(hidden)
    output = AdaptiveSoftmax(VOCABULARY, cutoffs=list(cutoffs), name="output")
    trainer = keras.Model([token_ids, targets], output(hidden, targets=targets))
    return trainer, keras.Model(token_ids, output(hidden))


def test_fit_lowers_the_loss_and_both_training_paths_agree():
    x, y = bigram_stream(64 * 9)
    trainer, model = language_model()
    trainer.compile(keras.optimizers.Adam(1e-2))  # no loss: the layer adds it
    history = trainer.fit({"token_ids": x, "targets": y}, batch_size=16, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert losses[0] > losses[-1] + 0.5, losses
    # The inference model's log-probabilities with the ordinary sparse cross-entropy
    # give the same mean NLL as the layer's own loss.
    nll = trainer.evaluate({"token_ids": x, "targets": y}, batch_size=64, verbose=0)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert model.evaluate(x, y, batch_size=64, verbose=0) == pytest.approx(nll, rel=1e-5)
    # ... and that path trains too.
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert history.history["loss"][-1] < nll


def test_xla_compiled_training_gives_the_same_loss():
    x, y = bigram_stream(16 * 9)
    data = {"token_ids": x, "targets": y}
    trainer, _ = language_model()
    trainer.compile(keras.optimizers.Adam(1e-2), jit_compile=False)
    expected = trainer.evaluate(data, batch_size=16, verbose=0)
    trainer.compile(keras.optimizers.Adam(1e-2), jit_compile=True)
    assert trainer.evaluate(data, batch_size=16, verbose=0) == pytest.approx(expected, rel=1e-5)
    losses = trainer.fit(data, batch_size=16, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_exports_to_builtin_tflite_with_parity(tmp_path):
    _, model = language_model()
    report = export(model, tmp_path / "adaptive", quantize=["float32"], log=lambda *_: None)
    variant = report["variants"]["float32"]
    assert variant["flex_ops"] == [] and variant["custom_ops"] == [], variant["ops"]
    assert variant["max_abs_diff"] <= 1e-4
    assert variant["clients"]["compiled_model"]["error"] is None

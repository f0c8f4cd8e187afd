"""`FeedForwardLM`: Bengio's formula, the bigram form at n = 2, windows, fit, TFLite export.

The shared config / `.keras` / mixed-precision checks are in test_model_contract.py.
"""

import json

import keras
import numpy as np
import pytest

from keras_nlpkit.export import export
from keras_nlpkit.models import FeedForwardLM
from keras_nlpkit.ondevice import OnDeviceModel

VOCABULARY = 12
CYCLE = [1, 2, 3, 4, 5]  # id 0 is the start / padding, never a word of the text
QUIET = {"log": lambda *_: None}


def _randomised(model, seed=0):
    """`model` with every weight (biases too) drawn from N(0, 0.5²)."""
    rng = np.random.default_rng(seed)
    model.set_weights([0.5 * rng.standard_normal(w.shape).astype("float32") for w in model.weights])
    return model


def _bengio(model, context):
    """y = b + W x + U tanh(d + H x) in NumPy, with the model's weights."""
    weights = {w.path.split("/", 1)[1]: np.asarray(w.numpy(), np.float64) for w in model.weights}
    x = weights["embedding/embeddings"][context].reshape(len(context), -1)  # (batch, width)
    hidden = np.tanh(weights["hidden/bias"] + x @ weights["hidden/kernel"])
    y = weights["output/bias"] + hidden @ weights["output/kernel"]
    if model.direct_connections:
        y = y + x @ weights["direct/kernel"]
    return y


def _context_after(sequence, context_size):
    """The context the model reads to predict the word after `sequence`."""
    contexts, _ = FeedForwardLM.windows(list(sequence) + [0], context_size)
    return contexts[-1:]


@pytest.mark.parametrize("direct_connections", [False, True])
def test_forward_pass_is_bengio_formula(direct_connections):
    model = FeedForwardLM(
        VOCABULARY,
        context_size=3,
        embedding_dim=4,
        hidden_dim=6,
        direct_connections=direct_connections,
    )
    _randomised(model)
    names = sorted(w.path.split("/", 1)[1] for w in model.weights)
    expected = ["embedding/embeddings", "hidden/bias", "hidden/kernel", "output/bias"]
    expected += ["output/kernel"] + (["direct/kernel"] if direct_connections else [])
    assert names == sorted(expected)
    context = np.random.default_rng(1).integers(0, VOCABULARY, (7, 3)).astype("int32")
    np.testing.assert_allclose(np.asarray(model(context)), _bengio(model, context), atol=1e-5)


@pytest.mark.parametrize("direct_connections", [False, True])
def test_one_word_of_context_is_a_bigram_model(direct_connections):
    model = FeedForwardLM(
        VOCABULARY,
        context_size=1,
        embedding_dim=4,
        hidden_dim=6,
        direct_connections=direct_connections,
    )
    _randomised(model, seed=2)
    # Its logits are one row per previous word: a (vocab, vocab) table, Bengio's formula.
    table = _bengio(model, np.arange(VOCABULARY)[:, None])
    np.testing.assert_allclose(np.asarray(model(np.arange(VOCABULARY)[:, None])), table, atol=1e-5)
    # So the history before the last word changes nothing...
    first = np.asarray(model(_context_after([7, 2, 9, 3], 1)))
    second = np.asarray(model(_context_after([4, 4, 3], 1)))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first[0], table[3], atol=1e-5)
    # ...which a context of two words does see.
    wider = _randomised(FeedForwardLM(VOCABULARY, context_size=2, embedding_dim=4, hidden_dim=6))
    assert not np.allclose(
        np.asarray(wider(_context_after([7, 2, 9, 3], 2))),
        np.asarray(wider(_context_after([4, 4, 3], 2))),
    )


def test_windows_left_pad_with_the_start_id():
    contexts, targets = FeedForwardLM.windows([5, 6, 7, 8], context_size=3)
    np.testing.assert_array_equal(contexts, [[0, 0, 0], [0, 0, 5], [0, 5, 6], [5, 6, 7]])
    np.testing.assert_array_equal(targets, [5, 6, 7, 8])
    assert contexts.dtype == targets.dtype == np.int32
    contexts, targets = FeedForwardLM.windows(np.array([9, 4]), context_size=1)
    np.testing.assert_array_equal(contexts, [[0], [9]])
    np.testing.assert_array_equal(targets, [9, 4])
    contexts, targets = FeedForwardLM.windows([], context_size=2)
    assert contexts.shape == (0, 2) and targets.shape == (0,)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: FeedForwardLM.windows([[1, 2]], 2), "1-D sequence"),
        (lambda: FeedForwardLM.windows([1.5, 2.0], 2), "integer ids"),
        (lambda: FeedForwardLM.windows([1, 2], 0), "context_size=0"),
        (lambda: FeedForwardLM(10, context_size=0), "context_size=0"),
        (lambda: FeedForwardLM(10, context_size=2, dropout=1.0), "dropout=1.0"),
        (lambda: FeedForwardLM(10, 2, direct_connections="yes"), "direct_connections='yes'"),
        (lambda: FeedForwardLM(10, 2)(np.array([[1, 2, 3]])), "shape (1, 3)"),
        (lambda: FeedForwardLM(10, 2)(np.array([[1, 10]])), "containing 10"),
    ],
)
def test_bad_arguments_and_inputs_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.fixture(scope="module")
def cycle_lm():
    """n = 4 (three words of context) with direct connections, trained on 1 2 3 4 5 1 2 …"""
    keras.utils.set_random_seed(4)
    contexts, targets = FeedForwardLM.windows(CYCLE * 40, context_size=3)
    model = FeedForwardLM(
        VOCABULARY, context_size=3, embedding_dim=8, hidden_dim=32, direct_connections=True
    )
    model.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(contexts, targets, batch_size=32, epochs=40, verbose=0)
    return model, history.history["loss"]


def test_fit_learns_a_cycle_of_five_words(cycle_lm):
    model, losses = cycle_lm
    assert losses[-1] < 0.02 < losses[0]
    contexts, targets = FeedForwardLM.windows(CYCLE * 3, context_size=3)
    np.testing.assert_array_equal(np.argmax(np.asarray(model(contexts)), -1), targets)


def test_exports_builtin_only_and_streams_like_keras(cycle_lm, tmp_path):
    model, _ = cycle_lm
    contexts, _ = FeedForwardLM.windows(CYCLE * 30 + [2, 4, 1, 3, 5] * 10, context_size=3)
    data = tmp_path / "contexts.npz"
    np.savez(data, context=contexts)
    out = tmp_path / "export"
    report = export(model, out, representative_data=data, **QUIET)

    assert report["signatures"] == ["serving_default", "step"]
    assert set(report["variants"]) == {"float32", "float16", "dynamic_int8", "int8"}
    on_disk = json.loads((out / "report.json").read_text())
    for label, variant in on_disk["variants"].items():
        assert variant["flex_ops"] == [] and variant["custom_ops"] == [], label
        assert "WHILE" not in variant["ops"], label
        compiled = variant["clients"]["compiled_model"]
        assert compiled["loaded"] and compiled["error"] is None, (label, compiled)
        assert compiled["ran"] == ["serving_default", "step"], label
        assert variant["clients"]["dynamic_inputs"] == {}, label  # all static, batch 1
    float32 = on_disk["variants"]["float32"]
    assert float32["max_abs_diff"] <= 1e-4 and float32["streaming"]["max_abs_diff"] <= 1e-4
    assert on_disk["variants"]["int8"]["top1_agreement"] >= 0.9

    # The host streams `step` from a zero int32 window, as it streams an LSTM's state.
    device = OnDeviceModel(out)
    assert device.streaming == "step"
    assert device.state_shapes == {"context": (3,)}
    assert device.state_dtypes == {"context": np.dtype("int32")}
    sequence = [3, 4, 5, 1, 2, 2, 5, 1, 3]
    streamed = device.stream_logits(sequence)  # row i: after sequence[: i + 1]
    following, _ = FeedForwardLM.windows(sequence + [0], context_size=3)
    np.testing.assert_allclose(streamed, np.asarray(model(following[1:])), atol=1e-4)
    _, state = device.start(sequence)
    np.testing.assert_array_equal(state["context"], [[5, 1, 3]])
    assert state["context"].dtype == np.int32
    assert device.greedy([1, 2, 3], max_new_tokens=7) == [4, 5, 1, 2, 3, 4, 5]
    # Token 0 on a fresh state (all start) gives the first word's distribution.
    assert device.top_k([0], k=1)[0][0] == 1
    int8 = OnDeviceModel(out, variant="int8")
    assert int8.greedy([1, 2, 3], max_new_tokens=7) == [4, 5, 1, 2, 3, 4, 5]


def test_one_word_of_context_exports_and_streams(tmp_path):
    keras.utils.set_random_seed(5)
    model = FeedForwardLM(VOCABULARY, context_size=1, embedding_dim=4, hidden_dim=8)
    report = export(model, tmp_path / "export", quantize=["float32"], **QUIET)
    variant = report["variants"]["float32"]
    assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    assert variant["clients"]["compiled_model"]["ran"] == ["serving_default", "step"]
    device = OnDeviceModel(tmp_path / "export")
    sequence = [7, 2, 9, 3, 11]
    np.testing.assert_allclose(
        device.stream_logits(sequence), np.asarray(model(np.array(sequence)[:, None])), atol=1e-4
    )

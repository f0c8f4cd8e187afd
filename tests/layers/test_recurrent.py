import keras
import numpy as np
import pytest
import tf_keras

from keras_nlpkit.export import export
from keras_nlpkit.layers import GRU
from keras_nlpkit.layers import LSTM
from keras_nlpkit.layers import SimpleRNN
from keras_nlpkit.ondevice import OnDeviceModel
from tests.export.conftest import TOKENIZER
from tests.export.conftest import recurrent_lm
from tests.export.conftest import train
from tests.layer_test_case import run_layer_test

BATCH, STEPS, FEATURES, UNITS = 3, 6, 5, 4
RNG = np.random.default_rng(7)
X = RNG.standard_normal((BATCH, STEPS, FEATURES)).astype("float32")
MASK = np.ones((BATCH, STEPS), bool)
MASK[1, 4:] = False  # right padding
MASK[2, :2] = False  # left padding
LAYERS = [LSTM, GRU, SimpleRNN]

# (our class, Keras 3 class, tf-keras class, constructor arguments)
VARIANTS = [
    pytest.param(LSTM, keras.layers.LSTM, tf_keras.layers.LSTM, {}, id="lstm"),
    pytest.param(GRU, keras.layers.GRU, tf_keras.layers.GRU, {}, id="gru"),
    pytest.param(
        GRU,
        keras.layers.GRU,
        tf_keras.layers.GRU,
        {"reset_after": False},
        id="gru-reset-before",
    ),
    pytest.param(SimpleRNN, keras.layers.SimpleRNN, tf_keras.layers.SimpleRNN, {}, id="rnn"),
    pytest.param(
        SimpleRNN,
        keras.layers.SimpleRNN,
        tf_keras.layers.SimpleRNN,
        {"activation": "relu", "use_bias": False},
        id="rnn-relu-no-bias",
    ),
]


def _perturbed(weights):
    return [w + 0.3 * RNG.standard_normal(w.shape).astype("float32") for w in weights]


def _max_diff(a, b):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b))


@pytest.mark.parametrize("layer_cls", LAYERS)
@pytest.mark.parametrize(
    "kwargs, expected_shape",
    [
        ({}, (BATCH, UNITS)),
        (
            {"return_sequences": True, "dropout": 0.2, "recurrent_dropout": 0.2},
            (BATCH, STEPS, UNITS),
        ),
        ({"go_backwards": True}, (BATCH, UNITS)),
    ],
)
def test_layer_basics(layer_cls, kwargs, expected_shape, tmp_path):
    run_layer_test(
        layer_cls,
        {"units": UNITS, **kwargs},
        X,
        expected_shape,
        expected_num_trainable_weights=3,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("layer_cls", LAYERS)
def test_layer_basics_return_state(layer_cls, tmp_path):
    num_states = len(layer_cls.state_names)
    run_layer_test(
        layer_cls,
        {"units": UNITS, "return_sequences": True, "return_state": True},
        X,
        ((BATCH, STEPS, UNITS),) + ((BATCH, UNITS),) * num_states,
        expected_num_trainable_weights=3,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("layer_cls", LAYERS)
def test_layer_basics_stateful(layer_cls, tmp_path):
    run_layer_test(
        layer_cls,
        {"units": UNITS, "stateful": True},
        X,
        (BATCH, UNITS),
        expected_num_trainable_weights=3,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("ours_cls, keras_cls, tf_keras_cls, kwargs", VARIANTS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_parity_with_keras_and_tf_keras(
    ours_cls, keras_cls, tf_keras_cls, kwargs, return_sequences, zero_output_for_mask, go_backwards
):
    common = dict(
        units=UNITS,
        return_sequences=return_sequences,
        return_state=True,
        go_backwards=go_backwards,
        **kwargs,
    )
    ours = ours_cls(zero_output_for_mask=zero_output_for_mask, **common)
    reference = keras_cls(zero_output_for_mask=zero_output_for_mask, **common)
    ours(X), reference(X)
    reference.set_weights(_perturbed(reference.get_weights()))
    ours.set_weights(reference.get_weights())  # the same layout: copied unchanged
    for mask in (None, MASK):
        assert _max_diff(ours(X, mask=mask), reference(X, mask=mask)) <= 1e-5

    legacy = tf_keras_cls(**common)
    legacy(X)
    legacy.set_weights(ours.get_weights())
    assert _max_diff(ours(X), legacy(X)) <= 1e-5
    # ... and back: tf-keras weights into ours.
    legacy.set_weights(_perturbed(legacy.get_weights()))
    ours.set_weights(legacy.get_weights())
    assert _max_diff(ours(X), legacy(X)) <= 1e-5


@pytest.mark.parametrize("layer_cls", LAYERS)
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_last_output_is_the_sequences_last(layer_cls, zero_output_for_mask, go_backwards):
    # Without return_sequences the loop stacks no outputs and reads the final state:
    # the same numbers, a fully masked row and a non-zero initial state included.
    mask = MASK.copy()
    mask[0] = False
    kwargs = dict(units=UNITS, go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask)
    last = layer_cls(**kwargs)
    sequence = layer_cls(return_sequences=True, **kwargs)
    last(X), sequence(X)
    sequence.set_weights(_perturbed(last.get_weights()))
    last.set_weights(sequence.get_weights())
    states = [RNG.standard_normal((BATCH, UNITS)).astype("float32") for _ in last.state_names]
    for m, initial in ((None, None), (mask, None), (mask, states)):
        expected = sequence(X, mask=m, initial_state=initial)[:, -1]
        assert _max_diff(last(X, mask=m, initial_state=initial), expected) <= 1e-6


@pytest.mark.parametrize("ours_cls, keras_cls, tf_keras_cls, kwargs", VARIANTS)
def test_stateful_parity_with_keras(ours_cls, keras_cls, tf_keras_cls, kwargs):
    inputs = keras.Input(batch_shape=(BATCH, STEPS, FEATURES))
    ours = ours_cls(UNITS, stateful=True, return_sequences=True, **kwargs)
    reference = keras_cls(UNITS, stateful=True, return_sequences=True, **kwargs)
    ours(inputs), reference(inputs)
    reference.set_weights(_perturbed(reference.get_weights()))
    ours.set_weights(reference.get_weights())
    for batch in range(3):  # the state carries from batch to batch
        x = X + batch
        assert _max_diff(ours(x, mask=MASK), reference(x, mask=MASK)) <= 1e-5
    ours.reset_state()
    reference.reset_state()
    assert _max_diff(ours(X), reference(X)) <= 1e-5


@pytest.mark.parametrize("ours_cls, keras_cls, tf_keras_cls, kwargs", VARIANTS)
def test_unrolled_equals_the_loop(ours_cls, keras_cls, tf_keras_cls, kwargs):
    """`unroll=True` gives the numbers of Keras' loop. (Keras' own unrolled path does not
    with go_backwards, a mask and zero_output_for_mask: it zeroes the unflipped steps.)"""
    common = dict(
        units=UNITS, return_sequences=True, go_backwards=True, zero_output_for_mask=True, **kwargs
    )
    unrolled = ours_cls(unroll=True, **common)
    reference = keras_cls(**common)
    unrolled(X), reference(X)
    reference.set_weights(_perturbed(reference.get_weights()))
    unrolled.set_weights(reference.get_weights())
    for mask in (None, MASK):
        assert _max_diff(unrolled(X, mask=mask), reference(X, mask=mask)) <= 1e-5


@pytest.mark.parametrize("layer_cls", LAYERS)
def test_stateful_equals_one_long_sequence(layer_cls):
    stateless = layer_cls(UNITS, return_sequences=True)
    whole = np.asarray(stateless(np.concatenate([X, X[:, ::-1]], axis=1)))
    stateful = layer_cls(UNITS, return_sequences=True, stateful=True)
    stateful.build((BATCH, STEPS, FEATURES))
    stateful.set_weights(stateless.get_weights())
    first, second = np.asarray(stateful(X)), np.asarray(stateful(X[:, ::-1]))
    np.testing.assert_allclose(np.concatenate([first, second], 1), whole, atol=1e-6)
    stateful.reset_state()
    np.testing.assert_allclose(np.asarray(stateful(X)), whole[:, :STEPS], atol=1e-6)
    assert all(np.any(s.numpy() != 0) for s in stateful.state_variables)


@pytest.mark.parametrize("layer_cls", LAYERS)
def test_step_reproduces_the_sequence(layer_cls):
    layer = layer_cls(UNITS, return_sequences=True, return_state=True)
    outputs, *final_states = layer(X)
    states = layer.get_initial_state(BATCH)
    for t in range(STEPS):
        output, states = layer.step(X[:, t], states)
        np.testing.assert_allclose(np.asarray(output), np.asarray(outputs[:, t]), atol=1e-6)
    assert _max_diff(states, final_states) <= 1e-6


@pytest.mark.parametrize("layer_cls", LAYERS)
def test_explicit_initial_state(layer_cls):
    layer = layer_cls(UNITS, return_state=True)
    initial = [RNG.standard_normal((BATCH, UNITS)).astype("float32") for _ in layer_cls.state_names]
    output, *states = layer(X, initial_state=initial)
    step_states = initial
    for t in range(STEPS):
        step_output, step_states = layer.step(X[:, t], step_states)
    assert _max_diff([output, *states], [step_output, *step_states]) <= 1e-6
    zero_start = layer(X)[0]
    assert _max_diff(output, zero_start) > 1e-3  # the initial state was used


def test_lstm_forget_gate_worked_example():
    """Course example: w_f = [1 1], b_f = 0, h = [1], c = [2], x = [0.2].

    f = σ(1·1 + 1·0.2) = σ(1.2) = 0.77 and, with the input gate shut (b_i = −30),
    c' = f·c = 1.54.
    """
    layer = LSTM(
        1,
        return_state=True,
        kernel_initializer="zeros",
        recurrent_initializer="zeros",
        bias_initializer="zeros",
        unit_forget_bias=False,
    )
    layer.build((1, 1, 1))
    # Gate columns i, f, c, o.
    layer.kernel.assign([[0.0, 1.0, 0.0, 0.0]])  # x_t weight of f
    layer.recurrent_kernel.assign([[0.0, 1.0, 0.0, 0.0]])  # h_{t-1} weight of f
    layer.bias.assign([-30.0, 0.0, 0.0, 0.0])  # i ≈ 0: c takes no input
    h0, c0 = np.array([[1.0]], "float32"), np.array([[2.0]], "float32")
    _, (h1, c1) = layer.step(np.array([[0.2]], "float32"), [h0, c0])
    forget = float(np.asarray(c1)[0, 0]) / 2.0
    assert round(forget, 2) == 0.77
    assert round(float(np.asarray(c1)[0, 0]), 2) == 1.54
    np.testing.assert_allclose(np.asarray(c1)[0, 0], 2.0 / (1.0 + np.exp(-1.2)), atol=1e-6)
    # The sequence call with the same initial state agrees.
    _, _, c_seq = layer(np.array([[[0.2]]], "float32"), initial_state=[h0, c0])
    np.testing.assert_allclose(np.asarray(c_seq), np.asarray(c1), atol=1e-7)


def test_simple_rnn_worked_example():
    """h_t = tanh(x_t w + h_{t-1} u + b) with w = 0.5, u = -1, b = 0.1, x = [1, 2]:
    h_1 = tanh(0.6) = 0.537, h_2 = tanh(1.0 - 0.537 + 0.1) = tanh(0.563) = 0.510."""
    layer = SimpleRNN(1, return_sequences=True, return_state=True)
    layer.build((1, 2, 1))
    layer.kernel.assign([[0.5]])
    layer.recurrent_kernel.assign([[-1.0]])
    layer.bias.assign([0.1])
    outputs, h = layer(np.array([[[1.0], [2.0]]], "float32"))
    h1 = np.tanh(0.6)
    expected = [h1, np.tanh(1.0 - h1 + 0.1)]
    np.testing.assert_allclose(np.asarray(outputs)[0, :, 0], expected, atol=1e-6)
    assert [round(float(v), 3) for v in np.asarray(outputs)[0, :, 0]] == [0.537, 0.510]
    np.testing.assert_allclose(np.asarray(h), np.asarray(outputs)[:, -1], atol=0)


def test_simple_rnn_takes_a_keras_config():
    reference = keras.layers.SimpleRNN(
        UNITS,
        activation="relu",
        use_bias=False,
        kernel_initializer="he_normal",
        recurrent_regularizer="l2",
        bias_constraint="non_neg",
        dropout=0.1,
        recurrent_dropout=0.2,
        return_sequences=True,
        return_state=True,
        go_backwards=True,
        stateful=True,
        unroll=True,
        name="rnn",
    )
    config = reference.get_config()
    ours = SimpleRNN.from_config(config)
    assert {k: v for k, v in ours.get_config().items() if k in config} == config
    assert set(ours.get_config()) - set(config) == {"seed"}  # Keras keeps it in its cell
    reference.build((BATCH, STEPS, FEATURES))
    ours.build((BATCH, STEPS, FEATURES))
    assert [(w.name, w.shape) for w in ours.weights] == [
        (w.name, w.shape) for w in reference.weights
    ]
    with pytest.raises(ValueError, match="Received: recurrent_activation='sigmoid'"):
        SimpleRNN(UNITS, recurrent_activation="sigmoid")


def test_simple_rnn_exports_builtins_only_with_a_step_signature(tmp_path):
    keras.utils.set_random_seed(4)
    model = train(recurrent_lm(SimpleRNN(16, return_sequences=True, name="rnn")), epochs=1)
    report = export(model, tmp_path / "rnn", quantize=["float32"], log=lambda *_: None)
    variant = report["variants"]["float32"]
    assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    assert variant["signatures"] == ["serving_default", "step"]
    compiled = variant["clients"]["compiled_model"]
    assert compiled["loaded"] and compiled["ran"] == ["serving_default", "step"], compiled
    assert variant["max_abs_diff"] <= 1e-4
    assert variant["streaming"]["max_abs_diff"] <= 1e-4  # step ≡ the full sequence

    on_device = OnDeviceModel(tmp_path / "rnn")
    assert on_device.streaming == "step" and on_device.state_shapes == {"rnn_h": (16,)}
    ids = TOKENIZER.encode("the cat sees the tree")
    # The same model with Keras' SimpleRNN and the weights copied gives the same logits.
    theirs = recurrent_lm(keras.layers.SimpleRNN(16, return_sequences=True, name="rnn"))
    theirs.set_weights(model.get_weights())
    keras_logits = np.asarray(theirs(np.asarray([ids])))[0]
    assert _max_diff(model(np.asarray([ids]))[0], keras_logits) <= 1e-5
    assert _max_diff(on_device.stream_logits(ids), keras_logits) <= 1e-4
    assert _max_diff(on_device.logits(ids), keras_logits) <= 1e-4


def test_bidirectional_wrapper():
    forward = keras.layers.Bidirectional(LSTM(UNITS, return_sequences=True))
    y = forward(X, mask=MASK)
    assert tuple(y.shape) == (BATCH, STEPS, 2 * UNITS)
    reference = keras.layers.Bidirectional(keras.layers.LSTM(UNITS, return_sequences=True))
    reference(X)
    reference.set_weights(forward.get_weights())
    assert _max_diff(y, reference(X, mask=MASK)) <= 1e-5


@pytest.mark.parametrize("layer_cls", LAYERS)
def test_xla_training_step(layer_cls):
    inputs = keras.Input((STEPS, FEATURES))
    outputs = keras.layers.Dense(1)(layer_cls(UNITS)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    loss = model.fit(X, np.ones((BATCH, 1)), epochs=2, verbose=0).history["loss"]
    assert np.all(np.isfinite(loss)) and loss[1] < loss[0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units=0"),
        ({"units": 4, "dropout": 1.5}, "dropout=1.5"),
        ({"units": 4, "recurrent_dropout": -0.1}, "recurrent_dropout=-0.1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LSTM(**kwargs)


def test_stateful_without_fixed_batch():
    with pytest.raises(ValueError, match=r"stateful=True.*Received: inputs.shape=\(None, "):
        LSTM(4, stateful=True)(keras.Input((STEPS, FEATURES)))


@pytest.mark.parametrize("layer_cls", LAYERS)
def test_mismatched_state_shapes(layer_cls):
    layer = layer_cls(UNITS)
    wrong_units = [np.zeros((BATCH, UNITS + 1), "float32") for _ in layer_cls.state_names]
    with pytest.raises(ValueError, match=r"initial_state.*Received: initial_state shape=\(3, 5\)"):
        layer(X, initial_state=wrong_units)
    wrong_batch = [np.zeros((BATCH + 1, UNITS), "float32") for _ in layer_cls.state_names]
    with pytest.raises(ValueError, match=r"Received: initial_state shape=\(4, 4\)"):
        layer(X, initial_state=wrong_batch)
    with pytest.raises(ValueError, match="Received: initial_state with 3 tensor"):
        layer(X, initial_state=[np.zeros((BATCH, UNITS), "float32")] * 3)

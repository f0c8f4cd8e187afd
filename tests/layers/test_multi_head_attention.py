import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_nlpkit.layers import MultiHeadAttention
from tests.layer_test_case import run_layer_test

RNG = np.random.default_rng(5)
X = RNG.standard_normal((2, 6, 8)).astype("float32")
MEMORY = RNG.standard_normal((2, 4, 10)).astype("float32")
PADDING = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)


def _perturb(layer):
    layer.set_weights(
        [w + 0.2 * RNG.standard_normal(w.shape).astype("float32") for w in layer.get_weights()]
    )


def test_layer_basics(tmp_path):
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3, "value_dim": 5, "output_shape": 7, "dropout": 0.1},
        {"query": X, "value": MEMORY},
        (2, 6, 7),
        expected_num_trainable_weights=8,
        tmp_path=tmp_path,
    )


def test_layer_basics_causal_with_scores(tmp_path):
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 4, "use_bias": False},
        {"query": X, "value": X},
        ((2, 6, 8), (2, 4, 6, 6)),
        expected_num_trainable_weights=4,
        call_kwargs={"use_causal_mask": True, "return_attention_scores": True},
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "call",
    [
        {},
        {"value_mask": PADDING},
        {"query_mask": PADDING, "value_mask": PADDING},
        {"use_causal_mask": True},
        {"attention_mask": RNG.random((2, 6, 6)) > 0.4},
        {"use_causal_mask": True, "value_mask": PADDING},
    ],
)
def test_parity_with_keras(call):
    ours = MultiHeadAttention(num_heads=2)
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    ours(X, X), reference(X, X)
    _perturb(reference)
    ours.set_weights(reference.get_weights())
    call = dict(call)
    query_mask = call.pop("query_mask", None)
    query = X
    if query_mask is not None:  # Keras MHA reads the query mask from the tensor only
        query = keras.layers.Masking()(X * query_mask[..., None])
    # Keras' default (fused) path; its score path gives a row with no visible key
    # zero weights instead of uniform ones (see test_a_row_without_a_visible_key).
    expected = reference(query, X, **call)
    _, expected_scores = reference(query, X, return_attention_scores=True, **call)
    actual, scores = ours(X, X, query_mask=query_mask, return_attention_scores=True, **call)
    # Padded queries: Keras' two paths disagree (the mean of all values, or of the
    # unpadded ones); ours gives uniform weights over every key. Compared: the others.
    real = np.ones((2, 6), bool) if query_mask is None else query_mask
    np.testing.assert_allclose(np.asarray(actual)[real], np.asarray(expected)[real], atol=1e-5)
    visible = np.asarray(expected_scores).sum(-1) > 0.5  # rows with a visible key
    visible &= real[:, None, :]
    np.testing.assert_allclose(
        np.asarray(scores)[visible], np.asarray(expected_scores)[visible], atol=1e-5
    )
    np.testing.assert_allclose(np.asarray(scores)[~visible], 1 / 6, atol=1e-6)


def test_a_row_without_a_visible_key_gets_uniform_weights_as_in_keras():
    """One behaviour on purpose: uniform weights (the mean of the values), as Keras'
    fused multi-head path, `keras.layers.Attention` and keras-hub's encoder give it."""
    mask = np.ones((2, 6, 6), bool)
    mask[0, 2] = False  # query 2 of sequence 0 sees no key
    ours = MultiHeadAttention(num_heads=2)
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    ours(X, X), reference(X, X)
    _perturb(reference)
    ours.set_weights(reference.get_weights())
    output, scores = ours(X, X, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(np.asarray(scores)[0, :, 2], 1 / 6, atol=1e-6)
    assert np.all(np.asarray(scores)[1] > 0)  # rows with visible keys: a real softmax
    np.testing.assert_allclose(
        np.asarray(output), np.asarray(reference(X, X, attention_mask=mask)), atol=1e-5
    )
    # The mean of the projected values, projected out.
    values = np.asarray(reference.value_dense(X))[0].mean(0)  # (heads, dim)
    expected_row = np.asarray(reference.output_dense(values[None, None]))[0, 0]
    np.testing.assert_allclose(np.asarray(output)[0, 2], expected_row, atol=1e-5)


def test_parity_with_keras_cross_attention():
    ours = MultiHeadAttention(num_heads=3, key_dim=5, value_dim=2, output_shape=4)
    reference = keras.layers.MultiHeadAttention(num_heads=3, key_dim=5, value_dim=2, output_shape=4)
    key = RNG.standard_normal((2, 4, 3)).astype("float32")
    ours(X, MEMORY, key), reference(X, MEMORY, key)
    _perturb(reference)
    ours.set_weights(reference.get_weights())
    np.testing.assert_allclose(
        np.asarray(ours(X, MEMORY, key)), np.asarray(reference(X, MEMORY, key)), atol=1e-5
    )


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_cached_decoding_equals_full_recomputation(chunk):
    layer = MultiHeadAttention(num_heads=2)
    full = np.asarray(layer(X, X, use_causal_mask=True))
    cache = np.zeros((2, 2, 6, 2, 4), "float32")  # (batch, k/v, max_length, heads, dim)
    outputs = []
    for start in range(0, 6, chunk):
        piece = X[:, start : start + chunk]
        y, cache = layer(piece, piece, use_causal_mask=True, cache=cache, cache_update_index=start)
        outputs.append(np.asarray(y))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)
    # The cache holds exactly the projected keys and values of every position.
    keys = np.asarray(layer.key_dense(X))  # (batch, seq, heads, dim)
    np.testing.assert_allclose(np.asarray(cache)[:, 0], keys, atol=1e-6)


def test_cached_step_inside_a_traced_function():
    layer = MultiHeadAttention(num_heads=2)
    layer(X, X)

    @tf.function(
        input_signature=[
            tf.TensorSpec((2, 1, 8)),
            tf.TensorSpec((2, 2, 6, 2, 4)),
            tf.TensorSpec((), tf.int32),
        ]
    )
    def decode(token, cache, index):
        return layer(token, token, use_causal_mask=True, cache=cache, cache_update_index=index)

    full = np.asarray(layer(X, X, use_causal_mask=True))
    cache = tf.zeros((2, 2, 6, 2, 4))
    for t in range(6):
        y, cache = decode(X[:, t : t + 1], cache, tf.constant(t))
        np.testing.assert_allclose(np.asarray(y)[:, 0], full[:, t], atol=1e-5)


def test_causal_gradient_is_exactly_zero():
    layer = MultiHeadAttention(num_heads=2)
    x = tf.constant(X)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer(x, x, use_causal_mask=True)
        outputs = [tf.reduce_sum(y[:, t]) for t in range(6)]
    for t in range(6):
        grad = tape.gradient(outputs[t], x).numpy()
        assert np.all(grad[:, t + 1 :] == 0.0), t
        assert np.any(grad[:, : t + 1] != 0.0), t


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_heads": 0}, "num_heads=0"),
        ({"num_heads": 2, "key_dim": -1}, "key_dim=-1"),
        ({"num_heads": 2, "dropout": 2.0}, "dropout=2.0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MultiHeadAttention(**kwargs)


def test_key_dim_not_dividing():
    with pytest.raises(ValueError, match=r"query feature size 8\. Received: num_heads=3"):
        MultiHeadAttention(num_heads=3)(X, X)


def test_cache_index_without_cache():
    with pytest.raises(ValueError, match="cache_update_index=2"):
        MultiHeadAttention(num_heads=2)(X, X, cache_update_index=2)


@pytest.mark.parametrize("mask_shape", [(6, 6), (2, 6, 6), (2, 1, 6, 6), (2, 2, 6, 6)])
def test_every_mask_rank_keras_accepts(mask_shape):
    ours = MultiHeadAttention(num_heads=2)
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    ours(X, X), reference(X, X)
    _perturb(reference)
    ours.set_weights(reference.get_weights())
    mask = np.random.default_rng(1).random(mask_shape) > 0.3
    mask[..., 0] = True  # every row sees a key
    np.testing.assert_allclose(
        np.asarray(ours(X, X, attention_mask=mask)),
        np.asarray(reference(X, X, attention_mask=mask)),
        atol=1e-5,
    )


def test_unclear_inputs_are_named():
    layer = MultiHeadAttention(num_heads=2)
    with pytest.raises(ValueError, match=r"value_shape=\(2, 4, 10\) and key_shape=\(2, 3, 10\)"):
        layer(X, MEMORY, MEMORY[:, :3])
    with pytest.raises(ValueError, match=r"attention_mask of shape \(6,\)"):
        layer(X, X, attention_mask=np.ones((6,), bool))
    with pytest.raises(ValueError, match="argument `key_dim`"):
        MultiHeadAttention(num_heads=2, key_dim=0)


def test_nd_attention_and_output_shape_as_keras():
    """4-D inputs attend over `attention_axes` (Keras' computation, our class)."""
    x = RNG.standard_normal((2, 3, 4, 8)).astype("float32")
    ours = MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(2,), output_shape=(5,))
    reference = keras.layers.MultiHeadAttention(
        num_heads=2, key_dim=3, attention_axes=(2,), output_shape=(5,)
    )
    ours(x, x), reference(x, x)
    ours.set_weights(reference.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x, x)), np.asarray(reference(x, x)), atol=1e-5)
    assert ours(x, x).shape == (2, 3, 4, 5)


def test_gate_sliding_window_and_cache():
    """`use_gate` and `sliding_window` (Keras' options) hold in cached decoding too."""
    layer = MultiHeadAttention(num_heads=2, use_gate=True, sliding_window=3)
    full = np.asarray(layer(X, X, use_causal_mask=True))
    cache = np.zeros((2, 2, 6, 2, 4), "float32")
    for t in range(6):
        y, cache = layer(
            X[:, t : t + 1],
            X[:, t : t + 1],
            use_causal_mask=True,
            cache=cache,
            cache_update_index=t,
        )
        np.testing.assert_allclose(np.asarray(y)[:, 0], full[:, t], atol=1e-5)


def test_quantize_and_lora_go_through_the_projections():
    inputs = keras.Input((6, 8))
    model = keras.Model(inputs, MultiHeadAttention(num_heads=2, name="mha")(inputs, inputs))
    before = np.asarray(model(X))
    layer = model.get_layer("mha")
    layer.query_dense.enable_lora(2)
    assert len(layer.trainable_weights) == 2 + 7  # LoRA A and B; the query bias, the rest
    np.testing.assert_allclose(np.asarray(model(X)), before, atol=1e-6)  # B starts at zero
    model = keras.Model(inputs, MultiHeadAttention(num_heads=2, name="q")(inputs, inputs))
    before = np.asarray(model(X))
    model.quantize("int8")
    assert model.get_layer("q").query_dense._kernel.dtype == "int8"
    np.testing.assert_allclose(np.asarray(model(X)), before, atol=0.05)


def test_a_layer_saved_by_0_2_loads():
    """0.2 kept the eight kernels and biases on the layer itself and called Keras'
    `output_shape` `output_dim`; such a file loads into Keras' sublayers."""
    reference = MultiHeadAttention(num_heads=2, output_shape=5)
    reference(X, X)
    _perturb(reference)
    config = {**reference.get_config(), "output_dim": 5}
    del config["output_shape"]
    layer = MultiHeadAttention.from_config(config)
    layer(X, X)
    store = {str(i): np.asarray(w) for i, w in enumerate(reference.get_weights())}
    layer.load_own_variables(store)
    for sublayer in layer._flatten_layers(include_self=False):
        sublayer.load_own_variables({})  # what the loader then asks of them: skipped
    np.testing.assert_array_equal(np.asarray(layer(X, X)), np.asarray(reference(X, X)))
    with pytest.raises(ValueError, match="the file holds 3 variables"):
        layer.load_own_variables({"0": 0, "1": 0, "2": 0})

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
        {"num_heads": 2, "key_dim": 3, "value_dim": 5, "output_dim": 7, "dropout": 0.1},
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
    expected, expected_scores = reference(query, X, return_attention_scores=True, **call)
    actual, scores = ours(X, X, query_mask=query_mask, return_attention_scores=True, **call)
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), atol=1e-5)
    np.testing.assert_allclose(np.asarray(scores), np.asarray(expected_scores), atol=1e-5)


def test_parity_with_keras_cross_attention():
    ours = MultiHeadAttention(num_heads=3, key_dim=5, value_dim=2, output_dim=4)
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
    keys = np.asarray(layer._project(X, layer.key_kernel, layer.key_bias))
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

import keras
import numpy as np
import pytest

from keras_nlpkit.layers import AdditiveAttention
from keras_nlpkit.layers import DotProductAttention
from tests.layer_test_case import run_layer_test

RNG = np.random.default_rng(3)
QUERY = RNG.standard_normal((2, 3, 4)).astype("float32")
VALUE = RNG.standard_normal((2, 5, 6)).astype("float32")
KEY = RNG.standard_normal((2, 5, 4)).astype("float32")
VALUE_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
QUERY_MASK = np.array([[1, 1, 0], [1, 1, 1]], bool)


@pytest.mark.parametrize(
    "layer_cls, kwargs, num_weights",
    [
        (AdditiveAttention, {"units": 7}, 4),
        (AdditiveAttention, {"use_bias": False, "dropout": 0.1}, 3),
        (DotProductAttention, {"scale": True}, 0),
        (DotProductAttention, {"score_mode": "general", "dropout": 0.1}, 1),
    ],
)
def test_layer_basics(layer_cls, kwargs, num_weights, tmp_path):
    inputs = [QUERY, VALUE, KEY]
    if kwargs.get("score_mode") == "general":  # a key of another size than the query
        inputs = [QUERY, VALUE, VALUE]
    run_layer_test(
        layer_cls,
        kwargs,
        {"inputs": inputs},
        (2, 3, 6),
        expected_num_trainable_weights=num_weights,
        run_training_check=num_weights > 0,
        tmp_path=tmp_path,
    )


def test_self_attention_worked_example():
    """Course example "Computers are thinking machines", scores divided by √2.

    For "machines": scores 0.7, 0.21, −0.49, 0.98; weights 0.30, 0.21, 0.13, 0.36;
    output [0.23, 0.54] (the course sums with weights rounded to two places; the
    exact output is [0.2331, 0.5464]).
    """
    x = np.array([[[0.2, 0.8], [-0.2, 0.5], [-0.3, -0.4], [0.7, 0.7]]], "float32")
    layer = DotProductAttention(scale=True)
    output, weights = layer([x, x], return_attention_scores=True)
    output, weights = np.asarray(output)[0], np.asarray(weights)[0]
    machines = 3
    np.testing.assert_allclose((x[0] @ x[0, machines]).round(2), [0.7, 0.21, -0.49, 0.98])
    np.testing.assert_allclose(weights[machines].round(2), [0.30, 0.21, 0.13, 0.36])
    np.testing.assert_allclose(output[machines], [0.23, 0.54], atol=0.01)
    # The exact value, computed independently.
    scores = x[0] @ x[0].T / np.sqrt(2.0)
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True) @ x[0]
    np.testing.assert_allclose(output, expected, atol=1e-6)


def test_dot_equals_keras_attention():
    ours = DotProductAttention()
    reference = keras.layers.Attention()
    args = [QUERY, VALUE, KEY]
    mask = [QUERY_MASK, VALUE_MASK]
    for kwargs in ({}, {"mask": mask}, {"use_causal_mask": True}):
        np.testing.assert_allclose(
            np.asarray(ours(args, **kwargs)), np.asarray(reference(args, **kwargs)), atol=1e-6
        )


def test_general_and_additive_against_numpy():
    general = DotProductAttention(score_mode="general", scale=True)
    additive = AdditiveAttention(units=3)
    general([QUERY, VALUE]), additive([QUERY, VALUE, KEY])
    w = np.asarray(general.kernel)
    scores = QUERY @ w @ VALUE.transpose(0, 2, 1) / np.sqrt(VALUE.shape[-1])
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(general([QUERY, VALUE])), weights @ VALUE, atol=1e-5)

    w1, w2 = np.asarray(additive.query_kernel), np.asarray(additive.key_kernel)
    b, v = np.asarray(additive.bias), np.asarray(additive.scale)
    hidden = np.tanh((QUERY @ w1)[:, :, None] + (KEY @ w2)[:, None] + b)
    scores = hidden @ v  # vᵀ tanh(W₁q + W₂k)
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        np.asarray(additive([QUERY, VALUE, KEY])), weights @ VALUE, atol=1e-5
    )


@pytest.mark.parametrize("layer_cls", [AdditiveAttention, DotProductAttention])
def test_masks(layer_cls):
    layer = layer_cls()
    output, weights = layer(
        [QUERY, VALUE, KEY], mask=[QUERY_MASK, VALUE_MASK], return_attention_scores=True
    )
    weights, output = np.asarray(weights), np.asarray(output)
    assert np.all(weights[0, :, 3:] == 0)  # padded values get no weight
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert np.all(output[0, 2] == 0)  # a padded query outputs zeros
    _, causal = layer([QUERY, VALUE, KEY], use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.triu(np.asarray(causal)[0], k=1) == 0)


def test_mask_propagates_in_a_model():
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    attended = DotProductAttention()([embedded, embedded])
    pooled = keras.layers.GlobalAveragePooling1D()(attended)  # uses the mask
    model = keras.Model(tokens, [attended, pooled])
    ids = np.array([[1, 2, 0, 0]])
    seq, mean = model(ids)
    np.testing.assert_allclose(np.asarray(mean)[0], np.asarray(seq)[0, :2].mean(0), atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="score_mode='cosine'"):
        DotProductAttention(score_mode="cosine")
    with pytest.raises(ValueError, match="units=0"):
        AdditiveAttention(units=0)
    with pytest.raises(ValueError, match="dropout=1.0"):
        AdditiveAttention(dropout=1.0)
    with pytest.raises(ValueError, match="Received length: 1"):
        DotProductAttention()([QUERY])
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        AdditiveAttention()(QUERY)  # a bare tensor (was a TypeError)
    with pytest.raises(ValueError, match="mask must be a list"):
        DotProductAttention()([QUERY, QUERY], mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="mask list of length 2 or 3"):
        DotProductAttention()([QUERY, QUERY], mask=[np.ones((2, 3), bool)])
    with pytest.raises(ValueError, match="query size=4, key size=6"):
        DotProductAttention()([QUERY, VALUE])


@pytest.mark.parametrize("layer", [DotProductAttention, AdditiveAttention])
def test_scores_are_returned_on_symbolic_inputs(layer):
    query, value = keras.Input((3, 4)), keras.Input((5, 4))
    output, scores = layer()([query, value], return_attention_scores=True)
    assert tuple(output.shape) == (None, 3, 4) and tuple(scores.shape) == (None, 3, 5)
    model = keras.Model([query, value], [output, scores])
    _, weights = model([QUERY, np.random.rand(2, 5, 4).astype("float32")])
    np.testing.assert_allclose(np.asarray(weights).sum(-1), 1.0, atol=1e-6)


def test_keras_scores_are_reachable():
    """The deliberate differences, undone: Keras' numbers come out."""
    key = np.random.default_rng(3).standard_normal((2, 5, 4)).astype("float32")
    # AdditiveAttention with identity projections and no bias is Keras' layer.
    ours, theirs = AdditiveAttention(use_bias=False), keras.layers.AdditiveAttention()
    ours([QUERY, key]), theirs([QUERY, key])
    ours.set_weights([np.eye(4), np.eye(4), np.asarray(theirs.scale) + 0.3])
    theirs.set_weights([np.asarray(theirs.scale) + 0.3])
    np.testing.assert_allclose(
        np.asarray(ours([QUERY, key])), np.asarray(theirs([QUERY, key])), atol=1e-5
    )
    # DotProductAttention without the fixed 1/sqrt(d_k) is Keras' Attention, use_scale too.
    ours, theirs = DotProductAttention(use_scale=True), keras.layers.Attention(use_scale=True)
    ours([QUERY, key]), theirs([QUERY, key])
    ours.set_weights([np.array(0.7)]), theirs.set_weights([np.array(0.7)])
    np.testing.assert_allclose(
        np.asarray(ours([QUERY, key])), np.asarray(theirs([QUERY, key])), atol=1e-5
    )

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_nlpkit.layers import TransformerDecoderBlock
from keras_nlpkit.layers import TransformerEncoderBlock
from tests.layer_test_case import run_layer_test

RNG = np.random.default_rng(11)
X = RNG.standard_normal((2, 6, 8)).astype("float32")
ENCODED = RNG.standard_normal((2, 4, 8)).astype("float32")
PADDING = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
ENCODER_PADDING = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)


def _copy_perturbed(source, target):
    source.set_weights(
        [w + 0.2 * RNG.standard_normal(w.shape).astype("float32") for w in source.get_weights()]
    )
    target.set_weights(source.get_weights())  # same layout and order as keras-hub


@pytest.mark.parametrize("normalize_first", [False, True])
def test_encoder_basics(normalize_first, tmp_path):
    run_layer_test(
        TransformerEncoderBlock,
        {
            "intermediate_dim": 16,
            "num_heads": 2,
            "dropout": 0.1,
            "normalize_first": normalize_first,
        },
        {"inputs": X, "padding_mask": PADDING},
        (2, 6, 8),
        expected_num_trainable_weights=16,
        tmp_path=tmp_path,
    )


def test_decoder_basics(tmp_path):
    run_layer_test(
        TransformerDecoderBlock,
        {"intermediate_dim": 16, "num_heads": 2, "activation": "gelu"},
        {"decoder_sequence": X, "decoder_padding_mask": PADDING},
        (2, 6, 8),
        expected_num_trainable_weights=16,
        tmp_path=tmp_path,
    )


def test_decoder_with_cross_attention_basics(tmp_path):
    run_layer_test(
        TransformerDecoderBlock,
        {"intermediate_dim": 16, "num_heads": 4, "normalize_first": True},
        {
            "decoder_sequence": X,
            "encoder_sequence": ENCODED,
            "encoder_padding_mask": ENCODER_PADDING,
        },
        (2, 6, 8),
        expected_num_trainable_weights=26,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_parity_with_keras_hub(normalize_first, activation):
    kwargs = dict(
        intermediate_dim=16, num_heads=2, normalize_first=normalize_first, activation=activation
    )
    ours, reference = (
        TransformerEncoderBlock(**kwargs),
        keras_hub.layers.TransformerEncoder(**kwargs),
    )
    ours(X), reference(X)
    _copy_perturbed(reference, ours)
    for call in ({}, {"padding_mask": PADDING}, {"attention_mask": RNG.random((2, 6, 6)) > 0.3}):
        np.testing.assert_allclose(
            np.asarray(ours(X, **call)), np.asarray(reference(X, **call)), atol=1e-5
        )


@pytest.mark.parametrize("normalize_first", [False, True])
@pytest.mark.parametrize("cross", [False, True])
def test_decoder_parity_with_keras_hub(normalize_first, cross):
    kwargs = dict(intermediate_dim=16, num_heads=2, normalize_first=normalize_first)
    ours, reference = (
        TransformerDecoderBlock(**kwargs),
        keras_hub.layers.TransformerDecoder(**kwargs),
    )
    encoded = (ENCODED,) if cross else ()
    ours(X, *encoded), reference(X, *encoded)
    _copy_perturbed(reference, ours)
    call = {"decoder_padding_mask": PADDING}
    if cross:
        call["encoder_padding_mask"] = ENCODER_PADDING
    np.testing.assert_allclose(
        np.asarray(ours(X, *encoded, **call)),
        np.asarray(reference(X, *encoded, **call)),
        atol=1e-5,
    )


@pytest.mark.parametrize("cross", [False, True])
def test_decoder_cached_decoding_equals_full(cross):
    block = TransformerDecoderBlock(intermediate_dim=16, num_heads=2)
    encoded = (ENCODED,) if cross else ()
    full = np.asarray(block(X, *encoded))
    cache = np.zeros((2, 2, 6, 2, 4), "float32")
    steps = []
    for t in range(6):
        y, cache = block(
            X[:, t : t + 1],
            *encoded,
            self_attention_cache=cache,
            self_attention_cache_update_index=t,
        )
        steps.append(np.asarray(y))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_decoder_cache_matches_keras_hub_cache():
    ours = TransformerDecoderBlock(intermediate_dim=16, num_heads=2)
    reference = keras_hub.layers.TransformerDecoder(intermediate_dim=16, num_heads=2)
    ours(X), reference(X)
    _copy_perturbed(reference, ours)
    cache = np.zeros((2, 2, 6, 2, 4), "float32")
    y, our_cache = ours(X[:, :3], self_attention_cache=cache, self_attention_cache_update_index=0)
    y_ref, hub_cache = reference(
        X[:, :3], self_attention_cache=cache, self_attention_cache_update_index=0
    )
    np.testing.assert_allclose(np.asarray(y), np.asarray(y_ref), atol=1e-5)
    np.testing.assert_allclose(np.asarray(our_cache), np.asarray(hub_cache), atol=1e-5)


def test_decoder_causality_gradient_is_exactly_zero():
    block = TransformerDecoderBlock(intermediate_dim=16, num_heads=2)
    x = tf.constant(X)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = block(x)
        outputs = [tf.reduce_sum(y[:, t]) for t in range(6)]
    for t in range(6):
        grad = tape.gradient(outputs[t], x).numpy()
        assert np.all(grad[:, t + 1 :] == 0.0), f"output {t} depends on a later input"
        assert np.any(grad[:, : t + 1] != 0.0)


def test_encoder_reads_the_keras_mask():
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(20, 8, mask_zero=True)(tokens)
    encoder = TransformerEncoderBlock(intermediate_dim=16, num_heads=2)
    model = keras.Model(tokens, encoder(embedded))
    ids = np.array([[3, 4, 5, 0, 0]])
    explicit = encoder(model.layers[1](ids), padding_mask=ids != 0)
    np.testing.assert_allclose(np.asarray(model(ids)), np.asarray(explicit), atol=1e-6)


@pytest.mark.parametrize("block_cls", [TransformerEncoderBlock, TransformerDecoderBlock])
def test_bad_arguments(block_cls):
    with pytest.raises(ValueError, match="num_heads=0"):
        block_cls(intermediate_dim=8, num_heads=0)
    with pytest.raises(ValueError, match="intermediate_dim=-4"):
        block_cls(intermediate_dim=-4, num_heads=2)
    with pytest.raises(ValueError, match=r"hidden size 8\. Received: num_heads=3"):
        block_cls(intermediate_dim=8, num_heads=3)(X)


def test_decoder_cross_attention_needs_encoder_sequence():
    block = TransformerDecoderBlock(intermediate_dim=8, num_heads=2)
    block(X, ENCODED)
    with pytest.raises(ValueError, match="encoder_sequence=None"):
        block(X)

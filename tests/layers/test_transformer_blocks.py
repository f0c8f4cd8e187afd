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


def test_decoder_cached_decoding_equals_full():
    block = TransformerDecoderBlock(intermediate_dim=16, num_heads=2)
    full = np.asarray(block(X))
    cache = np.zeros((2, 2, 6, 2, 4), "float32")
    steps = []
    for t in range(6):
        y, cache = block(
            X[:, t : t + 1], self_attention_cache=cache, self_attention_cache_update_index=t
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
        # A weighted sum: a plain sum of a layer-normed vector is constant (gradient 0).
        weights = tf.constant(RNG.standard_normal((8,)).astype("float32"))
        outputs = [tf.reduce_sum(y[:, t] * weights) for t in range(6)]
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


def test_a_2d_attention_mask_is_broadcast_over_batch_and_heads():
    """Keras broadcasts a (Tq, Tv) mask; num_heads == Tq once put row h on head h."""
    kwargs = dict(intermediate_dim=16, num_heads=2)
    ours, reference = (
        TransformerEncoderBlock(**kwargs),
        keras_hub.layers.TransformerEncoder(**kwargs),
    )
    x = X[:, :2]  # Tq = 2 = num_heads: the case that was silently wrong
    ours(x), reference(x)
    _copy_perturbed(reference, ours)
    mask = np.array([[True, False], [True, True]])
    expected = reference(x, attention_mask=np.broadcast_to(mask, (2, 2, 2)))
    np.testing.assert_allclose(
        np.asarray(ours(x, attention_mask=mask)), np.asarray(expected), atol=1e-5
    )
    with pytest.raises(ValueError, match=r"attention_mask of shape \(2, 1, 1, 2, 2\)"):
        ours(x, attention_mask=np.ones((2, 1, 1, 2, 2), bool))


@pytest.mark.parametrize("normalize_first", [False, True])
def test_decoder_cross_attention_cache_equals_full_and_keras_hub(normalize_first):
    kwargs = dict(intermediate_dim=16, num_heads=2, normalize_first=normalize_first)
    ours, reference = (
        TransformerDecoderBlock(**kwargs),
        keras_hub.layers.TransformerDecoder(**kwargs),
    )
    ours(X, ENCODED), reference(X, ENCODED)
    _copy_perturbed(reference, ours)
    full = np.asarray(ours(X, ENCODED, encoder_padding_mask=ENCODER_PADDING))
    self_cache = np.zeros((2, 2, 6, 2, 4), "float32")
    cross_cache = np.zeros((2, 2, 4, 2, 4), "float32")
    steps = []
    for t in range(6):
        y, self_cache, cross_cache = ours(
            X[:, t : t + 1],
            ENCODED,
            encoder_padding_mask=ENCODER_PADDING,
            self_attention_cache=self_cache,
            self_attention_cache_update_index=t,
            cross_attention_cache=cross_cache,
            cross_attention_cache_update_index=0 if t == 0 else None,  # project once
        )
        steps.append(np.asarray(y))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # keras-hub's first step, same caches in and out.
    zeros_self, zeros_cross = np.zeros_like(self_cache), np.zeros_like(cross_cache)
    mine = ours(
        X[:, :1],
        ENCODED,
        self_attention_cache=zeros_self,
        self_attention_cache_update_index=0,
        cross_attention_cache=zeros_cross,
        cross_attention_cache_update_index=0,
    )
    theirs = reference(
        X[:, :1],
        ENCODED,
        self_attention_cache=zeros_self,
        self_attention_cache_update_index=0,
        cross_attention_cache=zeros_cross,
        cross_attention_cache_update_index=0,
    )
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    with pytest.raises(ValueError, match="given together"):
        ours(X, ENCODED, self_attention_cache=self_cache, self_attention_cache_update_index=0)


# --- what keras-hub's own transformer_{encoder,decoder}_test.py check, on ours ---------
def test_keras_hub_checks_dropout_1_leaves_only_the_layer_norms():
    for block, args in (
        (TransformerEncoderBlock(intermediate_dim=4, num_heads=2, dropout=0.99999), (X,)),
        (TransformerDecoderBlock(intermediate_dim=4, num_heads=2, dropout=0.99999), (X, ENCODED)),
    ):
        outputs = block(*args, training=True)
        expected = block.feedforward_layer_norm(block.self_attention_layer_norm(X))
        np.testing.assert_allclose(np.asarray(outputs), np.asarray(expected), atol=1e-5)
    with pytest.raises(ValueError):
        TransformerEncoderBlock(intermediate_dim=4, num_heads=2, kernel_initializer="Invalid")


def test_keras_hub_checks_masks_propagate_and_scores_have_their_shape():
    mask = np.array([[True, True, False, False, True, True]] * 2)
    for block, encoded in (
        (TransformerEncoderBlock(intermediate_dim=4, num_heads=2), ()),
        (TransformerDecoderBlock(intermediate_dim=4, num_heads=2), (ENCODED,)),
        (TransformerDecoderBlock(intermediate_dim=4, num_heads=2), ()),
    ):
        x = keras.ops.convert_to_tensor(X)  # a fresh tensor: Keras' attention clears it
        keras.src.backend.set_keras_mask(x, mask)
        np.testing.assert_array_equal(keras.src.backend.get_keras_mask(block(x, *encoded)), mask)
    _, scores = TransformerEncoderBlock(intermediate_dim=4, num_heads=2)(
        X, return_attention_scores=True
    )
    assert tuple(scores.shape) == (2, 2, 6, 6)


def test_keras_hub_checks_a_cached_while_loop_equals_one_call():
    """Both caches carried through `ops.while_loop`, as keras-hub's cache test does."""
    layer = TransformerDecoderBlock(intermediate_dim=4, num_heads=2)
    empty = keras.ops.zeros((2, 2, 6, 2, 4))
    whole, whole_self, whole_cross = layer(
        X,
        ENCODED,
        self_attention_cache=empty,
        self_attention_cache_update_index=0,
        cross_attention_cache=keras.ops.zeros((2, 2, 4, 2, 4)),
        cross_attention_cache_update_index=0,
    )

    def body(i, outputs, self_cache):
        step, self_cache, _ = layer(
            keras.ops.slice(X, (0, i, 0), (2, 1, 8)),
            ENCODED,
            self_attention_cache=self_cache,
            self_attention_cache_update_index=i,
            cross_attention_cache=whole_cross,
        )
        return i + 1, keras.ops.slice_update(outputs, (0, i, 0), step), self_cache

    _, outputs, self_cache = keras.ops.while_loop(
        lambda i, *_: i < 6, body, (0, keras.ops.zeros_like(X), empty)
    )
    np.testing.assert_allclose(np.asarray(outputs), np.asarray(whole), atol=1e-5)
    np.testing.assert_allclose(np.asarray(self_cache), np.asarray(whole_self), atol=1e-5)

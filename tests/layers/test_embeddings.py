import keras
import keras_hub
import numpy as np
import pytest

from keras_nlpkit.layers import PositionEmbedding
from keras_nlpkit.layers import SinusoidalPositionEncoding
from keras_nlpkit.layers import TokenAndPositionEmbedding
from tests.layer_test_case import run_layer_test

RNG = np.random.default_rng(13)
X = RNG.standard_normal((2, 5, 6)).astype("float32")
TOKENS = np.array([[4, 9, 2, 0, 0], [1, 2, 3, 4, 5]], "int32")
SEGMENTS = np.array([[0, 0, 1, 1, 1], [0, 0, 0, 1, 1]], "int32")


def test_position_embedding_basics(tmp_path):
    run_layer_test(
        PositionEmbedding,
        {"sequence_length": 9},
        X,
        (2, 5, 6),
        expected_num_trainable_weights=1,
        tmp_path=tmp_path,
    )


def test_sinusoidal_basics(tmp_path):
    run_layer_test(
        SinusoidalPositionEncoding,
        {},
        X,
        (2, 5, 6),
        expected_num_trainable_weights=0,
        run_training_check=False,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "kwargs, data, num_weights",
    [
        ({"mask_zero": True}, {"token_ids": TOKENS}, 2),
        ({"num_segments": 2}, {"token_ids": TOKENS, "segment_ids": SEGMENTS}, 3),
    ],
)
def test_token_and_position_basics(kwargs, data, num_weights, tmp_path):
    run_layer_test(
        TokenAndPositionEmbedding,
        {"vocabulary_size": 12, "sequence_length": 8, "embedding_dim": 4, **kwargs},
        data,
        (2, 5, 4),
        expected_num_trainable_weights=num_weights,
        tmp_path=tmp_path,
    )


def test_position_embedding_start_index_and_short_inputs():
    layer = PositionEmbedding(sequence_length=9)
    full = np.asarray(layer(np.zeros((1, 9, 6), "float32")))
    np.testing.assert_array_equal(np.asarray(layer(X)), np.broadcast_to(full[:, :5], X.shape))
    np.testing.assert_array_equal(
        np.asarray(layer(X[:, :2], start_index=4)), np.broadcast_to(full[:, 4:6], (2, 2, 6))
    )


def test_position_embedding_equals_keras_hub():
    ours, reference = PositionEmbedding(9), keras_hub.layers.PositionEmbedding(9)
    ours(X), reference(X)
    ours.set_weights(reference.get_weights())
    np.testing.assert_array_equal(np.asarray(ours(X)), np.asarray(reference(X)))


def test_sinusoidal_formula():
    d = 6
    encoding = np.asarray(SinusoidalPositionEncoding()(np.zeros((1, 7, d), "float32")))[0]
    for i in range(7):
        for j in range(d // 2):
            angle = i / 10000 ** (2 * j / d)
            assert encoding[i, 2 * j] == pytest.approx(np.sin(angle), abs=1e-6)
            assert encoding[i, 2 * j + 1] == pytest.approx(np.cos(angle), abs=1e-6)
    reference = keras_hub.layers.SinePositionEncoding()(np.zeros((1, 7, d), "float32"))
    np.testing.assert_allclose(encoding, np.asarray(reference)[0], atol=1e-6)
    shifted = SinusoidalPositionEncoding()(np.zeros((1, 3, d), "float32"), start_index=4)
    np.testing.assert_allclose(np.asarray(shifted)[0], encoding[4:7], atol=1e-6)


def test_token_segment_position_sum():
    layer = TokenAndPositionEmbedding(12, 8, 4, num_segments=2)
    out = np.asarray(layer(TOKENS, SEGMENTS))
    tok = np.asarray(layer.token_embedding.embeddings)
    seg = np.asarray(layer.segment_embedding.embeddings)
    pos = np.asarray(layer.position_embedding.embeddings)
    np.testing.assert_allclose(out, tok[TOKENS] + seg[SEGMENTS] + pos[:5], atol=1e-6)
    logits = np.asarray(layer.logits(out))
    np.testing.assert_allclose(logits, out @ tok.T, atol=1e-5)


def test_mask_zero_propagates():
    tokens = keras.Input((None,), dtype="int32")
    embedded = TokenAndPositionEmbedding(12, 8, 4, mask_zero=True)(tokens)
    pooled = keras.layers.GlobalAveragePooling1D()(embedded)
    model = keras.Model(tokens, [embedded, pooled])
    seq, mean = model(TOKENS)
    np.testing.assert_allclose(np.asarray(mean)[0], np.asarray(seq)[0, :3].mean(0), atol=1e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match="sequence_length=0"):
        PositionEmbedding(0)
    with pytest.raises(ValueError, match="Received: input length=5"):
        PositionEmbedding(4)(X)
    with pytest.raises(ValueError, match="embedding_dim=0"):
        TokenAndPositionEmbedding(10, 8, 0)
    with pytest.raises(ValueError, match="num_segments=2, segment_ids=None"):
        TokenAndPositionEmbedding(12, 8, 4, num_segments=2)(TOKENS)
    with pytest.raises(ValueError, match="max_wavelength=0"):
        SinusoidalPositionEncoding(max_wavelength=0)


def test_positions_and_tied_logits_as_keras_hub():
    """keras-hub's `positions=` call argument and `token_embedding(h, reverse=True)`."""
    positions = np.array([[0, 0, 1, 2, 3], [4, 3, 2, 1, 0]], "int32")  # left-padded, reversed
    ours, reference = PositionEmbedding(9), keras_hub.layers.PositionEmbedding(9)
    ours(X), reference(X)
    ours.set_weights(reference.get_weights())
    np.testing.assert_allclose(
        np.asarray(ours(X, positions=positions)), np.asarray(reference(X, positions=positions))
    )
    np.testing.assert_allclose(
        np.asarray(SinusoidalPositionEncoding()(X, positions=positions)),
        np.asarray(keras_hub.layers.SinePositionEncoding()(X, positions=positions)),
        atol=1e-5,
    )
    for tie_weights in (True, False):
        ours = TokenAndPositionEmbedding(10, 9, 6, tie_weights=tie_weights)
        reference = keras_hub.layers.TokenAndPositionEmbedding(10, 9, 6, tie_weights=tie_weights)
        ours(TOKENS), reference(TOKENS)
        ours.set_weights(reference.get_weights())
        np.testing.assert_allclose(
            np.asarray(ours(TOKENS, positions=positions)),
            np.asarray(reference(TOKENS, positions=positions)),
        )
        hidden = np.asarray(ours(TOKENS))
        np.testing.assert_allclose(
            np.asarray(ours.logits(hidden)),
            np.asarray(reference.token_embedding(hidden, reverse=True)),
            atol=1e-5,
        )
        assert len(ours.weights) == (2 if tie_weights else 3)
        assert ours.get_config()["tie_weights"] == tie_weights


def test_keras_hub_checks_4d_inputs_float16_and_a_callable_initializer():
    """What keras-hub's position_embedding_test.py checks, on ours."""
    x = np.random.default_rng(0).random((4, 5, 21, 30)).astype("float32")
    assert PositionEmbedding(21)(x).shape == (4, 5, 21, 30)
    assert SinusoidalPositionEncoding()(x).shape == (4, 5, 21, 30)
    symbolic = PositionEmbedding(21, dtype="float16")(keras.Input((21, 30)))
    assert symbolic.dtype == "float16" and tuple(symbolic.shape) == (None, 21, 30)

    def counting(shape, dtype=None):
        return keras.ops.reshape(keras.ops.arange(12, dtype=dtype), shape)

    layer = PositionEmbedding(4, initializer=counting)
    np.testing.assert_array_equal(
        np.asarray(layer(np.zeros((2, 4, 3), "float32")))[1], np.arange(12).reshape(4, 3)
    )

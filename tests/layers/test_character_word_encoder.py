"""`CharacterWordEncoder`: a hand-run BiLSTM, padding-free CNN max-pool, masks, checks."""

import keras
import numpy as np
import pytest

from keras_nlpkit.layers import CharacterWordEncoder
from keras_nlpkit.text.word_characters import character_ids
from tests.layer_test_case import run_layer_test

WORDS = ["a", "cat", "purred", "日本"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lstm_final_h(lstm, inputs):
    """h after reading `inputs` (seq, features) with `lstm`'s weights, in NumPy."""
    kernel, recurrent, bias = (np.asarray(w, "float64") for w in lstm.get_weights())
    h = c = np.zeros(lstm.units)
    for x in inputs:
        z_i, z_f, z_c, z_o = np.split(x @ kernel + h @ recurrent + bias, 4)
        c = _sigmoid(z_f) * c + _sigmoid(z_i) * np.tanh(z_c)
        h = _sigmoid(z_o) * np.tanh(c)
    return h


def test_bilstm_is_a_hand_run_over_the_unpadded_word_and_its_reverse():
    keras.utils.set_random_seed(0)
    encoder = CharacterWordEncoder(character_dim=5, hidden_dim=4)
    ids = character_ids(WORDS, max_characters=12)  # lengths 3, 5, 8, 8 (日本: 6 bytes)
    output = np.asarray(encoder(ids))
    table = np.asarray(encoder.embedding.embeddings, "float64")
    for row, vector in zip(ids, output):
        embedded = table[row[row != 0]]  # the word alone, no padding
        forward = _lstm_final_h(encoder.forward_lstm, embedded)
        backward = _lstm_final_h(encoder.backward_lstm, embedded[::-1])
        np.testing.assert_allclose(vector, np.concatenate([forward, backward]), atol=1e-5)
    # Padding does not change a word's vector.
    longer = np.asarray(encoder(character_ids(WORDS, max_characters=20)))
    np.testing.assert_allclose(longer, output, atol=1e-6)


def test_cnn_max_pool_ignores_padding():
    keras.utils.set_random_seed(1)
    encoder = CharacterWordEncoder(
        character_dim=6, encoder="cnn", filters=[(1, 3), (2, 4), (5, 2)], cnn_activation="relu"
    )
    short = np.asarray(encoder(character_ids(WORDS, max_characters=10)))
    long = np.asarray(encoder(character_ids(WORDS, max_characters=25)))
    assert short.shape == (4, 9)
    np.testing.assert_allclose(long, short, atol=1e-6)
    # Known numbers: width 1 is a per-character Dense, so its pool is the max over
    # the word's characters alone.
    conv = encoder.convolutions[0]
    kernel, bias = (np.asarray(w) for w in conv.get_weights())
    table = np.asarray(encoder.embedding.embeddings)
    for row, vector in zip(character_ids(WORDS, max_characters=10), short):
        expected = np.maximum(table[row[row != 0]] @ kernel[0] + bias, 0.0).max(axis=0)
        np.testing.assert_allclose(vector[:3], expected, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden_dim": 3},
        {"encoder": "cnn", "filters": [(2, 3)], "highway_layers": 1, "output_dim": 5},
    ],
)
def test_padded_words_give_zero_rows_and_are_masked(kwargs):
    encoder = CharacterWordEncoder(**kwargs)
    ids = character_ids([["to", "be", "or"], ["not", "", ""]], max_characters=8)
    output = np.asarray(encoder(ids))
    mask = np.asarray(encoder.compute_mask(ids))
    np.testing.assert_array_equal(mask, [[True, True, True], [True, False, False]])
    assert output.shape == (2, 3, encoder.features)
    assert np.abs(output[mask]).sum(axis=-1).min() > 0  # real words are not zero
    np.testing.assert_array_equal(output[~mask], 0.0)
    # Downstream layers see the mask.
    inputs = keras.Input((None, 8), dtype="int32")
    pooled = keras.layers.GlobalAveragePooling1D()(encoder(inputs))
    mean = np.asarray(keras.Model(inputs, pooled)(ids))
    np.testing.assert_allclose(mean[1], output[1, 0], atol=1e-6)


def test_output_shapes_and_feature_counts():
    assert CharacterWordEncoder(hidden_dim=7).compute_output_shape((2, 3, 9)) == (2, 3, 14)
    assert CharacterWordEncoder(encoder="cnn").compute_output_shape((4, 9)) == (4, 2048)
    assert CharacterWordEncoder(output_dim=11).compute_output_shape((None, 9)) == (None, 11)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden_dim": 4, "highway_layers": 2, "output_dim": 6},
        {"encoder": "cnn", "filters": [(1, 3), (3, 5)], "highway_layers": 1},
    ],
)
def test_layer_checks(kwargs, tmp_path):
    ids = character_ids([["the", "cat"], ["sat", ""]], max_characters=7)
    encoder = CharacterWordEncoder(**kwargs)
    weights = 1 + (6 if encoder.encoder == "bilstm" else 2 * len(encoder.filters))
    weights += 4 * encoder.highway_layers + (2 if encoder.output_dim else 0)
    run_layer_test(
        CharacterWordEncoder,
        kwargs,
        ids,
        expected_output_shape=(2, 2, encoder.features),
        expected_num_trainable_weights=weights,
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"encoder": "gru"}, "encoder"),
        ({"num_characters": 0}, "num_characters"),
        ({"character_dim": -1}, "character_dim"),
        ({"hidden_dim": 2.5}, "hidden_dim"),
        ({"filters": []}, "filters"),
        ({"filters": [(0, 3)]}, "filters"),
        ({"filters": [(2,)]}, "filters"),
        ({"filters": "wide"}, "filters"),
        ({"highway_layers": -1}, "highway_layers"),
        ({"output_dim": 0}, "output_dim"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=f"{name}="):
        CharacterWordEncoder(**kwargs)


def test_ids_need_a_batch_axis():
    with pytest.raises(ValueError, match="inputs_shape"):
        CharacterWordEncoder()(np.ones((5,), "int32"))

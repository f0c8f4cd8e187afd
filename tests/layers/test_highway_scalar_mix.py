"""`Highway` and `ScalarMix` on known numbers, and through the common layer checks."""

import keras
import numpy as np
import pytest

from keras_nlpkit.layers import Highway
from keras_nlpkit.layers import ScalarMix
from tests.layer_test_case import run_layer_test


def test_highway_is_the_identity_at_t_0_and_the_transform_at_t_1():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    closed = Highway(transform_bias=-1e4)  # t = σ(−1e4) = 0: y = x
    np.testing.assert_allclose(np.asarray(closed(x)), x, atol=1e-6)
    opened = Highway(transform_bias=1e4)  # t = 1: y = relu(W_H x + b_H)
    y = np.asarray(opened(x))
    kernel, bias = opened.transform.kernel.numpy(), opened.transform.bias.numpy()
    np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0.0), atol=1e-5)
    # The default gate starts mostly closed: t = σ(W_T x − 2) with W_T x = 0 gives 0.119.
    layer = Highway(kernel_initializer="zeros")
    layer.build(x.shape)
    np.testing.assert_allclose(np.asarray(layer.gate(x)), 1 / (1 + np.exp(2.0)), rtol=1e-6)


def test_scalar_mix_of_equal_weights_is_the_mean_times_gamma():
    rng = np.random.default_rng(1)
    layers = [rng.normal(size=(2, 5, 6)).astype("float32") for _ in range(3)]
    mix = ScalarMix(num_layers=3, initial_scale=2.5)
    np.testing.assert_allclose(np.asarray(mix(layers)), 2.5 * np.mean(layers, axis=0), rtol=1e-5)
    mix.layer_weights.assign([0.0, np.log(3.0), -50.0])  # softmax: 1/4, 3/4, ~0
    np.testing.assert_allclose(
        np.asarray(mix(layers)), 2.5 * (0.25 * layers[0] + 0.75 * layers[1]), rtol=1e-5, atol=1e-6
    )
    masked = keras.layers.Masking()(layers[0])
    assert mix.compute_mask(layers, [masked._keras_mask] * 3) is masked._keras_mask


def test_highway_layer_checks(tmp_path):
    run_layer_test(
        Highway,
        {"activation": "tanh", "transform_bias": -1.0},
        np.random.default_rng(2).normal(size=(2, 3, 8)).astype("float32"),
        expected_output_shape=(2, 3, 8),
        expected_num_trainable_weights=4,
        tmp_path=tmp_path,
    )


def test_scalar_mix_layer_checks(tmp_path):
    rng = np.random.default_rng(3)
    run_layer_test(
        ScalarMix,
        {"num_layers": 3},
        {"inputs": [rng.normal(size=(2, 4, 8)).astype("float32") for _ in range(3)]},
        expected_output_shape=(2, 4, 8),
        expected_num_trainable_weights=2,
        tmp_path=tmp_path,
    )


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match="`num_layers`"):
        ScalarMix(num_layers=0)
    with pytest.raises(ValueError, match="a list of 2 tensors"):
        ScalarMix(num_layers=2)([np.zeros((1, 3), "float32")] * 3)
    with pytest.raises(ValueError, match="tensors of one shape"):
        ScalarMix(num_layers=2)([np.zeros((1, 3), "float32"), np.zeros((1, 4), "float32")])

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import keras_nlpkit

LAYERS = [
    "AdaptiveSoftmax",
    "AdditiveAttention",
    "CharacterWordEncoder",
    "DotProductAttention",
    "GRU",
    "Highway",
    "LSTM",
    "MultiHeadAttention",
    "PositionEmbedding",
    "ScalarMix",
    "SimpleRNN",
    "SinusoidalPositionEncoding",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
]


def test_public_layers_are_exported_and_registered():
    assert keras_nlpkit.layers.__all__ == LAYERS
    for name in LAYERS:
        cls = getattr(keras_nlpkit.layers, name)
        assert keras.saving.get_registered_object(f"keras_nlpkit>{name}") is cls
        assert cls.__doc__ and "Example:" in cls.__doc__ and "Args:" in cls.__doc__


# Runs every layer forward on JAX in a fresh process (Keras fixes its backend at import).
JAX_SCRIPT = r"""
import json, numpy as np, keras, keras_nlpkit
from keras_nlpkit import layers as L
assert keras.backend.backend() == "jax"
x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32")
ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 1]])
out = {}
lstm = L.LSTM(4, return_sequences=True, return_state=True)
seq, h, c = lstm(x, mask=ids != 0)
states = lstm.get_initial_state(2)
for t in range(5):
    y, states = lstm.step(x[:, t], states)
out["lstm_step_vs_call"] = float(np.abs(np.asarray(y) - np.asarray(lstm(x)[0][:, -1])).max())
out["gru"] = list(L.GRU(3)(x).shape)
rnn = L.SimpleRNN(3, return_sequences=True)
out["simple_rnn"] = list(rnn(x, mask=ids != 0).shape)
out["additive"] = list(L.AdditiveAttention()([x, x]).shape)
out["dot"] = list(L.DotProductAttention(score_mode="general")([x, x]).shape)
mha = L.MultiHeadAttention(num_heads=2)
full = np.asarray(mha(x, x, use_causal_mask=True))
cache = np.zeros((2, 2, 5, 2, 4), "float32")
steps = []
for t in range(5):
    yt, cache = mha(x[:, t:t+1], x[:, t:t+1], use_causal_mask=True, cache=cache,
                    cache_update_index=t)
    steps.append(np.asarray(yt))
out["mha_cache_vs_full"] = float(np.abs(np.concatenate(steps, 1) - full).max())
out["encoder"] = list(L.TransformerEncoderBlock(16, 2)(x).shape)
out["decoder"] = list(L.TransformerDecoderBlock(16, 2)(x, x).shape)
out["embedding"] = list(L.TokenAndPositionEmbedding(10, 8, 4, num_segments=2)(ids, ids % 2).shape)
out["sinusoidal"] = list(L.SinusoidalPositionEncoding()(x).shape)
out["highway"] = list(L.Highway()(x).shape)
out["scalar_mix"] = float(np.abs(np.asarray(L.ScalarMix(2)([x, 3 * x])) - 2 * x).max())
chars = np.array([[[1, 5, 6, 2, 0], [0] * 5], [[1, 7, 2, 0, 0], [1, 8, 9, 10, 2]]])
for kind in ("bilstm", "cnn"):
    words = L.CharacterWordEncoder(encoder=kind, hidden_dim=4, filters=[(2, 3)])
    y = np.asarray(words(chars))
    padded = np.asarray(words(np.pad(chars, ((0, 0), (0, 0), (0, 4)))))
    out[kind] = [*y.shape, float(np.abs(y[0, 1]).max()), float(np.abs(padded - y).max())]
adaptive = L.AdaptiveSoftmax(10, cutoffs=[3, 6])
log_probs = np.asarray(adaptive(x))
out["adaptive_sum_error"] = float(np.abs(np.exp(log_probs).sum(-1) - 1).max())
gathered = np.take_along_axis(log_probs, ids[..., None], -1)[..., 0]
log_prob = np.asarray(adaptive.log_prob(x, ids))
out["adaptive_log_prob_error"] = float(np.abs(log_prob - gathered).max())
inputs = keras.Input((5,), dtype="int32")
hidden = L.LSTM(8, return_sequences=True)(keras.layers.Embedding(10, 8)(inputs))
model = keras.Model(inputs, keras.layers.Dense(10)(L.TransformerDecoderBlock(16, 2)(hidden)))
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
losses = model.fit(ids, ids, epochs=3, verbose=0).history["loss"]
out["fit_loss_decreases"] = losses[-1] < losses[0]
targets = keras.Input((5,), dtype="int32")
output = L.AdaptiveSoftmax(10, cutoffs=[3, 6])
trainer = keras.Model([inputs, targets], output(hidden, targets=targets))
trainer.compile("adam")
losses = trainer.fit([ids, ids], epochs=3, verbose=0).history["loss"]
out["adaptive_fit_loss_decreases"] = losses[-1] < losses[0]
print(json.dumps(out))
"""


def test_layers_run_on_jax():
    pytest.importorskip("jax", reason="jax is not installed (pip install -e '.[test]')")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["lstm_step_vs_call"] < 1e-5
    assert out["mha_cache_vs_full"] < 1e-5
    assert out["simple_rnn"] == [2, 5, 3]
    assert out["gru"] == [2, 3] and out["additive"] == [2, 5, 8] and out["dot"] == [2, 5, 8]
    assert out["encoder"] == [2, 5, 8] and out["decoder"] == [2, 5, 8]
    assert out["embedding"] == [2, 5, 4] and out["sinusoidal"] == [2, 5, 8]
    assert out["highway"] == [2, 5, 8] and out["scalar_mix"] < 1e-5
    assert out["bilstm"][:4] == [2, 2, 8, 0.0] and out["bilstm"][4] < 1e-5
    assert out["cnn"][:4] == [2, 2, 3, 0.0] and out["cnn"][4] < 1e-5
    assert out["fit_loss_decreases"]
    assert out["adaptive_sum_error"] < 1e-5 and out["adaptive_log_prob_error"] < 1e-5
    assert out["adaptive_fit_loss_decreases"]

"""Trains small models of our layers under float32, mixed_float16 and mixed_bfloat16.

    python benchmarks/mixed_precision.py                       # TensorFlow, this machine
    KERAS_BACKEND=jax python benchmarks/mixed_precision.py --jit --steps 200   # e.g. a GPU

For each model and policy: the same initial weights; max |mixed − float32| of the
outputs before training (after training the runs have diverged, so only the start
is compared); then `--steps` training steps with `train_on_batch` (XLA when
`--jit`), reporting the median time per step, the first and last loss, whether every
loss was finite, and whether the weights stayed float32. Exits 1 if any run has a
non-finite loss, non-float32 weights, or a loss that did not fall. Imports no
TensorFlow, so it runs on any Keras backend (the GPU image has JAX, not TF).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import keras
import numpy as np

from keras_nlpkit import layers

VOCAB, LENGTH, BATCH = 512, 64, 32


def lstm_lm(dtype):
    ids = keras.Input((LENGTH,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, 64, dtype=dtype)(ids)
    x = layers.LSTM(256, return_sequences=True, dtype=dtype)(x)
    return keras.Model(ids, keras.layers.Dense(VOCAB, dtype=dtype)(x))


def gru_attention_lm(dtype):
    ids = keras.Input((LENGTH,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, 64, dtype=dtype)(ids)
    h = layers.GRU(128, return_sequences=True, dtype=dtype)(x)
    a = layers.AdditiveAttention(dtype=dtype)([h, h], use_causal_mask=True)
    d = layers.DotProductAttention(score_mode="general", scale=True, dtype=dtype)(
        [h, h], use_causal_mask=True
    )
    x = keras.layers.Concatenate(dtype=dtype)([h, a, d])
    return keras.Model(ids, keras.layers.Dense(VOCAB, dtype=dtype)(x))


def gpt_lm(dtype):
    ids = keras.Input((LENGTH,), dtype="int32")
    embedding = layers.TokenAndPositionEmbedding(VOCAB, LENGTH, 128, dtype=dtype)
    x = embedding(ids)
    for _ in range(2):
        x = layers.TransformerDecoderBlock(512, 4, normalize_first=True, dtype=dtype)(x)
    return keras.Model(ids, keras.layers.Dense(VOCAB, dtype=dtype)(x))


def bert_like_encoder(dtype):
    ids = keras.Input((LENGTH,), dtype="int32")
    segments = keras.Input((LENGTH,), dtype="int32")
    x = layers.TokenAndPositionEmbedding(
        VOCAB, LENGTH, 128, num_segments=2, mask_zero=True, dtype=dtype
    )(ids, segments)
    x = x + layers.SinusoidalPositionEncoding(dtype=dtype)(x)
    for _ in range(2):
        x = layers.TransformerEncoderBlock(512, 4, dtype=dtype)(x)
    return keras.Model([ids, segments], keras.layers.Dense(VOCAB, dtype=dtype)(x))


MODELS = {
    "lstm_lm": lstm_lm,
    "gru_attention_lm": gru_attention_lm,
    "gpt_lm": gpt_lm,
    "bert_like_encoder": bert_like_encoder,
}
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def run(name, steps, jit):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, VOCAB, (BATCH, LENGTH)).astype("int32")
    x = [ids, (np.arange(LENGTH) >= LENGTH // 2).astype("int32")[None].repeat(BATCH, 0)]
    if name != "bert_like_encoder":
        x = ids
    y = np.roll(ids, -1, axis=1)
    rows, reference_weights, reference_output = [], None, None
    for policy in POLICIES:
        keras.utils.set_random_seed(0)
        model = MODELS[name](policy)
        if reference_weights is None:
            reference_weights = model.get_weights()
        model.set_weights(reference_weights)
        output = np.asarray(keras.ops.convert_to_numpy(model(x)), "float32")
        if reference_output is None:
            reference_output = output
        optimizer = keras.optimizers.Adam(1e-3)
        if policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit,
        )
        losses, times = [], []
        for _ in range(steps):
            start = time.perf_counter()
            losses.append(float(model.train_on_batch(x, y)))
            times.append(time.perf_counter() - start)
        rows.append(
            {
                "model": name,
                "policy": policy,
                "initial_max_abs_diff_vs_float32": float(np.max(np.abs(output - reference_output))),
                "ms_per_step": round(1000 * statistics.median(times[steps // 4 :]), 2),
                "first_loss": round(losses[0], 4),
                "last_loss": round(losses[-1], 4),
                "all_finite": bool(np.all(np.isfinite(losses))),
                "weights_float32": all(w.dtype == "float32" for w in model.trainable_weights),
            }
        )
        r = rows[-1]
        print(
            f"{name:18s} {policy:15s} {r['ms_per_step']:8.2f} ms/step  loss "
            f"{r['first_loss']:.3f} -> {r['last_loss']:.3f}  finite={r['all_finite']}  "
            f"init diff {r['initial_max_abs_diff_vs_float32']:.4f}",
            flush=True,
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--jit", action="store_true", help="compile with XLA")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args(argv)
    results = [row for name in args.models for row in run(name, args.steps, args.jit)]
    devices = [str(d) for d in keras.distribution.list_devices()]
    print(
        json.dumps(
            {
                "benchmark": "mixed_precision",
                "backend": keras.backend.backend(),
                "keras": keras.__version__,
                "devices": devices,
                "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
                "jit_compile": args.jit,
                "steps": args.steps,
                "results": results,
            },
            indent=2,
        )
    )
    failed = [
        r
        for r in results
        if not (r["all_finite"] and r["weights_float32"] and r["last_loss"] < r["first_loss"])
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

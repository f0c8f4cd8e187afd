"""Training-step throughput of our layers against their peers, same shapes, same run.

    python benchmarks/layers.py                 # CPU defaults, ~2 minutes on 2 cores
    python benchmarks/layers.py --steps 50 --jit --mixed  # e.g. on a GPU

Pairs: `keras_nlpkit.layers.TransformerEncoderBlock` vs keras-hub
`TransformerEncoder`, and `keras_nlpkit.layers.LSTM` vs `keras.layers.LSTM`.
Each model is `Input -> layer -> mean-squared error`, trained with
`train_on_batch` (forward + backward + SGD update). The two models of a pair are
timed in alternating rounds, so that machine noise hits both; the figure is the
median time per step over all rounds. Prints one line per pair and a JSON summary;
the target is ratio = ours / peer throughput >= 0.95.
"""

import argparse
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402

from keras_nlpkit.layers import LSTM  # noqa: E402
from keras_nlpkit.layers import TransformerEncoderBlock  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import compare  # noqa: E402


def _model(layer, input_shape, jit, dtype):
    inputs = keras.Input(input_shape)
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse", jit_compile=jit)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--jit", action="store_true", help="compile with XLA")
    parser.add_argument("--mixed", action="store_true", help="mixed_float16 policy")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    dtype = "mixed_float16" if args.mixed else "float32"
    rng = np.random.default_rng(0)
    results = []

    # Transformer encoder: batch 16, 128 tokens, hidden 256, 4 heads, FFN 1024.
    batch, length, hidden = 16, 128, 256
    x = rng.standard_normal((batch, length, hidden)).astype("float32")
    encoder_args = dict(intermediate_dim=1024, num_heads=4, dtype=dtype)
    results.append(
        compare(
            f"TransformerEncoderBlock vs keras-hub ({batch}x{length}x{hidden})",
            _model(TransformerEncoderBlock(**encoder_args), x.shape[1:], args.jit, dtype),
            _model(
                keras_hub.layers.TransformerEncoder(**encoder_args), x.shape[1:], args.jit, dtype
            ),
            x,
            x,
            batch * length,
            args.steps,
            args.rounds,
            args.warmup,
        )
    )

    # LSTM language-model shape: batch 64, 50 steps, 64 features, 256 units.
    batch, length, features, units = 64, 50, 64, 256
    x = rng.standard_normal((batch, length, features)).astype("float32")
    y = np.zeros((batch, length, units), "float32")
    results.append(
        compare(
            f"LSTM vs keras.layers.LSTM ({batch}x{length}x{features}->{units})",
            _model(LSTM(units, return_sequences=True, dtype=dtype), x.shape[1:], args.jit, dtype),
            _model(
                keras.layers.LSTM(units, return_sequences=True, dtype=dtype),
                x.shape[1:],
                args.jit,
                dtype,
            ),
            x,
            y,
            batch * length,
            args.steps,
            args.rounds,
            args.warmup,
        )
    )

    import tensorflow as tf

    summary = {
        "benchmark": "layers",
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, "
        f"gpus={len(tf.config.list_physical_devices('GPU'))}",
        "versions": {
            "keras": keras.__version__,
            "keras_hub": keras_hub.__version__,
            "tensorflow": tf.__version__,
        },
        "jit_compile": args.jit,
        "dtype_policy": dtype,
        "results": results,
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

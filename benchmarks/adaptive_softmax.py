"""Adaptive softmax vs the full softmax at WikiText-2's vocabulary: step time and perplexity.

    python benchmarks/adaptive_softmax.py                    # ~2 minutes on 2 cores
    python benchmarks/adaptive_softmax.py --train-steps 300  # perplexity after 300 steps
    python benchmarks/adaptive_softmax.py --train-steps 0    # step times only

Vocabulary 33,278 words (WikiText-2's), hidden 256, batches of 32 × 35 tokens, token
ids drawn from a Zipf distribution (id 0 the most frequent, as the layer wants).

Step time: `hidden (32, 35, 256) → Dense(256, tanh) → output layer`, one
`train_on_batch` (forward + backward + Adam) per step, for
- `full`: `Dense(33278)` + `SparseCategoricalCrossentropy(from_logits=True)`;
- `adaptive`: `AdaptiveSoftmax(cutoffs=[2000, 10000], div_value=4)` called with the
  targets (the layer adds the NLL loss; no `(…, V)` output);
- `adaptive_log_probs`: the same layer returning `(…, V)` log-probabilities, trained
  with the sparse cross-entropy (the simple path, for comparison).
The models are timed in alternating rounds so that machine noise hits all of them;
the figure is the median step time after warm-up. Ratio = full / adaptive.

Perplexity: a bigram LM, `Embedding(V, 256) → Dense(256, tanh) → output layer`, trained
`--train-steps` Adam steps on a synthetic Zipfian bigram stream (each next word is,
with probability 1/2, its predecessor's fixed successor, else a fresh Zipf draw), and
evaluated on a held-out stream of the same source. The oracle's perplexity (the true
conditional distribution) and the unigram's are printed beside it. Real text: the
`nlpkit train lm` recipe.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_nlpkit.layers import AdaptiveSoftmax  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import time_steps  # noqa: E402

VOCABULARY = 33_278  # WikiText-2
HIDDEN = 256
BATCH, LENGTH = 32, 35
CUTOFFS = [2000, 10000]
DIV_VALUE = 4.0
ZIPF_EXPONENT = 1.0


def zipf_probabilities(size=VOCABULARY, exponent=ZIPF_EXPONENT):
    p = 1.0 / np.arange(1, size + 1) ** exponent
    return p / p.sum()


def output_layer(kind):
    if kind == "full":
        return keras.layers.Dense(VOCABULARY, name="output")
    return AdaptiveSoftmax(VOCABULARY, cutoffs=CUTOFFS, div_value=DIV_VALUE, name="output")


def build(kind, body_input, learning_rate=1e-3):
    """`(model, takes_targets)`: body → output, compiled with Adam for `kind`."""
    inputs = body_input()
    hidden = keras.layers.Dense(HIDDEN, activation="tanh", name="body")(
        inputs if inputs.dtype == "float32" else keras.layers.Embedding(VOCABULARY, HIDDEN)(inputs)
    )
    output = output_layer(kind)
    if kind == "adaptive":
        targets = keras.Input((LENGTH,), dtype="int32", name="targets")
        model = keras.Model([inputs, targets], output(hidden, targets=targets))
        model.compile(keras.optimizers.Adam(learning_rate))  # the layer adds the loss
        return model, True
    model = keras.Model(inputs, output(hidden))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(learning_rate), loss=loss)
    return model, False


def step_times(args, rng):
    kinds = ["full", "adaptive", "adaptive_log_probs"]
    hidden = rng.standard_normal((BATCH, LENGTH, HIDDEN)).astype("float32")
    targets = rng.choice(VOCABULARY, size=(BATCH, LENGTH), p=zipf_probabilities())
    targets = targets.astype("int32")
    models = {}
    for kind in kinds:
        model, takes_targets = build(kind, lambda: keras.Input((LENGTH, HIDDEN), name="hidden"))
        x, y = ([hidden, targets], None) if takes_targets else (hidden, targets)
        models[kind] = (model, x, y)
        time_steps(model, x, y, args.warmup)  # tracing, caches
    timings = {kind: [] for kind in kinds}
    for _ in range(args.rounds):
        for kind, (model, x, y) in models.items():
            timings[kind] += time_steps(model, x, y, args.steps)
    result = {
        f"{kind}_ms_per_step": round(1000 * statistics.median(times), 1)
        for kind, times in timings.items()
    }
    result["params"] = {
        kind: int(sum(np.prod(w.shape) for w in model.get_layer("output").weights))
        for kind, (model, _, _) in models.items()
        if kind != "adaptive_log_probs"
    }
    result["ratio_full_over_adaptive"] = round(
        result["full_ms_per_step"] / result["adaptive_ms_per_step"], 2
    )
    result["ratio_full_over_adaptive_log_probs"] = round(
        result["full_ms_per_step"] / result["adaptive_log_probs_ms_per_step"], 2
    )
    return result


def bigram_stream(length, successor, unigram, rng):
    """Token ids: with probability 1/2 the predecessor's successor, else a Zipf draw."""
    fresh = rng.choice(VOCABULARY, size=length, p=unigram)
    follow = rng.random(length) < 0.5
    ids = np.empty(length, "int32")
    ids[0] = fresh[0]
    for t in range(1, length):
        ids[t] = successor[ids[t - 1]] if follow[t] else fresh[t]
    return ids


def perplexities(args, rng):
    unigram = zipf_probabilities()
    successor = rng.choice(VOCABULARY, size=VOCABULARY, p=unigram)
    tokens = BATCH * (LENGTH + 1)
    train = bigram_stream(args.train_steps * tokens, successor, unigram, rng)
    valid = bigram_stream(args.valid_batches * tokens, successor, unigram, rng)

    def windows(ids):
        ids = ids.reshape(-1, LENGTH + 1)
        return ids[:, :-1], ids[:, 1:]

    (x, y), (vx, vy) = windows(train), windows(valid)
    # The true conditional distribution, and the unigram, on the held-out stream.
    oracle = 0.5 * unigram[vy] + 0.5 * (successor[vx] == vy)
    result = {
        "train_steps": args.train_steps,
        "oracle_ppl": round(float(np.exp(-np.log(oracle).mean())), 1),
        "unigram_ppl": round(float(np.exp(-np.log(unigram[vy]).mean())), 1),
    }
    for kind in ("full", "adaptive"):
        keras.utils.set_random_seed(0)
        model, takes_targets = build(
            kind, lambda: keras.Input((LENGTH,), dtype="int32"), args.learning_rate
        )
        data, valid_data = ([x, y], None), ([vx, vy], None)
        if not takes_targets:
            data, valid_data = (x, y), (vx, vy)
        start = time.perf_counter()
        model.fit(*data, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        result[f"{kind}_train_s"] = round(time.perf_counter() - start, 1)
        nll = model.evaluate(*valid_data, batch_size=BATCH, verbose=0)
        result[f"{kind}_ppl"] = round(float(np.exp(nll)), 1)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=40, help="0: no perplexity")
    parser.add_argument("--valid-batches", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="perplexity runs")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    result = {
        "vocabulary": VOCABULARY,
        "hidden": HIDDEN,
        "batch": [BATCH, LENGTH],
        "cutoffs": CUTOFFS,
        "div_value": DIV_VALUE,
        "backend": keras.backend.backend(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    result["step"] = step_times(args, rng)
    step = result["step"]
    print(
        f"train step (median): full {step['full_ms_per_step']} ms, adaptive "
        f"{step['adaptive_ms_per_step']} ms (ratio {step['ratio_full_over_adaptive']}), "
        f"adaptive through (…, V) log-probs {step['adaptive_log_probs_ms_per_step']} ms "
        f"(ratio {step['ratio_full_over_adaptive_log_probs']})",
        flush=True,
    )
    if args.train_steps:
        result["perplexity"] = ppl = perplexities(args, rng)
        print(
            f"perplexity after {args.train_steps} steps: full {ppl['full_ppl']} "
            f"({ppl['full_train_s']} s), adaptive {ppl['adaptive_ppl']} "
            f"({ppl['adaptive_train_s']} s); oracle {ppl['oracle_ppl']}, unigram "
            f"{ppl['unigram_ppl']}",
            flush=True,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()

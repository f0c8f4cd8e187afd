"""Backbone throughput against keras-hub, and cached generation against recomputation.

    python benchmarks/backbones.py                  # CPU defaults, ~3 minutes on 1 thread
    python benchmarks/backbones.py --steps 20 --batch 32 --hidden 768 --layers 12  # a GPU

1. Training step (forward + backward + SGD update, `train_on_batch` on the
   backbone's sequence output against zeros, mean-squared error) of each pair built
   with the same config and the same weights, timed in alternating rounds so that
   machine noise hits both; the figure is the median step time. Target: ratio =
   ours / peer tokens/s >= 0.95. Pairs are listed in `PAIRS`:
   - `gpt`: `keras_nlpkit.models.GPTBackbone` (activation "gelu_approximate", as
     GPT-2) vs `keras_hub.models.GPT2Backbone`;
   - `bert`: `keras_nlpkit.models.BertBackbone` vs `keras_hub.models.BertBackbone`,
     included when our `BertBackbone` exists (added by the BERT work).
   A new pair is one function `(args) -> (name, ours, peer, inputs, tokens)` added
   to `PAIRS`.
2. Generation: greedy continuation of a batch of prompts, new tokens per second,
   with `GPTCausalLM.generate` (KV cache, one `tf.function` loop) against the same
   model recomputing the whole sequence at every step (a `tf.function` per step)
   and keras-hub's `GPT2CausalLM.generate` (its cache) on the same weights.
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
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402

import keras_nlpkit.models as our_models  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import compare  # noqa: E402


def _trainable(backbone, output_key=None):
    """`backbone`'s inputs → its (sequence) output, compiled for an SGD + MSE step."""
    outputs = backbone.output if output_key is None else backbone.output[output_key]
    model = keras.Model(backbone.input, outputs)
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    return model


def _token_inputs(args, rng, segments=False):
    ids = rng.integers(1, args.vocabulary, (args.batch, args.sequence)).astype("int32")
    inputs = {"token_ids": ids, "padding_mask": np.ones_like(ids)}
    if segments:
        inputs["segment_ids"] = np.zeros_like(ids)
    return inputs


def _backbone_config(args):
    """The config both sides of a pair are built with (keras-hub's argument names)."""
    return dict(
        vocabulary_size=args.vocabulary,
        num_layers=args.layers,
        num_heads=args.heads,
        hidden_dim=args.hidden,
        intermediate_dim=4 * args.hidden,
        dropout=0.1,
        max_sequence_length=args.sequence,
    )


def gpt_pair(args, rng):
    config = _backbone_config(args)
    peer = keras_hub.models.GPT2Backbone(**config)
    ours = our_models.GPTBackbone.from_keras_hub(peer)
    return (
        "GPTBackbone vs keras-hub GPT2Backbone",
        _trainable(ours),
        _trainable(peer),
        _token_inputs(args, rng),
        args.batch * args.sequence,
    )


def bert_pair(args, rng):
    """Our BertBackbone vs keras-hub's, same config (only when ours exists)."""
    config = _backbone_config(args)
    peer = keras_hub.models.BertBackbone(**config)
    ours = our_models.BertBackbone(**config)
    if hasattr(ours, "from_keras_hub"):  # the same weights, when it can copy them
        ours = our_models.BertBackbone.from_keras_hub(peer)
    return (
        "BertBackbone vs keras-hub BertBackbone",
        _trainable(ours, "sequence_output"),
        _trainable(peer, "sequence_output"),
        _token_inputs(args, rng, segments=True),
        args.batch * args.sequence,
    )


PAIRS = {"gpt": gpt_pair}
if hasattr(our_models, "BertBackbone"):
    PAIRS["bert"] = bert_pair


def compare_training(name, ours, peer, x, tokens, args):
    y = np.zeros((args.batch, args.sequence, args.hidden), "float32")
    return compare(name, ours, peer, x, y, tokens, args.steps, args.rounds, args.warmup)


def compare_generation(args, rng):
    """New tokens/s: our cached generate, full recomputation, keras-hub's generate."""
    import tensorflow as tf

    hub = keras_hub.models.GPT2Backbone(
        vocabulary_size=args.vocabulary,
        num_layers=args.layers,
        num_heads=args.heads,
        hidden_dim=args.hidden,
        intermediate_dim=4 * args.hidden,
        dropout=0.0,
        max_sequence_length=args.sequence,
    )
    lm = our_models.GPTCausalLM(our_models.GPTBackbone.from_keras_hub(hub))
    hub_lm = keras_hub.models.GPT2CausalLM(hub, preprocessor=None)
    batch, prompt_length, length = args.generate_batch, args.prompt, args.sequence
    new_tokens = batch * (length - prompt_length)
    prompts = rng.integers(1, args.vocabulary, (batch, prompt_length)).astype("int32")

    def cached():
        return np.asarray(lm.generate([list(p) for p in prompts], max_length=length))

    @tf.function(reduce_retracing=True)
    def next_token(ids):
        return tf.argmax(lm(ids)[:, -1], axis=-1, output_type=tf.int32)

    def recompute():
        ids = tf.constant(prompts)
        for _ in range(length - prompt_length):  # the whole sequence, every step
            ids = tf.concat([ids, next_token(ids)[:, None]], axis=1)
        return ids.numpy()

    padded = np.zeros((batch, length), "int32")
    padded[:, :prompt_length] = prompts
    mask = np.zeros_like(padded)
    mask[:, :prompt_length] = 1

    def keras_hub_cached():
        out = hub_lm.generate({"token_ids": padded, "padding_mask": mask}, stop_token_ids=None)
        return np.asarray(out["token_ids"])

    runs = {"ours_cached": cached, "recompute": recompute, "keras_hub_cached": keras_hub_cached}
    outputs = {name: run() for name, run in runs.items()}  # warm-up: tracing
    assert (outputs["ours_cached"] == outputs["recompute"]).all(), "cached != recomputed"
    timings = {name: [] for name in runs}
    for _ in range(args.generate_rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - start)
    result = {
        "batch": batch,
        "prompt_tokens": prompt_length,
        "new_tokens_per_row": length - prompt_length,
        "same_tokens_as_recompute": True,
    }
    for name, times in timings.items():
        result[f"{name}_tokens_per_s"] = round(new_tokens / statistics.median(times))
    result["cached_over_recompute"] = round(
        result["ours_cached_tokens_per_s"] / result["recompute_tokens_per_s"], 2
    )
    result["ours_over_keras_hub"] = round(
        result["ours_cached_tokens_per_s"] / result["keras_hub_cached_tokens_per_s"], 3
    )
    print(
        f"generation: cached {result['ours_cached_tokens_per_s']:,} tok/s, recompute "
        f"{result['recompute_tokens_per_s']:,} tok/s (x{result['cached_over_recompute']}), "
        f"keras-hub cached {result['keras_hub_cached_tokens_per_s']:,} tok/s",
        flush=True,
    )
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pairs", default=",".join(PAIRS), help=f"comma-separated, from {list(PAIRS)}"
    )
    parser.add_argument("--vocabulary", type=int, default=5000)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--sequence", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--prompt", type=int, default=16, help="prompt tokens (generation)")
    parser.add_argument("--generate-batch", type=int, default=4)
    parser.add_argument("--generate-rounds", type=int, default=3)
    parser.add_argument("--no-generation", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)

    results = {
        "training": [],
        "environment": {
            "machine": platform.machine(),
            "python": sys.version.split()[0],
            "keras": keras.__version__,
            "keras_hub": keras_hub.__version__,
            "backend": keras.backend.backend(),
            "intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "default"),
        },
    }
    for key in args.pairs.split(","):
        if key not in PAIRS:
            parser.error(f"--pairs: unknown pair {key!r}; choose from {list(PAIRS)}")
        name, ours, peer, x, tokens = PAIRS[key](args, rng)
        results["training"].append(compare_training(name, ours, peer, x, tokens, args))
    if not args.no_generation:
        results["generation"] = compare_generation(args, rng)
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

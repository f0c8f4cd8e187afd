"""Data-parallel pretraining throughput: 1 device against 2, and a paper estimate for 8 GPUs.

    python benchmarks/distributed.py                         # both backends, 1 and 2 devices
    python benchmarks/distributed.py --backends jax --steps 10 --batch-size 8
    python benchmarks/distributed.py --mixed-precision --devices 1,2,4,8   # e.g. a GPU host

1. Measured: tokens/second of pretraining steps with `model.fit` under
   `keras_nlpkit.recipes.distribution.configure("auto")` (what every recipe's
   `--distribution` does): JAX `keras.distribution.DataParallel`, TensorFlow
   `tf.distribute.MirroredStrategy`, or one device. Two models, built and compiled
   by their recipes' own functions:
   - `bert`: `BertPretrainer` (masked LM + next sentence), `BertBackbone.from_size("small")`
     (4 layers x 512), 8,000 WordPieces, `bert_pretrain.compile_pretrainer`;
   - `gpt`: `GPTCausalLM` built by `gpt_pretrain.build_model` with the recipe's default
     (small) config: 4 layers x 192, 8,000 pieces.
   Sequences of 128 tokens, random ids (one fixed batch repeated: throughput does not
   depend on the values; BERT: 15% + 1 masked positions, half the pairs "next").
   `--batch-size` is the global batch, as in the recipes: on R devices each replica
   takes batch / R rows (strong scaling). Each (model, backend, devices) runs in its
   own process (`--worker`), since the device count must be fixed before JAX or
   TensorFlow start: JAX gets `XLA_FLAGS=--xla_force_host_platform_device_count=N`
   (CPU) in its environment, TensorFlow N logical CPU devices
   (`tf.config.set_logical_device_configuration`); on GPUs, `CUDA_VISIBLE_DEVICES`
   keeps the first N. A worker fits `--warmup` steps (tracing, compilation), then
   `--steps` timed steps (each step's loss is read back, so a step's time is its
   completion); the figure is the median step. The ratio is N-device ÷ 1-device
   tokens/s of the same backend and model, measured in the same run. N virtual CPU
   devices share the machine's cores, so on a CPU the ratio shows the engine's
   overhead, not a speed-up.
2. Per model, the figures a paper estimate needs (parameters, float32 gradient bytes
   per step, FLOPs per step ≈ 6 × parameters × tokens), and the estimate itself for
   8 GPUs with a ring all-reduce under the assumptions named below (`GPUS` ...), with
   and without overlapping communication with the backward pass.

Prints a table, then one JSON line with everything.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

# === Assumptions of the 8-GPU estimate (not measured here) ===
GPUS = 8
# Global batch of the estimate: BERT's pretraining batch of 256 sequences (Devlin et al.,
# 2019), here of 128 tokens; 32 sequences per GPU on 8 GPUs.
ESTIMATE_BATCH_SEQUENCES = 256
ESTIMATE_SEQUENCE_LENGTH = 128
# A100's dense bf16 tensor-core peak (NVIDIA datasheet; H100 SXM: ~989 TFLOP/s).
PEAK_FLOPS = 312e12
# Model FLOPs utilisation: large Transformers train at ~40-55% (Megatron-LM on A100;
# PaLM 46% on TPU v4). Models as small as these reach less; a lower MFU lengthens the
# compute and so raises the scaling efficiency below: 40% keeps it on the safe side.
MFU = 0.40
# Effective all-reduce bus bandwidth per GPU (bytes/s). NVLink (A100/H100-class):
# nccl-tests reach ~230 GB/s busbw on a DGX A100 for large messages (NVLink 3, 300 GB/s
# each way); gradient buckets of tens of MB get less, hence 150. PCIe 4.0 x16: 32 GB/s
# each way on paper, ~20 GB/s achieved, less where GPUs share a switch or cross CPUs.
INTERCONNECTS = {"NVLink": 150e9, "PCIe 4.0": 20e9}
# The ring's latency (2 (N-1) hops of ~5-10 µs: ~0.1 ms a step) is left out: small
# against BERT-small's ~3.4 ms of compute, not against the small GPT's ~0.7 ms.

DEFAULT_MODELS = ("bert", "gpt")
SEQUENCE_LENGTH = 128
VOCABULARY_SIZE = 8000  # both recipes' default vocabularies


# === Worker: one (model, backend, devices) configuration in this process ===
def _worker(args):
    """Runs in a fresh process whose environment fixed the backend and device count."""
    devices = args.devices[0]
    backend = os.environ["KERAS_BACKEND"]
    if backend == "tensorflow":
        import tensorflow as tf

        # Before TensorFlow starts its runtime: N logical CPU devices (used when no GPU).
        cpus = tf.config.list_physical_devices("CPU")
        if not tf.config.list_physical_devices("GPU") and devices > 1:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(devices)]
            )
    import keras
    import numpy as np

    from keras_nlpkit.recipes import distribution

    on_gpu = _has_gpu(backend)
    policy = "float32"
    if args.mixed_precision:
        policy = "mixed_float16" if on_gpu else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    plan = distribution.configure("auto")
    if plan.replicas != devices:
        raise SystemExit(
            f"asked for {devices} devices, the engine found {plan.replicas} ({plan.describe()})"
        )
    keras.utils.set_random_seed(1)
    model_name = args.models[0]
    batch = args.batch_size
    total_steps = args.warmup + args.steps
    with plan.scope():
        model, data = (_bert if model_name == "bert" else _gpt)(batch, total_steps)
        timer = _step_timer()
        model.fit(data, epochs=1, steps_per_epoch=total_steps, callbacks=[timer], verbose=0)
    times = np.diff(timer.marks)[args.warmup :]  # marks[i]: the end of step i (0: the start)
    tokens = batch * SEQUENCE_LENGTH
    median = statistics.median(times)
    parameters = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    result = {
        "model": model_name,
        "backend": backend,
        "devices": devices,
        "engine": plan.describe(),
        "platform": "gpu" if on_gpu else "cpu",
        "policy": policy,
        "global_batch": batch,
        "tokens_per_step": tokens,
        "timed_steps": len(times),
        "ms_per_step": round(1000 * median, 2),
        "ms_per_step_mean": round(1000 * float(np.mean(times)), 2),
        "tokens_per_s": round(tokens / median),
        "trainable_parameters": parameters,
        "final_loss": round(float(timer.last_loss), 4),
    }
    print(json.dumps(result), flush=True)


def _has_gpu(backend):
    if backend == "jax":
        import jax

        return jax.default_backend() == "gpu"
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def _bert(batch, total_steps):
    import numpy as np
    import tensorflow as tf

    from keras_nlpkit.models import BertBackbone
    from keras_nlpkit.models import BertPretrainer
    from keras_nlpkit.recipes.bert_pretrain import BertPretrainConfig
    from keras_nlpkit.recipes.bert_pretrain import compile_pretrainer

    config = BertPretrainConfig(
        size="small",
        sequence_length=SEQUENCE_LENGTH,
        vocabulary_size=VOCABULARY_SIZE,
        batch_size=batch,
    )
    backbone = BertBackbone.from_size(
        config.size,
        config.vocabulary_size,
        max_sequence_length=config.sequence_length,
        dropout=config.dropout,
    )
    model = BertPretrainer(backbone)
    compile_pretrainer(model, config, total_steps)
    rng = np.random.default_rng(0)
    masked = int(np.ceil(0.15 * SEQUENCE_LENGTH)) + 1  # as BertPreprocessor.mask_generator
    ids = rng.integers(5, VOCABULARY_SIZE, (batch, SEQUENCE_LENGTH)).astype("int32")
    positions = np.sort(
        np.stack([rng.choice(np.arange(1, SEQUENCE_LENGTH - 1), masked, False) for _ in ids]), 1
    ).astype("int32")
    inputs = {
        "token_ids": ids,
        "segment_ids": (np.arange(SEQUENCE_LENGTH) >= SEQUENCE_LENGTH // 2)
        .astype("int32")[None]
        .repeat(batch, 0),
        "padding_mask": np.ones_like(ids),
        "mask_positions": positions,
    }
    targets = {
        "mlm": np.take_along_axis(ids, positions, 1),
        "nsp": (np.arange(batch) % 2).astype("int32"),
    }
    weights = {"mlm": np.ones(positions.shape, "float32"), "nsp": np.ones(batch, "float32")}
    data = tf.data.Dataset.from_tensors((inputs, targets, weights)).repeat().prefetch(2)
    return model, data


def _gpt(batch, total_steps):
    import numpy as np
    import tensorflow as tf

    from keras_nlpkit.recipes.gpt_pretrain import GPTPretrainConfig
    from keras_nlpkit.recipes.gpt_pretrain import build_model

    config = GPTPretrainConfig(
        sequence_length=SEQUENCE_LENGTH,
        vocabulary_size=VOCABULARY_SIZE,
        batch_size=batch,
        max_steps=total_steps,
    )
    model = build_model(config, config.vocabulary_size)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCABULARY_SIZE, (batch, SEQUENCE_LENGTH + 1)).astype("int32")
    data = tf.data.Dataset.from_tensors((ids[:, :-1], ids[:, 1:])).repeat().prefetch(2)
    return model, data


def _step_timer():
    """A callback noting when each step's loss was back on the host."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        """The time at which each step's loss was back on the host."""

        def __init__(self):
            super().__init__()
            self.marks = []
            self.last_loss = float("nan")

        def on_train_begin(self, logs=None):
            self.marks.append(time.perf_counter())

        def on_train_batch_end(self, batch, logs=None):
            self.last_loss = float(logs["loss"])  # waits for the step to finish
            self.marks.append(time.perf_counter())

    return StepTimer()


# === The paper estimate ===
def figures(parameters, tokens_per_step):
    """What a paper estimate takes from one model: parameters, gradient bytes, FLOPs."""
    return {
        "trainable_parameters": parameters,
        "gradient_bytes_float32": 4 * parameters,
        "tokens_per_step": tokens_per_step,
        "flops_per_step_6PT": 6 * parameters * tokens_per_step,
    }


def estimate(parameters, gpus=GPUS):
    """Step times and scaling efficiency on `gpus` GPUs, per interconnect (see the constants).

    Compute: 6 × parameters × tokens FLOPs (forward 2, backward 4; attention's
    own FLOPs, small at 128 tokens, left out), split over the GPUs, at MFU × peak.
    Communication: a ring all-reduce of the float32 gradients, each GPU sending and
    receiving 2 (N−1)/N × gradient bytes at the bus bandwidth. Without overlap a step
    is compute + communication; with overlap the all-reduce runs behind the backward
    pass (2/3 of the compute: the forward has no gradients to send yet), so a step is
    compute/3 + max(2/3 compute, communication). Efficiency = compute ÷ step time
    (the time 1 GPU would take for the same global batch, ÷ N, over the step time).

    Both times grow with the parameter count P, so their ratio does not depend on it:
    compute / all-reduce = (6 P T / (MFU × peak)) / (8 P (N−1)/N / bandwidth)
    = 3 T × bandwidth / (4 (N−1)/N × MFU × peak), T the tokens per GPU per step: the
    tokens each GPU takes set the efficiency, not the model's size. The all-reduce
    takes as long as the backward pass (4 P T FLOPs) at T = 2 (N−1)/N × MFU × peak /
    bandwidth (`tokens_per_gpu_to_hide_allreduce`).
    """
    tokens = ESTIMATE_BATCH_SEQUENCES * ESTIMATE_SEQUENCE_LENGTH
    gradient_bytes = 4 * parameters
    compute = 6 * parameters * tokens / gpus / (MFU * PEAK_FLOPS)
    ring_bytes = 2 * (gpus - 1) / gpus * gradient_bytes
    rows = []
    for link, bandwidth in INTERCONNECTS.items():
        communication = ring_bytes / bandwidth
        serial = compute + communication
        overlapped = compute / 3 + max(2 * compute / 3, communication)
        rows.append(
            {
                "interconnect": link,
                "bus_bandwidth_GBps": bandwidth / 1e9,
                "gpus": gpus,
                "global_batch_tokens": tokens,
                "ring_bytes_per_gpu": round(ring_bytes),
                "compute_ms": round(1000 * compute, 3),
                "allreduce_ms": round(1000 * communication, 3),
                "step_ms_no_overlap": round(1000 * serial, 3),
                "step_ms_overlap": round(1000 * overlapped, 3),
                "efficiency_no_overlap": round(compute / serial, 3),
                "efficiency_overlap": round(compute / overlapped, 3),
                "tokens_per_s_no_overlap": round(tokens / serial),
                "tokens_per_gpu_to_hide_allreduce": round(
                    2 * (gpus - 1) / gpus * MFU * PEAK_FLOPS / bandwidth
                ),
            }
        )
    return rows


# === Main: one worker process per configuration ===
def _run_worker(model, backend, devices, args):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    count = "--xla_force_host_platform_device_count"
    flags = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith(count)]
    env["XLA_FLAGS"] = " ".join(flags + [f"{count}={devices}"])
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(i) for i in range(devices)]
    env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus[:devices])
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        f"--models={model}",
        f"--devices={devices}",
        f"--steps={args.steps}",
        f"--warmup={args.warmup}",
        f"--batch-size={args.batch_size}",
    ] + (["--mixed-precision"] if args.mixed_precision else [])
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=args.timeout
        )
    except subprocess.TimeoutExpired:
        return {"model": model, "backend": backend, "devices": devices, "error": "timed out"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {
            "model": model,
            "backend": backend,
            "devices": devices,
            "error": f"exit {done.returncode}: " + " | ".join(tail),
        }
    result = json.loads(lines[-1])
    result["process_seconds"] = round(time.perf_counter() - start, 1)
    return result


def _print_measured(results):
    print(
        f"{'model':5s} {'backend':10s} {'dev':>3s}  {'engine':34s} {'ms/step':>9s} "
        f"{'tokens/s':>9s} {'vs 1 dev':>8s}"
    )
    for r in results:
        if "error" in r:
            print(f"{r['model']:5s} {r['backend']:10s} {r['devices']:>3d}  ERROR {r['error']}")
            continue
        ratio = f"{r['ratio_vs_1_device']:.3f}" if r.get("ratio_vs_1_device") else "-"
        print(
            f"{r['model']:5s} {r['backend']:10s} {r['devices']:>3d}  {r['engine']:34s} "
            f"{r['ms_per_step']:>9.1f} {r['tokens_per_s']:>9,} {ratio:>8s}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="jax,tensorflow", help="comma-separated")
    parser.add_argument("--devices", default="1,2", help="device counts, comma-separated")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="bert,gpt")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before them")
    parser.add_argument("--batch-size", type=int, default=16, help="global batch (sequences)")
    parser.add_argument(
        "--mixed-precision",
        action="store_true",
        help="mixed_bfloat16 on CPU, mixed_float16 on GPU (default: float32)",
    )
    parser.add_argument("--timeout", type=int, default=900, help="seconds per configuration")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.devices = [int(d) for d in str(args.devices).split(",")]
    args.models = args.models.split(",")
    backends = args.backends.split(",")
    for name in args.models:
        if name not in DEFAULT_MODELS:
            parser.error(f"--models: {name!r} is not one of {list(DEFAULT_MODELS)}")
    for backend in backends:
        if backend not in ("jax", "tensorflow"):
            parser.error(f"--backends: {backend!r} is not jax or tensorflow")
    for devices in args.devices:
        if devices < 1 or args.batch_size % devices:
            parser.error(
                f"--devices: each count must be ≥ 1 and divide --batch-size {args.batch_size}. "
                f"Received: {devices}"
            )
    if args.steps < 1 or args.warmup < 1:
        parser.error("--steps and --warmup must be ≥ 1")
    if args.worker:
        _worker(args)
        return 0

    results = []
    for model in args.models:
        for backend in backends:
            for devices in args.devices:
                result = _run_worker(model, backend, devices, args)
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)  # progress
    for r in results:
        base = next(
            (
                b
                for b in results
                if b["model"] == r["model"] and b["backend"] == r["backend"] and b["devices"] == 1
            ),
            None,
        )
        if "error" not in r and base and "error" not in base:
            r["ratio_vs_1_device"] = round(r["tokens_per_s"] / base["tokens_per_s"], 3)

    print(
        f"Measured: model.fit, sequence {SEQUENCE_LENGTH}, global batch {args.batch_size}, "
        f"{args.warmup} warm-up + {args.steps} timed steps (median), "
        f"{'mixed precision' if args.mixed_precision else 'float32'}, "
        f"{platform.machine()} with {os.cpu_count()} CPUs"
    )
    _print_measured(results)

    per_model = {}
    for model in args.models:
        done = [r for r in results if r["model"] == model and "error" not in r]
        if not done:
            continue
        info = figures(done[0]["trainable_parameters"], args.batch_size * SEQUENCE_LENGTH)
        best = max(done, key=lambda r: r["tokens_per_s"])
        info["achieved_gflops_here"] = round(
            info["flops_per_step_6PT"] / (best["ms_per_step"] / 1000) / 1e9, 1
        )
        info["estimate"] = estimate(info["trainable_parameters"])
        per_model[model] = info

    print()
    print("Per step (FLOPs estimated as 6 x trainable parameters x tokens, not measured):")
    for model, info in per_model.items():
        print(
            f"  {model:5s} {info['trainable_parameters']:>12,} parameters   "
            f"{info['gradient_bytes_float32'] / 1e6:8.1f} MB float32 gradients   "
            f"{info['flops_per_step_6PT'] / 1e9:9.1f} GFLOP per step of "
            f"{info['tokens_per_step']:,} tokens   (best here: "
            f"{info['achieved_gflops_here']} GFLOP/s)"
        )
    print()
    print(
        f"Paper estimate, {GPUS} GPUs, ring all-reduce (2(N-1)/N x gradient bytes per GPU), "
        f"global batch {ESTIMATE_BATCH_SEQUENCES} x {ESTIMATE_SEQUENCE_LENGTH} tokens, "
        f"{MFU:.0%} MFU of {PEAK_FLOPS / 1e12:.0f} TFLOP/s (A100 bf16), bus bandwidth "
        + ", ".join(f"{k} {v / 1e9:.0f} GB/s" for k, v in INTERCONNECTS.items())
        + ":"
    )
    print(
        f"  {'model':5s} {'link':9s} {'compute ms':>10s} {'all-red. ms':>11s} "
        f"{'step ms':>8s} {'eff.':>6s} {'step ms ovl':>11s} {'eff. ovl':>8s} "
        f"{'tokens/GPU to hide':>18s}"
    )
    for model, info in per_model.items():
        for e in info["estimate"]:
            print(
                f"  {model:5s} {e['interconnect']:9s} {e['compute_ms']:>10.3f} "
                f"{e['allreduce_ms']:>11.3f} {e['step_ms_no_overlap']:>8.3f} "
                f"{e['efficiency_no_overlap']:>6.1%} {e['step_ms_overlap']:>11.3f} "
                f"{e['efficiency_overlap']:>8.1%} {e['tokens_per_gpu_to_hide_allreduce']:>18,}"
            )
    print(
        "  (eff. = 1-GPU time for the same global batch / (N x step time); 'ovl': the "
        "all-reduce overlaps the backward pass, 2/3 of the compute; 'tokens/GPU to hide': "
        "per step, for the all-reduce to fit behind the backward pass)"
    )
    print(
        "  Compute and all-reduce both grow with the parameter count, so in this model the "
        "efficiency depends on the tokens per GPU per step, not on the model size; "
        f"here {ESTIMATE_BATCH_SEQUENCES * ESTIMATE_SEQUENCE_LENGTH // GPUS:,} tokens per GPU."
    )
    print(
        json.dumps(
            {
                "benchmark": "distributed",
                "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
                "python": platform.python_version(),
                "sequence_length": SEQUENCE_LENGTH,
                "global_batch": args.batch_size,
                "steps": args.steps,
                "warmup": args.warmup,
                "mixed_precision": args.mixed_precision,
                "results": results,
                "per_model": per_model,
                "assumptions": {
                    "gpus": GPUS,
                    "estimate_batch_sequences": ESTIMATE_BATCH_SEQUENCES,
                    "estimate_sequence_length": ESTIMATE_SEQUENCE_LENGTH,
                    "peak_flops": PEAK_FLOPS,
                    "mfu": MFU,
                    "bus_bandwidth_bytes_per_s": INTERCONNECTS,
                },
            }
        )
    )
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Timing shared by the throughput benchmarks (`layers.py`, `backbones.py`).

Two models of a pair are timed in alternating rounds of `train_on_batch` steps, so
that machine noise hits both; the figure is the median time per step over all rounds.
"""

import statistics
import time


def time_steps(model, x, y, steps):
    """Seconds of each of `steps` calls to `model.train_on_batch(x, y)`."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    return times


def compare(name, ours, peer, x, y, tokens_per_step, steps, rounds, warmup):
    """Median step time and tokens/s of `ours` and `peer`, and their ratio; prints a line."""
    for model in (ours, peer):
        time_steps(model, x, y, warmup)  # tracing, compilation, caches
    timings = {"ours": [], "peer": []}
    for _ in range(rounds):
        timings["ours"] += time_steps(ours, x, y, steps)
        timings["peer"] += time_steps(peer, x, y, steps)
    result = {"pair": name}
    for who, times in timings.items():
        median = statistics.median(times)
        result[f"{who}_ms_per_step"] = round(1000 * median, 2)
        result[f"{who}_tokens_per_s"] = round(tokens_per_step / median)
    result["ratio"] = round(result["ours_tokens_per_s"] / result["peer_tokens_per_s"], 3)
    print(
        f"{name:44s} ours {result['ours_tokens_per_s']:>9,} tok/s "
        f"({result['ours_ms_per_step']} ms/step)   peer {result['peer_tokens_per_s']:>9,} "
        f"tok/s ({result['peer_ms_per_step']} ms/step)   ratio {result['ratio']:.3f}",
        flush=True,
    )
    return result

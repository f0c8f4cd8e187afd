"""Export benchmark: file sizes and on-device latency per quantisation, against tf-keras.

    .venv/bin/python benchmarks/export.py [--runs 300]

1. An LSTM language model, Embedding(1000, 64) → LSTM(128) → Dense(1000): ours
   (Keras 3, `keras_nlpkit.layers.LSTM`, exported by `keras_nlpkit.export`) and
   the same model in tf-keras with the same weights, converted the way tf-keras
   users do (`TFLiteConverter.from_keras_model`, batch 1). Both run a 32-token
   sequence through `serving_default`: tf-keras as TFLite's fused LSTM kernel,
   ours both as exported by default (a WHILE loop over the cell `step` runs, which
   every LiteRT client loads) and with `fused_lstm=True` (the fused kernel, classic
   Interpreter only); the ratio ours / tf-keras is the target (≤ 1.05). Ours also
   reports its `step` signature (one token, state in and out), what a keyboard runs
   per keystroke.
2. A small GPT (2 layers, 128 wide, 4 heads, 1000 tokens, 128 positions): the
   `decode` step at position 64 per variant.

Latency: LiteRT interpreter, one thread, default XNNPACK delegate, median and p95
of `--runs` invocations after 20 warm-up runs. Token ids are drawn from a Zipf
distribution (weights are random: this measures size and speed, not quality).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

VOCAB, EMBED, UNITS, SEQ = 1000, 64, 128, 32


def zipf_ids(rng, shape):
    return np.minimum(rng.zipf(1.3, size=shape), VOCAB - 1).astype(np.int32)


def timed(fn, runs):
    for _ in range(20):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times)), float(np.percentile(times, 95))


def write_samples(path, rng, count=100):
    np.savez(path, token_ids=zipf_ids(rng, (count, SEQ)))


def lstm_models():
    import keras
    import tf_keras

    from keras_nlpkit.layers import LSTM

    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(VOCAB, EMBED, name="embedding")(token_ids)
    x = LSTM(UNITS, return_sequences=True, name="lstm")(x)
    ours = keras.Model(token_ids, keras.layers.Dense(VOCAB, name="logits")(x))
    inputs = tf_keras.Input((None,), batch_size=1, dtype="int32")  # batch 1: fused LSTM
    y = tf_keras.layers.Embedding(VOCAB, EMBED)(inputs)
    y = tf_keras.layers.LSTM(UNITS, return_sequences=True)(y)
    theirs = tf_keras.Model(inputs, tf_keras.layers.Dense(VOCAB)(y))
    theirs.set_weights(ours.get_weights())  # same layout, copied unchanged
    return ours, theirs


def tf_keras_tflite(model, dynamic):
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if dynamic:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    from ai_edge_litert.interpreter import Interpreter

    from keras_nlpkit.export import export
    from keras_nlpkit.models import GPTBackbone
    from keras_nlpkit.models import GPTCausalLM
    from keras_nlpkit.ondevice import OnDeviceModel
    from keras_nlpkit.ondevice import describe_tflite

    rng = np.random.default_rng(0)
    work = Path(tempfile.mkdtemp(prefix="nlpkit-export-bench-"))
    samples = work / "samples.npz"
    write_samples(samples, rng)
    sequence = zipf_ids(rng, (1, SEQ))

    print(
        f"LSTM LM: Embedding({VOCAB}, {EMBED}) -> LSTM({UNITS}) -> Dense({VOCAB}), "
        f"serving_default on {SEQ} tokens, 1 thread"
    )
    ours, theirs = lstm_models()
    rows = []
    reports = {}
    for fused in (False, True):
        folder = work / ("lstm_fused" if fused else "lstm")
        report = reports[fused] = export(
            ours, folder, representative_data=samples, fused_lstm=fused, log=lambda *_: None
        )
        for label, variant in report["variants"].items():
            model = OnDeviceModel(folder, variant=label)
            serve = timed(lambda m=model: m.serve(token_ids=sequence), args.runs)
            state = {
                name: np.zeros((1, *shape), np.float32)
                for name, shape in model.state_shapes.items()
            }
            token = sequence[0, :1]
            step = timed(
                lambda m=model, t=token, s=state: m.runners["step"](token=t, **s), args.runs
            )
            rows.append((f"ours{' fused' if fused else ''} {label}", variant["bytes"], serve, step))
    report = reports[False]  # the default export: what the figures below describe
    float32_bytes = report["variants"]["float32"]["bytes"]
    for dynamic in (False, True):
        content = tf_keras_tflite(theirs, dynamic)
        assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in describe_tflite(content)["ops"]
        interpreter = Interpreter(model_content=content, num_threads=1)
        runner = interpreter.get_signature_runner()
        name = next(iter(runner.get_input_details()))

        def run(interpreter=interpreter, runner=runner, name=name):
            if run.called:
                interpreter.reset_all_variables()
            run.called = True
            runner(**{name: sequence})

        run.called = False
        rows.append(
            (
                f"tf-keras {'dynamic_int8' if dynamic else 'float32'}",
                len(content),
                timed(run, args.runs),
                None,
            )
        )
    print(
        f"  {'variant':<22} {'bytes':>10} {'serve median':>13} {'p95':>8} "
        f"{'step median':>12} {'p95':>8}"
    )  # "ours fused": fused_lstm=True
    for name, size, serve, step in rows:
        step_text = f"{step[0]:>10.3f}ms {step[1]:>6.3f}ms" if step else ""
        print(f"  {name:<22} {size:>10,} {serve[0]:>11.3f}ms {serve[1]:>6.3f}ms {step_text}")
    by_name = {name: serve for name, _, serve, _ in rows}
    for ours_name in ("ours", "ours fused"):
        ratio = by_name[f"{ours_name} float32"][0] / by_name["tf-keras float32"][0]
        ratio_q = by_name[f"{ours_name} dynamic_int8"][0] / by_name["tf-keras dynamic_int8"][0]
        print(
            f"  latency {ours_name}/tf-keras: float32 {ratio:.3f}, dynamic_int8 {ratio_q:.3f} "
            "(target <= 1.05)"
        )
    print(
        f"  int8 size / float32 size: {report['variants']['int8']['bytes'] / float32_bytes:.3f}"
        " (target <= 0.3); ours holds two signatures (serving_default + step)"
    )
    for label in ("float32", "int8"):
        v = report["variants"][label]
        print(
            f"  parity {label}: max|diff| {v['max_abs_diff']:.2e}, top1 "
            f"{v['top1_agreement']:.3f}, step max|diff| {v['streaming']['max_abs_diff']:.2e}"
        )

    print(
        "GPT decode step: 2 layers, hidden 128, 4 heads, vocab 1000, 128 positions; "
        "position 64, 1 thread"
    )
    backbone = GPTBackbone(
        VOCAB,
        num_layers=2,
        num_heads=4,
        hidden_dim=128,
        intermediate_dim=512,
        max_sequence_length=128,
    )
    gpt = GPTCausalLM(backbone)
    report = export(gpt, work / "gpt", representative_data=samples, log=lambda *_: None)
    print(f"  {'variant':<14} {'bytes':>10} {'decode median':>14} {'p95':>8}  ops")
    for label, variant in report["variants"].items():
        model = OnDeviceModel(work / "gpt", variant=label)
        _, state = model.start(list(sequence[0]) * 2)  # 64 tokens of prefix
        token = np.asarray([5], np.int32)
        position = np.asarray(state["position"], np.int32)
        decode = timed(
            lambda m=model, t=token, c=state["cache"], p=position: m.runners["decode"](
                token=t, cache=c, position=p
            ),
            args.runs,
        )
        print(
            f"  {label:<14} {variant['bytes']:>10,} {decode[0]:>12.3f}ms {decode[1]:>6.3f}ms"
            f"  flex={variant['flex_ops']} while={'WHILE' in variant['ops']}"
        )
    gpt_sizes = {label: v["bytes"] for label, v in report["variants"].items()}
    print(f"  int8 size / float32 size: {gpt_sizes['int8'] / gpt_sizes['float32']:.3f}")


if __name__ == "__main__":
    main()

"""Translation on the device next to Keras: identical translations, BLEU, ms per sentence.

    python benchmarks/translation_ondevice.py --model runs/mt \\
        [--data ../shared/data/translation/multi30k] [--beam 4] [--limit N] \\
        [--variants float32 dynamic_int8 int8] [--json FILE]

`--model` is a `nlpkit train translation` folder. Its export (`DIR/export`) is made
first when it has none: float32, dynamic_int8, and int8 calibrated on 200 training
pairs (not val). On the val pairs of `--data` (`val.<source>`, `val.<target>`), the
Keras model's beam search (the recipe's `Translator`, batched) and the on-device
`Translator` of each variant (TF-free, LiteRT, one thread, one sentence at a time)
translate every source; printed as one JSON object:

- `identical`: the fraction of sentences whose on-device translation is the same
  string as Keras' (same beam width);
- `bleu`, `chrf`: sacrebleu's corpus scores of each against the references;
- `ms_per_sentence`: on-device mean, median and p95 over the sentences (encode, the
  beam search's `decode_step` calls and the SentencePiece steps), and Keras' batched
  mean for comparison.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from keras_nlpkit.evaluation.translation import translation_scores  # noqa: E402
from keras_nlpkit.export.translation import representative_npz  # noqa: E402
from keras_nlpkit.ondevice import Translator  # noqa: E402
from keras_nlpkit.ondevice.model_folder import EXPORT_FOLDER  # noqa: E402
from keras_nlpkit.ondevice.model_folder import MANIFEST_FILE  # noqa: E402
from keras_nlpkit.ondevice.model_folder import read_json  # noqa: E402
from keras_nlpkit.recipes import translation  # noqa: E402
from keras_nlpkit.text.parallel import read_parallel  # noqa: E402
from keras_nlpkit.tokenizers.sentence_piece_encoder import SentencePieceEncoder  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/translation/multi30k"
CALIBRATION_PAIRS = 200


def split_paths(data, split, settings):
    return [
        translation.find_split(data, split, settings[f"{side}_language"])
        for side in ("source", "target")
    ]


def export_if_missing(model_dir, data, settings, log):
    """`nlpkit export DIR --out DIR/export`, int8 calibrated on training pairs, in a process
    of its own (as after a training run; Keras decodes here afterwards)."""
    if (model_dir / EXPORT_FOLDER / MANIFEST_FILE).is_file():
        return
    source = SentencePieceEncoder.from_file(model_dir / "source.spm")
    target = SentencePieceEncoder.from_file(model_dir / "target.spm")
    pairs = read_parallel(*split_paths(data, "train", settings))[:CALIBRATION_PAIRS]
    log(f"No export in {model_dir}: exporting (int8 calibrated on {len(pairs)} train pairs)")
    with tempfile.TemporaryDirectory() as scratch:
        samples = Path(scratch) / "representative.npz"
        representative_npz(
            samples, [(source.encode(s), target.encode(t)) for s, t in pairs], settings
        )
        command = [sys.executable, "-m", "keras_nlpkit.cli", "export", str(model_dir)]
        command += ["--out", str(model_dir / EXPORT_FOLDER), "--representative-data", str(samples)]
        subprocess.run(command, check=True, stdout=sys.stderr)


def measure(model_dir, data, variants, beam, limit, log=print):
    model_dir, data = Path(model_dir), Path(data)
    settings = read_json(model_dir / translation.SETTINGS_FILE, "--model")
    export_if_missing(model_dir, data, settings, log)
    pairs = read_parallel(*split_paths(data, "val", settings))[:limit]
    sources = [source for source, _ in pairs]
    references = [target for _, target in pairs]

    keras_translator = translation.load(model_dir)
    begin = time.perf_counter()
    keras_out = keras_translator.translate(sources, num_beams=beam, greedy=beam == 1)
    keras_seconds = time.perf_counter() - begin
    scores = translation_scores(keras_out, references)
    result = {
        "model": str(model_dir),
        "sentences": len(pairs),
        "beam": beam,
        "keras": {
            "bleu": round(scores["bleu"], 2),
            "chrf": round(scores["chrf"], 2),
            "ms_per_sentence_batched": round(1000 * keras_seconds / len(pairs), 2),
        },
        "bleu_signature": scores["bleu_signature"],
    }
    for variant in variants:
        try:
            device = Translator(model_dir, variant=variant, num_threads=1)
        except ValueError as error:
            log(f"({variant}: skipped, {error})")
            continue
        outputs, times = [], []
        for sentence in sources:
            start = time.perf_counter()
            outputs.append(device.translate(sentence, beam=beam))
            times.append(1000 * (time.perf_counter() - start))
        scores = translation_scores(outputs, references)
        differing = [i for i, (a, b) in enumerate(zip(outputs, keras_out)) if a != b]
        result[variant] = {
            "identical": round(1 - len(differing) / len(pairs), 4),
            "bleu": round(scores["bleu"], 2),
            "chrf": round(scores["chrf"], 2),
            "ms_per_sentence": {
                "mean": round(float(np.mean(times)), 2),
                "median": round(float(np.median(times)), 2),
                "p95": round(float(np.percentile(times, 95)), 2),
            },
            "bytes": device.model.path.stat().st_size,
            "first_differences": [
                {"source": sources[i], "keras": keras_out[i], "device": outputs[i]}
                for i in differing[:3]
            ],
        }
        log(f"{variant}: {json.dumps(result[variant])[:200]}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a `nlpkit train translation` folder")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="holds val.<lang> (and train)")
    parser.add_argument("--variants", nargs="+", default=["float32", "dynamic_int8", "int8"])
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="the first N val pairs only")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = measure(
        args.model,
        args.data,
        args.variants,
        args.beam,
        args.limit,
        log=lambda line: print(line, file=sys.stderr),
    )
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

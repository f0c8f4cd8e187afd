"""Spelling correction: our exported model next to SymSpell and pyspellchecker.

    python benchmarks/spelling.py --model runs/spelling [--pairs FILE] [--variants ...]

Trains nothing. For each TFLite variant of the model (through the TF-free
on-device runtime, one thread) and for the two peers, measured in the same run on
the same pairs file: accuracy@1/@5 (case-folded), the kept-correct rate (the
distinct correct words of the file, fed as input, left unchanged), latency per
word (median/p95 ms) and the file size; then the ratios to SymSpell.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from keras_nlpkit.evaluation.spelling import measure  # noqa: E402
from keras_nlpkit.evaluation.spelling_peers import pyspellchecker_peer  # noqa: E402
from keras_nlpkit.evaluation.spelling_peers import symspell_peer  # noqa: E402
from keras_nlpkit.ondevice import SpellingCorrector  # noqa: E402
from keras_nlpkit.ondevice import find_export_dir  # noqa: E402
from keras_nlpkit.text.misspellings import read_pairs  # noqa: E402
from keras_nlpkit.text.misspellings import symspell_dictionary_path  # noqa: E402

DEFAULT_PAIRS = Path(__file__).resolve().parents[2] / "shared/data/spelling/spell-testset1.txt"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a `nlpkit train spelling` folder")
    parser.add_argument("--pairs", default=str(DEFAULT_PAIRS))
    parser.add_argument("--variants", nargs="+", default=["dynamic_int8", "float32", "int8"])
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    pairs = read_pairs(args.pairs)
    _, manifest = find_export_dir(args.model, "spelling")
    rows = {}
    for variant in args.variants:
        if variant not in manifest["variants"]:
            print(f"(no {variant} model: skipped)", file=sys.stderr)
            continue
        corrector = SpellingCorrector(args.model, variant=variant)
        row = measure(lambda w, c=corrector: [x for x, _ in c.correct(w, k=5)], pairs)
        row["bytes"] = corrector.model.path.stat().st_size
        rows[f"ours_{variant}"] = row
    rows["symspell"] = measure(symspell_peer(), pairs)
    rows["symspell"]["bytes"] = symspell_dictionary_path().stat().st_size
    rows["pyspellchecker"] = measure(pyspellchecker_peer(), pairs)

    reference = rows["symspell"]
    header = (
        f"{'':22} {'acc@1':>6} {'acc@5':>6} {'kept':>6} {'med ms':>8} {'p95 ms':>8} "
        f"{'bytes':>11} {'acc@1/sym':>9} {'ms/sym':>7}"
    )
    print(f"{args.pairs}: {len(pairs)} pairs")
    print(header)
    for name, row in rows.items():
        latency = row["latency"]
        print(
            f"{name:22} {row['accuracy@1']:6.3f} {row['accuracy@5']:6.3f} "
            f"{row['kept_correct_rate']:6.3f} {latency['median_ms']:8.3f} "
            f"{latency['p95_ms']:8.3f} {row.get('bytes', 0):11,} "
            f"{row['accuracy@1'] / max(reference['accuracy@1'], 1e-9):9.2f} "
            f"{latency['median_ms'] / max(reference['latency']['median_ms'], 1e-9):7.1f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    return rows


if __name__ == "__main__":
    main()

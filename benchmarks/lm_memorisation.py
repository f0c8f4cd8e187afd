"""How much each `nlpkit train lm` network memorised: perplexity on its own training text.

    python benchmarks/lm_memorisation.py --runs runs/lm/ffnn_1800 runs/lm/lstm_1800 ...
        [--kn-run runs/lm/kn5] [--words 60000]

Every run of the LM table shares one tokenization, so the training stream a Kneser-Ney
run saves (`train_ids.npy`) is every network's training stream too. This scores
`--words` tokens from its middle on (text every run has seen) with the Keras model, the
state or context carried through as `nlpkit evaluate lm` carries it, and prints one JSON
line a run: that "seen" perplexity, the run's WikiText perplexity from `metrics.json`,
and their ratio. A network that fits its training text far better than it scores held-out
text (a high ratio) has memorised it rather than learnt what carries over.
"""

import argparse
import json
import math
import sys
from pathlib import Path

import keras
import numpy as np

from keras_nlpkit.recipes import lm
from keras_nlpkit.recipes import training


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", nargs="+", required=True, help="`nlpkit train lm` network folders")
    p.add_argument("--kn-run", default="runs/lm/kn5", help="a KN run of the same corpus")
    p.add_argument("--words", type=int, default=60000)
    args = p.parse_args(argv)

    stream = np.load(Path(args.kn_run) / "train_ids.npy")
    vocabulary = (Path(args.kn_run) / "tokenizer.json").read_text(encoding="utf-8")
    start = len(stream) // 2
    ids = stream[start : start + args.words]
    for run in args.runs:
        if (Path(run) / "tokenizer.json").read_text(encoding="utf-8") != vocabulary:
            raise ValueError(
                f"--runs: {run!r} has another vocabulary than --kn-run {args.kn_run!r}, "
                "so its training stream is not the one saved there"
            )
        config = lm.LMConfig(**training.read_run(run, lm.RECIPE)["config"])
        model = keras.saving.load_model(Path(run) / training.MODEL_FILE)
        seen = math.exp(lm.keras_nll(model, ids, config) / len(ids))
        held_out = json.loads((Path(run) / "metrics.json").read_text())["perplexity"]
        row = {"run": run, "seen_perplexity": round(seen, 2), "wikitext_perplexity": held_out}
        row["ratio"] = round(held_out / seen, 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""GloVe end to end on the comparison corpus, next to Stanford's figures and a peer.

    python benchmarks/glove.py [--out DIR] [--peer reference|mittens|none] [--train-step autodiff]

Corpus (the issue's): ../shared/data/text/gutenberg/*.txt, brown.txt, kjv_bible.txt,
reuters.txt. Settings of the Stanford run it is compared with: min-count 5, window 10,
100 dims, 15 iterations, x_max 10. Prints wall time per phase, peak memory, pair updates
per second and the Spearman similarity on the dev sets in ../shared/data/wordsim, then
the ratios to Stanford GloVe's run on this machine class (C, 2 threads: 124.5 s end to
end in issue 19's run; 1.12M pair updates/s in the GloVe issue's older run) and to the
peer measured in the same run:

- `reference` (default): glove.c's per-pair AdaGrad loop (benchmarks/glove_reference.py,
  numba, one thread) on the same counts — the quality of Stanford's algorithm.
- `mittens`: the `mittens` package's NumPy GloVe, which needs the dense matrix, so it
  runs on the `--mittens-words` most frequent words (both scored on that vocabulary).

`--train-step autodiff` trains with Keras' generic step (autodiff, IndexedSlices
gradients) and `keras.optimizers.Adagrad` instead of our closed-form step and
`GloVeAdagrad`, to measure what they buy.
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TEXT = ROOT.parent / "shared" / "data" / "text"
WORDSIM = ROOT.parent / "shared" / "data" / "wordsim"
STANFORD = {
    "seconds": 124.5,
    "training_seconds": 190.0,
    "updates_per_second": 1.12e6,
    "cooccurrences": 14.2e6,
    "wordsim353": 0.385,
}


def corpus_files():
    files = sorted((TEXT / "gutenberg").glob("*.txt")) + [
        TEXT / "brown.txt",
        TEXT / "kjv_bible.txt",
        TEXT / "reuters.txt",
    ]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        sys.exit(f"benchmarks/glove.py: the shared corpus is missing: {missing[:3]}")
    return files


def similarity_scores(words, matrix):
    from keras_nlpkit.evaluation.metrics import word_similarity
    from keras_nlpkit.evaluation.word_vectors import read_similarity

    return {
        path.stem.removeprefix("EN-"): round(
            word_similarity(words, matrix, read_similarity(path))["spearman"], 4
        )
        for path in sorted(WORDSIM.glob("*.txt"))
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/glove-benchmark")
    parser.add_argument("--peer", choices=["reference", "mittens", "none"], default="reference")
    parser.add_argument("--mittens-words", type=int, default=5000)
    parser.add_argument("--train-step", choices=["closed-form", "autodiff"], default="closed-form")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--window-breaks", choices=["line", "paragraph"], default="line")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    from keras_nlpkit.recipes import glove

    config = glove.GloVeConfig(
        min_count=5,
        window=10,
        dim=100,
        epochs=args.epochs,
        x_max=10.0,
        window_breaks=args.window_breaks,
    )
    if args.train_step == "autodiff":
        _use_generic_step()
    start = time.perf_counter()
    metrics = glove.train(corpus_files(), args.out, config, verbose=2)
    wall = time.perf_counter() - start
    from keras_nlpkit.models import WordVectors

    ours = WordVectors.load_text(Path(args.out) / "vectors.txt")
    result = {
        "ours": metrics
        | {"wall_seconds": round(wall, 1), "similarity": similarity_scores(ours.words, ours.matrix)}
    }
    result["ours"]["peak_memory_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )

    if args.peer != "none":
        counts = glove.count(corpus_files(), config, verbose=False)
        start = time.perf_counter()
        if args.peer == "reference":
            from glove_reference import train_reference

            matrix = train_reference(
                counts.rows,
                counts.cols,
                counts.values,
                len(counts.words),
                dim=config.dim,
                epochs=config.epochs,
                x_max=config.x_max,
                alpha=config.alpha,
            )
            words = counts.words
            result["peer"] = {"name": "glove.c update rule (numba, 1 thread)"}
        else:
            words, matrix = _mittens(counts, config, args.mittens_words)
            result["peer"] = {"name": f"mittens (NumPy), top {len(words)} words"}
            index = {w: n for n, w in enumerate(ours.words)}
            result["ours"]["similarity_on_peer_vocabulary"] = similarity_scores(
                words, ours.matrix[[index[w] for w in words]]
            )
        seconds = time.perf_counter() - start
        result["peer"] |= {
            "training_seconds": round(seconds, 1),
            "pair_updates_per_second": round(counts.nnz * config.epochs / seconds)
            if args.peer == "reference"
            else None,
            "similarity": similarity_scores(words, matrix),
        }

    ours = result["ours"]
    print(json.dumps(result, indent=2))
    print(
        f"\nours: {ours['seconds']['total']:.1f} s end to end "
        f"({ours['seconds']['total'] / STANFORD['seconds']:.2f}x Stanford's "
        f"{STANFORD['seconds']} s), "
        f"{ours['pair_updates_per_second'] / 1e6:.2f}M pair updates/s "
        f"({ours['pair_updates_per_second'] / STANFORD['updates_per_second']:.2f}x Stanford's "
        f"1.12M/s), {ours['cooccurrences'] / 1e6:.1f}M co-occurrences (Stanford printed 14.2M)"
    )
    if "peer" in result:  # on the peer's vocabulary when it had a smaller one
        for name, rho in ours.get("similarity_on_peer_vocabulary", ours["similarity"]).items():
            peer = result["peer"]["similarity"][name]
            print(
                f"  {name:14} ours {rho:.3f}  {result['peer']['name']}: {peer:.3f}"
                f"  ratio {rho / peer if peer else float('nan'):.2f}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


def _use_generic_step():
    """Keras' autodiff train step and its Adagrad, for the comparison."""
    import keras

    from keras_nlpkit.models import GloVe
    from keras_nlpkit.recipes import glove

    GloVe.train_step = keras.Model.train_step
    glove.GloVeAdagrad = lambda lr: keras.optimizers.Adagrad(lr, initial_accumulator_value=1.0)


def _mittens(counts, config, words):
    import numpy as np
    from mittens.np_mittens import GloVe as Mittens

    keep = counts.rows < words
    keep &= counts.cols < words
    dense = np.zeros((words, words), dtype=np.float64)
    dense[counts.rows[keep], counts.cols[keep]] = counts.values[keep]
    model = Mittens(
        n=config.dim,
        xmax=config.x_max,
        alpha=config.alpha,
        max_iter=config.epochs,
        learning_rate=0.05,
        display_progress=0,
    )
    return counts.words[:words], model.fit(dense)


if __name__ == "__main__":
    main()

"""word2vec: ours against gensim's `Word2Vec`, same corpus, same settings, same run.

    python benchmarks/word2vec.py [--out DIR] [--architectures skipgram cbow] [--epochs 5]
        [--glove DIR/vectors.txt] [--train-step closed-form|autodiff] [--json FILE]

Corpus: benchmarks/glove.py's (../shared/data/text: gutenberg, brown, kjv_bible,
reuters; 4.4M tokens). Settings (the issue's): dim 100, window 5, negative 5,
min-count 5, 5 epochs, subsampling 1e-3, and word2vec.c's learning rates for both
(0.025 skip-gram, 0.05 CBOW, falling linearly to 1/10,000 of that; gensim's own
default is 0.025 for both); gensim with 2 workers. For each architecture, ours
(`nlpkit train word2vec`, end to end from the files) then gensim, back to back, so
that both see the same load on a shared machine. Each run's CPU time (all threads of
this process) is printed too: on a machine shared with other work it is the steadier
figure.

gensim is fed our tokenisation: the lines of `token_ids` as lists of words (the
vocabulary words only, so gensim's own min-count keeps them all), so that the
comparison is of the training alone. Its wall time is `build_vocab` + `train`; the
end-to-end ratio adds the time our reader took to make its input.

`--train-step autodiff` trains ours with Keras' generic step (autodiff through the
two `Embedding` lookups, `SGD.apply`) instead of `Word2Vec`'s closed-form one, to
measure what it buys.

Prints, per architecture and for `--glove` vectors if given: wall time, words per
second (vocabulary words read, before subsampling, as word2vec.c counts them), the
Spearman correlation on every set in ../shared/data/wordsim and MSR analogy accuracy
(3CosAdd, with coverage); then the ratios ours / gensim.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from glove import corpus_files  # noqa: E402
from glove import similarity_scores  # noqa: E402

MSR = ROOT.parent / "shared" / "data" / "analogy" / "msr.csv"


def dev_scores(words, matrix):
    """Spearman on every wordsim set and MSR 3CosAdd accuracy (with coverage)."""
    from keras_nlpkit.evaluation.metrics import analogy_accuracy
    from keras_nlpkit.evaluation.word_vectors import read_analogies

    analogy = analogy_accuracy(words, matrix, read_analogies(MSR))
    return similarity_scores(words, matrix) | {
        "MSR": round(analogy["accuracy"], 4),
        "MSR_coverage": round(analogy["coverage"], 4),
    }


def ours(architecture, epochs, out):
    from keras_nlpkit.models import WordVectors
    from keras_nlpkit.recipes import word2vec

    config = word2vec.Word2VecConfig(architecture=architecture, epochs=epochs)
    start, cpu = time.perf_counter(), time.process_time()
    metrics = word2vec.train(corpus_files(), out, config, verbose=2)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    vectors = WordVectors.load_text(Path(out) / "vectors.txt")
    return {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "training_seconds": metrics["seconds"]["training"],
        "words_per_second": metrics["words_per_second"],
        "peak_memory_mb": metrics["peak_memory_mb"],
        "dev": dev_scores(vectors.words, vectors.matrix),
    }


def gensim_input():
    """Our tokens as gensim sentences: one list of vocabulary words a line."""
    import numpy as np

    from keras_nlpkit.text.cooccurrence import token_ids

    start = time.perf_counter()
    corpus = token_ids(corpus_files(), min_count=5, verbose=False)
    words = np.array(corpus.words, dtype=object)
    lines = np.split(corpus.ids, np.flatnonzero(corpus.ids < 0))
    sentences = [words[line[line >= 0]].tolist() for line in lines]
    sentences = [sentence for sentence in sentences if sentence]
    return corpus, sentences, time.perf_counter() - start


def gensim(architecture, epochs, corpus, sentences):
    import numpy as np
    from gensim.models import Word2Vec as GensimWord2Vec

    from keras_nlpkit.recipes.word2vec import FINAL_LEARNING_RATE_FRACTION
    from keras_nlpkit.recipes.word2vec import LEARNING_RATES

    rate = LEARNING_RATES[architecture]
    start, cpu = time.perf_counter(), time.process_time()
    model = GensimWord2Vec(
        sentences,
        vector_size=100,
        window=5,
        negative=5,
        min_count=5,
        sample=1e-3,
        epochs=epochs,
        workers=2,
        sg=int(architecture == "skipgram"),
        alpha=rate,
        min_alpha=rate * FINAL_LEARNING_RATE_FRACTION,
        seed=1,
    )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(model.wv) == len(corpus.words), "gensim kept another vocabulary"
    matrix = np.stack([model.wv[word] for word in corpus.words])
    return {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "words_per_second": round(int(corpus.counts.sum()) * epochs / wall),
        "dev": dev_scores(corpus.words, matrix),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/word2vec-benchmark")
    parser.add_argument(
        "--architectures", nargs="+", choices=["skipgram", "cbow"], default=["skipgram", "cbow"]
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--glove", default=None, help="also score these GloVe vectors")
    parser.add_argument("--train-step", choices=["closed-form", "autodiff"], default="closed-form")
    parser.add_argument("--no-peer", action="store_true", help="ours only")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.train_step == "autodiff":
        import keras

        from keras_nlpkit.models import Word2Vec

        Word2Vec.train_step = keras.Model.train_step

    corpus, sentences, reading = gensim_input()
    result = {"corpus_tokens": corpus.tokens, "vocabulary_size": len(corpus.words)}
    result["gensim_input_seconds"] = round(reading, 1)
    for architecture in args.architectures:
        mine = ours(architecture, args.epochs, Path(args.out) / architecture)
        result[architecture] = {"ours": mine}
        if not args.no_peer:
            result[architecture]["gensim"] = gensim(architecture, args.epochs, corpus, sentences)
    if args.glove:
        from keras_nlpkit.models import WordVectors

        glove = WordVectors.load_text(args.glove)
        result["glove"] = {"vectors": args.glove, "dev": dev_scores(glove.words, glove.matrix)}
    print(json.dumps(result, indent=2))

    for architecture in [] if args.no_peer else args.architectures:
        mine, peer = result[architecture]["ours"], result[architecture]["gensim"]
        end_to_end = mine["wall_seconds"] / (peer["wall_seconds"] + reading)
        print(
            f"\n{architecture}: ours {mine['wall_seconds']:.1f} s end to end "
            f"({mine['training_seconds']:.1f} s training), gensim {peer['wall_seconds']:.1f} s "
            f"+ {reading:.1f} s reading: {end_to_end:.2f}x"
            f" end to end, {mine['training_seconds'] / peer['wall_seconds']:.2f}x training; "
            f"CPU {mine['cpu_seconds']:.1f} s vs {peer['cpu_seconds']:.1f} s: "
            f"{mine['cpu_seconds'] / peer['cpu_seconds']:.2f}x"
        )
        for name, value in mine["dev"].items():
            if name.endswith("coverage"):
                continue
            other = peer["dev"][name]
            glove = result.get("glove", {}).get("dev", {}).get(name)
            print(
                f"  {name:14} ours {value:.3f}  gensim {other:.3f}  ratio "
                f"{value / other if other else float('nan'):.2f}"
                + (f"  our GloVe {glove:.3f}" if glove is not None else "")
            )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

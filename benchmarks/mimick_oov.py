"""Vectors for unseen words: RW similarity with OOV words left out, zeroed, random, mimicked.

    python benchmarks/mimick_oov.py [--vectors /tmp/glove-base/vectors.txt]
        [--mimick runs/mimick/model.keras ...] [--fasttext-epochs 5 | --no-fasttext]

Stanford's Rare Words set (../shared/data/wordsim/EN-RW-STANFORD.txt, 2,034 pairs) is
where a vector table trained on a small corpus misses words. On the same pairs it
prints Spearman's rho (`evaluation.metrics.word_similarity`) of:

- `left_out`: the table alone; pairs with an OOV word are skipped (coverage < 1);
- `zero`, `random`: every OOV word given a zero vector (cosine 0 with everything) or
  a random one (normal, the table's per-dimension spread), what one does without a model;
- each `--mimick` model's `Mimick.complete`: OOV words from their spelling
  (coverage 1), the same vectors on exactly the `left_out` pairs (`covered`), which
  must equal `left_out` (completion leaves held words alone), and on the other pairs,
  those with an OOV word (`oov_pairs`);
- `fasttext` (peer): gensim's FastText (skip-gram, character 3–6-grams, 2 workers)
  trained here on the GloVe benchmark corpus, tokenised as GloVe's counting does
  (`text.cooccurrence.tokenize`), min-count 5: its vocabulary alone, then with its
  n-gram vectors for OOV words.

Train the Mimick models first with `nlpkit train mimick` (see docs/RESULTS.md).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RW = ROOT.parent / "shared" / "data" / "wordsim" / "EN-RW-STANFORD.txt"


def read_pairs(path):
    """(word1, word2, score) of a tab- or space-separated similarity file."""
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3:
            pairs.append((parts[0], parts[1], float(parts[2])))
    return pairs


def scored(words, matrix, pairs):
    from keras_nlpkit.evaluation.metrics import word_similarity

    result = word_similarity(words, matrix, pairs)
    return {
        "spearman": round(result["spearman"], 4),
        "coverage": round(result["coverage"], 4),
        "found": result["found"],
    }


def held(index, word):
    return word in index or word.lower() in index


def fill_oov(vectors, words, how, seed=0):
    """`vectors` plus every word of `words` it lacks, with a zero or a random vector."""
    from keras_nlpkit.models import WordVectors

    missing = [w for w in dict.fromkeys(words) if not held(vectors.index, w)]
    if how == "zero":
        extra = np.zeros((len(missing), vectors.dim), np.float32)
    else:
        rng = np.random.default_rng(seed)
        spread = vectors.matrix.std(axis=0)
        extra = (rng.standard_normal((len(missing), vectors.dim)) * spread).astype(np.float32)
    return WordVectors(vectors.words + missing, np.concatenate([vectors.matrix, extra]))


def fasttext_rows(pairs, uncovered, epochs, log):
    """Spearman of gensim FastText on the corpus: vocabulary only, then with n-grams."""
    from gensim.models import FastText
    from glove import corpus_files

    from keras_nlpkit.files import read_line_blocks
    from keras_nlpkit.text.cooccurrence import tokenize

    sentences = [
        tokens
        for path in corpus_files()
        for block in read_line_blocks(path, "--corpus")
        for tokens in map(tokenize, block)
        if tokens
    ]
    start = time.perf_counter()
    model = FastText(
        sentences,
        vector_size=100,
        window=5,
        min_count=5,
        sg=1,
        min_n=3,
        max_n=6,
        epochs=epochs,
        workers=2,
        seed=1,
    )
    seconds = time.perf_counter() - start
    log(f"fastText: {len(model.wv):,} words, {seconds:.0f} s")
    vocabulary = list(model.wv.index_to_key)
    words = sorted({w for a, b, _ in pairs for w in (a, b)})
    oov = [w for w in words if w not in model.wv.key_to_index]
    everything = vocabulary + oov
    matrix = np.concatenate([model.wv.vectors, np.stack([model.wv[w] for w in oov])])
    left_out = scored(vocabulary, model.wv.vectors, pairs)
    covered_pairs = [p for p in pairs if held(model.wv.key_to_index, p[0])]
    covered_pairs = [p for p in covered_pairs if held(model.wv.key_to_index, p[1])]
    return {
        "fasttext_left_out": left_out,
        "fasttext_ngrams": scored(everything, matrix, pairs),
        "fasttext_ngrams_covered": scored(everything, matrix, covered_pairs),
        "fasttext_ngrams_oov_pairs": scored(everything, matrix, uncovered),
        "fasttext_seconds": round(seconds, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_vectors = Path("/tmp/glove-base/vectors.txt")
    if not default_vectors.is_file():
        default_vectors = ROOT / "runs" / "glove" / "vectors.txt"
    parser.add_argument("--vectors", default=str(default_vectors))
    parser.add_argument(
        "--mimick",
        nargs="*",
        default=[str(p) for p in sorted((ROOT / "runs").glob("mimick*/model.keras"))],
        help="Mimick model.keras files (default: runs/mimick*/model.keras)",
    )
    parser.add_argument("--fasttext-epochs", type=int, default=5)
    parser.add_argument("--no-fasttext", action="store_true")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    import keras

    from keras_nlpkit.models import WordVectors

    def log(message):
        print(message, file=sys.stderr, flush=True)

    vectors = WordVectors.load_text(args.vectors)
    pairs = read_pairs(RW)
    words = [w for a, b, _ in pairs for w in (a, b)]
    covered = [p for p in pairs if held(vectors.index, p[0]) and held(vectors.index, p[1])]
    oov = {w for w in words if not held(vectors.index, w)}
    uncovered = [p for p in pairs if p not in covered]  # a word or both OOV
    log(f"{len(vectors):,} vectors; RW: {len(pairs)} pairs, {len(oov)} of its words OOV")

    rows = {"left_out": scored(vectors.words, vectors.matrix, pairs)}
    for how in ("zero", "random"):
        filled = fill_oov(vectors, words, how)
        rows[how] = scored(filled.words, filled.matrix, pairs)
    for path in args.mimick:
        model = keras.saving.load_model(path)
        completed = model.complete(vectors, words)
        name = f"mimick[{Path(path).parent.name}]"
        rows[name] = scored(completed.words, completed.matrix, pairs)
        rows[f"{name}_covered"] = scored(completed.words, completed.matrix, covered)
        rows[f"{name}_oov_pairs"] = scored(completed.words, completed.matrix, uncovered)
    if not args.no_fasttext:
        rows.update(fasttext_rows(pairs, uncovered, args.fasttext_epochs, log))

    figures = {
        "vectors": args.vectors,
        "pairs": len(pairs),
        "oov_words": len(oov),
        "covered_pairs": len(covered),
        "rows": rows,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()

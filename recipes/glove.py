"""GloVe word vectors from raw text, trained with `model.fit`.

    nlpkit train glove --corpus FILE [FILE ...] --out DIR [--dim 100 --window 10
        --min-count 5 --epochs 15 --x-max 100 --alpha 0.75 --memory 4]
    nlpkit evaluate glove --vectors DIR/vectors.txt [--analogies FILE] [--similarity FILE ...]

Counting (`keras_nlpkit.glove.count_cooccurrences`) follows Stanford's `vocab_count` +
`cooccur`: lower-cased `[a-z0-9]+(?:'[a-z]+)?` tokens, words with count >= min_count,
a symmetric window of 1/d-weighted counts that never crosses a line break, in
`--memory` GB (spilling to disk beyond it). Training is `GloVe.fit` on shuffled
batches of the non-zero X_ij with `GloVeAdagrad` (see `keras_nlpkit.glove.model`).

DIR receives `vocabulary.tsv` (word, count), `vectors.txt` (GloVe text format:
w_i + w~_i), `embedding.keras` (StringLookup + Embedding, frozen), `projector/`
(TensorBoard projector files), `model.keras`, `logs/` (TensorBoard), `backup/`
(rerun the same command to resume after a kill) and `metrics.json` (sizes, wall
time per phase, pair updates per second, peak memory).
"""

import dataclasses
import math
import resource
import time
from pathlib import Path

from keras_nlpkit.io_utils import TrainingError
from keras_nlpkit.io_utils import UserInputError
from keras_nlpkit.io_utils import atomic_write_json
from keras_nlpkit.io_utils import atomic_write_text
from keras_nlpkit.io_utils import training_callbacks

# Bytes a non-zero X_ij takes while training: the counts (row, column, value) and
# the batched stream (7 arrays of 4 bytes), once in NumPy and once in tf.data.
TRAINING_BYTES_PER_PAIR = 12 + 2 * 28


@dataclasses.dataclass
class GloVeConfig:
    dim: int = 100
    window: int = 10  # context words on each side, weighted 1/distance
    min_count: int = 5
    max_vocab: int = 10_000_000  # keep at most this many words, the most frequent
    epochs: int = 15
    x_max: float = 100.0  # f(x) = min(1, (x / x_max) ** alpha): the paper's defaults
    alpha: float = 0.75
    # Minibatch AdaGrad sums a batch's gradients before dividing by the root of the
    # squared-gradient sum, so a frequent word's step shrinks faster than with
    # Stanford's one-pair-at-a-time updates at eta = 0.05; tuned on the wordsim dev sets.
    learning_rate: float = 0.2
    # Large batches amortise the dense optimizer pass over the tables (see README).
    batch_size: int = 65536
    memory: float = 4.0  # GB of working memory for counting and training
    seed: int = 1
    projector_words: int = 10000  # most frequent words written for the projector

    def check(self):
        for name in ("dim", "window", "min_count", "max_vocab", "epochs", "batch_size",
                     "projector_words"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UserInputError(f"--{name.replace('_', '-')} must be a positive integer. "
                                     f"Received: {value!r}")
        for name in ("x_max", "alpha", "learning_rate", "memory"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise UserInputError(f"--{name.replace('_', '-')} must be a positive number. "
                                     f"Received: {value!r}")


def _check_corpus(paths):
    if not paths:
        raise UserInputError("--corpus: no files given. Received: []")
    for path in map(Path, paths):
        if not path.is_file():
            raise UserInputError(f"--corpus: no such file. Received: {path}")
        if path.stat().st_size == 0:
            raise UserInputError(f"--corpus: the file is empty. Received: {path}")


def count(corpus_files, config, verbose=True):
    """The vocabulary and co-occurrences of `corpus_files` under `config`."""
    from keras_nlpkit.glove import count_cooccurrences

    _check_corpus(corpus_files)
    try:
        counts = count_cooccurrences(
            corpus_files, window=config.window, min_count=config.min_count,
            max_size=config.max_vocab, memory_gb=config.memory, verbose=verbose,
        )
    except ValueError as error:
        raise UserInputError(f"--corpus: {error}") from None
    if counts.nnz == 0:
        raise UserInputError(f"--corpus: no two vocabulary words share a line within "
                             f"--window {config.window}. Received: {list(map(str, corpus_files))}")
    return counts


def train(corpus_files, out_dir, config=None, verbose=1, log=print):
    """Counts, trains and writes GloVe vectors to `out_dir`; returns the metrics dict."""
    import keras

    from keras_nlpkit.glove import GloVe
    from keras_nlpkit.glove import GloVeAdagrad
    from keras_nlpkit.glove import GloVeLoss
    from keras_nlpkit.glove import WordVectors
    from keras_nlpkit.glove import glove_dataset
    from keras_nlpkit.io_utils import save_model_atomically

    config = config or GloVeConfig()
    config.check()
    out_dir = Path(out_dir)
    start = time.perf_counter()
    counts = count(corpus_files, config, verbose=bool(verbose))
    needed = counts.nnz * TRAINING_BYTES_PER_PAIR
    if needed > config.memory * (1 << 30):
        raise UserInputError(
            f"--memory: training on {counts.nnz:,} co-occurrences needs about "
            f"{needed / (1 << 30):.1f} GB; raise --memory or --min-count. Received: {config.memory}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "vocabulary.tsv",
                      "".join(f"{w}\t{c}\n" for w, c in zip(counts.words, counts.counts)))
    atomic_write_json(out_dir / "config.json", dataclasses.asdict(config))
    log(f"{counts.tokens:,} tokens, {len(counts.words):,} words, {counts.nnz:,} co-occurrences")

    keras.utils.set_random_seed(config.seed)
    prepared = time.perf_counter()
    data = glove_dataset(counts, batch_size=config.batch_size, x_max=config.x_max,
                         alpha=config.alpha, seed=config.seed)
    model = GloVe(len(counts.words), config.dim)
    # No XLA: its CPU scatter is slower than TF's sorted segment sum. 16 steps per
    # call of the compiled function halve Keras' per-step overhead at this step size.
    model.compile(optimizer=GloVeAdagrad(config.learning_rate), loss=GloVeLoss(),
                  jit_compile=False, steps_per_execution=16)
    stream_seconds = time.perf_counter() - prepared
    fit_start = time.perf_counter()
    history = model.fit(data, epochs=config.epochs, callbacks=training_callbacks(out_dir),
                        verbose=verbose, shuffle=False)  # the stream shuffles itself
    fit_seconds = time.perf_counter() - fit_start
    losses = history.history.get("loss", [])
    if any(not math.isfinite(v) for v in losses):
        raise TrainingError(f"Training stopped at epoch {len(losses)}: the loss became NaN. "
                            f"Lower --learning-rate (now {config.learning_rate}) and rerun.")

    vectors = WordVectors(counts.words, model.word_vectors())
    vectors.save_text(out_dir / "vectors.txt")
    save_model_atomically(vectors.embedding(), out_dir / "embedding.keras")
    vectors.write_projector(out_dir / "projector", max_words=config.projector_words)
    save_model_atomically(model, out_dir / "model.keras")
    epochs_run = len(losses)  # after a resume, only the epochs this run trained
    metrics = {
        "tokens": counts.tokens,
        "vocabulary_size": len(counts.words),
        "cooccurrences": counts.nnz,
        "seconds": {
            "vocabulary": round(counts.seconds["vocabulary"], 2),
            "cooccurrence": round(counts.seconds["cooccurrence"], 2),
            "shuffle_and_batch": round(stream_seconds, 2),
            "training": round(fit_seconds, 2),
            "total": round(time.perf_counter() - start, 2),
        },
        "epochs_run": epochs_run,
        "pair_updates_per_second": round(counts.nnz * epochs_run / fit_seconds) if epochs_run else 0,
        "final_loss_per_pair": round(losses[-1] * len(data) / counts.nnz, 5) if losses else None,
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics


def read_similarity(path):
    """`w1 w2 score` lines (spaces or tabs) → [(w1, w2, score)]."""
    pairs = []
    for number, line in enumerate(_lines(path, "--similarity"), 1):
        parts = line.split()
        if not parts or line.startswith("#"):
            continue
        try:
            pairs.append((parts[0], parts[1], float(parts[2])))
        except (IndexError, ValueError):
            raise UserInputError(f"--similarity: line {number} is not `word word score`. "
                                 f"Received: {line.strip()[:60]!r} in {path}") from None
    if not pairs:
        raise UserInputError(f"--similarity: no pairs in the file. Received: {path}")
    return pairs


def read_analogies(path):
    """`: section` headers and `a b c d` lines → [(section, a, b, c, d)]."""
    questions, section = [], ""
    for number, line in enumerate(_lines(path, "--analogies"), 1):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == ":":
            section = " ".join(parts[1:])
        elif len(parts) == 4:
            questions.append((section, *parts))
        else:
            raise UserInputError(f"--analogies: line {number} is neither `: section` nor "
                                 f"`a b c d`. Received: {line.strip()[:60]!r} in {path}")
    if not questions:
        raise UserInputError(f"--analogies: no questions in the file. Received: {path}")
    return questions


def _lines(path, argument):
    from keras_nlpkit.io_utils import read_text_files

    return read_text_files([path], argument)[0].splitlines()


def evaluate(vectors_path, analogies=None, similarity=()):
    """METRICS.md analogy accuracy and similarity of a vectors file, as one dict."""
    from keras_nlpkit.glove import WordVectors
    from keras_nlpkit.metrics import analogy_accuracy
    from keras_nlpkit.metrics import word_similarity

    try:
        vectors = WordVectors.load_text(vectors_path)
    except ValueError as error:
        raise UserInputError(str(error)) from None
    result = {"vectors": str(vectors_path), "vocabulary_size": len(vectors), "dim": vectors.dim}
    if analogies:
        result["analogy"] = analogy_accuracy(vectors.words, vectors.matrix, read_analogies(analogies))
    if similarity:
        result["similarity"] = {
            Path(path).name: word_similarity(vectors.words, vectors.matrix, read_similarity(path))
            for path in similarity
        }
    return result

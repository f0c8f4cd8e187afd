"""GloVe word vectors from raw text, trained with `model.fit`.

    nlpkit train glove --corpus FILE [FILE ...] --out DIR [--dim 100 --window 10
        --min-count 5 --epochs 15 --x-max 100 --alpha 0.75 --memory 4]
    nlpkit evaluate word-vectors --vectors DIR/vectors.txt [--analogies FILE] [--similarity FILE]

Counting (`keras_nlpkit.text.cooccurrence.count_cooccurrences`) follows Stanford's `vocab_count` +
`cooccur`: lower-cased `[a-z0-9]+(?:'[a-z]+)?` tokens, words with count >= min_count,
a symmetric window of 1/d-weighted counts that never crosses a line break, in
`--memory` GB (spilling to disk beyond it). Training is `GloVe.fit` on shuffled
batches of the non-zero X_ij with `GloVeAdagrad` (see `keras_nlpkit.models.GloVe`).

DIR receives `recipe.json`, `vocabulary.tsv` (word, count), `vectors.txt` (GloVe text format:
w_i + w~_i), `embedding.keras` (StringLookup + Embedding, frozen), `projector/`
(TensorBoard projector files), `model.keras`, `logs/` (TensorBoard), `backup/`
(rerun the same command to resume after a kill) and `metrics.json` (sizes, wall
time per phase, pair updates per second, peak memory).
"""

import dataclasses
import resource
import time
from typing import ClassVar

import keras
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import GloVe
from keras_nlpkit.models import GloVeAdagrad
from keras_nlpkit.models import GloVeLoss
from keras_nlpkit.models import WordVectors
from keras_nlpkit.models import glove_dataset
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.cooccurrence import BREAKS
from keras_nlpkit.text.cooccurrence import count_cooccurrences

RECIPE = "glove"

# Bytes a non-zero X_ij takes while training: the counts (row, column, value) and
# the batched stream (7 arrays of 4 bytes), once in NumPy and once in tf.data.
TRAINING_BYTES_PER_PAIR = 12 + 2 * 28
# Bytes a word takes while training, per dimension: two float32 tables (w, w~), their
# AdaGrad accumulators and their dense gradients (the biases add one dimension).
TRAINING_BYTES_PER_WORD_DIMENSION = 4 * 2 * 3


@dataclasses.dataclass
class GloVeConfig(RecipeConfig):
    dim: int = 100
    window: int = 10  # context words on each side, weighted 1/distance
    # Where windows stop: every line break (Stanford's cooccur), or only blank lines.
    window_breaks: str = "line"
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

    # Beyond a million every weight (x / x_max) ** alpha of a real corpus is below 1e-3:
    # nothing would be learnt, so such a value is refused rather than trained.
    ranges: ClassVar[dict] = {"x_max": "(0, 1000000]"}
    choices: ClassVar[dict] = {"window_breaks": BREAKS}


def add_arguments(parser):
    add_corpus_arguments(parser)
    add_config_arguments(parser, GloVeConfig)


def run(args):
    config = config_from_arguments(GloVeConfig, args)
    training.print_metrics(train(args.corpus, args.out, config), indent=2, sort_keys=True)


def count(corpus_files, config, verbose=True):
    """The vocabulary and co-occurrences of `corpus_files` under `config`."""
    training.check_corpus(corpus_files)
    try:
        counts = count_cooccurrences(
            corpus_files,
            window=config.window,
            min_count=config.min_count,
            max_size=config.max_vocab,
            memory_gb=config.memory,
            verbose=verbose,
            breaks=config.window_breaks,
        )
    except UserInputError:
        raise
    except ValueError as error:
        raise UserInputError(
            f"--corpus: {error}. Received: {list(map(str, corpus_files))}"
        ) from None
    if counts.nnz == 0:
        raise UserInputError(
            f"--corpus: no two vocabulary words share a {config.window_breaks} within "
            f"--window {config.window}. Received: {list(map(str, corpus_files))}"
        )
    return counts


def split_evenly(data, replicas, last):
    """`glove_dataset`'s batches, padded to a multiple of `replicas` rows (JAX's layout).

    A batch holds ceil(pairs / batches) + 1 rows whatever `--batch-size` is; the rows
    added are the batch's own padding: the pair (last word, last word) of weight 0,
    sorted last by word and by context.
    """
    extra = -data.element_spec[1].shape[0] % replicas
    if extra == 0:
        return data

    def pad(pairs, log_x, weight):
        rows = tf.shape(log_x)[0]
        more = {key: tf.fill([extra], tf.cast(last, value.dtype)) for key, value in pairs.items()}
        more["by_context"] = tf.range(rows, rows + extra, dtype=pairs["by_context"].dtype)
        zeros = tf.zeros([extra], log_x.dtype)
        return (
            {key: tf.concat([value, more[key]], 0) for key, value in pairs.items()},
            tf.concat([log_x, zeros], 0),
            tf.concat([weight, zeros], 0),
        )

    return data.map(pad)


def train(corpus_files, out_dir, config=None, verbose=1, log=print):
    """Counts, trains and writes GloVe vectors to `out_dir`; returns the metrics dict."""
    config = (config or GloVeConfig()).check()
    plan = distribution.current()
    if plan.strategy is not None and plan.replicas > 1:
        raise UserInputError(
            "--distribution: GloVe's TensorFlow step sums a batch's gradients per word over "
            "the whole word-sorted batch, which MirroredStrategy would split over its "
            "replicas; train GloVe data parallel on JAX (KERAS_BACKEND=jax), or on one "
            f"device (--distribution none). Received: --distribution {plan.mode} with "
            f"{plan.replicas} replicas"
        )
    start = time.perf_counter()
    counts = count(corpus_files, config, verbose=bool(verbose))
    needed = (
        counts.nnz * TRAINING_BYTES_PER_PAIR
        + len(counts.words) * (config.dim + 1) * TRAINING_BYTES_PER_WORD_DIMENSION
    )
    if needed > config.memory * (1 << 30):
        raise UserInputError(
            f"--memory: training {len(counts.words):,} words x {config.dim} dimensions on "
            f"{counts.nnz:,} co-occurrences needs about {needed / (1 << 30):.1f} GB; raise "
            f"--memory, or --min-count, or lower --dim. Received: {config.memory}"
        )
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=corpus_files)
    atomic_write_text(
        out_dir / "vocabulary.tsv",
        "".join(f"{w}\t{c}\n" for w, c in zip(counts.words, counts.counts)),
    )
    log(f"{counts.tokens:,} tokens, {len(counts.words):,} words, {counts.nnz:,} co-occurrences")

    keras.utils.set_random_seed(config.seed)
    prepared = time.perf_counter()
    data = glove_dataset(
        counts,
        batch_size=config.batch_size,
        x_max=config.x_max,
        alpha=config.alpha,
        seed=config.seed,
    )
    data = split_evenly(data, plan.replicas, last=len(counts.words) - 1)
    with plan.scope():
        model = GloVe(len(counts.words), config.dim)
        # No XLA: its CPU scatter is slower than TF's sorted segment sum. 16 steps per
        # call of the compiled function halve Keras' per-step overhead at this step size.
        model.compile(
            optimizer=GloVeAdagrad(config.learning_rate),
            loss=GloVeLoss(),
            jit_compile=False,
            steps_per_execution=16,
        )
        stream_seconds = time.perf_counter() - prepared
        fitted = training.fit(
            model,
            data,
            out_dir,
            epochs=config.epochs,
            verbose=verbose,
            learning_rate=config.learning_rate,
        )
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    losses = fitted.history.get("loss", [])

    vectors = WordVectors(counts.words, model.word_vectors())
    training.save_word_vectors(vectors, out_dir, config.projector_words, "glove_embedding")
    save_model_atomically(model, out_dir / "model.keras")
    epochs_run = len(losses)  # after a resume, only the epochs the last fit trained
    metrics = {
        "tokens": counts.tokens,
        "vocabulary_size": len(counts.words),
        "cooccurrences": counts.nnz,
        "seconds": {
            "vocabulary": round(counts.seconds["vocabulary"], 2),
            "cooccurrence": round(counts.seconds["cooccurrence"], 2),
            "shuffle_and_batch": round(stream_seconds, 2),
            "training": round(fitted.seconds, 2),
            "total": round(time.perf_counter() - start, 2),
        },
        "epochs_run": epochs_run,
        "pair_updates_per_second": round(counts.nnz * epochs_run / fitted.seconds)
        if epochs_run
        else 0,
        "final_loss_per_pair": round(losses[-1] * len(data) / counts.nnz, 5) if losses else None,
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics

"""Mimick: vectors for the words a vector table lacks, learnt from the spelling of those it holds.

    nlpkit train mimick --vectors DIR/vectors.txt --out DIR2 [--vocabulary DIR/vocabulary.tsv
        --min-count 1 --loss cosine --epochs 20 --batch-size 128 --learning-rate 0.002]

A `Mimick` model (Pinter et al., 2017: character BiLSTM + MLP) is fitted to map each
word's spelling to its vector in `--vectors` (GloVe or word2vec text). `--min-count`
keeps only the words seen that often (`--vocabulary`: `word<TAB>count` lines, by
default `vocabulary.tsv` beside `--vectors`, as `nlpkit train glove` writes it); a
rare word's vector is noisy, yet training on all words mimics unseen words best
(docs/RESULTS.md). `--dev-fraction` of the words, drawn before that filter, are held
out and scored: the mean cosine between their mimicked and their
real vectors (`dev_cosine`), and how their similarities to 500 training words rank
against the real vectors' (`dev_similarity`, Spearman). `--loss cosine` fits the
angle, `euclidean` the paper's squared distance.

DIR2 receives `recipe.json`, `model.keras` (the `Mimick`: load it with
`keras.saving.load_model` and call `complete(WordVectors.load_text(...), words)` or
`vectors_for(words)`; nothing else is needed), `metrics.json`, `history.json`,
`logs/` (TensorBoard) and `backup/` (rerun the same command to resume after a kill).
"""

import dataclasses
import time
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.metrics import spearman
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import check_input_file
from keras_nlpkit.files import read_lines
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import Mimick
from keras_nlpkit.models import WordVectors
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments

RECIPE = "mimick"
VOCABULARY_FILE = "vocabulary.tsv"
SIMILARITY_WORDS = 500  # training words each dev word is compared with (`dev_similarity`)


@dataclasses.dataclass
class MimickConfig(RecipeConfig):
    # `cosine` fits the angle only; `euclidean` is Pinter et al.'s squared distance. On our
    # GloVe vectors they tie (dev cosine 0.263 vs 0.260; RW 0.200 vs 0.202): the dev
    # figure picks cosine, and similarity benchmarks read angles only.
    loss: str = "cosine"
    # Train on words seen at least this often (needs --vocabulary). All words is best: on
    # our GloVe vectors min-count 20 / 100 drop the dev cosine from 0.263 to 0.181 / -0.02
    # (a rare word's vector is noisy, but also unlike a frequent word's).
    min_count: int = 1
    max_words: int = 10_000_000  # at most this many, the first in the vectors file
    max_characters: int = 24  # UTF-8 bytes + 2 marks: 99.9% of English words fit whole
    character_dim: int = 20  # the paper's sizes: 20-d characters, 50 units a direction
    hidden_dim: int = 50
    mlp_dim: int = 100
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 0.002  # Adam
    dev_fraction: float = 0.05  # words held out (before --min-count) for the dev figure
    seed: int = 1

    choices: ClassVar[dict] = {"loss": ("euclidean", "cosine")}
    ranges: ClassVar[dict] = {"dev_fraction": "[0, 0.5]", "max_characters": "[3, 1000]"}


def add_arguments(parser):
    parser.add_argument("--vectors", required=True, help="word vectors, GloVe or word2vec text")
    parser.add_argument(
        "--vocabulary",
        default=None,
        help=f"`word<TAB>count` lines for --min-count (default: {VOCABULARY_FILE} beside "
        "--vectors, if there)",
    )
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    add_config_arguments(parser, MimickConfig)


def run(args):
    config = config_from_arguments(MimickConfig, args)
    metrics = train(args.vectors, args.out, config, vocabulary=args.vocabulary)
    training.print_metrics(metrics, indent=2, sort_keys=True)


def read_counts(path, argument="--vocabulary"):
    """`{word: count}` of a `word<TAB>count` file."""
    counts = {}
    for number, line in enumerate(read_lines(path, argument), 1):
        word, _, count = line.rstrip("\n").partition("\t")
        if not count.strip().isdigit():
            raise UserInputError(
                f"{argument}: line {number} is not `word<TAB>count`. "
                f"Received: {line[:60]!r} in {path}"
            )
        counts[word] = int(count)
    return counts


def _vocabulary_path(vectors_path, vocabulary, min_count):
    if vocabulary is not None:
        return check_input_file(vocabulary, "--vocabulary")
    beside = Path(vectors_path).with_name(VOCABULARY_FILE)
    if beside.is_file():
        return beside
    if min_count > 1:
        raise UserInputError(
            f"--min-count {min_count} needs the words' counts: give --vocabulary "
            f"(`word<TAB>count` lines); there is no {VOCABULARY_FILE} beside --vectors. "
            f"Received: --vectors {vectors_path}"
        )
    return None


def split_words(vectors, counts, config):
    """(train rows, dev rows) of `vectors`: dev drawn first, then train filtered by count."""
    rows = np.arange(min(len(vectors), config.max_words))
    order = np.random.default_rng(config.seed).permutation(rows)
    dev_size = int(round(config.dev_fraction * len(rows)))
    dev, train = np.sort(order[:dev_size]), np.sort(order[dev_size:])
    if counts is not None:
        train = train[[counts.get(vectors.words[r], 0) >= config.min_count for r in train]]
    if train.size == 0:
        raise UserInputError(
            f"--min-count {config.min_count} leaves no word to train on (of {len(rows)}). "
            f"Received: --min-count {config.min_count}"
        )
    return train, dev


def _stream(ids, targets, batch_size, seed=None):
    data = tf.data.Dataset.from_tensor_slices((ids, targets))
    if seed is not None:
        data = data.shuffle(len(ids), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def mean_cosine(predicted, target):
    """The mean cosine similarity of matching rows."""
    norms = np.linalg.norm(predicted, axis=1) * np.linalg.norm(target, axis=1)
    return float(np.mean(np.sum(predicted * target, axis=1) / np.maximum(norms, 1e-12)))


def _unit(matrix):
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def similarity_agreement(predicted, target, others):
    """Spearman of cos(predicted_i, o) vs cos(target_i, o) over every row i and o in `others`.

    What a similarity benchmark sees of a mimicked word: whether it ranks the
    words it is compared with as its real vector does (the norm and a shared
    offset do not count, unlike in a mean cosine).
    """
    others = _unit(others).T
    return spearman((_unit(predicted) @ others).ravel(), (_unit(target) @ others).ravel())


def train(vectors_path, out_dir, config=None, vocabulary=None, verbose=1, log=print):
    """Fits a `Mimick` to `vectors_path` and writes it to `out_dir`; returns the metrics."""
    config = (config or MimickConfig()).check()
    vectors_path = check_input_file(vectors_path, "--vectors")
    vocabulary = _vocabulary_path(vectors_path, vocabulary, config.min_count)
    start = time.perf_counter()
    vectors = WordVectors.load_text(vectors_path, "--vectors")
    counts = read_counts(vocabulary) if vocabulary is not None else None
    train_rows, dev_rows = split_words(vectors, counts, config)
    inputs = [vectors_path] + ([vocabulary] if vocabulary is not None else [])
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=inputs)
    log(
        f"{len(vectors):,} vectors of {vectors.dim} dimensions: training on "
        f"{train_rows.size:,} words (count >= {config.min_count}), {dev_rows.size:,} held out"
    )

    keras.utils.set_random_seed(config.seed)
    plan = distribution.current()
    make = dict(
        dim=vectors.dim,
        max_characters=config.max_characters,
        character_dim=config.character_dim,
        hidden_dim=config.hidden_dim,
        mlp_dim=config.mlp_dim,
    )
    with plan.scope():
        model = Mimick(**make)
        ids = model.character_ids(vectors.words)  # (words, max_characters)
        data = _stream(ids[train_rows], vectors.matrix[train_rows], config.batch_size, config.seed)
        extra = {}
        if dev_rows.size:
            extra["validation_data"] = _stream(
                ids[dev_rows], vectors.matrix[dev_rows], config.batch_size
            )
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss=Mimick.loss(config.loss),
            metrics=[keras.metrics.CosineSimilarity(name="cosine")],
            jit_compile=False,  # XLA doubles the step time of the character loop on CPU
        )
        fitted = training.fit(
            model,
            data,
            out_dir,
            epochs=config.epochs,
            verbose=verbose,
            learning_rate=config.learning_rate,
            **extra,
        )
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None

    save_model_atomically(model, out_dir / "model.keras")
    metrics = {
        "vectors": len(vectors),
        "dim": vectors.dim,
        "words_trained": int(train_rows.size),
        "words_held_out": int(dev_rows.size),
        "epochs_run": fitted.epochs,
        "final_loss": fitted.last("loss"),
        "seconds": {
            "training": round(fitted.seconds, 2),
            "total": round(time.perf_counter() - start, 2),
        },
    }
    if dev_rows.size:
        predicted = model.vectors_for([vectors.words[r] for r in dev_rows])
        metrics["dev_cosine"] = round(mean_cosine(predicted, vectors.matrix[dev_rows]), 4)
        metrics["dev_squared_distance"] = round(
            float(np.mean(np.sum((predicted - vectors.matrix[dev_rows]) ** 2, axis=1))), 4
        )
        rng = np.random.default_rng(config.seed)
        sample = rng.choice(train_rows, min(SIMILARITY_WORDS, train_rows.size), replace=False)
        others = vectors.matrix[sample]
        metrics["dev_similarity"] = round(
            similarity_agreement(predicted, vectors.matrix[dev_rows], others), 4
        )
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics

"""word2vec vectors (skip-gram or CBOW, negative sampling) from raw text, trained with `model.fit`.

    nlpkit train word2vec --corpus FILE [FILE ...] --out DIR [--architecture skipgram|cbow
        --dim 100 --window 5 --negative 5 --min-count 5 --epochs 5 --sample 0.001
        --window-breaks line|paragraph]
    nlpkit evaluate word-vectors --vectors DIR/vectors.txt [--analogies FILE]
        [--similarity FILE ...]

The tokens and vocabulary are GloVe's (`keras_nlpkit.text.cooccurrence.token_ids`:
lower-cased `[a-z0-9]+(?:'[a-z]+)?` tokens, words with count >= min_count, windows
that stop at line breaks). Training follows word2vec.c: frequent-word subsampling,
a dynamic window, negative sampling from unigram^0.75 and a learning rate that
falls linearly from 0.025 (skip-gram) or 0.05 (CBOW) to 1/10,000 of it, as
`Word2Vec.fit` on `word2vec_dataset` batches (see `keras_nlpkit.models.Word2Vec`).

DIR receives `recipe.json`, `vocabulary.tsv` (word, count), `vectors.txt` (GloVe text
format, which gensim reads with `no_header=True`: the input vectors), `embedding.keras`
(StringLookup + Embedding, frozen), `projector/` (TensorBoard projector files),
`model.keras`, `logs/` (TensorBoard), `backup/` (rerun the same command to resume
after a kill) and `metrics.json` (sizes, wall time per phase, words per second, peak
memory).
"""

import dataclasses
import resource
import time
from typing import ClassVar

import keras

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import Word2Vec
from keras_nlpkit.models import WordVectors
from keras_nlpkit.models import word2vec_dataset
from keras_nlpkit.models.word2vec import expected_steps
from keras_nlpkit.models.word2vec.word2vec import ARCHITECTURES
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.cooccurrence import BREAKS
from keras_nlpkit.text.cooccurrence import token_ids

RECIPE = "word2vec"
# word2vec.c's starting learning rates, and where its linear decay stops.
LEARNING_RATES = {"skipgram": 0.025, "cbow": 0.05}
FINAL_LEARNING_RATE_FRACTION = 1e-4


@dataclasses.dataclass
class Word2VecConfig(RecipeConfig):
    architecture: str = "skipgram"
    dim: int = 100
    window: int = 5  # the largest radius; each word draws its own in [1, window]
    # Where windows stop: every line break (word2vec.c's sentences), or only blank lines
    # (for text wrapped at a fixed width, such as Project Gutenberg's).
    window_breaks: str = "line"
    negative: int = 5  # noise words a centre word (shared by its context words)
    min_count: int = 5
    max_vocab: int = 10_000_000  # keep at most this many words, the most frequent
    epochs: int = 5
    learning_rate: float = 0.0  # 0: word2vec.c's, 0.025 for skip-gram, 0.05 for CBOW
    sample: float = 1e-3  # subsampling threshold (0: keep every word)
    # Centre words a step (about 5 context words each at --window 5). A batch sums
    # its pairs' updates without word2vec's one-pair-at-a-time feedback, so a
    # frequent word's output vector takes hundreds of them at once: 2048 diverged
    # at 0.025 on the 4.4M-token benchmark corpus, 1024 trains as well as 512.
    batch_size: int = 1024
    seed: int = 1
    projector_words: int = 10000  # most frequent words written for the projector

    ranges: ClassVar[dict] = {"learning_rate": "[0, 10]", "sample": "[0, 1)"}
    choices: ClassVar[dict] = {"architecture": ARCHITECTURES, "window_breaks": BREAKS}

    @property
    def starting_learning_rate(self):
        return self.learning_rate or LEARNING_RATES[self.architecture]


def add_arguments(parser):
    add_corpus_arguments(parser)
    add_config_arguments(parser, Word2VecConfig)


def run(args):
    config = config_from_arguments(Word2VecConfig, args)
    training.print_metrics(train(args.corpus, args.out, config), indent=2, sort_keys=True)


def read_corpus(corpus_files, config, verbose=True):
    """The vocabulary of `corpus_files` and the corpus as its ids (a `TokenIds`)."""
    training.check_corpus(corpus_files)
    try:
        corpus = token_ids(
            corpus_files,
            min_count=config.min_count,
            max_size=config.max_vocab,
            verbose=verbose,
            breaks=config.window_breaks,
        )
    except ValueError as error:
        raise UserInputError(
            f"--corpus: {error}. Received: {list(map(str, corpus_files))}"
        ) from None
    if not _has_a_pair(corpus.ids):
        raise UserInputError(
            f"--corpus: no two vocabulary words share a {config.window_breaks}, so no word "
            "has a context. "
            f"Received: {list(map(str, corpus_files))}"
        )
    return corpus


def _has_a_pair(ids):
    return bool(((ids[1:] >= 0) & (ids[:-1] >= 0)).any())


def train(corpus_files, out_dir, config=None, verbose=1, log=print):
    """Reads, trains and writes word2vec vectors to `out_dir`; returns the metrics dict."""
    config = (config or Word2VecConfig()).check()
    plan = distribution.current()
    if plan.strategy is not None and plan.replicas > 1:
        raise UserInputError(
            "--distribution: Word2Vec's TensorFlow step applies each batch's row updates "
            "on one device; train it data parallel on JAX (KERAS_BACKEND=jax), or on one "
            f"device (--distribution none). Received: --distribution {plan.mode} with "
            f"{plan.replicas} replicas"
        )
    start = time.perf_counter()
    corpus = read_corpus(corpus_files, config, verbose=bool(verbose))
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=corpus_files)
    atomic_write_text(
        out_dir / "vocabulary.tsv",
        "".join(f"{w}\t{c}\n" for w, c in zip(corpus.words, corpus.counts)),
    )
    words = int(corpus.counts.sum())  # the tokens trained on, before subsampling
    log(f"{corpus.tokens:,} tokens, {len(corpus.words):,} words, {words:,} in the vocabulary")

    keras.utils.set_random_seed(config.seed)
    data = word2vec_dataset(
        corpus.ids,
        corpus.counts,
        window=config.window,
        negative=config.negative,
        sample=config.sample,
        batch_size=config.batch_size,
        seed=config.seed,
        first_epoch=training.resumed_epoch(out_dir),
    )
    rate = config.starting_learning_rate
    steps = config.epochs * expected_steps(corpus.counts, config.sample, config.batch_size)
    with plan.scope():
        model = Word2Vec(len(corpus.words), config.dim, config.architecture)
        # word2vec.c's linear decay, by steps instead of words read (a step is about
        # `batch_size` kept words); it stays at the floor should an epoch run longer.
        schedule = keras.optimizers.schedules.PolynomialDecay(
            rate, steps, end_learning_rate=rate * FINAL_LEARNING_RATE_FRACTION, power=1.0
        )
        # No XLA: its CPU scatter is slower than TF's. 16 steps a call of the compiled
        # function amortise Keras' per-step overhead.
        model.compile(
            optimizer=keras.optimizers.SGD(schedule), jit_compile=False, steps_per_execution=16
        )
        fitted = training.fit(
            model, data, out_dir, epochs=config.epochs, verbose=verbose, learning_rate=rate
        )
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    losses = fitted.history.get("loss", [])

    vectors = WordVectors(corpus.words, model.word_vectors())
    training.save_word_vectors(vectors, out_dir, config.projector_words, "word2vec_embedding")
    save_model_atomically(model, out_dir / "model.keras")
    epochs_run = len(losses)  # after a resume, only the epochs the last fit trained
    metrics = {
        "architecture": config.architecture,
        "tokens": corpus.tokens,
        "vocabulary_size": len(corpus.words),
        "seconds": {
            "vocabulary": round(corpus.seconds, 2),
            "training": round(fitted.seconds, 2),
            "total": round(time.perf_counter() - start, 2),
        },
        "epochs_run": epochs_run,
        # word2vec.c's figure: vocabulary words read (before subsampling) per second.
        "words_per_second": round(words * epochs_run / fitted.seconds) if epochs_run else 0,
        "final_loss_per_centre_word": round(losses[-1] / config.batch_size, 4) if losses else None,
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics

"""ELMo's biLM (Peters et al., 2018), scaled down: words read from their characters.

    nlpkit train elmo --corpus FILE [FILE ...] --out DIR [--eval-text FILE]
        [--train-seconds 1500] [--epochs 1] [--sequence-length 20] [--batch-size 64]
        [--vocabulary-size 30000] [--units 256] [--projection-dim 128]
        [--filters 1:32,2:32,3:64,4:128,5:128,6:128] [--eval-max-words N]

The model is `keras_nlpkit.models.ELMoBiLM`: a character CNN with highway layers
under a forward and a backward 2-layer LSTM language model, one shared adaptive
softmax. A tagger uses it through `ELMoEmbedding` and `ScalarMix`.

Tokenization, the one of `nlpkit train lm` so that the perplexities compare: each
corpus line rewritten into WikiText's tokenization (`keras_nlpkit.text.wikitext`),
the eval text read as it is (WikiText-2 is tokenized already), `</s>` after every
line. A corpus file with blank lines (a book wrapped at ~70 characters) is read a
paragraph a line. The biLM reads each word's UTF-8 bytes as written, case kept, and
predicts the lower-cased word: one of the `vocabulary_size` most frequent ones seen
`min_word_count` times or more, or else the target `<unk>`, whose characters are
still read (what ELMo's character input is for).

Training is truncated back-propagation through time in both directions at once:
the forward LM reads the text as `batch_size` contiguous streams, the backward LM
the reversed text likewise; each batch is the next `sequence_length` tokens of
every stream and the LSTM states carry over from batch to batch (from zero at the
start of each epoch and of a resumed run).

Perplexity of `--eval-text` reads it as one stream from a `</s>`, as `nlpkit train
lm` does: the forward LM predicts every word and every line's `</s>`; the backward
LM, reading the stream reversed, every word, every `</s>` but the last, and the
`</s>` before the first line. Both score WikiText's word count of tokens. An
`<unk>` target counts as a word (the probability of the `<unk>` class), as WikiText
figures and `nlpkit train lm` count it; `*_perplexity_known_words` leaves those
targets out of the mean (the models still read them).

DIR receives `recipe.json`, `tokenizer.json` (the softmax's words, a
`WordTokenizer`), `model.keras` (the stateless `ELMoBiLM`), `metrics.json`,
`history.json`, `logs/` (TensorBoard) and `backup/` (rerun the same command to
resume after a kill).
"""

import dataclasses
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import read_lines
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import ELMoBiLM
from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import lm
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.wikitext import first_words
from keras_nlpkit.text.wikitext import wikitext_style
from keras_nlpkit.text.word_characters import character_ids

RECIPE = "elmo"
BOUNDARY = "</s>"  # the word between lines (`WordTokenizer.end_id`)
DIRECTIONS = ("forward", "backward")
TOKENIZATION = (
    "WikiText words, one </s> a line; targets lower-cased, <unk> outside the vocabulary; "
    "inputs: each word's UTF-8 bytes as written"
)
UNKNOWN_TARGETS = "counted as words (the <unk> class's probability); *_known_words: left out"


@dataclasses.dataclass
class ELMoConfig(RecipeConfig):
    # The softmax's words: WikiText-2 has 33,278; books and news seen 3+ times about 30k.
    vocabulary_size: int = 30_000
    min_word_count: int = 3
    # Bytes per word with its two marks (ELMo: 50). 18 bytes spell all but 0.005% of
    # the books and news, and the CNN's vector of a word does not depend on the width,
    # so a tagger may pass wider rows; 50 costs ~1.5x the CPU time of a step.
    max_characters: int = 20
    character_dim: int = 16
    # width:count; 512 filters at widths 1-6, about Kim et al.'s small CNN (525), a
    # quarter of ELMo's 2,048.
    filters: str = "1:32,2:32,3:64,4:128,5:128,6:128"
    highway_layers: int = 2
    # ELMo: 4,096 units projected to 512. Ours recur on the whole state (no LSTMP), so
    # a step's cost grows with units²: 256 trains ~2x the tokens of 512 in a budget.
    units: int = 256
    projection_dim: int = 128
    sequence_length: int = 20  # ELMo's truncation length
    batch_size: int = 64
    learning_rate: float = 2e-3
    epochs: int = 1
    # The run's budget: training stops this many seconds after the first step.
    train_seconds: int = 1500
    max_train_words: int = 10_000_000
    eval_text: str = ""  # scored after training ("": none)
    eval_max_words: int = 0  # 0: the whole text
    seed: int = 1337

    ranges = {"max_characters": "[3, 1000]", "highway_layers": "[0, 8]",
              "eval_max_words": "[0, inf)"}  # fmt: skip
    resumable = ("epochs", "train_seconds", "eval_text", "eval_max_words")

    def check(self):
        super().check()
        self.filter_pairs()
        return self

    def filter_pairs(self):
        """`filters` as `[[width, count], ...]`; a `UserInputError` naming --filters."""
        try:
            pairs = [[int(v) for v in part.split(":")] for part in self.filters.split(",")]
        except ValueError:
            pairs = []
        if not pairs or any(len(pair) != 2 or min(pair) < 1 for pair in pairs):
            raise UserInputError(
                "--filters must be comma-separated width:count pairs of positive whole "
                f"numbers, e.g. 1:32,2:64. Received: {self.filters!r}"
            )
        return pairs


def add_arguments(parser):
    add_corpus_arguments(parser)
    add_config_arguments(parser, ELMoConfig)


def run(args):
    config = config_from_arguments(ELMoConfig, args)
    training.print_metrics(train(args.corpus, args.out, config), indent=2)


# === Text → streams ===
def paragraphs(lines):
    """The paragraphs of wrapped text (lines up to a blank line), one a line."""
    joined, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            joined.append(" ".join(current))
            current = []
    return joined + ([" ".join(current)] if current else [])


def corpus_lines(paths):
    """The corpus in WikiText's tokenization, case kept; a file with blank lines is read
    a paragraph a line, one without (a sentence or a story a line) line by line."""
    lines = []
    for path in paths:
        raw = read_lines(path, "--corpus")
        if any(not line.strip() for line in raw):
            raw = paragraphs(raw)
        lines.extend(line for line in map(wikitext_style, raw) if line)
    return lines


def words_and_ids(lines, tokenizer):
    """The stream's words as written (each line's, then `</s>`) and their target ids."""
    words = [word for line in lines for word in (*line.split(), BOUNDARY)]
    ids = np.fromiter((tokenizer.token_id(w.lower()) for w in words), np.int32, len(words))
    return words, ids


def spellings(words, max_characters):
    """`(spelling ids (tokens,), character ids (spellings, max_characters))`: each
    distinct word's characters once, so the stream is a gather away from them."""
    index = {}
    spelling = np.fromiter((index.setdefault(w, len(index)) for w in words), np.int32, len(words))
    return spelling, character_ids(list(index), max_characters)


def contiguous(values, batch_size, length):
    """`(steps, batch_size, length)`: row b of step s + 1 is the text after row b of step s."""
    per = len(values) // batch_size // length * length
    rows = values[: per * batch_size].reshape(batch_size, per // length, length)
    return np.ascontiguousarray(rows.transpose(1, 0, 2))


def training_data(spelling, ids, table, config, bucket=256):
    """tf.data of both directions' batches, each distinct word of a batch spelt once:
    `spellings` (words, max_characters), `{direction}_words` (batch, seq) rows of it,
    `{direction}_targets` (batch, seq). The rows are padded to a multiple of `bucket`
    (zero rows), so a compiled step sees few shapes."""
    b, length = config.batch_size, config.sequence_length
    arrays = {}
    for direction, (s, y) in {
        "forward": (spelling, ids),
        "backward": (spelling[::-1], ids[::-1]),  # the backward LM's reading order
    }.items():
        arrays[f"{direction}_spelling"] = contiguous(s[:-1], b, length)
        arrays[f"{direction}_targets"] = contiguous(y[1:], b, length)
    if len(arrays["forward_targets"]) == 0:
        raise UserInputError(
            f"--corpus: too short for {b} streams of {length} tokens. Received: {len(ids)} tokens"
        )
    table = tf.constant(table)

    def spell(batch):
        both = tf.concat([tf.reshape(batch[f"{d}_spelling"], [-1]) for d in DIRECTIONS], 0)
        distinct, rows = tf.unique(both)  # (words,), (2 * batch * seq,)
        characters = tf.gather(table, distinct)  # (words, max_characters)
        characters = tf.pad(characters, [[0, -tf.size(distinct) % bucket], [0, 0]])
        rows = tf.reshape(rows, (2, b, length))
        return {
            "spellings": characters,
            **{f"{d}_words": rows[i] for i, d in enumerate(DIRECTIONS)},
            **{f"{d}_targets": batch[f"{d}_targets"] for d in DIRECTIONS},
        }

    data = tf.data.Dataset.from_tensor_slices(arrays)
    return data.map(spell, num_parallel_calls=2).prefetch(2)


def build_model(config, vocabulary_size, stateful=False, batch_size=None):
    return ELMoBiLM(
        vocabulary_size,
        cutoffs=lm.adaptive_cutoffs(vocabulary_size),
        max_characters=config.max_characters,
        character_dim=config.character_dim,
        filters=config.filter_pairs(),
        highway_layers=config.highway_layers,
        units=config.units,
        projection_dim=config.projection_dim,
        stateful=stateful,
        batch_size=batch_size,
    )


# === The recipe ===
def train(corpus_files, out_dir, config, verbose=1, log=print):
    """Builds the vocabulary, trains the biLM, saves it and scores `eval_text`."""
    config.check()
    if config.eval_text:
        read_lines(config.eval_text, "--eval-text")  # refused now, not after training
    plan = distribution.current()
    if plan.strategy is not None:
        raise UserInputError(
            "--distribution: truncated BPTT carries a (batch, units) state that "
            "MirroredStrategy would need split per replica; train on one device or on "
            f"JAX (KERAS_BACKEND=jax). Received: --distribution {plan.mode} with "
            f"{plan.replicas} replicas"
        )
    lines = first_words(corpus_lines(corpus_files), config.max_train_words)
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=corpus_files)
    keras.utils.set_random_seed(config.seed)
    start = time.perf_counter()
    tokenizer = lm.build_vocabulary([line.lower() for line in lines], config)
    words, ids = words_and_ids(lines, tokenizer)
    spelling, table = spellings(words, config.max_characters)
    atomic_write_json(out_dir / "tokenizer.json", tokenizer.get_config())
    data = training_data(spelling, ids, table, config)
    steps = len(data)
    log(
        f"{len(ids):,} tokens ({len(table):,} spellings), {len(tokenizer.vocabulary):,} words "
        f"in the softmax; {steps:,} steps of {config.batch_size} x {config.sequence_length} "
        "tokens a direction per epoch"
    )
    with plan.scope():
        model = build_model(config, len(tokenizer.vocabulary), True, config.batch_size)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0))
        fitted = training.fit(
            model,
            data,
            out_dir,
            epochs=config.epochs,
            callbacks=[training.stop_after(config.train_seconds), lm.ResetStates()],
            verbose=verbose,
            learning_rate=config.learning_rate,
            save_freq=200,
        )
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    trained = int(model.optimizer.iterations.numpy()) * config.batch_size * config.sequence_length
    bilm = model.with_state(False)  # what a tagger reads sentences with
    save_model_atomically(bilm, out_dir / training.MODEL_FILE)
    metrics = {
        "train_tokens": len(ids),
        "spellings": len(table),
        "vocabulary_size": len(tokenizer.vocabulary),
        "parameters": int(bilm.count_params()),
        "fit_seconds": round(fitted.seconds, 1),
        "tokens_trained_per_direction": trained,
        "train_loss": fitted.last("loss"),
        "train_forward_loss": fitted.last("forward_loss"),
        "train_backward_loss": fitted.last("backward_loss"),
    }
    if config.eval_text:
        metrics.update(evaluate(out_dir, config.eval_text, config.eval_max_words, log=log))
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics


# === Evaluation ===
def evaluate(model_dir, text_file, max_words=0, argument="--eval-text", log=print):
    """Forward and backward word perplexity of a WikiText-style file (module docstring)."""
    model_dir = Path(model_dir)
    training.read_run(model_dir, RECIPE)
    tokenizer = load_tokenizer(model_dir / "tokenizer.json", "--model")
    lines = read_lines(text_file, argument)
    words, ids = words_and_ids(first_words(lines, max_words) if max_words else lines, tokenizer)
    bilm = keras.saving.load_model(model_dir / training.MODEL_FILE)
    bilm = bilm.with_state(True, batch_size=1)
    stream, stream_ids = [BOUNDARY, *words], np.concatenate([[WordTokenizer.end_id], ids])
    result = {
        "words": len(ids),
        "unknown_words": int(np.sum(ids == WordTokenizer.unknown_id)),
        "tokenization": TOKENIZATION,
        "unknown_targets": UNKNOWN_TARGETS,
    }
    start = time.perf_counter()
    for direction, (inputs, targets) in {
        "forward": (stream[:-1], stream_ids[1:]),
        "backward": (stream[::-1][:-1], stream_ids[::-1][1:]),
    }.items():
        nll = -stream_log_probs(bilm, direction, inputs, targets)
        known = targets != WordTokenizer.unknown_id
        result[f"{direction}_perplexity"] = round(math.exp(nll.mean()), 2)
        result[f"{direction}_perplexity_known_words"] = round(math.exp(nll[known].mean()), 2)
        log(f"{direction} perplexity {result[f'{direction}_perplexity']}")
    result["eval_seconds"] = round(time.perf_counter() - start, 1)
    return result


def stream_log_probs(bilm, direction, words, targets, chunk=512):
    """Each target's log-probability, `words` read in order by a stateful batch-1 biLM."""
    bilm.reset_states()
    pad = (-len(targets)) % chunk  # one shape for every call: one trace
    words = [*words, *[BOUNDARY] * pad]
    targets = np.concatenate([targets, np.full(pad, WordTokenizer.end_id)]).astype(np.int32)
    log_probs = []
    for b in range(0, len(targets), chunk):
        inputs = {
            f"{direction}_characters": character_ids(words[b : b + chunk], bilm.max_characters)[
                None
            ],
            f"{direction}_targets": targets[None, b : b + chunk],
        }
        log_probs.append(np.asarray(bilm.predict_on_batch(inputs)[direction])[0])
    return np.concatenate(log_probs)[: len(targets) - pad]

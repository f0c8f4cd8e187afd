"""Character language model: an LSTM trained on text, saved, reloaded, continued.

    nlpkit train char-lm --corpus FILE [FILE ...] --out DIR [--epochs N] [--units N]
    nlpkit generate --model DIR --temperature 0.6 "The list"
    nlpkit export DIR/model.keras --out DIR/export --representative-data FILE

The model is `Embedding -> keras_nlpkit.layers.LSTM -> Dense`, trained with
`model.fit` on a `tf.data` stream of (context, next character) windows.
Generation runs the streaming path a phone would: the LSTM's explicit-state
`step()`, one character at a time, no recomputation of the prefix; `nlpkit export`
gives the same model a streaming `step` signature for the device.

DIR receives `recipe.json` (the config: everything needed to rebuild),
`model.keras`, `tokenizer.json`, `metrics.json`, `logs/` (TensorBoard) and
`backup/` (training resumes from there after an interruption: rerun the same command).
"""

import dataclasses
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import read_text
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.layers import LSTM
from keras_nlpkit.ondevice.character_tokenizer import CharacterTokenizer
from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments

RECIPE = "char-lm"

UNKNOWN = CharacterTokenizer.unknown_id  # id of characters outside the vocabulary


@dataclasses.dataclass
class CharLMConfig(RecipeConfig):
    # 100 characters of context: several words, enough for the LSTM to learn
    # spelling and common phrases; longer windows mostly cost time.
    sequence_length: int = 100
    # 100 distinct characters need few dimensions; the LSTM carries the capacity.
    embedding_dim: int = 32
    units: int = 256
    batch_size: int = 64
    # One pass over the 465k characters of the default corpus takes ~18 s on 2
    # cores; 3 passes reach 2.54 bits/char on the held-out 5%, 5 passes 2.20
    # (the demo's metrics.json), keeping the whole demo under two minutes.
    epochs: int = 5
    learning_rate: float = 3e-3
    # Characters seen fewer times are mapped to UNKNOWN.
    min_char_count: int = 5
    # Last 5% of the text is held out for the validation loss.
    validation_fraction: float = 0.05
    seed: int = 1337

    ranges = {"validation_fraction": "(0, 1)"}


def add_arguments(parser):
    add_corpus_arguments(parser)
    add_config_arguments(parser, CharLMConfig)


def run(args):
    config = config_from_arguments(CharLMConfig, args)
    texts = [read_text(path, "--corpus") for path in args.corpus]
    training.print_metrics(train(texts, args.out, config, inputs=args.corpus), indent=2)


def build_vocabulary(text, min_count):
    counts = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    chars = sorted(c for c, n in counts.items() if n >= min_count)
    if not chars:
        raise UserInputError(
            f"--min-char-count leaves no character. Received: min_char_count={min_count}"
        )
    return ["<unk>"] + chars


def encode(text, vocabulary):
    return np.array(CharacterTokenizer(vocabulary).encode(text), dtype="int32")


def windows(ids, config, shuffle):
    """tf.data of (context, next characters): inputs ids[i:i+L], targets ids[i+1:i+L+1]."""
    length = config.sequence_length
    count = (len(ids) - 1) // length
    if count < 1:
        raise UserInputError(
            f"--corpus: too short for one training window of {length + 1} characters. "
            f"Received: {len(ids)} characters"
        )
    x = ids[: count * length].reshape(count, length)
    y = ids[1 : count * length + 1].reshape(count, length)
    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(count, seed=config.seed, reshuffle_each_iteration=True)
    return data.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)


def build_model(vocabulary_size, config):
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, name="embedding")(token_ids)
    x = LSTM(config.units, return_sequences=True, name="lstm")(x)  # (batch, seq, units)
    logits = keras.layers.Dense(vocabulary_size, name="logits")(x)  # (batch, seq, vocab)
    model = keras.Model(token_ids, logits, name="char_lm")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


class StepGenerator:
    """Continues a prompt one character at a time through `LSTM.step`.

    The prompt is read once, character by character, carrying (h, c); each new
    character costs one step, as on a device.
    """

    def __init__(self, model, vocabulary):
        self.embedding = model.get_layer("embedding")
        self.lstm = model.get_layer("lstm")
        self.logits = model.get_layer("logits")
        self.vocabulary = vocabulary
        self.tokenizer = CharacterTokenizer(vocabulary)

    def _step(self, char_id, states):
        x = self.embedding(np.array([char_id], "int32"))  # (1, embedding_dim)
        h, states = self.lstm.step(x, states)
        return np.array(self.logits(h))[0], states  # (vocab,), a writable copy

    def generate(self, prompt, length=80, temperature=0.0, seed=0):
        rng = np.random.default_rng(seed)
        states = self.lstm.get_initial_state(1)
        logits = None
        for char_id in self.tokenizer.encode(prompt):
            logits, states = self._step(char_id, states)
        if logits is None:
            raise UserInputError("prompt: give at least one character. Received: ''")
        out = []
        for _ in range(length):
            logits[UNKNOWN] = -np.inf
            if temperature <= 0:
                char_id = int(np.argmax(logits))
            else:
                p = np.exp((logits - logits.max()) / temperature)
                char_id = int(rng.choice(len(p), p=p / p.sum()))
            out.append(self.vocabulary[char_id])
            logits, states = self._step(char_id, states)
        return "".join(out)


def train(corpus_texts, out_dir, config, verbose=1, inputs=()):
    """Trains, saves, reloads and checks the model; returns the metrics dict.

    `inputs`: the files the texts were read from (fingerprinted, so that a resume
    with other text is refused).
    """
    config.check()
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=inputs)
    keras.utils.set_random_seed(config.seed)
    text = "\n\n".join(corpus_texts)
    vocabulary = build_vocabulary(text, config.min_char_count)
    ids = encode(text, vocabulary)
    split = int(len(ids) * (1 - config.validation_fraction))
    train_data = windows(ids[:split], config, shuffle=True)
    validation_data = windows(ids[split:], config, shuffle=False)

    # The vocabulary goes first: the backup only makes sense with it.
    atomic_write_json(out_dir / "tokenizer.json", CharacterTokenizer(vocabulary).get_config())

    plan = distribution.current()
    with plan.scope():
        model = build_model(len(vocabulary), config)
        fitted = training.fit(
            model,
            train_data,
            out_dir,
            epochs=config.epochs,
            verbose=verbose,
            learning_rate=config.learning_rate,
            validation_data=validation_data,
        )
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None

    model_path = out_dir / "model.keras"
    save_model_atomically(model, model_path)
    reloaded = keras.saving.load_model(model_path)
    probe = ids[split : split + config.sequence_length][None]
    reload_diff = float(
        np.max(np.abs(model.predict(probe, verbose=0) - reloaded.predict(probe, verbose=0)))
    )
    validation_loss = fitted.last("val_loss")
    metrics = {
        "corpus_characters": int(len(ids)),
        "vocabulary_size": len(vocabulary),
        "train_seconds": round(fitted.seconds, 1),
        "validation_loss_nats": validation_loss,
        "validation_bits_per_character": round(validation_loss / math.log(2), 4),
        "validation_accuracy": fitted.last("val_accuracy"),
        "reload_max_abs_diff": reload_diff,
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics


def load(model_dir):
    """The `StepGenerator` of a `train char-lm` folder."""
    model_dir = Path(model_dir)
    training.read_run(model_dir, RECIPE)
    for name in ("model.keras", "tokenizer.json"):
        if not (model_dir / name).is_file():
            raise UserInputError(
                f"--model: not a char-lm directory (no {name}). Received: {model_dir}"
            )
    model = keras.saving.load_model(model_dir / "model.keras")
    vocabulary = load_tokenizer(model_dir / "tokenizer.json", "--model").vocabulary
    if "lstm" not in [layer.name for layer in model.layers]:
        raise UserInputError(f"--model: not a char-lm model. Received: {model_dir}")
    return StepGenerator(model, vocabulary)

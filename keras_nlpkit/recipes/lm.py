"""The language-model family on one text: counts, feed-forward, simple RNN, LSTM.

    nlpkit train lm --architecture kn|ffnn|rnn|lstm|gpt --corpus FILE [FILE ...] --out DIR
        [--state stateless|stateful] [--vocabulary-size 30000] [--train-seconds 600]
        [--eval-text ../shared/data/text/wikitext2.valid.txt]
    nlpkit evaluate lm --model DIR --text FILE [--max-words N]

Every architecture reads the same tokens: the training text rewritten into WikiText's
tokenization (`keras_nlpkit.text.wikitext`), lower-cased (the on-device word
tokenizer's rule), each line ending in `</s>`, the `vocabulary_size` most frequent
words seen `min_word_count` times or more kept and the rest `<unk>`. Word
perplexity is exp of the mean NLL over the tokens of the evaluated text, each line's
words and its end (WikiText's word count), the text read as one stream: a model
carries its state (or context) across lines, from a `</s>` before the first one.

- `kn`: interpolated Kneser-Ney of `order` (`KneserNeyLM`), no network.
- `ffnn`: Bengio et al.'s `FeedForwardLM` over the `context_size` previous words.
- `rnn`, `lstm`: Embedding → `SimpleRNN` / `LSTM` → softmax (`--output adaptive`:
  `AdaptiveSoftmax`).
- `gpt`: our `GPTCausalLM` (2 layers, `units` wide, tied embeddings) over windows of
  `window` tokens; a KV cache holds no more, so it scores the text in windows
  overlapping by half, each token with at least `window / 2` before it, in Keras and
  on the device alike. `--state stateless`
  trains on shuffled windows of `sequence_length` tokens from a zero state;
  `stateful` is truncated back-propagation through the continuous text: the batch
  holds `batch_size` contiguous streams and the state is carried from one batch to
  the next (the course's "stateful LSTM: memorize last batch").

A network is exported (float32 and int8, builtin ops, a streaming `step`) and
`evaluate` scores the text twice: with Keras, and through the int8 file in the
on-device runtime, one `step` call a token, as a phone would.
"""

import collections
import dataclasses
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.export import export
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import read_lines
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.layers import LSTM
from keras_nlpkit.layers import AdaptiveSoftmax
from keras_nlpkit.layers import SimpleRNN
from keras_nlpkit.models import FeedForwardLM
from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.ondevice.on_device_model import log_softmax
from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.kneser_ney import KneserNeyLM
from keras_nlpkit.text.wikitext import first_words
from keras_nlpkit.text.wikitext import wikitext_style

RECIPE = "lm"
END = WordTokenizer.end_id  # ends every line; the stream starts after one
TOKENIZATION = "WikiText words, lower-cased, one </s> a line; others as <unk>"


@dataclasses.dataclass
class LMConfig(RecipeConfig):
    architecture: str = "lstm"
    state: str = "stateless"
    # rnn/lstm: a full softmax, or `AdaptiveSoftmax` (Grave et al. 2017) with the
    # most frequent 7% of words in its head and two tail clusters.
    output: str = "softmax"
    # WikiText-2 has 33,278 words; books and news seen 3+ times give about as many.
    vocabulary_size: int = 30_000
    min_word_count: int = 3
    order: int = 5  # kn
    context_size: int = 4  # ffnn: n − 1 previous words (a 5-gram model)
    window: int = 128  # gpt: the tokens it reads (training windows, the KV cache)
    direct_connections: int = 0  # ffnn: Bengio's input → output weights (0 or 1)
    embedding_dim: int = 128
    units: int = 256
    sequence_length: int = 35
    batch_size: int = 32
    learning_rate: float = 2e-3
    epochs: int = 1
    # The run's budget: training stops this many seconds after the first step.
    train_seconds: int = 600
    max_train_words: int = 5_000_000
    eval_text: str = ""  # scored after training ("": none)
    eval_max_words: int = 0  # 0: the whole text
    seed: int = 1337

    choices = {
        "architecture": ("kn", "ffnn", "rnn", "lstm", "gpt"),
        "state": ("stateless", "stateful"),
        "output": ("softmax", "adaptive"),
    }

    def check(self):
        super().check()
        if self.state == "stateful" and self.architecture not in ("rnn", "lstm"):
            raise UserInputError(
                f"--state stateful is for --architecture rnn or lstm (a state to carry). "
                f"Received: --architecture {self.architecture}"
            )
        if self.output == "adaptive" and self.architecture not in ("rnn", "lstm"):
            raise UserInputError(
                f"--output adaptive is for --architecture rnn or lstm. "
                f"Received: --architecture {self.architecture}"
            )
        return self

    ranges = {"direct_connections": "[0, 1]", "eval_max_words": "[0, inf)", "order": "[1, 9]"}
    resumable = ("epochs", "train_seconds", "eval_text", "eval_max_words")


def add_arguments(parser):
    add_corpus_arguments(parser)
    add_config_arguments(parser, LMConfig)


def run(args):
    config = config_from_arguments(LMConfig, args)
    training.print_metrics(train(args.corpus, args.out, config), indent=2)


def stream(tokenizer, lines):
    """The ids of `lines` as one stream, each line's words then `</s>`."""
    ids = [token for line in lines for token in [*tokenizer.encode(line), END]]
    return np.asarray(ids, np.int32)


def build_vocabulary(lines, config):
    """The `vocabulary_size` words, most frequent first (`AdaptiveSoftmax` needs that
    order), after `<unk>`, `<s>` and `</s>`."""
    counts = collections.Counter(word for line in lines for word in line.split())
    for special in ("<unk>", "<s>", "</s>"):
        counts.pop(special, None)
    kept = sorted((w for w, n in counts.items() if n >= config.min_word_count),
                  key=lambda w: (-counts[w], w))[: config.vocabulary_size - 3]  # fmt: skip
    if not kept:
        raise UserInputError(
            f"--min-word-count leaves no word. Received: min_word_count={config.min_word_count}"
        )
    return WordTokenizer(["<unk>", "<s>", "</s>", *kept])


# === Networks ===
def adaptive_cutoffs(vocabulary_size):
    """The head holds the 7% most frequent words, the first tail the next 28%."""
    return sorted({max(1, round(vocabulary_size * 0.07)), max(2, round(vocabulary_size * 0.35))})


def build_model(
    config, vocabulary_size, batch_size=None, stateful=False, trainer=False, compiled=True
):
    """The network, compiled; `stateful` with a fixed `batch_size` for truncated BPTT.

    With an adaptive softmax, the `trainer` takes the targets as a second input and
    the layer adds the loss (it scores only the targets' clusters); the model
    without `trainer` outputs log-probabilities over the vocabulary, same weights.
    """
    if config.architecture == "gpt":
        backbone = GPTBackbone(
            vocabulary_size,
            num_layers=2,
            num_heads=4,
            hidden_dim=config.units,
            intermediate_dim=4 * config.units,
            max_sequence_length=config.window,
        )
        model = GPTCausalLM(backbone, name="gpt_lm")
        model(np.zeros((1, 2), np.int32))  # built, for the backup
    elif config.architecture == "ffnn":
        model = FeedForwardLM(
            vocabulary_size,
            context_size=config.context_size,
            embedding_dim=config.embedding_dim,
            hidden_dim=config.units,
            direct_connections=bool(config.direct_connections),
        )
        model(np.zeros((1, config.context_size), np.int32))  # built, for the backup
    else:
        recurrent = {"rnn": SimpleRNN, "lstm": LSTM}[config.architecture]
        ids = keras.Input(batch_shape=(batch_size, None), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, name="embedding")(ids)
        x = recurrent(config.units, return_sequences=True, stateful=stateful, name="rnn")(x)
        name = f"{config.architecture}_lm"
        if config.output == "adaptive":
            output = AdaptiveSoftmax(
                vocabulary_size, cutoffs=adaptive_cutoffs(vocabulary_size), name="logits"
            )
            if trainer:
                targets = keras.Input(batch_shape=(batch_size, None), dtype="int32", name="targets")
                model = keras.Model([ids, targets], output(x, targets=targets), name=name)
                model.compile(optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0))
                return model
            logits = output(x)  # log-probabilities: log_softmax leaves them as they are
        else:
            logits = keras.layers.Dense(vocabulary_size, name="logits")(x)
        model = keras.Model(ids, logits, name=name)
    if compiled:  # an inference copy saves no optimizer (a loader would warn about it)
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    return model


def contexts(ids, context_size):
    """The `context_size` ids before each id of `[</s>] + ids`'s tail, 0 before the start."""
    full = np.concatenate([np.zeros(context_size - 1, np.int32), [END], ids])
    return np.lib.stride_tricks.sliding_window_view(full, context_size)[: len(ids)]


def training_data(ids, config):
    """tf.data of (inputs, targets) for the architecture and the state policy."""
    length, batch = config.sequence_length, config.batch_size
    if config.architecture == "gpt":  # it reads (and is trained on) whole windows
        length, batch = config.window, max(1, batch * config.sequence_length // config.window)
    if config.architecture == "ffnn":
        data = tf.data.Dataset.from_tensor_slices((contexts(ids, config.context_size), ids))
        return data.shuffle(200_000, seed=config.seed).batch(batch * length)
    if config.state == "stateful":
        # `batch` contiguous streams; batch s holds window s of every stream, in order.
        per = (len(ids) - 1) // batch // length * length
        if per < length:
            raise UserInputError(f"--corpus: too short for {batch} streams of {length} tokens")
        x = ids[: per * batch].reshape(batch, per // length, length).transpose(1, 0, 2)
        y = ids[1 : per * batch + 1].reshape(batch, per // length, length).transpose(1, 0, 2)
        data = tf.data.Dataset.from_tensor_slices((x, y))
    else:
        count = (len(ids) - 1) // length
        x = ids[: count * length].reshape(count, length)
        y = ids[1 : count * length + 1].reshape(count, length)
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(count, seed=config.seed)
        data = data.batch(batch)
    if config.output == "adaptive":  # the targets are an input: the layer adds the loss
        data = data.map(lambda x, y: {"token_ids": x, "targets": y})
    return data


class ResetStates(keras.callbacks.Callback):
    """Truncated BPTT starts each pass over the text from a zero state."""

    def on_epoch_begin(self, epoch, logs=None):
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_state()


def calibration_file(model, ids, out_dir, config):
    """A `.npz` of real training inputs, for the int8 export's activation ranges."""
    rng = np.random.default_rng(config.seed)
    starts = rng.integers(0, len(ids) - config.sequence_length, 200)
    if config.architecture == "ffnn":
        samples = {"context": contexts(ids, config.context_size)[starts]}
    else:
        length = min(config.sequence_length, config.window)  # a GPT reads at most a window
        samples = {"token_ids": np.stack([ids[s : s + length] for s in starts])}
    path = out_dir / "representative.npz"
    np.savez(path, **samples)
    return path


# === The recipe ===
def train(corpus_files, out_dir, config, verbose=1, log=print):
    """Builds the vocabulary, trains, exports, and scores `eval_text`; the metrics."""
    config.check()
    if config.eval_text:
        read_lines(config.eval_text, "--eval-text")  # refused now, not after training
    corpus = [line for path in corpus_files for line in read_lines(path, "--corpus")]
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=corpus_files)
    keras.utils.set_random_seed(config.seed)
    lines = [line for line in (wikitext_style(text).lower() for text in corpus) if line]
    lines = first_words(lines, config.max_train_words)
    tokenizer = build_vocabulary(lines, config)
    ids = stream(tokenizer, lines)
    atomic_write_json(out_dir / "tokenizer.json", tokenizer.get_config())
    metrics = {"train_tokens": len(ids), "vocabulary_size": len(tokenizer.vocabulary)}
    start = time.perf_counter()
    if config.architecture == "kn":
        np.save(out_dir / "train_ids.npy", ids)  # counted again in seconds when evaluated
        lm = KneserNeyLM(config.order, len(tokenizer.vocabulary), END).fit(ids)
        metrics.update(
            ngrams=sum(lm.num_ngrams().values()), fit_seconds=round(time.perf_counter() - start, 1)
        )
    else:
        stateful = config.state == "stateful" and config.architecture != "ffnn"
        trainer = config.output == "adaptive"
        plan = distribution.current()
        if stateful and plan.strategy is not None:
            raise UserInputError(
                "--state stateful: under TensorFlow's MirroredStrategy each replica would "
                "need its own rows of the state; train it on JAX (KERAS_BACKEND=jax), where "
                f"the state is one (batch, units) array laid out with the batch. Received: "
                f"--distribution {plan.mode} with {plan.replicas} replicas"
            )
        with plan.scope():
            model = build_model(
                config, len(tokenizer.vocabulary), config.batch_size, stateful, trainer=trainer
            )
            fitted = training.fit(
                model,
                training_data(ids, config),
                out_dir,
                epochs=config.epochs,
                callbacks=[training.stop_after(config.train_seconds), ResetStates()],
                verbose=verbose,
                learning_rate=config.learning_rate,
                save_freq=200,
            )
        model = plan.local(model)
        if model is None:  # process 0 writes the outputs
            return None
        if stateful or trainer:  # what a phone streams: the same weights, any batch, no state
            inference = build_model(config, len(tokenizer.vocabulary), compiled=False)
            inference.set_weights(model.get_weights())
            model = inference
        save_model_atomically(model, out_dir / training.MODEL_FILE)
        representative = calibration_file(model, ids, out_dir, config)
        metrics.update(
            parameters=int(model.count_params()),
            fit_seconds=round(fitted.seconds, 1),
            train_loss=fitted.last("loss"),
        )
        if not training.exports_here(
            log,
            f"KERAS_BACKEND=tensorflow nlpkit export {out_dir / training.MODEL_FILE} --out "
            f"{out_dir / 'export'} --quantize float32,int8 --representative-data {representative}",
        ):
            metrics["seconds"] = round(time.perf_counter() - start, 1)
            atomic_write_json(out_dir / "metrics.json", metrics)
            return metrics  # the backup stays until the export: `finish` is not called
        report = export(
            model,
            out_dir / "export",
            quantize=["float32", "int8"],
            representative_data=representative,
            tokenizer=tokenizer,
            log=log if verbose else (lambda *_: None),
        )
        metrics["int8_bytes"] = report["variants"]["int8"]["bytes"]
    metrics["seconds"] = round(time.perf_counter() - start, 1)  # with the export
    if config.eval_text:
        metrics.update(evaluate(out_dir, config.eval_text, config.eval_max_words))
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics


# === Evaluation ===
def evaluate(model_dir, text_file, max_words=0, argument="--text"):
    """Word perplexity of a WikiText-style file, with Keras and through the int8 file."""
    model_dir = Path(model_dir)
    config = LMConfig(**training.read_run(model_dir, RECIPE)["config"])
    tokenizer = load_tokenizer(model_dir / "tokenizer.json", "--model")
    lines = read_lines(text_file, argument)
    ids = stream(tokenizer, first_words(lines, max_words) if max_words else lines)  # lower-cases
    result = {
        "words": len(ids),
        "unknown_words": int(np.sum(ids == WordTokenizer.unknown_id)),
        "tokenization": TOKENIZATION,
    }
    if config.architecture == "kn":
        train_ids = np.load(model_dir / "train_ids.npy")
        lm = KneserNeyLM(config.order, len(tokenizer.vocabulary), END).fit(train_ids)
        result["perplexity"] = round(math.exp(-lm.log_probs(ids).mean()), 2)
        return result
    model = keras.saving.load_model(model_dir / training.MODEL_FILE)
    result["perplexity"] = round(math.exp(keras_nll(model, ids, config) / len(ids)), 2)
    nll, seconds = on_device_nll(model_dir / "export", ids, config)
    result["perplexity_on_device_int8"] = round(math.exp(nll / len(ids)), 2)
    result["ms_per_token_on_device"] = round(1e3 * seconds / len(ids), 4)
    return result


def keras_nll(model, ids, config, chunk=256):
    """Total NLL of `ids` after `</s>`, the state (or context) carried through the text."""
    inputs = np.concatenate([[END], ids[:-1]]).astype(np.int32)
    total = 0.0
    if config.architecture == "gpt":
        full = np.concatenate([[END], ids]).astype(np.int32)
        for start, first, end in windows(len(full), config.window):
            logits = keras.ops.convert_to_numpy(model(full[None, start : end - 1]))[0]
            rows = np.arange(first - start - 1, end - start - 1)
            total -= log_softmax(logits[rows])[np.arange(len(rows)), full[first:end]].sum()
        return float(total)
    if config.architecture == "ffnn":
        context_windows = contexts(ids, config.context_size)
        for b in range(0, len(ids), 4096):
            logits = model.predict_on_batch(context_windows[b : b + 4096])
            total -= log_softmax(logits)[np.arange(len(logits)), ids[b : b + 4096]].sum()
        return float(total)
    streaming = build_model(config, model.output_shape[-1], batch_size=1, stateful=True)
    streaming.set_weights(model.get_weights())
    padded = np.pad(inputs, (0, -len(inputs) % chunk))
    for b in range(0, len(ids), chunk):
        logits = streaming.predict_on_batch(padded[None, b : b + chunk])[0]
        targets = ids[b : b + chunk]
        total -= log_softmax(logits[: len(targets)])[np.arange(len(targets)), targets].sum()
    return float(total)


def windows(length, window):
    """`(start, first, end)` of each window a fixed-length model scores a stream of
    `length` ids in: it reads ids[start:end − 1] and scores ids[first:end], each id
    once, with at least `window // 2` ids before it after the first window."""
    half = window // 2
    spans, first = [], 1
    while first < length:
        start = max(0, first - half) if first > 1 else 0
        end = min(start + window + 1, length)
        spans.append((start, first, end))
        first = end
    return spans


def on_device_nll(export_dir, ids, config):
    """`(total NLL, seconds)` of `ids` through the int8 file, one `step` (or `decode`)
    call a token; a `decode` model reads each window's context with `prefill`."""
    model = OnDeviceModel(export_dir, variant="int8")
    start = time.perf_counter()
    if config.architecture == "gpt":
        full = np.concatenate([[END], ids]).astype(np.int32)
        total = 0.0
        for begin, first, end in windows(len(full), config.window):
            logprobs, state = model.start(full[begin:first])
            for position in range(first, end):
                total -= logprobs[full[position]]
                if position + 1 < end:
                    logprobs, state = model.advance([int(full[position])], state)
                    logprobs = logprobs[0]
        return float(total), time.perf_counter() - start
    logprobs, state = model.start([END])
    total = 0.0
    for i, token in enumerate(ids):
        total -= logprobs[token]
        if i + 1 < len(ids):
            logprobs, state = model.advance([int(token)], state)
            logprobs = logprobs[0]
    return float(total), time.perf_counter() - start

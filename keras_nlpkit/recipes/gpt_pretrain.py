"""GPT pretraining on subword text, with word-level perplexity on WikiText-2 (valid).

    nlpkit train gpt-pretrain --corpus ../shared/data/text/brown.txt \\
        ../shared/data/text/reuters.txt --out runs/gpt \\
        --eval-text ../shared/data/text/wikitext2.valid.txt [--train-seconds 330 ...]
    nlpkit generate --model runs/gpt --sampler top_p --temperature 0.8 "The company said"

Tokenization (the figure is only meaningful with it stated):

1. Normalisation into WikiText's style, for the training text only (WikiText is
   already in it): punctuation split from words, `@-@`, `@,@`, `@.@` inside words
   and numbers, Brown's `` '' quotes as ", and words seen fewer than
   `min_word_count` (3) times replaced by `<unk>`, as WikiText was built.
2. Words are the whitespace-separated tokens of a line; each line ends with an
   `[EOL]` token (the `<eos>` of the standard WikiText setup).
3. Each word is cut into WordPiece subwords (cased, keras-hub's
   `compute_word_piece_vocabulary` with `split=False` learns the vocabulary from the
   training words; `WordPieceTokenizer(split=False)` cuts them, greedy longest
   match, `##` marking a piece that continues a word: `keras_nlpkit.tokenizers`).

Because a word's pieces start with the one piece that has no `##`, the subword
sequence determines the word sequence exactly; so the model's probability of the
subword sequence is its probability of the words, and the word-level perplexity is
`exp(total NLL of the text's subword sequence / number of words)`, with words =
whitespace tokens + one end of line per line (217,646 for WikiText-2 valid, the
usual count). Words holding a character outside the vocabulary become one `[UNK]`
piece (reported as `unknown_words`; their probability is that of `[UNK]`, which
makes the figure slightly optimistic by that fraction). The text is scored in
windows of `sequence_length` tokens advancing by half a window: every token after
the first window is predicted with at least half a window of context.

DIR receives `recipe.json`, `model.keras`, `vocabulary.txt` (one piece a line),
`metrics.json`, `logs/` (TensorBoard) and `backup/`.
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
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import read_lines
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM
from keras_nlpkit.models.gpt.gpt_backbone import check_vocabulary_match
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.wikitext import count_words
from keras_nlpkit.text.wikitext import first_words
from keras_nlpkit.text.wikitext import wikitext_style
from keras_nlpkit.tokenizers.subword_encoder import EOL_ID
from keras_nlpkit.tokenizers.subword_encoder import RESERVED
from keras_nlpkit.tokenizers.subword_encoder import UNK_ID
from keras_nlpkit.tokenizers.subword_encoder import SubwordEncoder
from keras_nlpkit.tokenizers.word_piece_vocabulary import learn_word_piece_vocabulary

RECIPE = "gpt-pretrain"


@dataclasses.dataclass
class GPTPretrainConfig(RecipeConfig):
    # 8k pieces cover the common words of news/fiction whole and cut the rest into
    # 2-3 pieces; the tied softmax over them is the largest matmul of the model.
    vocabulary_size: int = 8000
    # keras-hub's WordPiece learner takes ~100 s per 400k words on one thread; the
    # first 300k (shuffled) training words give the pieces of the frequent words.
    vocabulary_words: int = 300_000
    # A small GPT for a single CPU thread: ~1.8M weights besides the embedding.
    num_layers: int = 4
    num_heads: int = 4
    hidden_dim: int = 192
    intermediate_dim: int = 768
    dropout: float = 0.0  # under one epoch: no overfitting to fight
    sequence_length: int = 128
    # ~6k tokens/s on one thread: 16 x 128 tokens a step gives ~1,200 updates in
    # the default budget; more updates beat bigger batches this early in training.
    batch_size: int = 16
    learning_rate: float = 2e-3
    warmup_steps: int = 100
    # Training runs for this many seconds (the run's budget), then stops; with
    # data preparation (~40 s) and scoring WikiText-2 valid (~70 s), ≤ 10 min.
    train_seconds: int = 420
    max_steps: int = 100_000
    # Words of the training text used (the first ones, after shuffling lines).
    max_train_words: int = 4_000_000
    # WikiText replaced words seen fewer than 3 times by "<unk>"; so does training.
    min_word_count: int = 3
    eval_text: str = ""  # a WikiText-style file scored after training ("": none)
    eval_max_words: int = 0  # 0: the whole eval text
    seed: int = 1337

    # How long to train and what to score may change when a run resumes.
    resumable = ("train_seconds", "max_steps", "eval_text", "eval_max_words")
    ranges = {
        "warmup_steps": "[0, inf)",
        "eval_max_words": "[0, inf)",
    }


def add_arguments(parser):
    add_corpus_arguments(parser)
    add_config_arguments(parser, GPTPretrainConfig)


def run(args):
    config = config_from_arguments(GPTPretrainConfig, args)
    training.print_metrics(
        train(args.corpus, args.out, config, verbose=1), indent=2, sort_keys=True
    )


# === Model and data ===
def build_model(config, vocabulary_size):
    backbone = GPTBackbone(
        vocabulary_size,
        num_layers=config.num_layers,
        num_heads=config.num_heads,
        hidden_dim=config.hidden_dim,
        intermediate_dim=config.intermediate_dim,
        dropout=config.dropout,
        max_sequence_length=config.sequence_length,
    )
    model = GPTCausalLM(backbone)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=config.max_steps,
        warmup_target=config.learning_rate,
        warmup_steps=config.warmup_steps,
        alpha=0.1,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=0.01, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def training_data(ids, config):
    """Endless shuffled windows: inputs ids[i:i+L], targets ids[i+1:i+L+1]."""
    length = config.sequence_length
    count = (len(ids) - 1) // length
    if count < config.batch_size:
        raise UserInputError(
            f"--corpus: too short for one batch of {config.batch_size} windows of "
            f"{length + 1} tokens. Received: {len(ids)} tokens"
        )
    x = ids[: count * length].reshape(count, length)  # (windows, seq)
    y = ids[1 : count * length + 1].reshape(count, length)
    data = tf.data.Dataset.from_tensor_slices((x, y)).repeat()
    data = data.shuffle(min(count, 20000), seed=config.seed)
    return data.batch(config.batch_size, drop_remainder=True).prefetch(2), count


# === Evaluation ===
def sequence_nll(model, ids, length, batch_size=32):
    """Total NLL (nats) of `ids[1:]` given the preceding ids, in half-overlapping windows.

    Window starts advance by `length // 2`; a window scores only its tokens not
    scored by the one before, so each token is scored once, with at least
    `length // 2` tokens of context after the first window.
    """
    half = length // 2
    starts = list(range(0, max(len(ids) - length, 0) + 1, half))
    if starts[-1] + length < len(ids):
        starts.append(len(ids) - length)
    windows, first_scored = [], []
    scored_until = 1  # ids[0] has no context and is not scored
    for start in starts:
        window = ids[start : start + length]
        windows.append(np.pad(window, (0, length - len(window))))
        first_scored.append(scored_until - start)  # first target position in window
        scored_until = start + len(window)
    windows = np.stack(windows).astype("int32")  # (n, seq)

    def token_nll(x):
        logits = keras.ops.cast(model(x[:, :-1]), "float32")  # (b, seq - 1, vocab)
        return keras.ops.sparse_categorical_crossentropy(x[:, 1:], logits, from_logits=True)

    if keras.backend.backend() == "tensorflow":  # a graph; JAX's model runs eagerly
        token_nll = tf.function(token_nll, reduce_retracing=True)

    total, count = 0.0, 0
    for b in range(0, len(windows), batch_size):
        x = keras.ops.convert_to_tensor(windows[b : b + batch_size])
        nll = keras.ops.convert_to_numpy(token_nll(x))  # (b, seq - 1)
        for row, values in enumerate(nll):
            start = starts[b + row]
            first = first_scored[b + row]  # target index t in window predicts ids[start+t]
            last = min(length, len(ids) - start)
            total += float(values[first - 1 : last - 1].sum())
            count += last - first
    assert count == len(ids) - 1, (count, len(ids))
    return total, count


def evaluate_text(model, encoder, lines, sequence_length):
    """Word-level perplexity of `lines` (WikiText tokenization), per the docstring."""
    ids = np.concatenate([[EOL_ID], encoder.encode_lines(lines)]).astype("int32")
    nll, tokens = sequence_nll(model, ids, sequence_length)
    words = count_words(lines)
    unknown = int(np.sum(ids == UNK_ID))  # an unknown word is one [UNK] piece
    return {
        "eval_words": words,
        "eval_subword_tokens": int(tokens),
        "eval_unknown_words": int(unknown),
        "eval_nll_nats": round(nll, 4),
        "word_perplexity": round(math.exp(nll / words), 2),
        "subword_perplexity": round(math.exp(nll / tokens), 2),
    }


# === The recipe ===
def train(corpus_files, out_dir, config, verbose=1, log=print):
    """Learns the vocabulary, trains for `train_seconds`, scores `eval_text`; metrics."""
    config.check()
    eval_lines = read_lines(config.eval_text, "--eval-text") if config.eval_text else None
    corpus = [line for path in corpus_files for line in read_lines(path, "--corpus")]
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=corpus_files)
    keras.utils.set_random_seed(config.seed)

    start = time.perf_counter()
    lines = [wikitext_style(line) for line in corpus]
    lines = [line for line in lines if line]
    rng = np.random.default_rng(config.seed)
    lines = [lines[i] for i in rng.permutation(len(lines))]
    counts = collections.Counter(word for line in lines for word in line.split())
    lines = [
        " ".join(w if counts[w] >= config.min_word_count else "<unk>" for w in line.split())
        for line in lines
    ]
    kept, words = [], 0
    for line in lines:
        kept.append(line)
        words += len(line.split())
        if words >= config.max_train_words:
            break
    vocabulary_path = out_dir / "vocabulary.txt"
    if vocabulary_path.is_file():  # resuming: the backup was trained on this one
        vocabulary = vocabulary_path.read_text(encoding="utf-8").split("\n")[:-1]
    else:
        sample = [word for line in kept for word in line.split()][: config.vocabulary_words]
        vocabulary = learn_word_piece_vocabulary(
            sample, config.vocabulary_size, RESERVED, split=False, batch_size=10000
        )
        atomic_write_text(vocabulary_path, "\n".join(vocabulary) + "\n")
    encoder = SubwordEncoder(vocabulary)
    ids = encoder.encode_lines(kept)
    prepare_seconds = time.perf_counter() - start
    log(
        f"{words:,} training words -> {len(ids):,} subword tokens over "
        f"{encoder.vocabulary_size:,} pieces ({prepare_seconds:.0f} s)"
    )

    data, windows = training_data(ids, config)
    plan = distribution.current()
    with plan.scope():
        model = build_model(config, encoder.vocabulary_size)
        model(np.zeros((1, config.sequence_length), "int32"))  # built, for BackupAndRestore
        # One long epoch: back up every 200 steps so a killed run resumes mid-way.
        fitted = training.fit(
            model,
            data,
            out_dir,
            epochs=1,
            save_freq=200,
            callbacks=[training.stop_after(config.train_seconds)],
            verbose=verbose,
            learning_rate=config.learning_rate,
            steps_per_epoch=config.max_steps,
        )
    steps = int(model.optimizer.iterations.numpy())
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    save_model_atomically(model, out_dir / "model.keras")
    metrics = {
        "tokenization": "WordPiece (cased, whitespace words, [EOL] per line)",
        "train_words": int(words),
        "train_subword_tokens": int(len(ids)),
        "vocabulary_size": encoder.vocabulary_size,
        "parameters": int(model.count_params()),
        "steps": steps,
        "tokens_seen": steps * config.batch_size * config.sequence_length,
        "train_seconds": round(fitted.seconds, 1),
        "train_tokens_per_second": round(
            steps * config.batch_size * config.sequence_length / fitted.seconds
        ),
        "final_train_loss": fitted.last("loss"),
        "prepare_seconds": round(prepare_seconds, 1),
    }
    if eval_lines is not None:
        if config.eval_max_words:
            eval_lines = first_words(eval_lines, config.eval_max_words)
        start = time.perf_counter()
        metrics.update(evaluate_text(model, encoder, eval_lines, config.sequence_length))
        metrics["eval_text"] = str(config.eval_text)
        metrics["eval_seconds"] = round(time.perf_counter() - start, 1)
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics


# === Generation ===
class Generator:
    """Text in, text out over a trained model's `GPTCausalLM.generate`."""

    def __init__(self, model, encoder):
        self.model = model
        self.encoder = encoder

    def generate(self, prompt, length=40, sampler="greedy", stop_at_line_end=True):
        ids = self.encoder.encode(wikitext_style(prompt))
        if not ids:
            raise UserInputError("prompt: give at least one word. Received: ''")
        limit = self.model.backbone.max_sequence_length
        if len(ids) >= limit:
            raise UserInputError(
                f"prompt: {len(ids)} tokens leave no room under the model's "
                f"max_sequence_length={limit}. Received: {prompt[:40]!r}..."
            )
        new = self.model.generate(
            ids,
            max_length=min(limit, len(ids) + length),
            sampler=sampler,
            stop_token_ids=[EOL_ID] if stop_at_line_end else None,
            strip_prompt=True,
        )
        return self.encoder.decode(new).rstrip("\n")


def load(model_dir):
    """The `Generator` of a `train gpt-pretrain` folder; checks model ↔ vocabulary."""
    model_dir = Path(model_dir)
    training.read_run(model_dir, RECIPE)
    for name in ("model.keras", "vocabulary.txt"):
        if not (model_dir / name).is_file():
            raise UserInputError(
                f"--model: not a gpt-pretrain folder (no {name}). Received: {model_dir}"
            )
    model = keras.saving.load_model(model_dir / "model.keras")
    vocabulary = (model_dir / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
    try:
        check_vocabulary_match(
            model.backbone.vocabulary_size, len(vocabulary), what=f"--model {str(model_dir)!r}"
        )
    except ValueError as error:
        raise UserInputError(str(error)) from None
    return Generator(model, SubwordEncoder(vocabulary))

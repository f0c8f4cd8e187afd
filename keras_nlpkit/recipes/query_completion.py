"""Search-query completion: a word-level LM from our layers, exported for the phone.

    nlpkit train query-completion --corpus FILE [FILE ...] --out DIR [--epochs N ...]
    nlpkit evaluate query-completion --model DIR --queries DIR/data/dev.txt [--k 3]
    nlpkit complete --model DIR "new york ci"

Data: one query a line (plain, or TREC topics `id:query` / `id:n:query`), lower-cased,
split into train and dev by a stable hash of the query text (`split_queries`): every
repeat of a query lands on one side, so no dev query was seen whole in training.

Model (`architecture="lstm"`, the default): `Embedding → Dropout → our LSTM → Dropout →
Dense (projection) → Dense (softmax over the vocabulary)`, a plain chain, so the export
gets the streaming `step` signature a keyboard drives one word at a time, and the
fused `UNIDIRECTIONAL_SEQUENCE_LSTM` for the full-sequence one. `architecture="gpt"` is
our `GPTCausalLM` (prefill/decode with a KV cache) over the same tokens.

Tokenization: words (the most frequent `vocabulary_size`), with the long tail of the
training lexicon reachable through `<unk>` on the device (`ondevice.QueryCompleter`).
Measured on the TREC queries (docs/RESULTS.md), this beat a character-level LSTM of
the same file size for both KSR and latency: a word model scores every candidate
word in one step, a character model needs a beam of several steps per keystroke.

DIR receives `recipe.json`, `model.keras`, `tokenizer.json`, `metrics.json`,
`data/{train,dev}.txt` (the split, for `evaluate` and the peer), `logs/`
(TensorBoard), `backup/` (rerun the same command to resume after a kill) and
`export/` (SavedModel, TFLite float32/float16/dynamic-int8/int8, `tokenizer.json`,
`completion.bin` (the lexicon and the count model the device mixes in, as sorted
arrays), `manifest.json`, `report.json`).
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.export import export
from keras_nlpkit.export import load_source
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.layers import LSTM
from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM
from keras_nlpkit.ondevice.ngram_table import ngram_table_bytes
from keras_nlpkit.ondevice.query_completer import COMPLETION_FILE
from keras_nlpkit.ondevice.query_completer import KIND
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.ngrams import count_ngrams
from keras_nlpkit.text.queries import read_queries
from keras_nlpkit.text.queries import split_queries
from keras_nlpkit.text.queries import word_counts


@dataclasses.dataclass
class QueryCompletionConfig(RecipeConfig):
    architecture: str = "lstm"  # or "gpt"
    # 6k words cover 75% of the training tokens; the rest go through <unk>, and the
    # count model mixed in on the device scores them in context. (10k words and 192
    # units: int8 2.1 MB, over the 1.5 MB budget, for 0.003 KSR more alone.)
    vocabulary_size: int = 6000
    embedding_dim: int = 64
    units: int = 160
    projection_dim: int = 64
    dropout: float = 0.25
    # GPT only.
    num_layers: int = 2
    num_heads: int = 4
    # Queries average 2.7 words; 16 tokens cover all but the longest few.
    sequence_length: int = 16
    batch_size: int = 128
    epochs: int = 12
    learning_rate: float = 3e-3
    dev_fraction: float = 0.05
    # The weight of the count model (`ondevice.NgramTable`) in the mixture
    # with the network on the device; 0 turns it off. Tuned on the TREC dev split.
    ngram_weight: float = 0.65
    # log-probability charged for a candidate matched one edit from the typed prefix.
    typo_penalty: float = 5.0
    seed: int = 1337

    ranges = {
        "vocabulary_size": "[4, inf)",
        "ngram_weight": "[0, 1)",
        "dev_fraction": "(0, 1)",
        "typo_penalty": "[0, inf)",
    }
    choices = {"architecture": ("lstm", "gpt")}


def add_arguments(parser):
    add_corpus_arguments(parser, "query files: one a line, or TREC `id:query` / `id:n:query`")
    add_config_arguments(parser, QueryCompletionConfig)


def run(args):
    config = config_from_arguments(QueryCompletionConfig, args)
    training.print_metrics(train(args.corpus, args.out, config), indent=2)


def build_vocabulary(counts, size):
    """`<unk> <s> </s>` then the `size - 3` most frequent words (ties by spelling)."""
    words = sorted(counts, key=lambda w: (-counts[w], w))[: max(size - 3, 1)]
    return list(WordTokenizer.special_tokens) + words


def encode_queries(queries, tokenizer, length):
    """Per query: inputs `<s> w_1..w_n`, targets `w_1..w_n </s>` (at most `length`)."""
    inputs, targets = [], []
    for query in queries:
        ids = [WordTokenizer.start_id] + tokenizer.encode(query) + [WordTokenizer.end_id]
        ids = ids[: length + 1]
        inputs.append(ids[:-1])
        targets.append(ids[1:])
    return inputs, targets


# Queries are short (2.7 words on average): batches of similar lengths, each padded
# to its own longest, cost a third of padding every query to `sequence_length`.
LENGTH_BUCKETS = (2, 3, 4, 5, 6, 8, 11)


def dataset(queries, tokenizer, config, shuffle):
    """tf.data of (inputs, targets, weights), length-bucketed; padding has weight 0."""
    inputs, targets = encode_queries(queries, tokenizer, config.sequence_length)

    def examples():
        for x, y in zip(inputs, targets):
            yield x, y, [1.0] * len(y)

    spec = tf.TensorSpec((None,), tf.int32)
    data = tf.data.Dataset.from_generator(
        examples, output_signature=(spec, spec, tf.TensorSpec((None,), tf.float32))
    ).cache()
    if shuffle:
        data = data.shuffle(len(inputs), seed=config.seed, reshuffle_each_iteration=True)
    end = tf.constant(WordTokenizer.end_id, tf.int32)
    data = data.bucket_by_sequence_length(
        lambda x, y, w: tf.shape(x)[0],
        bucket_boundaries=list(LENGTH_BUCKETS),
        bucket_batch_sizes=[config.batch_size] * (len(LENGTH_BUCKETS) + 1),
        padding_values=(end, end, tf.constant(0.0)),
    )
    return data.prefetch(tf.data.AUTOTUNE)


def build_model(vocabulary_size, config):
    """The compiled, built language model of `config.architecture`."""
    if config.architecture == "gpt":
        backbone = GPTBackbone(
            vocabulary_size,
            num_layers=config.num_layers,
            num_heads=config.num_heads,
            hidden_dim=config.units,
            intermediate_dim=4 * config.units,
            dropout=config.dropout,
            max_sequence_length=config.sequence_length,
        )
        model = GPTCausalLM(backbone, name="query_lm")
        model(np.zeros((1, 2), "int32"))  # built, so BackupAndRestore can restore into it
    else:
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, name="embedding")(
            token_ids
        )  # (batch, seq, embedding_dim)
        x = keras.layers.Dropout(config.dropout, name="embedding_dropout")(x)
        x = LSTM(config.units, return_sequences=True, name="lstm")(x)  # (batch, seq, units)
        x = keras.layers.Dropout(config.dropout, name="lstm_dropout")(x)
        # A low-rank output layer: units → projection → vocabulary costs
        # (units + vocabulary) · projection weights instead of units · vocabulary.
        x = keras.layers.Dense(config.projection_dim, name="projection")(x)
        logits = keras.layers.Dense(vocabulary_size, name="logits")(x)  # (batch, seq, vocab)
        model = keras.Model(token_ids, logits, name="query_lm")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=["accuracy"],
    )
    return model


def train(corpus_files, out_dir, config, verbose=1, log=print, export_variants=None):
    """Trains, saves and exports a query-completion model; returns the metrics dict."""
    config.check()
    plan = distribution.current()
    # The stream's batch size is not in its graph (length buckets): `training.fit` cannot check it.
    plan.check_batch_size(config.batch_size)
    queries = read_queries(corpus_files)
    train_queries, dev_queries = split_queries(queries, config.dev_fraction)
    if not train_queries or not dev_queries:
        raise UserInputError(
            f"--corpus: too few queries to split off a dev set ({len(queries)}). "
            f"Received: {list(map(str, corpus_files))}"
        )
    out_dir = training.start_run(out_dir, KIND, config, inputs=corpus_files)
    counts = word_counts(train_queries)
    tokenizer = WordTokenizer(build_vocabulary(counts, config.vocabulary_size))
    atomic_write_text(out_dir / "data" / "train.txt", "\n".join(train_queries) + "\n")
    atomic_write_text(out_dir / "data" / "dev.txt", "\n".join(dev_queries) + "\n")
    atomic_write_json(out_dir / "tokenizer.json", tokenizer.get_config())
    log(
        f"{len(train_queries):,} training and {len(dev_queries):,} dev queries; "
        f"{len(counts):,} distinct words, the model's vocabulary {tokenizer.vocabulary_size:,}"
    )

    keras.utils.set_random_seed(config.seed)
    with plan.scope():
        model = build_model(tokenizer.vocabulary_size, config)
        fitted = training.fit(
            model,
            dataset(train_queries, tokenizer, config, shuffle=True),
            out_dir,
            epochs=config.epochs,
            verbose=verbose,
            learning_rate=config.learning_rate,
            validation_data=dataset(dev_queries, tokenizer, config, shuffle=False),
        )
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    save_model_atomically(model, out_dir / "model.keras")
    if not training.exports_here(log, training.RERUN_TO_EXPORT):
        return None

    # Calibration lines for int8: training queries, as the model reads them (`<s>` first).
    rng = np.random.default_rng(config.seed)
    sample = (
        [train_queries[i] for i in rng.choice(len(train_queries), 600, replace=False)]
        if len(train_queries) > 600
        else train_queries
    )
    representative = out_dir / "representative.txt"
    atomic_write_text(representative, "".join(f"<s> {q}\n" for q in sample))
    log(f"Exporting to {out_dir / 'export'}")
    report = export(
        load_source(out_dir / "model.keras"),
        out_dir / "export",
        quantize=export_variants,
        representative_data=representative,
        tokenizer=tokenizer,
        log=log if verbose else (lambda *_: None),
        kind=KIND,
        settings={
            "architecture": config.architecture,
            "typo_penalty": config.typo_penalty,
            "ngram_weight": config.ngram_weight,
        },
        side_files={
            COMPLETION_FILE: ngram_table_bytes(
                counts, count_ngrams(train_queries), model_ids=tokenizer.token_id
            ),
        },
    )
    metrics = {
        "train_queries": len(train_queries),
        "dev_queries": len(dev_queries),
        "vocabulary_size": tokenizer.vocabulary_size,
        "lexicon_size": len(counts),
        "train_seconds": round(fitted.seconds, 1),
        "epochs": fitted.epochs,
        "dev_loss": fitted.last("val_loss"),
        "tflite_bytes": {k: v["bytes"] for k, v in report["variants"].items()},
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics

"""Search-query completion: a word-level LM from our layers, exported for the phone.

    nlpkit train query-completion --corpus FILE [FILE ...] --out DIR [--epochs N ...]
    nlpkit evaluate query-completion --model DIR --queries FILE [--k 3]
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
training lexicon reachable through `<unk>` on the device (`keras_nlpkit.completion`).
Measured on the TREC queries (see README), this beat a character-level LSTM of
the same file size for both KSR and latency: a word model scores every candidate
word in one step, a character model needs a beam of several steps per keystroke.

DIR receives `model.keras`, `tokenizer.json`, `config.json`, `metrics.json`,
`data/{train,dev}.txt` (the split, for `evaluate` and the peer), `logs/`
(TensorBoard), `backup/` (rerun the same command to resume after a kill) and
`export/` (SavedModel, TFLite float32/float16/dynamic-int8/int8, `tokenizer.json`,
`lexicon.tsv`, `ngrams.tsv.gz` (the count model the device mixes in),
`completion.json`, `report.json`).
"""

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np

from keras_nlpkit import completion
from keras_nlpkit.io_utils import TrainingError
from keras_nlpkit.io_utils import UserInputError
from keras_nlpkit.io_utils import training_callbacks
from keras_nlpkit.io_utils import atomic_write_json
from keras_nlpkit.io_utils import atomic_write_text
from keras_nlpkit.tokenizers import WordTokenizer


@dataclasses.dataclass
class QueryCompletionConfig:
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
    # The weight of the count model (`completion.InterpolatedNgram`) in the mixture
    # with the network on the device; 0 turns it off. Tuned on the TREC dev split.
    ngram_weight: float = 0.65
    # log-probability charged for a candidate matched one edit from the typed prefix.
    typo_penalty: float = 5.0
    seed: int = 1337

    def check(self):
        if self.architecture not in ("lstm", "gpt"):
            raise UserInputError(
                f"--architecture: choose lstm or gpt. Received: {self.architecture!r}"
            )
        if not 0.0 <= self.ngram_weight < 1.0:
            raise UserInputError(f"--ngram-weight: must be in [0, 1). Received: {self.ngram_weight}")
        if not 0.0 < self.dev_fraction < 1.0:
            raise UserInputError(f"--dev-fraction: must be in (0, 1). Received: {self.dev_fraction}")


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
    import tensorflow as tf

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
    import keras

    from keras_nlpkit.layers import LSTM

    if config.architecture == "gpt":
        from keras_nlpkit.models import GPTBackbone
        from keras_nlpkit.models import GPTCausalLM

        backbone = GPTBackbone(
            vocabulary_size, num_layers=config.num_layers, num_heads=config.num_heads,
            hidden_dim=config.units, intermediate_dim=4 * config.units,
            dropout=config.dropout, max_sequence_length=config.sequence_length,
        )
        model = GPTCausalLM(backbone, name="query_lm")
        model(np.zeros((1, 2), "int32"))  # built, so BackupAndRestore can restore into it
    else:
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        x = keras.layers.Embedding(vocabulary_size, config.embedding_dim, name="embedding")(
            token_ids
        )
        x = keras.layers.Dropout(config.dropout, name="embedding_dropout")(x)
        x = LSTM(config.units, return_sequences=True, name="lstm")(x)
        x = keras.layers.Dropout(config.dropout, name="lstm_dropout")(x)
        # A low-rank output layer: units → projection → vocabulary costs
        # (units + vocabulary) · projection weights instead of units · vocabulary.
        x = keras.layers.Dense(config.projection_dim, name="projection")(x)
        logits = keras.layers.Dense(vocabulary_size, name="logits")(x)
        model = keras.Model(token_ids, logits, name="query_lm")
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=["accuracy"],
    )
    return model


def train(corpus_files, out_dir, config, verbose=1, log=print, export_variants=None):
    """Trains, saves and exports a query-completion model; returns the metrics dict."""
    import keras

    from keras_nlpkit.export import export
    from keras_nlpkit.export import load_source
    from keras_nlpkit.io_utils import save_model_atomically

    config.check()
    out_dir = Path(out_dir)
    if (out_dir / "spelling.json").is_file():
        raise UserInputError(f"--out: holds a spelling-correction model. Received: {out_dir}")
    queries = completion.read_queries(corpus_files)
    train_queries, dev_queries = completion.split_queries(queries, config.dev_fraction)
    if not train_queries or not dev_queries:
        raise UserInputError(
            f"--corpus: too few queries to split off a dev set ({len(queries)}). "
            f"Received: {list(map(str, corpus_files))}"
        )
    counts = completion.word_counts(train_queries)
    vocabulary = build_vocabulary(counts, config.vocabulary_size)
    tokenizer = WordTokenizer(vocabulary)

    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "data" / "train.txt", "\n".join(train_queries) + "\n")
    atomic_write_text(out_dir / "data" / "dev.txt", "\n".join(dev_queries) + "\n")
    atomic_write_json(out_dir / "tokenizer.json", tokenizer.get_config())
    atomic_write_json(out_dir / "config.json", dataclasses.asdict(config))
    log(f"{len(train_queries):,} training and {len(dev_queries):,} dev queries; "
        f"{len(counts):,} distinct words, the model's vocabulary {len(vocabulary):,}")

    keras.utils.set_random_seed(config.seed)
    model = build_model(len(vocabulary), config)
    callbacks = training_callbacks(out_dir)
    start = time.perf_counter()
    history = model.fit(
        dataset(train_queries, tokenizer, config, shuffle=True),
        validation_data=dataset(dev_queries, tokenizer, config, shuffle=False),
        epochs=config.epochs, callbacks=callbacks, verbose=verbose,
        shuffle=False,  # the tf.data stream shuffles itself
    )
    seconds = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if any(not math.isfinite(v) for v in losses):
        raise TrainingError(
            f"Training stopped at epoch {len(losses)}: the loss became NaN. Lower "
            f"--learning-rate (now {config.learning_rate}) and rerun."
        )
    save_model_atomically(model, out_dir / "model.keras")

    # Calibration lines for int8: training queries, as the model reads them (`<s>` first).
    rng = np.random.default_rng(config.seed)
    sample = [train_queries[i] for i in rng.choice(len(train_queries), 600, replace=False)] \
        if len(train_queries) > 600 else train_queries
    representative = out_dir / "representative.txt"
    atomic_write_text(representative, "".join(f"<s> {q}\n" for q in sample))
    log(f"Exporting to {out_dir / 'export'}")
    export_dir = out_dir / "export"
    report = export(load_source(out_dir / "model.keras"), export_dir,
                    quantize=export_variants, representative_data=representative,
                    tokenizer=tokenizer, log=log if verbose else (lambda *_: None))
    completion.write_lexicon(export_dir / completion.LEXICON_FILE, counts)
    completion.write_ngrams(export_dir / completion.NGRAM_FILE,
                            completion.count_ngrams(train_queries))
    atomic_write_json(export_dir / completion.MARKER_FILE, {
        "recipe": "query-completion", "architecture": config.architecture,
        "typo_penalty": config.typo_penalty, "ngram_weight": config.ngram_weight,
    })
    atomic_write_json(out_dir / completion.MARKER_FILE, {"recipe": "query-completion"})
    metrics = {
        "train_queries": len(train_queries),
        "dev_queries": len(dev_queries),
        "vocabulary_size": len(vocabulary),
        "lexicon_size": len(counts),
        "train_seconds": round(seconds, 1),
        "epochs": len(losses),
        "dev_loss": round(history.history["val_loss"][-1], 4) if "val_loss" in history.history else None,
        "tflite_bytes": {k: v["bytes"] for k, v in report["variants"].items()},
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics


def evaluate(model_dir, queries_file, k=3, variant="int8", limit=None, peer_corpus=None,
             typos=True, corrector=None, seed=0):
    """METRICS.md figures for the exported model and the trigram peer, on `queries_file`.

    The peer is trained on `DIR/data/train.txt` (the model's training split) unless
    `peer_corpus` names other files. With `typos`, every query also gets one
    injected typo (in one word of 3+ letters) and both completers, plus the
    typo-tolerant one when a `corrector` is given, are measured on it.
    """
    from keras_nlpkit import metrics as metrics_lib

    model_dir = Path(model_dir)
    export_dir = completion.find_export_dir(model_dir)
    queries = completion.read_queries([queries_file], argument="--queries")
    if limit:
        queries = queries[:limit]
    peer_files = peer_corpus or [model_dir / "data" / "train.txt"]
    if not all(Path(p).is_file() for p in peer_files):
        raise UserInputError(
            f"--peer-corpus: the trigram peer needs the training queries. Received: "
            f"{[str(p) for p in peer_files]}"
        )
    ours = completion.QueryCompleter(export_dir, variant=variant)
    peer = completion.TrigramCompleter(completion.read_queries(peer_files))

    def suggester(completer):
        return lambda previous, prefix: [w for w, _ in completer.suggest_words(previous, prefix, k)]

    nll = np.concatenate([-ours.sequence_logprobs(q) for q in queries])
    result = {
        "queries_file": str(queries_file),
        "variant": variant,
        "tflite_bytes": (export_dir / ours.model.path.name).stat().st_size,
        "k": k,
        "ours": metrics_lib.simulate_typing(queries, suggester(ours), k),
        "peer_trigram": metrics_lib.simulate_typing(queries, suggester(peer), k),
    }
    result["ours"]["perplexity"] = round(metrics_lib.perplexity(nll), 2)
    result["ours"]["perplexity_tokenization"] = (
        f"words ({ours.tokenizer.vocabulary_size:,}, others as <unk>), per token incl. </s>"
    )
    if typos:
        typed = inject_typos(queries, seed=seed)
        result["typo"] = {
            "ours": metrics_lib.simulate_typing(queries, suggester(ours), k, typed),
            "peer_trigram": metrics_lib.simulate_typing(queries, suggester(peer), k, typed),
        }
        if corrector is not None:
            tolerant = completion.QueryCompleter(export_dir, variant=variant, corrector=corrector)
            result["typo"]["ours_typo_tolerant"] = metrics_lib.simulate_typing(
                queries, suggester(tolerant), k, typed)
            result["ours_typo_tolerant"] = metrics_lib.simulate_typing(
                queries, suggester(tolerant), k)
    return result


def inject_typos(queries, seed=0):
    """Each query with one typo in one of its words of 3+ letters (where it has one)."""
    from keras_nlpkit.typos import misspell

    rng = np.random.default_rng(seed)
    typed = []
    for query in queries:
        words = query.split()
        candidates = [i for i, w in enumerate(words) if len(w) >= 3 and w.isalpha()]
        if candidates:
            i = candidates[rng.integers(len(candidates))]
            words[i] = misspell(words[i], rng)
        typed.append(" ".join(words))
    return typed


def load_completer(model_dir, variant="int8", corrector=None):
    return completion.QueryCompleter(model_dir, variant=variant, corrector=corrector)


DEMO_INPUTS = ("how to ", "the list", "python ", "new york ci")


def demo_corpus():
    """Short 'queries' from the documentation that ships with Python.

    Each sentence of `pydoc_data.topics` is cut into runs of up to five words,
    letters only: not search logs, but real text that arrives with every install.
    """
    import re

    from pydoc_data.topics import topics

    queries = []
    for name in sorted(topics):
        for sentence in re.split(r"[.!?:;\n]+", topics[name].lower()):
            words = re.findall(r"[a-z]+", sentence)
            for i in range(0, len(words), 5):
                if len(words[i : i + 5]) >= 2:
                    queries.append(" ".join(words[i : i + 5]))
    return queries


def metrics_json(result):
    return json.dumps(result, indent=2, sort_keys=True)

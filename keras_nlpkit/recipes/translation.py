"""Neural machine translation (English → German on Multi30k by default): Transformer or RNN.

    nlpkit train translation --data ../shared/data/translation/multi30k --out runs/mt \\
        [--architecture transformer|rnn] [--train-seconds 1800 ...]
    nlpkit translate --model runs/mt "A man is riding a bicycle." [--beam 4]
    nlpkit evaluate translation --model runs/mt \\
        --source ../shared/data/translation/multi30k/val.en.gz \\
        --reference ../shared/data/translation/multi30k/val.de.gz [--beam 4]

DIR holds `train.{en,de}` and `val.{en,de}` (plain or `.gz`, line-aligned).

Tokenization: one SentencePiece unigram model per language (cased, NFKC),
learnt on the training side only (`keras_nlpkit.tokenizers`), special ids pad 0,
unk 1, bos 2, eos 3. SentencePiece rather than WordPiece because decoding its
pieces restores the text exactly (the spaces are pieces), and BLEU is scored on
detokenized, cased text. The encoder reads the source pieces (no bos/eos), at
most `source_length`; the decoder reads `[bos] + pieces` and predicts
`pieces + [eos]`, at most `target_length` positions (longer training pairs are
cut, a handful in Multi30k).

Training: label-smoothed cross-entropy (ε = 0.1) over the real target tokens,
Adam (β₂ = 0.98) with a linear warm-up then 1/√step decay (the Transformer
paper's schedule, which needs no step count: the run is bounded by
`--train-seconds`), batches of sentences of similar lengths (length-bucketed,
padded to a multiple of 8), validation loss after every epoch, TensorBoard logs,
and a backup after every epoch (rerun the command to resume). At the end, corpus
BLEU and chrF (sacrebleu, its 13a tokenizer, cased) on the validation pairs with
greedy decoding and with beam search (`--beam-size`, length-normalised).

OUT receives `recipe.json`, `model.keras`, `source.spm`, `target.spm`,
`translation.json` (languages, special ids, lengths, architecture: what a
runtime needs), `metrics.json`, `history.json`, `logs/` and `export/`: SavedModel
and TFLite float32, float16, dynamic-range int8 and int8 (calibrated on 200
training pairs) with the signatures `encode` and `decode_step` at batch
`--beam-size`, builtin ops only, for `keras_nlpkit.ondevice.Translator`.
"""

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.translation import translation_scores
from keras_nlpkit.export.translation import SETTINGS_FILE
from keras_nlpkit.export.translation import export_translation
from keras_nlpkit.files import atomic_write_bytes
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models.translation import LabelSmoothedCrossEntropy
from keras_nlpkit.models.translation import TransformerTranslator
from keras_nlpkit.models.translation import WarmupInverseSqrtDecay
from keras_nlpkit.models.translation import beam_search
from keras_nlpkit.models.translation import greedy_search
from keras_nlpkit.ondevice.model_folder import read_json
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.parallel import read_parallel
from keras_nlpkit.tokenizers.sentence_piece_encoder import SentencePieceEncoder
from keras_nlpkit.tokenizers.sentence_piece_model import BOS_ID
from keras_nlpkit.tokenizers.sentence_piece_model import EOS_ID
from keras_nlpkit.tokenizers.sentence_piece_model import PAD_ID
from keras_nlpkit.tokenizers.sentence_piece_model import UNK_ID
from keras_nlpkit.tokenizers.sentence_piece_model import learn_sentence_piece_model

RECIPE = "translation"
CALIBRATION_PAIRS = 200  # training pairs that calibrate the int8 file


@dataclasses.dataclass
class TranslationConfig(RecipeConfig):
    architecture: str = "transformer"
    source_language: str = "en"
    target_language: str = "de"
    # 8k pieces a side: Multi30k's ~10k English / ~18k German word types become
    # whole words for the frequent ones and 2-3 pieces for the rest.
    vocabulary_size: int = 8000
    # Pieces: Multi30k's longest sentences have ~60; 99.9 % of pairs fit in 48.
    source_length: int = 64
    target_length: int = 64
    # A Transformer small enough for two CPU cores: 3 + 3 pre-norm layers of 256.
    hidden_dim: int = 256
    num_encoder_layers: int = 3
    num_decoder_layers: int = 3
    num_heads: int = 4
    intermediate_dim: int = 1024
    # RNN (`--architecture rnn`): embedding size; `hidden_dim` is its LSTM size.
    embedding_dim: int = 256
    attention: str = "additive"
    dropout: float = 0.1
    label_smoothing: float = 0.1
    # Sentences a batch (of similar lengths): ~1,500 target tokens.
    batch_size: int = 96
    # Peak of the warm-up schedule; 0: the architecture's own (`LEARNING_RATES`).
    learning_rate: float = 0.0
    warmup_steps: int = 300
    epochs: int = 100
    # Training stops after this many seconds (0: after `epochs`); each epoch is
    # validated, the last one when the budget ends it early.
    train_seconds: int = 1800
    # Training's matmuls in bfloat16 (weights, softmax and loss in float32): 2.5x the
    # steps per second of float32 on a CPU with AMX/AVX512-BF16 (this machine's);
    # slower where bfloat16 is emulated: say float32 there. The saved model is float32.
    dtype_policy: str = "mixed_bfloat16"
    beam_size: int = 4
    seed: int = 1337

    resumable = ("epochs", "train_seconds", "beam_size")
    choices = {
        "architecture": ("transformer", "rnn"),
        "attention": ("additive", "general"),
        "dtype_policy": ("mixed_bfloat16", "float32"),
    }
    ranges = {
        "label_smoothing": "[0, 1)",
        "learning_rate": "[0, inf)",
        "train_seconds": "[0, inf)",
        "source_length": "[2, inf)",
        "target_length": "[2, inf)",
        "vocabulary_size": "[8, inf)",
    }


# The peak learning rates measured best in the 30-minute budget (docs/RESULTS.md,
# Translation): the RNN at 1e-3 reached 13.6 BLEU, at 3e-3 35.6; the Transformer
# is the one warm-up schedules are published for.
LEARNING_RATES = {"transformer": 1e-3, "rnn": 3e-3}


def peak_learning_rate(config):
    return config.learning_rate or LEARNING_RATES[config.architecture]


def add_arguments(parser):
    parser.add_argument("--data", required=True, help="folder of train.{en,de} and val.{en,de}")
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    add_config_arguments(parser, TranslationConfig)


def run(args):
    config = config_from_arguments(TranslationConfig, args)
    training.print_metrics(train(args.data, args.out, config), indent=2, sort_keys=True)


# === Data ===
def find_split(data_dir, split, language):
    """`DIR/split.language`, or its `.gz`; a `UserInputError` naming both when neither is."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserInputError(f"--data: no such folder. Received: {data_dir}")
    for name in (f"{split}.{language}", f"{split}.{language}.gz"):
        if (data_dir / name).is_file():
            return data_dir / name
    raise UserInputError(
        f"--data: the folder holds neither {split}.{language} nor {split}.{language}.gz. "
        f"Received: {data_dir}"
    )


def encode_pairs(pairs, source_encoder, target_encoder, config):
    """`(sources, decoder_inputs, labels)`: lists of int32 arrays, cut to the lengths."""
    sources = source_encoder.encode([s for s, _ in pairs])
    targets = target_encoder.encode([t for _, t in pairs])
    keep = config.target_length - 1
    source_ids = [np.asarray(s[: config.source_length], "int32") for s in sources]
    inputs = [np.asarray([BOS_ID, *t[:keep]], "int32") for t in targets]
    labels = [np.asarray([*t[:keep], EOS_ID], "int32") for t in targets]
    return source_ids, inputs, labels


def _pad(rows, limit, multiple=8):
    """`rows` 0-padded to the longest rounded up to `multiple` (few shapes to trace),
    but not past `limit`, the model's positions (rows are never longer)."""
    longest = max(len(r) for r in rows)
    width = max(longest, min(-(-longest // multiple) * multiple, limit))
    out = np.zeros((len(rows), width), "int32")
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def batches(encoded, batch_size, config, rng=None):
    """Batches of sentences of similar lengths, each padded to a multiple of 8.

    With `rng`, the pairs are shuffled, sorted by length within pools of 50
    batches, cut into batches, and the batches shuffled (a new order every
    epoch); without, they keep their order.
    """
    sources, inputs, labels = encoded
    order = np.arange(len(sources))
    if rng is not None:
        order = rng.permutation(order)
        pool = 50 * batch_size
        lengths = np.array([len(x) + len(y) / 1000 for x, y in zip(labels, sources)])
        order = np.concatenate(
            [
                order[i : i + pool][np.argsort(lengths[order[i : i + pool]], kind="stable")]
                for i in range(0, len(order), pool)
            ]
        )
    cut = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        cut = [cut[i] for i in rng.permutation(len(cut))]
    for rows in cut:
        x = {
            "source_ids": _pad([sources[i] for i in rows], config.source_length),
            "target_ids": _pad([inputs[i] for i in rows], config.target_length),
        }
        yield x, _pad([labels[i] for i in rows], config.target_length)


def dataset(encoded, batch_size, config, seed=None):
    """A `tf.data` stream of `batches`, reshuffled at every epoch when `seed` is given."""
    epochs = iter(range(1 << 30))

    def generate():
        rng = None if seed is None else np.random.default_rng([seed, next(epochs)])
        yield from batches(encoded, batch_size, config, rng)

    ids = tf.TensorSpec((None, None), tf.int32)
    signature = ({"source_ids": ids, "target_ids": ids}, ids)
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)


# === Model ===
def build_model(config, source_vocabulary_size, target_vocabulary_size):
    if config.architecture == "rnn":
        from keras_nlpkit.models.translation.rnn_translator import RNNTranslator

        model = RNNTranslator(
            source_vocabulary_size,
            target_vocabulary_size,
            embedding_dim=config.embedding_dim,
            hidden_dim=config.hidden_dim,
            dropout=config.dropout,
            attention=config.attention,
            dtype=config.dtype_policy,
        )
    else:
        model = TransformerTranslator(
            source_vocabulary_size,
            target_vocabulary_size,
            max_source_length=config.source_length,
            max_target_length=config.target_length,
            hidden_dim=config.hidden_dim,
            num_encoder_layers=config.num_encoder_layers,
            num_decoder_layers=config.num_decoder_layers,
            num_heads=config.num_heads,
            intermediate_dim=config.intermediate_dim,
            dropout=config.dropout,
            dtype=config.dtype_policy,
        )
    schedule = WarmupInverseSqrtDecay(peak_learning_rate(config), config.warmup_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, beta_2=0.98, epsilon=1e-9, clipnorm=1.0),
        loss=LabelSmoothedCrossEntropy(config.label_smoothing),
    )
    return model


def float32_copy(model):
    """The model under the float32 policy, same weights: what is saved, decoded, exported."""
    if model.dtype_policy.name == "float32":
        return model
    copy = type(model).from_config({**model.get_config(), "dtype": "float32"})
    copy.set_weights(model.get_weights())
    return copy


# === The recipe ===
def train(data_dir, out_dir, config, verbose=1, log=print):
    """Learns the vocabularies, trains, scores val with greedy and beam search; metrics."""
    config.check()
    paths = {
        (split, side): find_split(data_dir, split, language)
        for split in ("train", "val")
        for side, language in (
            ("source", config.source_language),
            ("target", config.target_language),
        )
    }
    train_pairs = read_parallel(paths["train", "source"], paths["train", "target"])
    val_pairs = read_parallel(paths["val", "source"], paths["val", "target"])
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=list(paths.values()))
    keras.utils.set_random_seed(config.seed)

    start = time.perf_counter()
    encoders = {}
    for side, index in (("source", 0), ("target", 1)):
        path = out_dir / f"{side}.spm"
        if not path.is_file():  # (resuming: the backup was trained with the saved ones)
            texts = [pair[index] for pair in train_pairs]
            atomic_write_bytes(path, learn_sentence_piece_model(texts, config.vocabulary_size))
        encoders[side] = SentencePieceEncoder.from_file(path, "--out")
    source_encoder, target_encoder = encoders["source"], encoders["target"]
    train_encoded = encode_pairs(train_pairs, source_encoder, target_encoder, config)
    val_encoded = encode_pairs(val_pairs, source_encoder, target_encoder, config)
    prepare_seconds = time.perf_counter() - start
    log(
        f"{len(train_pairs):,} training pairs, {len(val_pairs):,} val; pieces "
        f"{source_encoder.vocabulary_size:,} {config.source_language} / "
        f"{target_encoder.vocabulary_size:,} {config.target_language} "
        f"({prepare_seconds:.0f} s)"
    )
    write_settings(out_dir, config)

    plan = distribution.current()
    with plan.scope():
        model = build_model(config, source_encoder.vocabulary_size, target_encoder.vocabulary_size)
        sample, _ = next(batches(val_encoded, 2, config))
        model(sample)  # built, for BackupAndRestore
        callbacks = [training.stop_after(config.train_seconds)] if config.train_seconds else []
        fitted = training.fit(
            model,
            dataset(train_encoded, config.batch_size, config, seed=config.seed),
            out_dir,
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=verbose,
            learning_rate=peak_learning_rate(config),
            validation_data=dataset(val_encoded, config.batch_size, config),
        )
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    model = float32_copy(model)
    save_model_atomically(model, out_dir / training.MODEL_FILE)
    metrics = {
        "architecture": config.architecture,
        "tokenization": "SentencePiece unigram per side, cased, learnt on train",
        "source_vocabulary_size": source_encoder.vocabulary_size,
        "target_vocabulary_size": target_encoder.vocabulary_size,
        "train_pairs": len(train_pairs),
        "parameters": int(model.count_params()),
        "steps": steps,
        "epochs": fitted.epochs,
        "train_seconds": round(fitted.seconds, 1),
        "steps_per_second": round(steps / fitted.seconds, 2) if fitted.seconds else None,
        "final_train_loss": fitted.last("loss"),
        "val_loss": fitted.last("val_loss"),
        "prepare_seconds": round(prepare_seconds, 1),
    }
    translator = BatchTranslator(
        model, source_encoder, target_encoder, config.source_length, config.target_length
    )
    sources = [source for source, _ in val_pairs]
    references = [target for _, target in val_pairs]
    for name, beams in (("greedy", 1), (f"beam{config.beam_size}", config.beam_size)):
        begin = time.perf_counter()
        hypotheses = translator.translate(sources, num_beams=beams, greedy=beams == 1)
        seconds = time.perf_counter() - begin
        scores = translation_scores(hypotheses, references)
        metrics[f"val_bleu_{name}"] = round(scores["bleu"], 2)
        metrics[f"val_chrf_{name}"] = round(scores["chrf"], 2)
        metrics[f"val_decode_seconds_{name}"] = round(seconds, 1)
        metrics["bleu_signature"] = scores["bleu_signature"]
        metrics["chrf_signature"] = scores["chrf_signature"]
        log(f"val BLEU {name}: {scores['bleu']:.2f} (chrF {scores['chrf']:.2f}, {seconds:.0f} s)")
    if training.exports_here(
        log, f"KERAS_BACKEND=tensorflow nlpkit export {out_dir} --out {out_dir / 'export'}"
    ):
        # int8 is calibrated on real training pairs (pieces, no bos/eos), spread over the file.
        sources, _, labels = train_encoded
        rows = np.linspace(0, len(sources) - 1, CALIBRATION_PAIRS).astype(int)
        report = export_translation(
            model,
            out_dir / "export",
            read_json(out_dir / SETTINGS_FILE, "--out"),
            out_dir / "source.spm",
            out_dir / "target.spm",
            num_beams=config.beam_size,
            representative_pairs=[(sources[i].tolist(), labels[i][:-1].tolist()) for i in rows],
            path=str(out_dir / training.MODEL_FILE),
            log=log if verbose else _quiet,
        )
        metrics["export"] = training.export_figures(report)
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics


def _quiet(*_):
    pass


def write_settings(out_dir, config):
    """`translation.json`: what a runtime needs besides the model and the two `.spm` files."""
    atomic_write_json(
        Path(out_dir) / SETTINGS_FILE,
        {
            "source_language": config.source_language,
            "target_language": config.target_language,
            "pad_id": PAD_ID,
            "unk_id": UNK_ID,
            "bos_id": BOS_ID,
            "eos_id": EOS_ID,
            "source_length": config.source_length,
            "target_length": config.target_length,
            "architecture": config.architecture,
            "source_format": "pieces (no bos/eos), 0-padded",
            "target_format": "decoder input [bos] + pieces; output pieces + [eos]",
            "beam_score": "sum of log-probabilities / generated tokens (eos included)",
        },
    )


# === Translating ===
class BatchTranslator:
    """Sentences in, sentences out: SentencePiece, then greedy or beam search, in batches.

    The Keras model's side, for training-time scoring and `nlpkit translate`; an app
    runs the export through `keras_nlpkit.ondevice.Translator` instead.
    """

    def __init__(self, model, source_encoder, target_encoder, source_length, max_length):
        self.model = model
        self.source_encoder = source_encoder
        self.target_encoder = target_encoder
        self.source_length = source_length
        self.max_length = max_length

    def translate(self, sentences, num_beams=4, greedy=False, batch_size=64):
        """Translations of `sentences` (strings), in their order.

        Sources are sorted by length into batches (less padding); a source
        longer than the model's positions is cut to them. `greedy` runs
        `greedy_search`, else `beam_search` with `num_beams`.
        """
        encoded = self.source_encoder.encode(list(sentences))
        encoded = [ids[: self.source_length] for ids in encoded]
        encoded = [ids or [UNK_ID] for ids in encoded]  # (an all-blank line)
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        outputs = [None] * len(encoded)
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            source_ids = _pad([encoded[i] for i in rows], self.source_length)
            if greedy:
                found = greedy_search(self.model, source_ids, self.max_length, BOS_ID, EOS_ID)
            else:
                found = beam_search(
                    self.model, source_ids, num_beams, self.max_length, BOS_ID, EOS_ID
                )
            for row, ids in zip(rows, found):
                outputs[row] = self.target_encoder.decode(ids)
        return outputs


def load(model_dir, argument="--model"):
    """The `BatchTranslator` of a `train translation` folder."""
    model_dir = Path(model_dir)
    training.read_run(model_dir, RECIPE, argument)
    for name in (training.MODEL_FILE, "source.spm", "target.spm", SETTINGS_FILE):
        if not (model_dir / name).is_file():
            raise UserInputError(
                f"{argument}: the training has not finished (no {name}). Received: {model_dir}"
            )
    settings = read_json(model_dir / SETTINGS_FILE, argument)
    import keras_nlpkit.models  # noqa: F401  (registers the model classes)

    model = keras.saving.load_model(model_dir / training.MODEL_FILE, compile=False)
    source_encoder = SentencePieceEncoder.from_file(model_dir / "source.spm", argument)
    target_encoder = SentencePieceEncoder.from_file(model_dir / "target.spm", argument)
    return BatchTranslator(
        model,
        source_encoder,
        target_encoder,
        settings["source_length"],
        settings["target_length"],
    )

"""Spelling correction: a character seq2seq with attention, shipped as int8 TFLite.

    nlpkit train spelling --out DIR [--exclude-pairs EVAL_FILE] [--pairs FILE ...]
                          [--context-corpus FILE_OR_FOLDER[,...]] [--preset small] [...]
    nlpkit evaluate spelling --model DIR --pairs EVAL_FILE      # one JSON object on stdout
    nlpkit evaluate spelling --model DIR --context-text FILE_OR_FOLDER[,...]   # in sentences
    nlpkit correct --model DIR word [word ...]
    nlpkit correct --model DIR --context "i want to by a new phone"

Training pairs (misspelling → correction) come from three places
(`keras_nlpkit.text.misspellings`):

- real misspellings: `codespell`'s dictionary, read from the installed package;
- synthetic errors (`keras_nlpkit.text.synthetic_misspellings`) over words drawn
  by frequency from `symspellpy`'s frequency list, plus identity pairs (a correct
  word maps to itself), which teach the model to leave good words alone;
- optional `--pairs` files (Norvig's `right: wrong wrong` or `wrong<TAB>right`).

Every pair whose misspelling occurs in `--exclude-pairs` (the evaluation file) is
dropped: 116 of spell-testset1's 270 misspellings are codespell entries, and
keeping them would measure memory, not correction. Nothing is excluded unless the
file is named, and training says so loudly; `metrics.json` records what was dropped.

The model is `keras_nlpkit.models.SpellingModel`; it exports three signatures:
`serving_default` (teacher-forced logits, for parity checks), `encode` (once per
word) and `decode_step` (one character for a batch of beams). The export also
holds the lexicon, the known words and the channel model that
`keras_nlpkit.ondevice.SpellingCorrector` decodes with (see `CorrectorSettings`).

With `--context-corpus` (real sentences: e.g. the Brown, Reuters and Gutenberg text
of ../shared/data/text), the export also holds `context_lm.bin`, a word trigram
`NgramTable` of that text's training side (`keras_nlpkit.text.context_sentences`
holds 2% of the sentences out for the dev set), which sentence correction reads
(`SpellingCorrector.correct_sentence`). Without it the export is as before. Adding
it to a finished run needs no training: `export_model(DIR, config=...)` with
`context_corpus` set re-exports.

DIR receives `recipe.json`, `model.keras`, `lexicon.tsv`, `heldout.tsv` (held-out
pairs, used for tuning), `metrics.json`, `logs/` (TensorBoard), `backup/` (rerun the
same command to resume) and `export/` (TFLite, lexicon, known words, channel, manifest).
"""

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.export import export
from keras_nlpkit.files import atomic_write_bytes
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import check_input_file
from keras_nlpkit.files import read_lines
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import SpellingModel
from keras_nlpkit.models.spelling.spelling_dataset import END_ID
from keras_nlpkit.models.spelling.spelling_dataset import PAD_ID
from keras_nlpkit.models.spelling.spelling_dataset import START_ID
from keras_nlpkit.models.spelling.spelling_dataset import VOCABULARY
from keras_nlpkit.models.spelling.spelling_dataset import make_arrays
from keras_nlpkit.models.spelling.spelling_dataset import spelling_dataset
from keras_nlpkit.models.spelling.spelling_dataset import split_pairs
from keras_nlpkit.ondevice.channel_model import CHANNEL_FILE
from keras_nlpkit.ondevice.channel_model import ChannelModel
from keras_nlpkit.ondevice.character_tokenizer import CharacterTokenizer
from keras_nlpkit.ondevice.confusion_sets import CONFUSION_SETS
from keras_nlpkit.ondevice.confusion_sets import MANIFEST_KEY as CONFUSION_SETS_KEY
from keras_nlpkit.ondevice.corrector_settings import CorrectorSettings
from keras_nlpkit.ondevice.lexicon import KNOWN_WORDS_FILE
from keras_nlpkit.ondevice.lexicon import LEXICON_FILE
from keras_nlpkit.ondevice.lexicon import parse_lexicon
from keras_nlpkit.ondevice.ngram_table import ngram_table_bytes
from keras_nlpkit.ondevice.sentence_corrector import CONTEXT_LM_FILE
from keras_nlpkit.ondevice.sentence_corrector import DEFAULTS as CONTEXT_DEFAULTS
from keras_nlpkit.ondevice.spelling_corrector import KIND
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.context_sentences import context_lm_counts
from keras_nlpkit.text.context_sentences import corpus_files
from keras_nlpkit.text.context_sentences import is_heldout
from keras_nlpkit.text.context_sentences import read_sentences
from keras_nlpkit.text.lexicon import lexicon_file_bytes
from keras_nlpkit.text.misspellings import LETTERS
from keras_nlpkit.text.misspellings import build_lexicon
from keras_nlpkit.text.misspellings import is_word
from keras_nlpkit.text.misspellings import read_codespell
from keras_nlpkit.text.misspellings import read_frequencies
from keras_nlpkit.text.misspellings import read_pairs
from keras_nlpkit.text.synthetic_misspellings import synthetic_pairs

# Full-integer int8 converts (builtins only) but its `encode`/`serving_default` fail in
# XNNPACK ("failed to create XNNPACK runtime") under the default interpreter, so the
# on-device default is dynamic-range int8 (int8 weights, float activations).
EXPORT_VARIANTS = ("float32", "dynamic_int8")


@dataclasses.dataclass
class SpellingConfig(RecipeConfig):
    # Model. The decode step runs once per character for every beam on the phone,
    # so the decoder stays small (~0.1M multiply-adds per beam and character).
    embedding_dim: int = 24
    encoder_units: int = 96  # per direction
    decoder_units: int = 160
    summary_dim: int = 48
    # Data.
    lexicon_size: int = 50_000  # top symspell words (+ codespell corrections)
    # More symspell words the corrector accepts as correctly spelled when typed, and
    # suggests only when no lexicon word is within distance 2 (rare words make poor
    # guesses: they cost 0.8 points of held-out accuracy as ordinary candidates).
    known_words: int = 100_000  # of the frequency list, lexicon included (0: none)
    synthetic_pairs: int = 200_000
    identity_fraction: float = 0.15  # of the synthetic pairs: word → itself
    max_word_length: int = 20
    # The evaluation file whose misspellings must not be trained on ("": none, loudly).
    exclude_pairs: str = ""
    validation_fraction: float = 0.02
    # Sentence correction: real text for the word trigram LM (`context_lm.bin`), as
    # comma-separated files or folders (their *.txt); "": no LM, words only.
    context_corpus: str = ""
    # Words, bigrams and trigrams seen fewer times are dropped (words become <unk>):
    # 2 keeps the file near 6 MB for the 4.6M words of books + news.
    context_min_count: int = 2
    # Training.
    batch_size: int = 128
    steps_per_epoch: int = 100  # an "epoch" is a checkpoint interval
    epochs: int = 24  # 2,400 steps: ~5 min at one thread (the measured run)
    learning_rate: float = 3e-3
    seed: int = 1337

    # The LM is built at export: a finished run may add or change it.
    resumable: ClassVar[tuple] = ("epochs", "context_corpus", "context_min_count")
    ranges = {
        "known_words": "[0, inf)",
        "context_min_count": "[1, inf)",
        "identity_fraction": "[0, 1)",
        "validation_fraction": "(0, 1)",
        "max_word_length": "[2, 64]",
    }

    @classmethod
    def small(cls):
        """A demo that trains in a few minutes on 2 cores (accuracy well below default)."""
        return cls(
            encoder_units=64,
            decoder_units=96,
            summary_dim=32,
            embedding_dim=24,
            synthetic_pairs=40_000,
            steps_per_epoch=100,
            epochs=4,
            lexicon_size=30_000,
        )


PRESETS = {"default": SpellingConfig, "small": SpellingConfig.small}


def add_arguments(parser):
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    parser.add_argument(
        "--pairs",
        nargs="+",
        default=None,
        help="extra pairs: `right: wrong wrong` or `wrong<TAB>right` lines",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    add_config_arguments(parser, SpellingConfig, overrides_only=True)


def run(args):
    config = config_from_arguments(SpellingConfig, args, base=PRESETS[args.preset]())
    training.print_metrics(train(args.out, config, pair_files=args.pairs), indent=2)


# --- data ----------------------------------------------------------------------------------
def excluded_misspellings(config):
    """The misspellings of `config.exclude_pairs` (lower-cased), and the file's name."""
    if not config.exclude_pairs:
        return set(), None
    path = check_input_file(config.exclude_pairs, "--exclude-pairs")
    return {wrong.lower() for wrong, _ in read_pairs(path, "--exclude-pairs")}, str(path)


def training_pairs(config, pair_files=None, log=print):
    """All (wrong, right) pairs, the lexicon and a dict of counts describing the data."""
    frequencies = read_frequencies()
    codespell = [(w.lower(), r.lower()) for w, r in read_codespell()]
    codespell = [
        (w, r)
        for w, r in codespell
        if w != r and is_word(w, config.max_word_length) and is_word(r, config.max_word_length)
    ]
    lexicon = build_lexicon(frequencies, config.lexicon_size, [r for _, r in codespell])
    user = []
    for path in pair_files or ():
        user += [(w.lower(), r.lower()) for w, r in read_pairs(path)]
    user = [
        (w, r)
        for w, r in user
        if is_word(w, config.max_word_length) and is_word(r, config.max_word_length)
    ]
    synthetic = synthetic_pairs(
        lexicon,
        config.synthetic_pairs,
        config.identity_fraction,
        config.seed,
        config.max_word_length,
    )
    excluded, exclude_path = excluded_misspellings(config)
    if exclude_path is None:
        print(
            "nlpkit: warning: no --exclude-pairs: no evaluation misspellings are excluded "
            "from training (a model evaluated on pairs it trained on measures memory)",
            file=sys.stderr,
        )
    kept, dropped = [], {"codespell": 0, "synthetic": 0, "user": 0}
    for name, pairs in (("codespell", codespell), ("synthetic", synthetic), ("user", user)):
        for wrong, right in pairs:
            if wrong in excluded and wrong != right:
                dropped[name] += 1
            else:
                kept.append((wrong, right))
    # Codespell's corrections are in the lexicon; user pairs may add words too.
    for _, right in user:
        lexicon.setdefault(right, min(lexicon.values()))
    info = {
        "codespell_pairs": len(codespell),
        "synthetic_pairs": len(synthetic),
        "user_pairs": len(user),
        "excluded_file": exclude_path,
        "excluded_misspellings": len(excluded),
        "excluded_pairs": dropped,
        "lexicon_words": len(lexicon),
    }
    counted = (
        f"Pairs: {len(codespell)} codespell, {len(synthetic)} synthetic, {len(user)} from --pairs"
    )
    if exclude_path:
        counted += f"; dropped {sum(dropped.values())} whose misspelling is in {exclude_path}"
    log(counted)
    return kept, lexicon, info


# --- the model -----------------------------------------------------------------------------
def build_model(config):
    """A compiled, built `SpellingModel`."""
    model = SpellingModel(
        vocabulary_size=len(VOCABULARY),
        embedding_dim=config.embedding_dim,
        encoder_units=config.encoder_units,
        decoder_units=config.decoder_units,
        summary_dim=config.summary_dim,
        max_length=config.max_word_length,
        pad_id=PAD_ID,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    # Build with a tiny batch so that summary() and saving work before fit.
    model(
        {
            "chars": np.full((1, 3), 5, np.int32),
            "decoder_inputs": np.full((1, 3), START_ID, np.int32),
        }
    )
    return model


# --- training ------------------------------------------------------------------------------
def train(out_dir, config=None, pair_files=None, log=print, verbose=2):
    """Trains, saves and exports a spelling model into `out_dir`; returns the metrics."""
    config = (config or SpellingConfig()).check()
    plan = distribution.current()
    # The stream's batch size is not in its graph (a generator): `training.fit` cannot check it.
    plan.check_batch_size(config.batch_size)
    for path in pair_files or ():
        read_pairs(path)  # fail early, before any work
    excluded_misspellings(config)
    if config.context_corpus:
        corpus_files(config.context_corpus)  # fail early, before any work
    inputs = [p for p in (config.exclude_pairs, *(pair_files or ())) if p]
    out_dir = training.start_run(out_dir, KIND, config, inputs=inputs)
    keras.utils.set_random_seed(config.seed)
    pairs, lexicon, info = training_pairs(config, pair_files, log)
    train_pairs, heldout = split_pairs(pairs, config.validation_fraction, config.seed)
    info.update(train_pairs=len(train_pairs), heldout_pairs=len(heldout))
    atomic_write_bytes(out_dir / LEXICON_FILE, lexicon_file_bytes(lexicon))
    atomic_write_text(out_dir / "heldout.tsv", "".join(f"{w}\t{r}\n" for w, r in heldout))

    train_data, _ = spelling_dataset(
        train_pairs, config.batch_size, config.max_word_length, shuffle=True, seed=config.seed
    )
    validation_data, validation_steps = spelling_dataset(
        heldout, config.batch_size, config.max_word_length, shuffle=False, seed=0
    )
    if keras.backend.backend() == "jax" and len(heldout) % config.batch_size % plan.replicas:
        validation_steps -= 1  # the last batch does not split: `training.fit` skips it
    with plan.scope():
        model = build_model(config)
        log(
            f"Training {model.count_params():,} parameters on {len(train_pairs):,} pairs "
            f"({config.epochs} x {config.steps_per_epoch} steps of {config.batch_size})"
        )
        fitted = training.fit(
            model,
            train_data,
            out_dir,
            epochs=config.epochs,
            verbose=verbose,
            learning_rate=config.learning_rate,
            steps_per_epoch=config.steps_per_epoch,
            validation_data=validation_data,
            validation_steps=validation_steps,
        )
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    save_model_atomically(model, out_dir / "model.keras")
    metrics = {
        "train_seconds": round(fitted.seconds, 1),
        "parameters": int(model.count_params()),
        "final_loss": fitted.last("loss"),
        "validation_loss": fitted.last("val_loss"),
        "validation_char_accuracy": fitted.last("val_accuracy"),
        "data": info,
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    if not training.exports_here(log, training.RERUN_TO_EXPORT):
        return metrics
    export_model(out_dir, model=model, config=config, log=log)
    training.finish(out_dir)
    return metrics


# --- export --------------------------------------------------------------------------------
def representative_npz(path, pairs, max_length):
    chars, decoder_inputs, _ = make_arrays(pairs, max_length)
    np.savez(path, chars=chars, decoder_inputs=decoder_inputs)


def channel_pairs(out_dir, config):
    """The real misspellings the channel model is counted on: codespell's pairs, less
    those whose misspelling is in an evaluation file or held out (`heldout.tsv`, for
    tuning the reranker), so that neither is measured on what it was counted on."""
    excluded, _ = excluded_misspellings(config)
    heldout = Path(out_dir) / "heldout.tsv"
    if heldout.is_file():
        excluded |= {
            line.split("\t")[0] for line in heldout.read_text(encoding="utf-8").splitlines() if line
        }
    pairs = []
    for wrong, right in read_codespell():
        wrong, right = wrong.lower(), right.lower()
        if (
            wrong != right
            and wrong not in excluded
            and is_word(wrong, config.max_word_length)
            and is_word(right, config.max_word_length)
        ):
            pairs.append((wrong, right))
    return pairs


def context_lm(config, log=print):
    """`(context_lm.bin bytes, context settings)` from `config.context_corpus`'s
    training side (its held-out sentences are the context dev set's)."""
    files = corpus_files(config.context_corpus)
    sentences = [
        words for _, words in read_sentences(files, "--context-corpus") if not is_heldout(words)
    ]
    if not sentences:
        raise UserInputError(
            f"--context-corpus: no sentences found. Received: {config.context_corpus}"
        )
    word_counts, ngram_counts, folded = context_lm_counts(sentences, config.context_min_count)
    data = ngram_table_bytes(word_counts, ngram_counts)
    bigrams = sum(len(g) == 2 for g in ngram_counts)
    log(
        f"Context LM: {len(sentences):,} sentences, {sum(map(len, sentences)):,} words of "
        f"{len(files)} files; {len(word_counts):,} words, {bigrams:,} bigrams, "
        f"{len(ngram_counts) - bigrams:,} trigrams seen ≥ {config.context_min_count} times: "
        f"{len(data):,} bytes"
    )
    # A word outside the LM's lexicon shares <unk>'s mass with the `folded` others.
    settings = {**CONTEXT_DEFAULTS, "oov_penalty": round(math.log(max(folded, 1)), 3)}
    # The runtimes read the sets from here: the TypeScript one keeps no copy.
    settings[CONFUSION_SETS_KEY] = [list(members) for members in CONFUSION_SETS]
    return data, settings


def known_words(lexicon, config):
    """The `known_words` most frequent symspell words that are not in the lexicon."""
    return {
        word: count
        for word, count in list(read_frequencies().items())[: config.known_words]
        if is_word(word, config.max_word_length) and word not in lexicon
    }


def export_model(out_dir, model=None, config=None, log=print, quantize=EXPORT_VARIANTS):
    """Exports the model of the training folder `out_dir` to `out_dir/export`, with the
    lexicon, known words, channel model and decoding settings the corrector reads;
    int8 is calibrated on held-out pairs."""
    out_dir = Path(out_dir)
    config = config or SpellingConfig(**training.read_run(out_dir, KIND, "--out")["config"])
    if model is None:
        model = keras.saving.load_model(out_dir / "model.keras", compile=False)
    heldout = [tuple(line.split("\t")) for line in read_lines(out_dir / "heldout.tsv") if line]
    samples = out_dir / "representative.npz"
    # One length for all rows of the .npz: the longest held-out word; the signatures
    # see the padding, but calibration_records strips it for encode/decode_step.
    representative_npz(samples, heldout[:300], config.max_word_length)
    lexicon_bytes = (out_dir / LEXICON_FILE).read_bytes()
    lexicon = parse_lexicon(lexicon_bytes, str(out_dir / LEXICON_FILE))
    channel = ChannelModel.from_pairs(channel_pairs(out_dir, config), LETTERS)
    known = known_words(lexicon, config)
    log(
        f"Channel model: {channel.pairs:,} real misspellings; {len(known):,} known words "
        "besides the lexicon"
    )
    side_files = {
        LEXICON_FILE: lexicon_bytes,
        CHANNEL_FILE: json.dumps(channel.to_json()).encode("utf-8"),
    }
    if known:
        side_files[KNOWN_WORDS_FILE] = lexicon_file_bytes(known)
    context = None
    if config.context_corpus:
        side_files[CONTEXT_LM_FILE], context = context_lm(config, log)
    settings = {
        "pad_id": PAD_ID,
        "start_id": START_ID,
        "end_id": END_ID,
        "max_word_length": config.max_word_length,
        "decoding": dataclasses.asdict(CorrectorSettings()),
    }
    if context is not None:
        settings["context"] = context
    return export(
        model,
        out_dir / "export",
        quantize=quantize,
        representative_data=samples,
        tokenizer=CharacterTokenizer(VOCABULARY),
        log=log,
        kind=KIND,
        settings=settings,
        side_files=side_files,
    )

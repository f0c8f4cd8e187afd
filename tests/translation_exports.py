"""Tiny translators with random weights and their exports, shared by the export and
on-device tests (built once a process: `functools.cache`)."""

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np

from keras_nlpkit.export.translation import export_translation
from keras_nlpkit.models.translation import RNNTranslator
from keras_nlpkit.models.translation import TransformerTranslator
from keras_nlpkit.tokenizers.sentence_piece_model import learn_sentence_piece_model

SOURCE_LENGTH, TARGET_LENGTH, NUM_BEAMS = 10, 9, 3
SOURCE_VOCABULARY, TARGET_VOCABULARY = 40, 48
ENGLISH = "a man dog woman runs walks in the park street red blue big small child plays ball"
GERMAN = "ein mann hund frau läuft geht im park straße rot blau groß klein kind spielt ball"
SENTENCES = [
    "a man runs in the park",
    "the small child plays ball",
    "a red dog walks",
    "woman",
    "big blue ball in the street in the park with a small red dog and a child",
    "",
]
SETTINGS = {
    "source_language": "en",
    "target_language": "de",
    "pad_id": 0,
    "unk_id": 1,
    "bos_id": 2,
    "eos_id": 3,
    "source_length": SOURCE_LENGTH,
    "target_length": TARGET_LENGTH,
}


@functools.cache
def scratch():
    path = Path(tempfile.mkdtemp(prefix="nlpkit-translation-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def sentence_piece_models():
    """`(source.spm bytes, target.spm bytes)`, learnt on random word strings."""
    rng = np.random.default_rng(0)
    texts = [
        [" ".join(rng.choice(words.split(), rng.integers(2, 9))) for _ in range(400)]
        for words in (ENGLISH, GERMAN)
    ]
    return (
        learn_sentence_piece_model(texts[0], SOURCE_VOCABULARY),
        learn_sentence_piece_model(texts[1], TARGET_VOCABULARY),
    )


def tiny_model(architecture):
    keras.utils.set_random_seed(7)
    if architecture == "transformer":
        return TransformerTranslator(
            SOURCE_VOCABULARY,
            TARGET_VOCABULARY,
            max_source_length=SOURCE_LENGTH,
            max_target_length=TARGET_LENGTH,
            hidden_dim=32,
            num_encoder_layers=1,
            num_decoder_layers=2,
            num_heads=2,
            intermediate_dim=64,
            dropout=0.0,
        )
    return RNNTranslator(
        SOURCE_VOCABULARY, TARGET_VOCABULARY, embedding_dim=32, hidden_dim=32, dropout=0.0
    )


@functools.cache
def exported(architecture, variants=("float32",)):
    """`(model, export folder, report)`: a tiny translator with random weights, exported."""
    model = tiny_model(architecture)
    source_spm, target_spm = sentence_piece_models()
    out = scratch() / f"{architecture}-{'-'.join(variants)}"
    report = export_translation(
        model,
        out,
        {**SETTINGS, "architecture": architecture},
        source_spm,
        target_spm,
        num_beams=NUM_BEAMS,
        quantize=list(variants),
        log=lambda *_: None,
    )
    return model, out, report

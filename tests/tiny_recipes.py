"""Tiny configurations of the recipes, trained in seconds on text made here."""

import dataclasses
import hashlib
import json
import shutil

from keras_nlpkit.recipes import query_completion
from keras_nlpkit.recipes import spelling

TINY_QUERY_COMPLETION = query_completion.QueryCompletionConfig(
    vocabulary_size=40,
    embedding_dim=8,
    units=16,
    projection_dim=8,
    dropout=0.0,
    batch_size=32,
    epochs=6,
    learning_rate=1e-2,
    dev_fraction=0.1,
)


def tiny_spelling_config(**overrides):
    config = spelling.SpellingConfig(
        embedding_dim=8,
        encoder_units=16,
        decoder_units=24,
        summary_dim=8,
        lexicon_size=2000,
        synthetic_pairs=2000,
        steps_per_epoch=15,
        epochs=1,
        batch_size=64,
        max_word_length=12,
        known_words=6000,
    )
    return dataclasses.replace(config, **overrides)


def tiny_context_config(root, sentences):
    """The tiny spelling config with `sentences` as its context corpus (`root/corpus.txt`)."""
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(sentences) + "\n")
    return tiny_spelling_config(context_corpus=str(corpus))


def with_context_lm(spelling_run, root, sentences):
    """A copy (`root/run`) of the tiny spelling run whose export holds the context LM the
    recipe builds of `sentences`, added as `export_model` adds it: no training, and no
    TFLite conversion (the large test's)."""
    data, settings = spelling.context_lm(tiny_context_config(root, sentences), log=lambda *a: None)
    out = root / "run"
    shutil.copytree(spelling_run, out)
    manifest_path = out / "export" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    (out / "export" / "context_lm.bin").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    manifest["files"]["context_lm.bin"] = {"bytes": len(data), "sha256": digest}
    manifest["settings"]["context"] = settings
    manifest_path.write_text(json.dumps(manifest))
    return out

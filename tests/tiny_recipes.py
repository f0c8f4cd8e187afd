"""Tiny configurations of the recipes, trained in seconds on text made here."""

import dataclasses

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

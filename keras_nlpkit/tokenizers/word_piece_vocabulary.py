"""`learn_word_piece_vocabulary`: one call of keras-hub's WordPiece learner for every recipe."""

import keras_hub
import tensorflow as tf


def learn_word_piece_vocabulary(
    texts, vocabulary_size, reserved_tokens, lowercase=False, split=True, batch_size=1024
):
    """A WordPiece vocabulary (reserved tokens first) learnt from `texts`.

    Args:
        texts: strings: lines of text, or single words with `split=False`.
        vocabulary_size: positive int, the most tokens kept (reserved included).
        reserved_tokens: the special tokens, in id order.
        lowercase: lower-case and strip accents first (BERT's uncased models).
        split: split the texts into words on whitespace and punctuation first.
        batch_size: strings per batch of the `tf.data` stream the learner reads.

    Returns:
        The vocabulary, a list of tokens.
    """
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError(
            "`texts` holds no non-empty string to learn a vocabulary from. Received: texts=[]"
        )
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(texts).batch(batch_size),
        vocabulary_size,
        lowercase=lowercase,
        strip_accents=lowercase,
        split=split,
        reserved_tokens=reserved_tokens,
    )

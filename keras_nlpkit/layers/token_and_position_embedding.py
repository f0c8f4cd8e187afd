import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.layers.initializers import clone_initializer
from keras_nlpkit.layers.position_embedding import PositionEmbedding


@nlpkit_export("keras_nlpkit.layers.TokenAndPositionEmbedding")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token + learned position (+ optional segment) embeddings, summed.

    Without `num_segments` it is keras-hub's `TokenAndPositionEmbedding`: the same
    arguments, weights and call arguments (`start_index` for cached decoding,
    `positions`), and a `keras.layers.ReversibleEmbedding` as `token_embedding`, so
    `token_embedding(h, reverse=True)` (or `logits(h)`) is the output projection
    tied to the token embedding (GPT's `h Eᵀ`; with `tie_weights=False` a separate
    one). What it adds: with `num_segments`, BERT's input embedding, token +
    segment + position, which keras-hub builds from three layers.

    Args:
        vocabulary_size: positive int.
        sequence_length: positive int, the maximum length.
        embedding_dim: positive int.
        num_segments: optional positive int, e.g. 2 for BERT sentence pairs.
        tie_weights: the output projection is the token embedding transposed;
            `False` learns a separate one.
        embeddings_initializer: initializer of all three tables.
        mask_zero: token id 0 is padding; the output carries a Keras mask.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        token_ids: int `(batch, seq)`.
        segment_ids: int `(batch, seq)`, required when `num_segments` is set.
        start_index: position of the first token (cached decoding).
        positions: optional int `(seq,)` or `(batch, seq)`, each token's position.

    Returns:
        `(batch, seq, embedding_dim)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    embed = keras_nlpkit.layers.TokenAndPositionEmbedding(
        vocabulary_size=100, sequence_length=16, embedding_dim=8, num_segments=2
    )
    token_ids = np.array([[2, 15, 7, 3, 0]])
    segment_ids = np.array([[0, 0, 1, 1, 0]])
    x = embed(token_ids, segment_ids)      # (1, 5, 8)
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        num_segments=None,
        tie_weights=True,
        embeddings_initializer="uniform",
        mask_zero=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("sequence_length", sequence_length)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("num_segments", num_segments, allow_none=True)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.num_segments = num_segments
        self.tie_weights = tie_weights
        self.mask_zero = mask_zero
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.supports_masking = mask_zero

    def build(self, token_ids_shape, segment_ids_shape=None):
        self.token_embedding = keras.layers.ReversibleEmbedding(
            self.vocabulary_size,
            self.embedding_dim,
            tie_weights=self.tie_weights,
            embeddings_initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.token_embedding.build(token_ids_shape)
        self.segment_embedding = None
        if self.num_segments:
            self.segment_embedding = keras.layers.Embedding(
                self.num_segments,
                self.embedding_dim,
                embeddings_initializer=clone_initializer(self.embeddings_initializer),
                dtype=self.dtype_policy,
                name="segment_embedding",
            )
            self.segment_embedding.build(token_ids_shape)
        self.position_embedding = PositionEmbedding(
            self.sequence_length,
            initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.position_embedding.build((*token_ids_shape, self.embedding_dim))

    def call(self, token_ids, segment_ids=None, start_index=0, positions=None):
        if (segment_ids is None) != (self.segment_embedding is None):
            raise ValueError(
                "`segment_ids` are required exactly when `num_segments` is set. "
                f"Received: num_segments={self.num_segments}, segment_ids="
                f"{'None' if segment_ids is None else 'a tensor'}"
            )
        x = self.token_embedding(token_ids)  # (batch, seq, dim)
        if segment_ids is not None:
            x = x + self.segment_embedding(segment_ids)
        return x + self.position_embedding(x, start_index=start_index, positions=positions)

    def logits(self, hidden):
        """`hidden @ Eᵀ`: scores over the vocabulary (`token_embedding(h, reverse=True)`)."""
        return self.token_embedding(hidden, reverse=True)

    def compute_mask(self, token_ids, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(token_ids, 0)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return (*token_ids_shape, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "num_segments": self.num_segments,
                "tie_weights": self.tie_weights,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            }
        )
        return config

"""`FeedForwardLM`: Bengio et al.'s feed-forward neural language model over n − 1 words."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_ids_in_range
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.checks import concrete_value
from keras_nlpkit.export.signatures import Signature

# The id that fills a context before the text starts (`windows`, and the zero state of
# the exported `step`): a vocabulary reserves it for padding / the start of the text.
START_ID = 0


@nlpkit_export("keras_nlpkit.models.FeedForwardLM")
class FeedForwardLM(keras.Model):
    """Bengio et al.'s feed-forward language model: the next word from the n − 1 before it.

    The embeddings of the previous n − 1 words are concatenated into
    x = (C(w_{t−n+1}), …, C(w_{t−1})) and the logits are

        y = b + W x + U tanh(d + H x)

    where `hidden` holds H and d, `output` holds U and b, and `direct` holds W,
    the optional direct input → output connections (`direct_connections=True`;
    without them, y = b + U tanh(d + H x)). With `context_size=1` the output
    depends on the previous word only: the form of a bigram model.

    Id 0 is the start of the text: `windows` left-pads a sequence with it, and the
    exported `step` starts from a context of zeros, so a vocabulary reserves id 0
    for padding / the start (feeding token 0 to a fresh state gives the
    distribution of the first word).

    Args:
        vocabulary_size: number of word ids (the embedding rows and the logits).
        context_size: n − 1, the number of previous words read (≥ 1).
        embedding_dim: size of each word's embedding (C's columns).
        hidden_dim: units of the tanh hidden layer.
        direct_connections: add W x, the direct connections from the
            concatenated embeddings to the logits.
        dropout: dropout rate on the hidden layer's output, in training.
        **kwargs: `keras.Model` arguments (`name`, `dtype`, ...).

    Call arguments:
        context: `(batch, context_size)` int ids, oldest first; the last column is
            the word just before the one predicted.
        training: whether dropout is applied.

    Returns:
        logits `(batch, vocabulary_size)` for the next word.

    Example:
    ```python
    import keras
    import numpy as np
    from keras_nlpkit.models import FeedForwardLM

    ids = np.array([1, 2, 3, 4, 5] * 20)
    contexts, targets = FeedForwardLM.windows(ids, context_size=4)  # (100, 4), (100,)
    lm = FeedForwardLM(vocabulary_size=6, context_size=4, embedding_dim=8,
                       hidden_dim=16, direct_connections=True)
    lm.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    lm.fit(contexts, targets, epochs=2, verbose=0)
    logits = lm(np.array([[2, 3, 4, 5]]))                        # (1, 6)
    ```

    References:
        - [Bengio et al., 2003](https://www.jmlr.org/papers/v3/bengio03a.html)
    """

    def __init__(
        self,
        vocabulary_size,
        context_size,
        embedding_dim=64,
        hidden_dim=128,
        direct_connections=False,
        dropout=0.0,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("context_size", context_size)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("hidden_dim", hidden_dim)
        check_rate("dropout", dropout)
        if not isinstance(direct_connections, bool):
            raise ValueError(
                "`direct_connections` must be True or False. "
                f"Received: direct_connections={direct_connections!r}"
            )
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.context_size = context_size
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.direct_connections = direct_connections
        self.dropout = dropout

        # === Layers (Bengio's names in the comments) ===
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(  # C
            vocabulary_size, embedding_dim, dtype=policy, name="embedding"
        )
        self.hidden = keras.layers.Dense(  # H, d
            hidden_dim, activation="tanh", dtype=policy, name="hidden"
        )
        self.hidden_dropout = keras.layers.Dropout(dropout, dtype=policy, name="hidden_dropout")
        self.output_projection = keras.layers.Dense(  # U, b
            vocabulary_size, dtype=policy, name="output"
        )
        self.direct = None
        if direct_connections:  # W
            self.direct = keras.layers.Dense(
                vocabulary_size, use_bias=False, dtype=policy, name="direct"
            )

        # === Weights: the input shape is known, so they exist from the start ===
        self.build((None, context_size))

    def build(self, input_shape=None):
        width = self.context_size * self.embedding_dim
        shapes = [
            (self.embedding, (None, self.context_size)),
            (self.hidden, (None, width)),
            (self.output_projection, (None, self.hidden_dim)),
            (self.direct, (None, width)),
        ]
        for layer, shape in shapes:
            if layer is not None and not layer.built:  # (load_model builds again)
                layer.build(shape)
        self.built = True

    def call(self, context, training=False):
        _check_context(context, self.context_size, self.vocabulary_size)
        x = self.embedding(context)  # (batch, n − 1, embedding_dim)
        x = ops.reshape(x, (-1, self.context_size * self.embedding_dim))  # (batch, width)
        h = self.hidden_dropout(self.hidden(x), training=training)  # (batch, hidden_dim)
        logits = self.output_projection(h)  # (batch, vocab)
        if self.direct is not None:
            logits = logits + self.direct(x)
        return logits

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.vocabulary_size)

    @staticmethod
    def windows(ids, context_size):
        """`(contexts (len, context_size), targets (len,))` int32 for training with `fit`.

        Every id of the 1-D sequence `ids` is a target, read after the
        `context_size` ids before it; the sequence is left-padded with id 0 (the
        start), so the first target's context is all zeros. Row i is what the
        exported `step` holds after streaming `ids[:i]` from its zero state.
        """
        check_positive_int("context_size", context_size)
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(
                f"`ids` must be a 1-D sequence of integer ids. Received: shape {ids.shape}, "
                f"dtype {ids.dtype}"
            )
        padded = np.concatenate([np.full(context_size, START_ID), ids]).astype(np.int32)
        contexts = np.lib.stride_tricks.sliding_window_view(padded, context_size)[: len(ids)]
        return np.ascontiguousarray(contexts), padded[context_size:].copy()

    # --- export ------------------------------------------------------------------
    def export_signatures(self):
        """`serving_default` and `step` for `keras_nlpkit.export`, at batch 1.

        - `serving_default`: context (1, context_size) int32 → logits (1, vocab);
        - `step`: token (1,) int32 and the state context (1, context_size) int32
          → logits (1, vocab) for the word after `token`, and context, the window
          shifted left by one with `token` appended. The host starts from a context
          of zeros (id 0, the start) and carries it as it carries an LSTM's state.
        """

        def serve(context):
            return {"logits": self(context, training=False)}

        def step(token, context):
            token = ops.expand_dims(token, 1)  # (1, 1)
            if self.context_size > 1:  # (no empty slice when n − 1 = 1)
                context = ops.concatenate([context[:, 1:], token], axis=1)
            else:
                context = token
            return {"logits": self(context, training=False), "context": context}

        context_spec = tf.TensorSpec((1, self.context_size), tf.int32, name="context")
        return [
            Signature("serving_default", serve, [context_spec]),
            Signature("step", step, [tf.TensorSpec((1,), tf.int32, name="token"), context_spec]),
        ]

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            context_size=self.context_size,
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            direct_connections=self.direct_connections,
            dropout=self.dropout,
        )
        return config


def _check_context(context, context_size, vocabulary_size):
    """Refuses an eager context of the wrong width or with ids outside the vocabulary."""
    if context.shape[-1] is not None and context.shape[-1] != context_size:
        raise ValueError(
            f"`context` must be (batch, {context_size}) (context_size={context_size}). "
            f"Received: context of shape {tuple(context.shape)}"
        )
    value = concrete_value(context)
    if value is not None:
        check_ids_in_range("context", value, vocabulary_size, "vocabulary_size")

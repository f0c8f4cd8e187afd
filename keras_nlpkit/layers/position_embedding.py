import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int


def check_sequence_length(layer, length):
    """Raises when a static input length exceeds `layer.sequence_length`."""
    if isinstance(length, int) and length > layer.sequence_length:
        raise ValueError(
            f"{type(layer).__name__} holds {layer.sequence_length} positions "
            f"(sequence_length={layer.sequence_length}). Received: input length={length}"
        )


@nlpkit_export("keras_nlpkit.layers.PositionEmbedding")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embeddings for up to `sequence_length` positions.

    Returns the embeddings of positions `start_index .. start_index + seq - 1`
    (or of explicit `positions`), broadcast to the input's shape, for the caller
    to add to token embeddings. Shorter inputs use the first rows; `start_index`
    places one cached decoding step at its true position, `positions` serves packed
    or left-padded sequences. keras-hub's `PositionEmbedding`: the same arguments,
    call arguments and weight (`(sequence_length, hidden)`, here `embeddings`);
    the position slice is a plain `slice`, a TFLite builtin even with a dynamic
    start, and explicit positions a `gather`.

    Args:
        sequence_length: positive int, the maximum length.
        initializer: initializer of the embeddings; `"glorot_uniform"`.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(batch, seq, hidden)`, only its shape is used.
        start_index: int or scalar tensor, position of the first input.
        positions: optional int `(seq,)` or `(batch, seq)`, the position of each
            input; replaces `start_index`.

    Returns:
        `(batch, seq, hidden)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    tokens = np.random.rand(2, 7, 16).astype("float32")
    positions = keras_nlpkit.layers.PositionEmbedding(sequence_length=32)(tokens)
    x = tokens + positions
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("sequence_length", sequence_length)
        self.sequence_length = sequence_length
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        check_sequence_length(self, inputs_shape[-2])
        self.embeddings = self.add_weight(
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
            name="embeddings",
        )

    def call(self, inputs, start_index=0, positions=None):
        shape = ops.shape(inputs)
        check_sequence_length(self, shape[-2])
        table = ops.convert_to_tensor(self.embeddings)
        if positions is not None:
            if len(positions.shape) == 1:
                positions = ops.expand_dims(positions, 0)
            embedded = ops.take(table, ops.cast(positions, "int32"), axis=0)  # (b, seq, hidden)
        else:
            embedded = ops.slice(table, (start_index, 0), (shape[-2], shape[-1]))
        return ops.broadcast_to(ops.cast(embedded, self.compute_dtype), shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config

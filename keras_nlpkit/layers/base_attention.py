"""What `AdditiveAttention` and `DotProductAttention` share (not public)."""

import keras
from keras import ops

from keras_nlpkit.checks import check_rate
from keras_nlpkit.layers.masking import masked_softmax
from keras_nlpkit.layers.masking import merge_attention_masks


class BaseAttention(keras.layers.Layer):
    """Single-head attention with the call convention of `keras.layers.Attention`.

    `layer([query, value])` or `layer([query, value, key])`; `mask=[query_mask,
    value_mask]`. A subclass defines `score(query, key) -> (batch, Tq, Tv)`; the
    base turns scores into weights (masked softmax, dropout) and weights into
    the output `weights @ value`, zeroed at masked queries as Keras does.
    """

    def __init__(self, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_rate("dropout", dropout)
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True
        if dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def score(self, query, key):
        raise NotImplementedError

    @staticmethod
    def _unpack(inputs):
        """[query, value(, key)] of tensors or of their shapes."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            count = len(inputs) if isinstance(inputs, (list, tuple)) else "a tensor"
            raise ValueError(
                "Attention takes `inputs` as [query, value] or [query, value, key]. "
                f"Received: inputs of length {count}"
            )
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        return query, value, key

    def build(self, input_shape):
        query_shape, value_shape, key_shape = self._unpack(input_shape)
        self.build_weights(query_shape, key_shape)

    def build_weights(self, query_shape, key_shape):
        pass

    def call(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        query, value, key = self._unpack(inputs)
        query_mask, value_mask = (mask[0], mask[1]) if mask is not None else (None, None)
        scores = self.score(query, key)  # (batch, Tq, Tv)
        attention_mask = merge_attention_masks(
            ops.shape(query)[1],
            ops.shape(key)[1],
            key_padding_mask=value_mask,
            use_causal_mask=use_causal_mask,
        )
        weights = masked_softmax(scores, attention_mask)  # (batch, Tq, Tv)
        if training and self.dropout > 0:
            weights = keras.random.dropout(weights, rate=self.dropout, seed=self.seed_generator)
        output = ops.matmul(weights, value)  # (batch, Tq, value_dim)
        if query_mask is not None:
            output = output * ops.expand_dims(ops.cast(query_mask, output.dtype), -1)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shape):
        query_shape, value_shape, _ = self._unpack(input_shape)
        return (*query_shape[:-1], value_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout, "seed": self.seed})
        return config

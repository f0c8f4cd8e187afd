"""What the encoder and decoder blocks share (not public)."""

import keras

from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.layers.initializers import clone_initializer
from keras_nlpkit.layers.multi_head_attention import MultiHeadAttention


class TransformerBlock(keras.layers.Layer):
    """Arguments, sublayer factories and config of the Transformer blocks.

    Sublayer names follow keras-hub's `TransformerEncoder`/`TransformerDecoder`
    (`self_attention_layer_norm`, `feedforward_intermediate_dense`, ...), and the
    weights are created in the same order.
    """

    def __init__(
        self,
        intermediate_dim,
        num_heads,
        dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        normalize_first=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("intermediate_dim", intermediate_dim)
        check_positive_int("num_heads", num_heads)
        check_rate("dropout", dropout)
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.normalize_first = normalize_first
        self.supports_masking = True

    def _build_self_attention(self, shape):
        hidden_dim = shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"`num_heads` must divide the hidden size {hidden_dim}. "
                f"Received: num_heads={self.num_heads}"
            )
        self.self_attention = self._attention("self_attention", shape, shape)
        self.self_attention_layer_norm = self._layer_norm("self_attention_layer_norm", shape)
        self.self_attention_dropout = self._dropout("self_attention_dropout")

    def _attention(self, name, query_shape, value_shape):
        layer = MultiHeadAttention(
            num_heads=self.num_heads,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )
        layer.build(query_shape, value_shape)
        return layer

    def _layer_norm(self, name, shape):
        layer = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        layer.build(shape)
        return layer

    def _dropout(self, name):
        return keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name=name)

    def _build_feedforward(self, shape, layer_norm_first):
        # keras-hub builds the encoder's FFN norm before its dense layers and the
        # decoder's after them; following each keeps `get_weights()` in its order.
        if layer_norm_first:
            self.feedforward_layer_norm = self._layer_norm("feedforward_layer_norm", shape)
        self.feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_intermediate_dense",
        )
        self.feedforward_intermediate_dense.build(shape)
        self.feedforward_output_dense = keras.layers.Dense(
            shape[-1],
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_output_dense",
        )
        self.feedforward_output_dense.build((*shape[:-1], self.intermediate_dim))
        if not layer_norm_first:
            self.feedforward_layer_norm = self._layer_norm("feedforward_layer_norm", shape)
        self.feedforward_dropout = self._dropout("feedforward_dropout")

    def _residual(self, x, sublayer, layer_norm, dropout, training):
        """`x + sublayer(x)` with post- or pre-norm; `sublayer` returns (y, extra)."""
        residual = x
        if self.normalize_first:
            x = layer_norm(x)
        x, extra = sublayer(x)
        x = dropout(x, training=training) + residual
        if not self.normalize_first:
            x = layer_norm(x)
        return x, extra

    def _feedforward(self, x, training):
        def feedforward(x):
            x = self.feedforward_intermediate_dense(x)
            return self.feedforward_output_dense(x), None

        x, _ = self._residual(
            x,
            feedforward,
            self.feedforward_layer_norm,
            self.feedforward_dropout,
            training,
        )
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "normalize_first": self.normalize_first,
            }
        )
        return config

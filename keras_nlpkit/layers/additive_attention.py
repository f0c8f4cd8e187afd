import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.layers.base_attention import BaseAttention


@nlpkit_export("keras_nlpkit.layers.AdditiveAttention")
class AdditiveAttention(BaseAttention):
    """Bahdanau (additive) attention: score(q, k) = vᵀ tanh(W₁ q + W₂ k).

    What it adds over `keras.layers.AdditiveAttention`: the learned projections
    W₁ and W₂ of the paper (Keras' layer scores `tanh(q + k)` with no projection,
    so query and key must already share a size). Same call convention as
    `keras.layers.Attention`.

    Args:
        units: size of the hidden layer of the scorer; defaults to the key size.
        use_bias: add a bias inside the tanh.
        dropout: dropout rate on the attention weights.
        kernel_initializer: initializer of W₁, W₂ and v.
        seed: seed of the dropout.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `[query, value]` or `[query, value, key]`; query `(batch, Tq, dq)`,
            value `(batch, Tv, dv)`, key `(batch, Tv, dk)` (defaults to value).
        mask: optional `[query_mask, value_mask]`, `(batch, Tq)` and `(batch, Tv)`.
        training: enables dropout.
        return_attention_scores: also return the weights `(batch, Tq, Tv)`.
        use_causal_mask: query `i` attends to positions `<= i` only.

    Returns:
        `(batch, Tq, dv)`, and the attention weights if asked.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    decoder_state = np.random.rand(2, 1, 32).astype("float32")
    encoder_outputs = np.random.rand(2, 9, 64).astype("float32")
    context = keras_nlpkit.layers.AdditiveAttention(units=48)(
        [decoder_state, encoder_outputs]
    )  # (2, 1, 64)
    ```

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473)
    """

    def __init__(
        self,
        units=None,
        use_bias=True,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        seed=None,
        **kwargs,
    ):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        check_positive_int("units", units, allow_none=True)
        self.units = units
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build_weights(self, query_shape, key_shape):
        units = self.units or key_shape[-1]
        self.query_kernel = self.add_weight(
            shape=(query_shape[-1], units),
            initializer=self.kernel_initializer,
            name="query_kernel",
        )
        self.key_kernel = self.add_weight(
            shape=(key_shape[-1], units),
            initializer=self.kernel_initializer,
            name="key_kernel",
        )
        self.bias = (
            self.add_weight(shape=(units,), initializer="zeros", name="bias")
            if self.use_bias
            else None
        )
        self.score_vector = self.add_weight(
            shape=(units,), initializer=self.kernel_initializer, name="score_vector"
        )

    def score(self, query, key):
        query = ops.matmul(query, self.query_kernel)  # (batch, Tq, units)
        key = ops.matmul(key, self.key_kernel)  # (batch, Tv, units)
        hidden = ops.expand_dims(query, 2) + ops.expand_dims(key, 1)
        if self.bias is not None:
            hidden = hidden + self.bias
        # (batch, Tq, Tv, units) -> (batch, Tq, Tv)
        return ops.sum(ops.tanh(hidden) * self.score_vector, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.layers.masking import attend


@nlpkit_export("keras_nlpkit.layers.AdditiveAttention")
class AdditiveAttention(keras.layers.AdditiveAttention):
    """Bahdanau (additive) attention: score(q, k) = vᵀ tanh(W₁ q + W₂ k + b).

    A subclass of `keras.layers.AdditiveAttention`, with its call convention,
    errors and `use_scale` (the learned vector v; without it the tanh is summed).
    The deliberate difference: the learned projections W₁, W₂ and bias b of the
    paper. Keras' layer scores `tanh(q + k)` with no projection, so query and key
    must already share a size; here they may differ. Keras' scores are reached
    with W₁ = W₂ = I and b = 0 (`tests/layers/test_attention.py` shows it).
    Masked positions get zero weight (a row with no visible key: uniform), as in
    `DotProductAttention`.

    Args:
        units: size of the hidden layer of the scorer; defaults to the key size.
        use_bias: add the bias b inside the tanh.
        use_scale: learn v (Keras' `scale`); otherwise v is all ones.
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
        use_scale=True,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        seed=None,
        **kwargs,
    ):
        check_positive_int("units", units, allow_none=True)
        check_rate("dropout", dropout)
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)
        self.units = units
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        query_shape, key_shape = input_shape[0], input_shape[-1]
        units = self.units or key_shape[-1]
        self.query_kernel = self.add_weight(
            shape=(query_shape[-1], units), initializer=self.kernel_initializer, name="query_kernel"
        )
        self.key_kernel = self.add_weight(
            shape=(key_shape[-1], units), initializer=self.kernel_initializer, name="key_kernel"
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(units,), initializer="zeros", name="bias")
        self.scale = None  # Keras' name for v
        if self.use_scale:
            self.scale = self.add_weight(
                shape=(units,), initializer=self.kernel_initializer, name="score_vector"
            )

    def _calculate_scores(self, query, key):
        query = ops.matmul(query, self.query_kernel)  # (batch, Tq, units)
        key = ops.matmul(key, self.key_kernel)  # (batch, Tv, units)
        hidden = ops.expand_dims(query, 2) + ops.expand_dims(key, 1)
        if self.bias is not None:
            hidden = hidden + self.bias
        hidden = ops.tanh(hidden)  # (batch, Tq, Tv, units)
        if self.scale is not None:
            hidden = hidden * self.scale
        return ops.sum(hidden, axis=-1)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        return attend(self, scores, value, scores_mask, training)

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

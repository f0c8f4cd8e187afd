import math

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_rate
from keras_nlpkit.layers.masking import attend


@nlpkit_export("keras_nlpkit.layers.DotProductAttention")
class DotProductAttention(keras.layers.Attention):
    """`keras.layers.Attention` with Luong's "general" score and the 1/√d_k scale.

    A subclass of Keras' layer: `use_scale`, `score_mode="dot"|"concat"`,
    `dropout`, the call convention (`[query, value(, key)]`, `mask=[query_mask,
    value_mask]`, `use_causal_mask`, `return_attention_scores`), the errors and the
    weights are Keras'. What it adds:

    - `score_mode="general"`: score(q, k) = qᵀ W k with a learned matrix W, so
      query and key may differ in size (Luong et al.);
    - `scale=True`: divide the scores by the fixed √d_k of "Attention is all you
      need" (d_k the key size); Keras' `use_scale=True` learns a scalar instead,
      and both may be used;
    - masked scores set to the row's minimum − 20 instead of −1e9, which keeps
      an int8 TFLite file's calibrated ranges usable (see
      `keras_nlpkit.layers.masking.masked_softmax`); a query row with no visible
      key gets uniform weights, as in Keras, and a masked query's output is zero.

    Args:
        use_scale: learn a scalar that multiplies the scores (Keras' meaning).
        score_mode: `"dot"`, `"general"` or `"concat"` (Keras' additive score).
        scale: divide the scores by √d_k.
        dropout: dropout rate on the attention weights.
        kernel_initializer: initializer of the "general" matrix W.
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

    x = np.random.rand(2, 4, 8).astype("float32")
    self_attention = keras_nlpkit.layers.DotProductAttention(scale=True)
    y, weights = self_attention([x, x], return_attention_scores=True)
    ```

    References:
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025)
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(
        self,
        use_scale=False,
        score_mode="dot",
        scale=False,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        seed=None,
        **kwargs,
    ):
        if score_mode not in ("dot", "general", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'} "
                f"(Keras' modes) or 'general'. Received: score_mode={score_mode!r}"
            )
        keras_mode = "dot" if score_mode == "general" else score_mode
        check_rate("dropout", dropout)
        super().__init__(
            use_scale=use_scale, score_mode=keras_mode, dropout=dropout, seed=seed, **kwargs
        )
        self.score_mode = score_mode
        # Keras' `self.scale` is the learned scalar; this is the fixed 1/√d_k switch.
        self.scale_by_key_size = scale
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        super().build(input_shape)
        query_shape, key_shape = input_shape[0], input_shape[-1]
        self.kernel = None
        if self.score_mode == "general":
            self.kernel = self.add_weight(
                shape=(query_shape[-1], key_shape[-1]),
                initializer=self.kernel_initializer,
                name="kernel",
            )
        elif self.score_mode == "dot" and query_shape[-1] != key_shape[-1]:
            raise ValueError(
                'score_mode="dot" needs query and key of one size; use "general" '
                f"otherwise. Received: query size={query_shape[-1]}, "
                f"key size={key_shape[-1]}"
            )

    def _calculate_scores(self, query, key):
        if self.score_mode == "general":
            query = ops.matmul(query, self.kernel)  # (batch, Tq, dk)
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
            if self.scale is not None:  # Keras' learned scalar
                scores = ops.multiply(scores, self.scale)
        else:
            scores = super()._calculate_scores(query, key)
        if self.scale_by_key_size:
            scores = scores / ops.cast(math.sqrt(key.shape[-1]), scores.dtype)
        return scores

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        return attend(self, scores, value, scores_mask, training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "score_mode": self.score_mode,
                "scale": self.scale_by_key_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config

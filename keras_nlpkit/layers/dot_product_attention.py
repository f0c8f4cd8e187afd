import math

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.layers.base_attention import BaseAttention


@nlpkit_export("keras_nlpkit.layers.DotProductAttention")
class DotProductAttention(BaseAttention):
    """Luong attention: score(q, k) = q·k ("dot") or qᵀ W k ("general").

    What it adds over `keras.layers.Attention`: the "general" score with a learned
    matrix between query and key (so they may differ in size), and scaling by the
    fixed 1/√d_k of "Attention is all you need" (Keras' `use_scale` learns a
    scalar instead). Same call convention as `keras.layers.Attention`.

    Args:
        score_mode: `"dot"` (query and key of one size) or `"general"`.
        scale: divide the scores by √d_k, d_k the key size.
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
        score_mode="dot",
        scale=False,
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        seed=None,
        **kwargs,
    ):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if score_mode not in ("dot", "general"):
            raise ValueError(
                f'`score_mode` must be "dot" or "general". Received: score_mode={score_mode!r}'
            )
        self.score_mode = score_mode
        self.scale = scale
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build_weights(self, query_shape, key_shape):
        if self.score_mode == "general":
            self.kernel = self.add_weight(
                shape=(query_shape[-1], key_shape[-1]),
                initializer=self.kernel_initializer,
                name="kernel",
            )
        elif query_shape[-1] != key_shape[-1]:
            raise ValueError(
                'score_mode="dot" needs query and key of one size; use "general" '
                f"otherwise. Received: query size={query_shape[-1]}, "
                f"key size={key_shape[-1]}"
            )

    def score(self, query, key):
        if self.score_mode == "general":
            query = ops.matmul(query, self.kernel)  # (batch, Tq, dk)
        scores = ops.matmul(query, ops.transpose(key, (0, 2, 1)))  # (batch, Tq, Tv)
        if self.scale:
            scores = scores / ops.cast(math.sqrt(key.shape[-1]), scores.dtype)
        return scores

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "score_mode": self.score_mode,
                "scale": self.scale,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config

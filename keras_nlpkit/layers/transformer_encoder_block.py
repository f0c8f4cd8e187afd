from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.layers.transformer_block import TransformerBlock


@nlpkit_export("keras_nlpkit.layers.TransformerEncoderBlock")
class TransformerEncoderBlock(TransformerBlock):
    """Transformer encoder block: self-attention and a position-wise FFN.

    Post-norm (the paper): `x = LN(x + Attention(x))`, `x = LN(x + FFN(x))` with
    `FFN(x) = W₂ act(W₁ x + b₁) + b₂`; pre-norm with `normalize_first=True`:
    `x = x + Attention(LN(x))`, `x = x + FFN(LN(x))`. The computation and weight
    layout equal keras-hub's `TransformerEncoder`; what this block adds is that its
    attention is our `MultiHeadAttention`, whose graph exports to TFLite builtins.

    Args:
        intermediate_dim: positive int, hidden size of the FFN.
        num_heads: positive int dividing the hidden size.
        dropout: dropout rate on attention weights and on both residual branches.
        activation: FFN activation; `"relu"`.
        layer_norm_epsilon: epsilon of the layer norms; `1e-5`.
        kernel_initializer, bias_initializer: initializers of all projections.
        normalize_first: pre-norm instead of post-norm.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(batch, seq, hidden)`.
        padding_mask: optional boolean `(batch, seq)`, `True` for real tokens;
            taken from the input's Keras mask when not given.
        attention_mask: optional boolean `(batch, seq, seq)`.
        training: enables dropout.
        return_attention_scores: also return the weights `(batch, heads, seq, seq)`.

    Returns:
        `(batch, seq, hidden)`, and the attention weights if asked.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    block = keras_nlpkit.layers.TransformerEncoderBlock(intermediate_dim=64, num_heads=4)
    y = block(np.random.rand(2, 10, 32).astype("float32"))   # (2, 10, 32)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) (pre-norm)
    """

    def build(self, inputs_shape):
        self._build_self_attention(inputs_shape)
        self._build_feedforward(inputs_shape, layer_norm_first=True)

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        mask=None,
    ):
        padding_mask = mask if padding_mask is None else padding_mask

        def self_attention(x):
            return self.self_attention(
                x,
                x,
                value_mask=padding_mask,
                attention_mask=attention_mask,
                return_attention_scores=True,
                training=training,
            )

        x, scores = self._residual(
            inputs,
            self_attention,
            self.self_attention_layer_norm,
            self.self_attention_dropout,
            training,
        )
        x = self._feedforward(x, training)
        return (x, scores) if return_attention_scores else x

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

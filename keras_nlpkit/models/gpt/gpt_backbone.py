import keras

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.layers import TokenAndPositionEmbedding
from keras_nlpkit.layers import TransformerDecoderBlock


@nlpkit_export("keras_nlpkit.models.GPTBackbone")
class GPTBackbone(keras.Model):
    """GPT-2-style decoder-only Transformer: the hidden states of a token sequence.

    Token + learned position embeddings, `num_layers` pre-norm causal
    `TransformerDecoderBlock`s (GELU feedforward), and a final layer norm — the
    layout of keras-hub's `GPT2Backbone`. The blocks' self-attention KV cache is
    what `GPTCausalLM.call_with_cache` (and the exported `decode` signature) uses.

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of decoder blocks.
        num_heads: attention heads per block.
        hidden_dim: width of the residual stream.
        intermediate_dim: width of the feedforward layer.
        dropout: dropout rate in the blocks.
        max_sequence_length: the longest sequence (the position table's size).
        layer_norm_epsilon: epsilon of every layer norm.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).

    Inputs: `{"token_ids": (batch, seq) int, "padding_mask": (batch, seq) int/bool}`.
    Output: `(batch, seq, hidden_dim)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.GPTBackbone(
        vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=32,
        intermediate_dim=64, max_sequence_length=16,
    )
    hidden = backbone({"token_ids": np.array([[5, 6, 7]]),
                       "padding_mask": np.array([[1, 1, 1]])})   # (1, 3, 32)
    ```

    References:
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.0,
        max_sequence_length=1024,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        check_positive_int("num_layers", num_layers)
        # === Layers ===
        self.token_embedding = TokenAndPositionEmbedding(
            vocabulary_size,
            max_sequence_length,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embeddings",
        )
        self.transformer_layers = [
            TransformerDecoderBlock(
                intermediate_dim,
                num_heads,
                dropout=dropout,
                activation="gelu",
                layer_norm_epsilon=layer_norm_epsilon,
                normalize_first=True,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="layer_norm"
        )

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        x = self.token_embedding(token_ids)  # (batch, seq, hidden)
        for block in self.transformer_layers:
            x = block(x, decoder_padding_mask=padding_mask)
        sequence_output = self.layer_norm(x)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=sequence_output,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.layer_norm_epsilon = layer_norm_epsilon

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "max_sequence_length": self.max_sequence_length,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

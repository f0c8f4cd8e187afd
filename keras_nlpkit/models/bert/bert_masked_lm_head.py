import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.activations import gelu_approximate
from keras_nlpkit.models.bert.bert_backbone import bert_kernel_initializer


@nlpkit_export("keras_nlpkit.models.BertMaskedLMHead")
class BertMaskedLMHead(keras.layers.Layer):
    """BERT's masked-LM output: vocabulary logits at the masked positions.

    Gathers the hidden vectors at `mask_positions`, then `Dense(hidden, GELU)` →
    `LayerNorm` → `h Eᵀ + b`, the output tied to the token embedding `E` (BERT's
    `cls/predictions` head; keras-hub's `MaskedLMHead` computes the same). Softmax
    over the vocabulary is left to the loss (`from_logits=True`).

    Args:
        token_embedding: the backbone's token `keras.layers.Embedding`, whose
            table is the output projection.
        layer_norm_epsilon: epsilon of the layer norm; `1e-12` as in BERT.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: the backbone's sequence output `(batch, seq, hidden)`.
        mask_positions: int `(batch, num_masked)`, the positions to predict.

    Returns:
        `(batch, num_masked, vocabulary_size)` logits.

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, token_embedding, layer_norm_epsilon=1e-12, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, inputs_shape, mask_positions_shape=None):
        hidden_dim = inputs_shape[-1]
        self.intermediate_dense = keras.layers.Dense(
            hidden_dim,
            activation=gelu_approximate,
            kernel_initializer=bert_kernel_initializer(),
            dtype=self.dtype_policy,
            name="intermediate_dense",
        )
        self.intermediate_dense.build((None, None, hidden_dim))
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )
        self.layer_norm.build((None, None, hidden_dim))
        self.bias = self.add_weight(
            shape=(self.token_embedding.input_dim,), initializer="zeros", name="bias"
        )

    def call(self, inputs, mask_positions):
        positions = ops.expand_dims(ops.cast(mask_positions, "int32"), -1)
        x = ops.take_along_axis(inputs, positions, axis=1)  # (batch, num_masked, hidden)
        x = self.layer_norm(self.intermediate_dense(x))
        embeddings = ops.cast(self.token_embedding.embeddings, x.dtype)
        return ops.matmul(x, ops.transpose(embeddings)) + ops.cast(self.bias, x.dtype)

    def compute_output_shape(self, inputs_shape, mask_positions_shape):
        return (*mask_positions_shape, self.token_embedding.input_dim)

    def get_config(self):
        # The tied embedding is the backbone's: a task model passes it again on load.
        config = super().get_config()
        config.update({"layer_norm_epsilon": self.layer_norm_epsilon})
        return config

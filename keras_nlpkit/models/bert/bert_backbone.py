import keras
import keras_hub
import tensorflow as tf

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_ids_in_range
from keras_nlpkit.checks import check_length
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import concrete_value
from keras_nlpkit.export.signatures import Signature
from keras_nlpkit.layers import TokenAndPositionEmbedding
from keras_nlpkit.layers import TransformerEncoderBlock
from keras_nlpkit.models.activations import gelu_approximate
from keras_nlpkit.models.backbone import Backbone
from keras_nlpkit.models.keras_hub_interop import arguments_of
from keras_nlpkit.models.keras_hub_interop import load_keras_hub_backbone
from keras_nlpkit.models.transformer_layout_map import transformer_layout_map

# Configurations of the BERT family (Turc et al., 2019, and Devlin et al., 2019):
# num_layers, hidden_dim, num_heads; the FFN is 4x the hidden size.
BERT_SIZES = {
    "tiny": (2, 128, 2),
    "mini": (4, 256, 4),
    "small": (4, 512, 8),
    "medium": (8, 512, 8),
    "base": (12, 768, 12),
}


def bert_kernel_initializer(stddev=0.02):
    return keras.initializers.TruncatedNormal(stddev=stddev)


@nlpkit_export("keras_nlpkit.models.BertBackbone")
class BertBackbone(Backbone):
    """BERT encoder: the hidden states of a token sequence and a pooled [CLS] vector.

    Token + segment + learned position embeddings, summed and layer-normed,
    `num_layers` post-norm `TransformerEncoderBlock`s (GELU feedforward, layer norm
    epsilon 1e-12), and a `tanh` dense layer on the first ([CLS]) position — the
    layout of keras-hub's `BertBackbone`, weight for weight, so that
    `from_keras_hub` / `to_keras_hub` copy weights between the two and the outputs
    agree to float32 round-off. What this backbone adds: attention that exports to
    TFLite builtin ops, and eager calls that reject over-long sequences and
    out-of-range ids with an error naming the input (keras-hub's would index past
    its tables). `BertBackbone.from_size("tiny" | "mini" | "small" | "medium" |
    "base", vocabulary_size)` builds the standard configurations (base: 12 layers,
    768 hidden, 12 heads, about 110M parameters with a 30,522-word vocabulary).

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of encoder blocks.
        num_heads: attention heads per block (must divide `hidden_dim`).
        hidden_dim: width of the hidden states and of the pooled output.
        intermediate_dim: width of each block's feedforward layer.
        dropout: dropout rate after the embeddings and in the blocks.
        max_sequence_length: the longest sequence (the position table's size).
        num_segments: number of segment ids (2: sentence A and B).
        **kwargs: `keras.Model` arguments (`name`, `dtype`).

    Inputs: `{"token_ids": (batch, seq) int, "segment_ids": (batch, seq) int,
    "padding_mask": (batch, seq) int/bool, 1 for real tokens}`.
    Outputs: `{"sequence_output": (batch, seq, hidden_dim),
    "pooled_output": (batch, hidden_dim)}`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.BertBackbone.from_size(
        "tiny", vocabulary_size=1000, max_sequence_length=64
    )
    outputs = backbone({
        "token_ids": np.array([[2, 17, 18, 3, 40, 3, 0]]),
        "segment_ids": np.array([[0, 0, 0, 0, 1, 1, 0]]),
        "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 0]]),
    })
    outputs["sequence_output"].shape   # (1, 7, 128)
    outputs["pooled_output"].shape     # (1, 128)
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
        - [Turc et al., 2019](https://arxiv.org/abs/1908.08962) (the small sizes)
    """

    # keras-hub's name for it: how the weights shard over a device mesh (JAX).
    get_layout_map = staticmethod(transformer_layout_map)

    # The constructor arguments, saved by `get_config`; keras-hub's BertBackbone
    # takes the same ones, so they also carry the configuration across.
    config_arguments = (
        "vocabulary_size",
        "num_layers",
        "num_heads",
        "hidden_dim",
        "intermediate_dim",
        "dropout",
        "max_sequence_length",
        "num_segments",
    )

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=512,
        num_segments=2,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("num_layers", num_layers)
        check_positive_int("num_heads", num_heads)
        check_positive_int("hidden_dim", hidden_dim)
        check_positive_int("max_sequence_length", max_sequence_length)
        check_positive_int("num_segments", num_segments)
        if hidden_dim % num_heads:
            raise ValueError(
                f"`num_heads` must divide `hidden_dim` ({hidden_dim}). "
                f"Received: num_heads={num_heads}"
            )
        dtype = kwargs.get("dtype")
        # === Layers ===
        self.embeddings = TokenAndPositionEmbedding(
            vocabulary_size,
            max_sequence_length,
            hidden_dim,
            num_segments=num_segments,
            embeddings_initializer=bert_kernel_initializer(),
            dtype=dtype,
            name="embeddings",
        )
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-12, dtype=dtype, name="embeddings_layer_norm"
        )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        self.transformer_layers = [
            TransformerEncoderBlock(
                intermediate_dim,
                num_heads,
                dropout=dropout,
                activation=gelu_approximate,
                layer_norm_epsilon=1e-12,
                kernel_initializer=bert_kernel_initializer(),
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.pooled_dense = keras.layers.Dense(
            hidden_dim,
            activation="tanh",
            kernel_initializer=bert_kernel_initializer(),
            dtype=dtype,
            name="pooled_dense",
        )

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input((None,), dtype="int32", name="segment_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        x = self.embeddings(token_ids, segment_ids)  # (batch, seq, hidden)
        x = self.embeddings_dropout(self.embeddings_layer_norm(x))
        for block in self.transformer_layers:
            x = block(x, padding_mask=padding_mask)
        pooled_output = self.pooled_dense(x[:, 0, :])  # (batch, hidden): [CLS]
        super().__init__(
            inputs={
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            outputs={"sequence_output": x, "pooled_output": pooled_output},
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
        self.num_segments = num_segments

    @classmethod
    def from_size(cls, size, vocabulary_size, max_sequence_length=512, dropout=0.1, **kwargs):
        """A backbone of a standard size: `"tiny"`, `"mini"`, `"small"`, `"medium"`, `"base"`."""
        if size not in BERT_SIZES:
            raise ValueError(f"`size` must be one of {sorted(BERT_SIZES)}. Received: size={size!r}")
        num_layers, hidden_dim, num_heads = BERT_SIZES[size]
        return cls(
            vocabulary_size,
            num_layers,
            num_heads,
            hidden_dim,
            4 * hidden_dim,
            dropout=dropout,
            max_sequence_length=max_sequence_length,
            **kwargs,
        )

    def call(self, inputs, training=None, mask=None):
        if isinstance(inputs, dict):
            self.check_inputs(inputs)
        return super().call(inputs, training=training, mask=mask)

    def check_inputs(self, inputs):
        """Raises a `ValueError` naming the input for eager inputs the tables cannot hold.

        Sequences longer than `max_sequence_length`, token ids outside
        `[0, vocabulary_size)` and segment ids outside `[0, num_segments)`. Symbolic
        inputs (inside `fit`/`predict`'s compiled function) are not checked here.
        """
        missing = sorted({"token_ids", "segment_ids", "padding_mask"} - set(inputs))
        if missing:
            raise ValueError(
                f"BertBackbone needs the inputs token_ids, segment_ids and padding_mask; "
                f"missing {missing}. Received: inputs with keys {sorted(inputs)}"
            )
        limits = {
            "token_ids": ("vocabulary_size", self.vocabulary_size),
            "segment_ids": ("num_segments", self.num_segments),
        }
        for name, (limit_name, limit) in limits.items():
            value = concrete_value(inputs[name])
            if value is not None:
                check_length(name, value, self.max_sequence_length)
                check_ids_in_range(name, value, limit, limit_name)

    # --- keras-hub interop ----------------------------------------------------------------
    @classmethod
    def from_keras_hub(cls, model_or_preset_dir):
        """Our backbone with the weights of a keras-hub `BertBackbone`.

        Args:
            model_or_preset_dir: a `keras_hub.models.BertBackbone` (or a keras-hub
                task whose `backbone` is one), or a local preset directory written by
                its `save_to_preset`. Nothing is downloaded.

        Returns:
            A `BertBackbone` whose outputs equal the keras-hub model's on the same
            inputs (float32 round-off).
        """
        hub = load_keras_hub_backbone(model_or_preset_dir, keras_hub.models.BertBackbone)
        backbone = cls(**arguments_of(hub, cls.config_arguments))
        for ours, theirs in _layer_pairs(backbone, hub):
            ours.set_weights(theirs.get_weights())
        return backbone

    def to_keras_hub(self):
        """A keras-hub `BertBackbone` with this backbone's configuration and weights."""
        hub = keras_hub.models.BertBackbone(
            **arguments_of(self, self.config_arguments), dtype=self.dtype_policy.name
        )
        for ours, theirs in _layer_pairs(self, hub):
            theirs.set_weights(ours.get_weights())
        return hub


def serving_signatures(model):
    """`serving_default` of a BERT task model for the export tool, at batch 1.

    The model's dict of named inputs (`token_ids`, `segment_ids`, `padding_mask`,
    int32, any length) → its outputs (`logits` when it has one output). Used by
    the task models' `export_signatures()`, the export tool's hook.
    """

    names = list(model.input)
    specs = [tf.TensorSpec((1, None), tf.int32, name=name) for name in names]

    def serve(*inputs):
        outputs = model(dict(zip(names, inputs)), training=False)
        return outputs if isinstance(outputs, dict) else {"logits": outputs}

    return [Signature("serving_default", serve, specs)]


def _layer_pairs(ours, hub):
    """(our layer, keras-hub layer) pairs whose `get_weights()` lists match one to one."""
    pairs = [
        (ours.embeddings.token_embedding, hub.token_embedding),
        (ours.embeddings.segment_embedding, hub.segment_embedding),
        (ours.embeddings.position_embedding, hub.position_embedding),
        (ours.embeddings_layer_norm, hub.embeddings_layer_norm),
        *zip(ours.transformer_layers, hub.transformer_layers),
        (ours.pooled_dense, hub.pooled_dense),
    ]
    for mine, theirs in pairs:
        shapes = [tuple(w.shape) for w in mine.weights]
        their_shapes = [tuple(w.shape) for w in theirs.weights]
        if shapes != their_shapes:
            raise ValueError(
                f"Layer {mine.name!r} holds weights of shapes {shapes} where keras-hub's "
                f"{theirs.name!r} holds {their_shapes}. Received: a keras-hub BertBackbone "
                "whose layout differs from ours"
            )
    return pairs

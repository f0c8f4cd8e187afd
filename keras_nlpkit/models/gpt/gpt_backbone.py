import os
import warnings
from pathlib import Path

import keras
import keras_hub

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.layers import TokenAndPositionEmbedding
from keras_nlpkit.layers import TransformerDecoderBlock
from keras_nlpkit.models.activations import gelu_approximate
from keras_nlpkit.models.backbone import Backbone
from keras_nlpkit.models.keras_hub_interop import arguments_of
from keras_nlpkit.models.keras_hub_interop import is_preset_dir
from keras_nlpkit.models.keras_hub_interop import load_keras_hub_backbone
from keras_nlpkit.models.transformer_layout_map import transformer_layout_map

# `activation` names a GPTBackbone accepts → the feedforward activation of its blocks.
# Both export to TFLite's builtin GELU (exact, or with its `approximate` flag).
ACTIVATIONS = {"gelu": "gelu", "gelu_approximate": gelu_approximate}

# The constructor arguments keras-hub's GPT2Backbone shares with ours.
KERAS_HUB_ARGUMENTS = (
    "vocabulary_size",
    "num_layers",
    "num_heads",
    "hidden_dim",
    "intermediate_dim",
    "dropout",
    "max_sequence_length",
)


@nlpkit_export("keras_nlpkit.models.GPTBackbone")
class GPTBackbone(Backbone):
    """GPT-2-style decoder-only Transformer: the hidden states of a token sequence.

    Token + learned position embeddings (+ dropout), `num_layers` pre-norm causal
    `TransformerDecoderBlock`s (GELU feedforward), and a final layer norm — the
    layout of keras-hub's `GPT2Backbone`, whose weights `from_keras_hub` copies in
    and `to_keras_hub` copies out (same outputs, max |diff| ≤ 1e-5 in float32).
    The output projection of `GPTCausalLM` is tied to the token embedding. The
    blocks' self-attention KV cache is what `GPTCausalLM.call_with_cache` (and the
    exported `decode` signature) uses.

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of decoder blocks.
        num_heads: attention heads per block.
        hidden_dim: width of the residual stream.
        intermediate_dim: width of the feedforward layer.
        dropout: dropout rate in the blocks.
        max_sequence_length: the longest sequence (the position table's size).
        layer_norm_epsilon: epsilon of every layer norm.
        activation: the feedforward activation, `"gelu"` (exact, erf-based; the
            default) or `"gelu_approximate"` (the tanh approximation that GPT-2
            and keras-hub's `GPT2Backbone` use; `from_keras_hub` sets it).
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

    # keras-hub's name for it: how the weights shard over a device mesh (JAX).
    get_layout_map = staticmethod(transformer_layout_map)

    # The constructor arguments, saved by `get_config`.
    config_arguments = KERAS_HUB_ARGUMENTS + ("layer_norm_epsilon", "activation")

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
        activation="gelu",
        **kwargs,
    ):
        check_positive_int("num_layers", num_layers)
        check_positive_int("max_sequence_length", max_sequence_length)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {sorted(ACTIVATIONS)}. "
                f"Received: activation={activation!r}"
            )
        dtype = kwargs.get("dtype")
        # === Layers ===
        self.token_embedding = TokenAndPositionEmbedding(
            vocabulary_size,
            max_sequence_length,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            dtype=dtype,
            name="embeddings",
        )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        self.transformer_layers = [
            TransformerDecoderBlock(
                intermediate_dim,
                num_heads,
                dropout=dropout,
                activation=ACTIVATIONS[activation],
                layer_norm_epsilon=layer_norm_epsilon,
                normalize_first=True,
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="layer_norm"
        )

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        x = self.token_embedding(token_ids)  # (batch, seq, hidden)
        x = self.embeddings_dropout(x)
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
        self.activation = activation

    # === keras-hub interop ===
    @classmethod
    def from_keras_hub(cls, model_or_preset_dir, **kwargs):
        """A `GPTBackbone` holding the weights of a keras-hub `GPT2Backbone`.

        Args:
            model_or_preset_dir: a `keras_hub.models.GPT2Backbone` (or a
                `GPT2CausalLM`, whose backbone is taken), or the path of a preset
                folder written locally by its `save_to_preset` (nothing is
                downloaded). When the folder also holds a tokenizer, its
                vocabulary size must equal the backbone's.
            **kwargs: `keras.Model` arguments for the new backbone (`name`, `dtype`).

        Returns:
            A `GPTBackbone` with `activation="gelu_approximate"` and
            `layer_norm_epsilon=1e-5` (GPT-2's), whose outputs equal the keras-hub
            model's for the same inputs.

        Example:
        ```python
        import keras_hub
        from keras_nlpkit.models import GPTBackbone

        hub = keras_hub.models.GPT2Backbone(vocabulary_size=100, num_layers=2, num_heads=2,
                                            hidden_dim=32, intermediate_dim=64,
                                            max_sequence_length=16)
        ours = GPTBackbone.from_keras_hub(hub)     # or a `hub.save_to_preset` folder
        back = ours.to_keras_hub()                 # a GPT2Backbone again
        ```
        """
        hub = load_keras_hub_backbone(model_or_preset_dir, keras_hub.models.GPT2Backbone)
        if is_preset_dir(model_or_preset_dir):
            _check_preset_tokenizer(model_or_preset_dir, hub)
        backbone = cls(
            **arguments_of(hub, KERAS_HUB_ARGUMENTS),
            layer_norm_epsilon=hub.layer_norm.epsilon,
            activation="gelu_approximate",
            **kwargs,
        )
        _copy_gpt2_weights(source=hub, target=backbone, to_keras_hub=False)
        return backbone

    def to_keras_hub(self, strict=True):
        """A keras-hub `GPT2Backbone` holding this backbone's weights.

        keras-hub's GPT-2 always uses the tanh-approximate GELU and layer norms with
        epsilon 1e-5. A backbone built otherwise would change its outputs in the
        copy, so it raises unless `strict=False` (then it warns).

        Args:
            strict: refuse (`True`) or warn (`False`) when the copy cannot compute
                the same function.

        Returns:
            A `keras_hub.models.GPT2Backbone` with the same outputs for the same inputs.
        """
        differences = []
        if self.activation != "gelu_approximate":
            differences.append(f"activation={self.activation!r} (keras-hub: 'gelu_approximate')")
        if self.layer_norm_epsilon != 1e-5:
            differences.append(f"layer_norm_epsilon={self.layer_norm_epsilon!r} (keras-hub: 1e-05)")
        if differences:
            message = (
                "keras-hub's GPT2Backbone cannot compute this backbone's function: "
                f"Received: {', '.join(differences)}."
            )
            if strict:
                raise ValueError(message + " Pass strict=False to copy the weights anyway.")
            warnings.warn(message + " The copy's outputs will differ.", stacklevel=2)
        hub = keras_hub.models.GPT2Backbone(
            **arguments_of(self, KERAS_HUB_ARGUMENTS), dtype=self.dtype_policy.name
        )
        _copy_gpt2_weights(source=self, target=hub, to_keras_hub=True)
        return hub


def _check_preset_tokenizer(preset_dir, hub):
    """A preset folder's tokenizer, when it has one, must fit the backbone's vocabulary."""
    path = Path(os.fsdecode(preset_dir))
    if (path / "tokenizer.json").is_file():
        tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(str(path))
        check_vocabulary_match(
            hub.vocabulary_size, tokenizer.vocabulary_size(), what=f"the preset {str(path)!r}"
        )


def check_vocabulary_match(model_vocabulary_size, tokenizer_vocabulary_size, what):
    """Raises when a model's token ids and a tokenizer's disagree in number."""
    if model_vocabulary_size != tokenizer_vocabulary_size:
        raise ValueError(
            f"The model and the tokenizer of {what} disagree on the vocabulary: "
            f"Received: model vocabulary_size={model_vocabulary_size}, tokenizer "
            f"vocabulary_size={tokenizer_vocabulary_size}"
        )


def _copy_gpt2_weights(source, target, to_keras_hub):
    """Copies weights between our `GPTBackbone` and keras-hub's `GPT2Backbone`.

    The blocks have the same weights in the same order (`TransformerDecoderBlock`
    follows keras-hub's `TransformerDecoder`); the embeddings differ in where they
    live: keras-hub's `token_embedding` and `position_embedding` are two layers,
    ours are the two tables inside one `TokenAndPositionEmbedding`.
    """
    ours, hub = (source, target) if to_keras_hub else (target, source)
    pairs = [
        (ours.token_embedding.token_embedding.embeddings, hub.token_embedding.embeddings),
        (
            ours.token_embedding.position_embedding.embeddings,
            hub.position_embedding.position_embeddings,
        ),
    ]
    for our_block, hub_block in zip(ours.transformer_layers, hub.transformer_layers):
        pairs.extend(zip(our_block.weights, hub_block.weights))
    pairs.extend(zip(ours.layer_norm.weights, hub.layer_norm.weights))
    for our_variable, hub_variable in pairs:
        if tuple(our_variable.shape) != tuple(hub_variable.shape):
            raise ValueError(  # our block layout drifted from keras-hub's
                f"Cannot copy {hub_variable.path} {tuple(hub_variable.shape)} to "
                f"{our_variable.path} {tuple(our_variable.shape)}"
            )
        if to_keras_hub:
            hub_variable.assign(our_variable)
        else:
            our_variable.assign(hub_variable)

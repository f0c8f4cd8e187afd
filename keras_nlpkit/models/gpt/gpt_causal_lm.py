import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.gpt.gpt_backbone import GPTBackbone


@nlpkit_export("keras_nlpkit.models.GPTCausalLM")
class GPTCausalLM(keras.Model):
    """Next-token logits from a `GPTBackbone`, with a KV-cache path for generation.

    The output projection is tied to the token embedding. `call_with_cache` is
    keras-hub's `CausalLM` interface (logits, hidden states and the updated cache
    for a chunk of tokens at `cache_update_index`); the export tool builds the
    `prefill` and `decode` signatures from it, and the on-device runtime drives
    `decode` one token at a time.

    Args:
        backbone: a `GPTBackbone`.
        **kwargs: `keras.Model` arguments.

    Call arguments:
        token_ids: `(batch, seq)` int.
        padding_mask: optional `(batch, seq)`, 1 for real tokens.

    Returns:
        logits `(batch, seq, vocabulary_size)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.GPTBackbone(100, 2, 2, 32, 64, max_sequence_length=16)
    lm = keras_nlpkit.models.GPTCausalLM(backbone)
    logits = lm(np.array([[5, 6, 7]]))                    # (1, 3, 100)
    cache = lm.build_cache(batch_size=1)                  # (1, 4, 16, 2, 16)
    step, _, cache = lm.call_with_cache(np.array([[5]]), cache, 0)
    ```
    """

    def __init__(self, backbone, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone

    def call(self, token_ids, padding_mask=None):
        if padding_mask is None:
            padding_mask = ops.ones_like(token_ids)
        hidden = self.backbone({"token_ids": token_ids, "padding_mask": padding_mask})
        return self.backbone.token_embedding.logits(hidden)

    def build_cache(self, batch_size, max_length=None):
        """A zero cache `(batch, 2 * num_layers, max_length, num_heads, head_dim)`.

        Layer i's keys and values are rows 2i and 2i + 1. keras-hub stacks them in
        a 6-D `(batch, num_layers, 2, ...)` tensor instead; TFLite's slicing
        kernels stop at 5 dimensions, so ours stays 5-D.
        """
        backbone = self.backbone
        max_length = max_length or backbone.max_sequence_length
        head_dim = backbone.hidden_dim // backbone.num_heads
        shape = (batch_size, 2 * backbone.num_layers, max_length, backbone.num_heads, head_dim)
        return ops.zeros(shape, dtype=self.compute_dtype)

    def call_with_cache(self, token_ids, cache, cache_update_index):
        """Runs `token_ids` (batch, seq) at positions `cache_update_index`... onwards.

        Returns `(logits (batch, seq, vocab), hidden (batch, seq, hidden_dim),
        cache)`; positions after the chunk are masked out by the causal mask.
        """
        backbone = self.backbone
        x = backbone.token_embedding(token_ids, start_index=cache_update_index)
        caches = []
        for i, block in enumerate(backbone.transformer_layers):
            x, layer_cache = block(
                x,
                self_attention_cache=cache[:, 2 * i : 2 * i + 2],
                self_attention_cache_update_index=cache_update_index,
            )
            caches.append(layer_cache)
        hidden = backbone.layer_norm(x)
        logits = backbone.token_embedding.logits(hidden)
        return logits, hidden, ops.concatenate(caches, axis=1)

    def get_config(self):
        config = super().get_config()
        config["backbone"] = keras.saving.serialize_keras_object(self.backbone)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(
            config["backbone"], custom_objects={"GPTBackbone": GPTBackbone}
        )
        return cls(**config)

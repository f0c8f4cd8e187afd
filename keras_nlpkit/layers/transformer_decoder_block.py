from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.layers.transformer_block import TransformerBlock


@nlpkit_export("keras_nlpkit.layers.TransformerDecoderBlock")
class TransformerDecoderBlock(TransformerBlock):
    """Transformer decoder block: causal self-attention, optional cross-attention, FFN.

    The same residual/normalisation scheme as `TransformerEncoderBlock`, with the
    self-attention causal by default and a cross-attention sublayer when the block
    is first called with an `encoder_sequence`. Computation and weight layout equal
    keras-hub's `TransformerDecoder`. What it adds: the self-attention KV cache of our
    `MultiHeadAttention` (`self_attention_cache` and its update index in, updated
    cache out), whose causal mask and cache update export to TFLite builtins, so
    one decoding step costs O(seq).

    Args:
        intermediate_dim, num_heads, dropout, activation, layer_norm_epsilon,
        kernel_initializer, bias_initializer, normalize_first: as in
        `TransformerEncoderBlock`.

    Call arguments:
        decoder_sequence: `(batch, seq, hidden)`.
        encoder_sequence: optional `(batch, enc_seq, enc_hidden)`; give it on the
            first call to build the cross-attention, and on every call after.
        decoder_padding_mask: optional boolean `(batch, seq)`; taken from the
            input's Keras mask when not given. Not with a cache (use
            `decoder_attention_mask` over the cache positions there).
        decoder_attention_mask: optional boolean `(batch, seq, seq)`.
        encoder_padding_mask: optional boolean `(batch, enc_seq)`.
        encoder_attention_mask: optional boolean `(batch, seq, enc_seq)`.
        self_attention_cache: optional `(batch, 2, max_length, heads, head_dim)`.
        self_attention_cache_update_index: position of this call's first token.
        cross_attention_cache: optional `(batch, 2, enc_seq, heads, head_dim)`, the
            projected encoder keys/values, with `self_attention_cache` (as in
            keras-hub's `TransformerDecoder`).
        cross_attention_cache_update_index: `0` projects `encoder_sequence` into
            the cache (the first step); `None` reads it, so the encoder is
            projected once per sequence, not at every step.
        use_causal_mask: `True` by default.
        training: enables dropout.

    Returns:
        `(batch, seq, hidden)`; with caches `(outputs, self_attention_cache)`, and
        `(outputs, self_attention_cache, cross_attention_cache)` with cross-attention.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    block = keras_nlpkit.layers.TransformerDecoderBlock(intermediate_dim=64, num_heads=4)
    x = np.random.rand(1, 5, 32).astype("float32")
    full = block(x)                                          # (1, 5, 32)
    cache = np.zeros((1, 2, 5, 4, 8), "float32")
    step, cache = block(x[:, :1], self_attention_cache=cache,
                        self_attention_cache_update_index=0)  # == full[:, :1]
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        self._build_self_attention(decoder_sequence_shape)
        self.cross_attention = None
        if encoder_sequence_shape is not None:
            self.cross_attention = self._attention(
                "cross_attention", decoder_sequence_shape, encoder_sequence_shape
            )
            self.cross_attention_layer_norm = self._layer_norm(
                "cross_attention_layer_norm", decoder_sequence_shape
            )
            self.cross_attention_dropout = self._dropout("cross_attention_dropout")
        self._build_feedforward(decoder_sequence_shape, layer_norm_first=False)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        use_causal_mask=True,
        training=None,
        mask=None,
    ):
        if (encoder_sequence is None) != (self.cross_attention is None):
            raise ValueError(
                "A decoder block built with cross-attention needs `encoder_sequence` "
                "on every call, and one built without it takes none. "
                f"Received: encoder_sequence={'None' if encoder_sequence is None else 'a tensor'}"
                f" for a block {'with' if self.cross_attention else 'without'} "
                "cross-attention"
            )
        cached = self_attention_cache is not None
        if self.cross_attention is not None and cached != (cross_attention_cache is not None):
            raise ValueError(
                "With cross-attention, `self_attention_cache` and `cross_attention_cache` "
                "are given together or not at all. Received: self_attention_cache="
                f"{'a tensor' if cached else 'None'}, cross_attention_cache="
                f"{'None' if cross_attention_cache is None else 'a tensor'}"
            )
        if cached and decoder_padding_mask is not None:
            raise ValueError(
                "With a `self_attention_cache` the keys are the cache positions: pass "
                "padding as `decoder_attention_mask` of shape (batch, seq, max_length). "
                f"Received: decoder_padding_mask of shape {tuple(decoder_padding_mask.shape)}"
            )
        if decoder_padding_mask is None and not cached:
            decoder_padding_mask = mask
        update_index = self_attention_cache_update_index
        if cached and update_index is None:
            update_index = 0

        def self_attention(x):
            result = self.self_attention(
                x,
                x,
                value_mask=decoder_padding_mask,
                attention_mask=decoder_attention_mask,
                use_causal_mask=use_causal_mask,
                cache=self_attention_cache,
                cache_update_index=update_index,
                training=training,
            )
            return result if cached else (result, None)

        x, new_cache = self._residual(
            decoder_sequence,
            self_attention,
            self.self_attention_layer_norm,
            self.self_attention_dropout,
            training,
        )

        if self.cross_attention is not None:

            def cross_attention(x):
                if cross_attention_cache is None:
                    y = self.cross_attention(
                        x,
                        encoder_sequence,
                        value_mask=encoder_padding_mask,
                        attention_mask=encoder_attention_mask,
                        training=training,
                    )
                    return y, None
                # Cached: the keys are the cache positions, padding joins the mask.
                mask = encoder_attention_mask
                if encoder_padding_mask is not None:
                    padding = ops.expand_dims(ops.cast(encoder_padding_mask, "bool"), 1)
                    mask = (
                        padding
                        if mask is None
                        else ops.logical_and(ops.cast(mask, "bool"), padding)
                    )
                return self.cross_attention(
                    x,
                    encoder_sequence,
                    attention_mask=mask,
                    cache=cross_attention_cache,
                    cache_update_index=cross_attention_cache_update_index,
                    training=training,
                )

            x, cross_attention_cache = self._residual(
                x,
                cross_attention,
                self.cross_attention_layer_norm,
                self.cross_attention_dropout,
                training,
            )

        x = self._feedforward(x, training)
        if not cached:
            return x
        if self.cross_attention is not None:
            return x, new_cache, cross_attention_cache
        return x, new_cache

    def compute_output_shape(self, decoder_sequence_shape, encoder_sequence_shape=None):
        return decoder_sequence_shape

    def compute_mask(self, decoder_sequence, mask=None):
        return mask

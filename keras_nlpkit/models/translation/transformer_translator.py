"""`TransformerTranslator`: an encoder–decoder Transformer from our blocks, with cached decoding."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.layers.token_and_position_embedding import TokenAndPositionEmbedding
from keras_nlpkit.layers.transformer_decoder_block import TransformerDecoderBlock
from keras_nlpkit.layers.transformer_encoder_block import TransformerEncoderBlock
from keras_nlpkit.tokenizers.sentence_piece_model import PAD_ID


@nlpkit_export("keras_nlpkit.models.TransformerTranslator")
class TransformerTranslator(keras.Model):
    """Encoder–decoder Transformer for translation, decodable one token at a time.

    The encoder is a stack of `TransformerEncoderBlock`s over token + learned
    position embeddings of the source; the decoder a stack of
    `TransformerDecoderBlock`s (causal self-attention, cross-attention to the
    encoder output) over those of the target, then the output projection — by
    default the target embedding transposed (tied: fewer weights, and better
    on a corpus as small as Multi30k). Id 0 is padding on both sides: masked
    as a key in every attention and ignored by the loss (labels 0).

    Besides teacher forcing (`call`), the model decodes through three methods
    that the beam search (`keras_nlpkit.models.translation.beam_search`) and the
    exported on-device signatures share:

    - `encode(source_ids)`: the encoder runs once, and every decoder layer's
      cross-attention keys/values are projected from its output once, into
      `{"cross_attention_cache": (batch, 2 * layers, S, heads, head_dim),
      "source_padding_mask": (batch, S) int32}`;
    - `start_decoding(encoder_state, max_length)`: zero self-attention caches,
      `{"self_attention_cache": (batch, 2 * layers, max_length, heads, head_dim)}`;
    - `decode_step(encoder_state, decoder_state, token_ids, position)`: logits
      for the token after `token_ids` (at `position`) and the updated caches;
      a step costs O(position + S), not a rerun of the prefix.

    Every state value is batch-major with static shapes, so a beam reorders it
    with one row gather and an export fixes its shapes.

    Args:
        source_vocabulary_size, target_vocabulary_size: positive ints.
        max_source_length, max_target_length: positive ints, the positions of
            the position embeddings (the longest source, and the longest
            decoder input, `[bos] + pieces`).
        hidden_dim: positive int, the model width.
        num_encoder_layers, num_decoder_layers: positive ints.
        num_heads: positive int dividing `hidden_dim`.
        intermediate_dim: positive int, the FFN's hidden size.
        dropout: rate on embeddings, attention weights and residual branches.
        normalize_first: pre-norm blocks (and a final layer norm on both
            stacks): trains stably at a high learning rate without a long
            warm-up; `False` is the paper's post-norm.
        tie_embeddings: the output projection is the target embedding
            transposed; `False` learns a separate one.
        **kwargs: `keras.Model` arguments.

    Call arguments:
        inputs: `{"source_ids": (batch, S) int, "target_ids": (batch, T) int}`,
            the target being the decoder input `[bos] + pieces`, 0-padded.
        training: enables dropout.

    Returns:
        logits `(batch, T, target_vocabulary_size)`.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import TransformerTranslator

    model = TransformerTranslator(40, 50, max_source_length=8, max_target_length=9,
                                  hidden_dim=16, num_encoder_layers=1,
                                  num_decoder_layers=1, num_heads=2, intermediate_dim=32)
    source = np.array([[5, 6, 7, 3, 0]], "int32")
    logits = model({"source_ids": source, "target_ids": np.array([[2, 9, 10]], "int32")})
    encoder_state = model.encode(source)
    decoder_state = model.start_decoding(encoder_state, max_length=9)
    step, decoder_state = model.decode_step(
        encoder_state, decoder_state, np.array([2], "int32"), 0
    )                                          # step == logits[:, 0]
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Press & Wolf, 2017](https://arxiv.org/abs/1608.05859) (tied embeddings)
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        max_source_length=64,
        max_target_length=64,
        hidden_dim=256,
        num_encoder_layers=3,
        num_decoder_layers=3,
        num_heads=4,
        intermediate_dim=1024,
        dropout=0.1,
        normalize_first=True,
        tie_embeddings=True,
        **kwargs,
    ):
        for name, value in (
            ("source_vocabulary_size", source_vocabulary_size),
            ("target_vocabulary_size", target_vocabulary_size),
            ("max_source_length", max_source_length),
            ("max_target_length", max_target_length),
            ("hidden_dim", hidden_dim),
            ("num_encoder_layers", num_encoder_layers),
            ("num_decoder_layers", num_decoder_layers),
            ("num_heads", num_heads),
            ("intermediate_dim", intermediate_dim),
        ):
            check_positive_int(name, value)
        check_rate("dropout", dropout)
        if hidden_dim % num_heads:
            raise ValueError(
                f"`num_heads` must divide hidden_dim={hidden_dim}. Received: num_heads={num_heads}"
            )
        for name, value in (
            ("normalize_first", normalize_first),
            ("tie_embeddings", tie_embeddings),
        ):
            if not isinstance(value, bool):
                raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
        super().__init__(**kwargs)
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.hidden_dim = hidden_dim
        self.num_encoder_layers = num_encoder_layers
        self.num_decoder_layers = num_decoder_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.normalize_first = normalize_first
        self.tie_embeddings = tie_embeddings
        self.head_dim = hidden_dim // num_heads

        # === Layers ===
        policy = self.dtype_policy
        self.source_embedding = TokenAndPositionEmbedding(
            source_vocabulary_size,
            max_source_length,
            hidden_dim,
            dtype=policy,
            name="source_embedding",
        )
        self.target_embedding = TokenAndPositionEmbedding(
            target_vocabulary_size,
            max_target_length,
            hidden_dim,
            tie_weights=tie_embeddings,
            dtype=policy,
            name="target_embedding",
        )
        self.source_dropout = keras.layers.Dropout(dropout, dtype=policy, name="source_dropout")
        self.target_dropout = keras.layers.Dropout(dropout, dtype=policy, name="target_dropout")
        block_arguments = dict(
            intermediate_dim=intermediate_dim,
            num_heads=num_heads,
            dropout=dropout,
            normalize_first=normalize_first,
            dtype=policy,
        )
        self.encoder_layers = [
            TransformerEncoderBlock(**block_arguments, name=f"encoder_layer_{i}")
            for i in range(num_encoder_layers)
        ]
        self.decoder_layers = [
            TransformerDecoderBlock(**block_arguments, name=f"decoder_layer_{i}")
            for i in range(num_decoder_layers)
        ]
        self.encoder_layer_norm = None
        self.decoder_layer_norm = None
        if normalize_first:  # pre-norm leaves the stacks' outputs unnormalised
            self.encoder_layer_norm = keras.layers.LayerNormalization(
                epsilon=1e-5, dtype=policy, name="encoder_layer_norm"
            )
            self.decoder_layer_norm = keras.layers.LayerNormalization(
                epsilon=1e-5, dtype=policy, name="decoder_layer_norm"
            )

        # === Weights: every shape is known, so they exist from the start ===
        self.build()

    def build(self, input_shape=None):
        source = (None, self.max_source_length)
        target = (None, self.max_target_length)
        source_hidden = (*source, self.hidden_dim)
        target_hidden = (*target, self.hidden_dim)
        for layer, shapes in [
            (self.source_embedding, (source,)),
            (self.target_embedding, (target,)),
            *[(block, (source_hidden,)) for block in self.encoder_layers],
            *[(block, (target_hidden, source_hidden)) for block in self.decoder_layers],
            (self.encoder_layer_norm, (source_hidden,)),
            (self.decoder_layer_norm, (target_hidden,)),
        ]:
            if layer is not None and not layer.built:  # (load_model builds again)
                layer.build(*shapes)
        self.built = True

    # === Teacher forcing ===
    def call(self, inputs, training=None):
        source_ids, target_ids = _unpack(inputs)
        encoded, source_mask = self._encode_sequence(source_ids, training)
        x = self.target_embedding(target_ids)  # (batch, T, hidden)
        x = self.target_dropout(x, training=training)
        for block in self.decoder_layers:
            # Padding ends the target: the causal mask alone keeps it from real positions.
            x = block(x, encoded, encoder_padding_mask=source_mask, training=training)
        return self._logits(x)  # (batch, T, vocab)

    def _encode_sequence(self, source_ids, training=None):
        source_mask = ops.not_equal(source_ids, PAD_ID)  # (batch, S)
        x = self.source_embedding(source_ids)  # (batch, S, hidden)
        x = self.source_dropout(x, training=training)
        for block in self.encoder_layers:
            x = block(x, padding_mask=source_mask, training=training)
        if self.encoder_layer_norm is not None:
            x = self.encoder_layer_norm(x)
        return x, source_mask

    def _logits(self, x):
        if self.decoder_layer_norm is not None:
            x = self.decoder_layer_norm(x)
        # `target_embedding.logits(x)`, with the kernel cast to the compute dtype here:
        # called inside this model, the layer's own autocast leaves it float32 (a
        # float32 matmul, the largest of the model, under a mixed policy).
        embedding = self.target_embedding.token_embedding
        kernel = (
            ops.transpose(embedding.embeddings)
            if self.tie_embeddings
            else embedding.reverse_embeddings
        )  # (hidden, vocab)
        return ops.matmul(x, ops.cast(kernel, self.compute_dtype))

    # === Step-by-step decoding ===
    def encode(self, source_ids):
        """The encoder state of `source_ids` (batch, S): cross-attention K/V and the mask.

        Returns `{"cross_attention_cache": (batch, 2 * num_decoder_layers, S,
        num_heads, head_dim), "source_padding_mask": (batch, S) int32}`; layer
        i's keys and values are rows 2i and 2i + 1 (5-D, as TFLite slices).
        """
        source_ids = ops.convert_to_tensor(source_ids, "int32")
        encoded, source_mask = self._encode_sequence(source_ids)
        caches = []
        for block in self.decoder_layers:
            attention = block.cross_attention
            key = attention._key_dense(encoded)  # (batch, S, heads, head_dim)
            value = attention._value_dense(encoded)
            caches.append(ops.stack([key, value], axis=1))  # (batch, 2, S, heads, head_dim)
        return {
            "cross_attention_cache": ops.concatenate(caches, axis=1),
            "source_padding_mask": ops.cast(source_mask, "int32"),
        }

    def start_decoding(self, encoder_state, max_length):
        """Zero self-attention caches for `max_length` decoder positions.

        Returns `{"self_attention_cache": (batch, 2 * num_decoder_layers,
        max_length, num_heads, head_dim)}`.
        """
        check_positive_int("max_length", max_length)
        if max_length > self.max_target_length:
            raise ValueError(
                f"`max_length` must be at most max_target_length={self.max_target_length}. "
                f"Received: max_length={max_length}"
            )
        batch = ops.shape(encoder_state["source_padding_mask"])[0]
        shape = (batch, 2 * self.num_decoder_layers, max_length, self.num_heads, self.head_dim)
        return {"self_attention_cache": ops.zeros(shape, self.compute_dtype)}

    def decode_step(self, encoder_state, decoder_state, token_ids, position):
        """Logits `(batch, target_vocabulary_size)` float32 after `token_ids` at `position`.

        Args:
            encoder_state: `encode`'s output.
            decoder_state: `start_decoding`'s output, or the previous step's.
            token_ids: `(batch,)` int, the decoder input at `position` (bos at 0).
            position: int scalar.

        Returns:
            `(logits, decoder_state)`, the state with the same keys and shapes.
        """
        token_ids = ops.convert_to_tensor(token_ids, "int32")
        position = ops.cast(position, "int32")
        source_mask = encoder_state["source_padding_mask"]
        cross_cache = encoder_state["cross_attention_cache"]
        cache = decoder_state["self_attention_cache"]
        x = self.target_embedding(ops.expand_dims(token_ids, 1), start_index=position)
        caches = []
        for i, block in enumerate(self.decoder_layers):
            x, layer_cache, _ = block(
                x,
                # Read from the cache, never projected (no update index): any
                # (batch, seq, hidden) tensor stands in for the encoder output.
                x,
                encoder_padding_mask=source_mask,
                self_attention_cache=cache[:, 2 * i : 2 * i + 2],
                self_attention_cache_update_index=position,
                cross_attention_cache=cross_cache[:, 2 * i : 2 * i + 2],
                cross_attention_cache_update_index=None,
            )
            caches.append(layer_cache)
        logits = ops.cast(self._logits(x)[:, 0], "float32")  # (batch, vocab)
        return logits, {"self_attention_cache": ops.concatenate(caches, axis=1)}

    def compute_output_shape(self, input_shape):
        target_shape = input_shape["target_ids"]
        return (*target_shape, self.target_vocabulary_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            source_vocabulary_size=self.source_vocabulary_size,
            target_vocabulary_size=self.target_vocabulary_size,
            max_source_length=self.max_source_length,
            max_target_length=self.max_target_length,
            hidden_dim=self.hidden_dim,
            num_encoder_layers=self.num_encoder_layers,
            num_decoder_layers=self.num_decoder_layers,
            num_heads=self.num_heads,
            intermediate_dim=self.intermediate_dim,
            dropout=self.dropout,
            normalize_first=self.normalize_first,
            tie_embeddings=self.tie_embeddings,
        )
        return config


def _unpack(inputs):
    if not isinstance(inputs, dict) or {"source_ids", "target_ids"} - set(inputs):
        keys = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise ValueError(
            f"`inputs` must be a dict with 'source_ids' and 'target_ids'. Received: {keys}"
        )
    return inputs["source_ids"], inputs["target_ids"]

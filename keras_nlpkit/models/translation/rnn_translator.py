"""`RNNTranslator`: the BiLSTM encoder–LSTM decoder with attention of neural MT courses."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_ids_in_range
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.checks import concrete_value
from keras_nlpkit.layers.additive_attention import AdditiveAttention
from keras_nlpkit.layers.dot_product_attention import DotProductAttention
from keras_nlpkit.layers.lstm import LSTM
from keras_nlpkit.layers.masking import masked_softmax
from keras_nlpkit.tokenizers.sentence_piece_model import PAD_ID

ATTENTIONS = ("additive", "general")


@nlpkit_export("keras_nlpkit.models.RNNTranslator")
class RNNTranslator(keras.Model):
    """An RNN encoder–decoder with attention for translation (Bahdanau; Luong).

    - Encoder: source embedding → a bidirectional LSTM (a forward and a
      backward `LSTM` over the padded source, masked, so padding changes
      nothing) → outputs `s_j = [→h_j; ←h_j]`, `(batch, S, 2 * hidden_dim)`.
    - Bridge: the decoder starts from `h₀ = W_h [→h_n; ←h_1]` and
      `c₀ = W_c [→c_n; ←c_1]`, the final encoder states of both directions.
    - Decoder: target embedding → `LSTM` (teacher forcing in `call`: the whole
      target in one unmasked LSTM call: it is causal and the padding is on the right).
    - Attention of the decoder output `h_t` over the encoder outputs, masked at
      the source padding: `"additive"`, Bahdanau's `vᵀ tanh(W₁ h_t + W₂ s_j + b)`
      (`keras_nlpkit.layers.AdditiveAttention`), or `"general"`, Luong's
      `h_tᵀ W s_j` (`keras_nlpkit.layers.DotProductAttention(score_mode="general")`).
    - Output: Luong's attentional hidden state `h̃_t = tanh(W_c [c_t; h_t])`,
      dropout, then logits over the target vocabulary.

    Without input feeding (Luong's `h̃_{t−1}` fed to the next decoder step): it
    would make the decoder input depend on the attention output, so the
    teacher-forced decoder could no longer run as one whole-sequence LSTM call
    (and its inputs projected in one matmul) but only as a Python-level loop of
    steps, several times slower to train on a CPU. The attention is computed for
    all target positions at once.

    Generation goes through `encode` (once a sentence: encoder outputs, their
    attention keys projected once, the source mask and the decoder's initial
    state), `start_decoding` and `decode_step` (one token, batch-major tensors of
    static shapes only, so the step exports to builtin TFLite ops). Running
    `decode_step` over `[bos] + y` gives the logits of `call` on `[bos] + y`.
    Id 0 is padding on both sides.

    Args:
        source_vocabulary_size: number of source ids.
        target_vocabulary_size: number of target ids (the logits).
        embedding_dim: size of the source and target embeddings.
        hidden_dim: units of each encoder direction and of the decoder.
        dropout: dropout rate on the embeddings and on the attentional hidden
            state, in training.
        attention: `"additive"` (Bahdanau) or `"general"` (Luong).
        **kwargs: `keras.Model` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a dict with `"source_ids"` `(batch, S)` and `"target_ids"`
            `(batch, T)` int ids, 0-padded; `target_ids` starts with bos.
        training: enables dropout.
        return_attention_scores: also return the attention weights
            `(batch, T, S)`.

    Returns:
        logits `(batch, T, target_vocabulary_size)` of the token after each
        target position; with `return_attention_scores`, `(logits, weights)`.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import RNNTranslator

    model = RNNTranslator(100, 120, embedding_dim=32, hidden_dim=32, attention="general")
    source = np.array([[5, 6, 7, 0], [8, 9, 0, 0]], "int32")
    target = np.array([[2, 10, 11], [2, 12, 0]], "int32")  # bos = 2
    logits = model({"source_ids": source, "target_ids": target})  # (2, 3, 120)

    encoder_state = model.encode(source)
    decoder_state = model.start_decoding(encoder_state, max_length=3)
    step_logits, decoder_state = model.decode_step(
        encoder_state, decoder_state, np.array([2, 2], "int32"), np.int32(0)
    )  # (2, 120), equal to logits[:, 0]
    ```

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473)
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025)
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        embedding_dim=256,
        hidden_dim=256,
        dropout=0.2,
        attention="additive",
        **kwargs,
    ):
        check_positive_int("source_vocabulary_size", source_vocabulary_size)
        check_positive_int("target_vocabulary_size", target_vocabulary_size)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("hidden_dim", hidden_dim)
        check_rate("dropout", dropout)
        if attention not in ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {ATTENTIONS}. Received: attention={attention!r}"
            )
        super().__init__(**kwargs)
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.attention = attention

        # === Layers ===
        policy = self.dtype_policy
        self.source_embedding = keras.layers.Embedding(
            source_vocabulary_size, embedding_dim, dtype=policy, name="source_embedding"
        )
        self.target_embedding = keras.layers.Embedding(
            target_vocabulary_size, embedding_dim, dtype=policy, name="target_embedding"
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=policy, name="embedding_dropout"
        )
        # Zero outputs at padding: the encoder outputs of a sentence do not depend
        # on how far it is padded (the attention masks them out anyway).
        encoder = dict(return_sequences=True, return_state=True, zero_output_for_mask=True)
        self.forward_encoder = LSTM(hidden_dim, **encoder, dtype=policy, name="forward_encoder")
        self.backward_encoder = LSTM(
            hidden_dim, go_backwards=True, **encoder, dtype=policy, name="backward_encoder"
        )
        self.bridge_h = keras.layers.Dense(hidden_dim, dtype=policy, name="bridge_h")
        self.bridge_c = keras.layers.Dense(hidden_dim, dtype=policy, name="bridge_c")
        self.decoder = LSTM(hidden_dim, return_sequences=True, dtype=policy, name="decoder")
        if attention == "additive":
            self.attention_layer = AdditiveAttention(
                units=hidden_dim, dtype=policy, name="attention"
            )
        else:
            self.attention_layer = DotProductAttention(
                score_mode="general", dtype=policy, name="attention"
            )
        self.attentional_hidden = keras.layers.Dense(  # W_c of h̃ = tanh(W_c [c; h])
            hidden_dim, activation="tanh", use_bias=False, dtype=policy, name="attentional_hidden"
        )
        self.output_dropout = keras.layers.Dropout(dropout, dtype=policy, name="output_dropout")
        self.output_projection = keras.layers.Dense(
            target_vocabulary_size, dtype=policy, name="output_projection"
        )

        # === Weights: every shape is known, so they exist from the start ===
        self.build()

    def build(self, input_shape=None):
        hidden, encoded = self.hidden_dim, 2 * self.hidden_dim
        embedded = (None, None, self.embedding_dim)
        shapes = [
            (self.source_embedding, (None, None)),
            (self.target_embedding, (None, None)),
            (self.forward_encoder, embedded),
            (self.backward_encoder, embedded),
            (self.bridge_h, (None, encoded)),
            (self.bridge_c, (None, encoded)),
            (self.decoder, embedded),
            (self.attention_layer, [(None, None, hidden), (None, None, encoded)]),
            (self.attentional_hidden, (None, None, encoded + hidden)),
            (self.output_projection, (None, None, hidden)),
        ]
        for layer, shape in shapes:
            if not layer.built:  # (load_model builds again)
                layer.build(shape)
        self.built = True

    # --- encoder ----------------------------------------------------------------
    def _encode(self, source_ids, training=False):
        source_ids = ops.cast(source_ids, "int32")
        mask = ops.not_equal(source_ids, PAD_ID)  # (batch, S)
        x = self.embedding_dropout(self.source_embedding(source_ids), training=training)
        forward, forward_h, forward_c = self.forward_encoder(x, mask=mask)
        backward, backward_h, backward_c = self.backward_encoder(x, mask=mask)
        # `go_backwards` returns the outputs in reading order: flip them back so that
        # position j holds [→h_j; ←h_j]. The final states are those after the last
        # real token (forward) and after token 0 (backward): masked steps keep them.
        outputs = ops.concatenate([forward, ops.flip(backward, axis=1)], axis=-1)
        initial_h = self.bridge_h(ops.concatenate([forward_h, backward_h], axis=-1))
        initial_c = self.bridge_c(ops.concatenate([forward_c, backward_c], axis=-1))
        return {
            "encoder_outputs": outputs,  # (batch, S, 2 * hidden)
            "attention_keys": self._attention_keys(outputs),  # (batch, S, key size)
            "source_mask": ops.cast(mask, "int32"),  # (batch, S), 1 for real tokens
            "initial_h": initial_h,  # (batch, hidden)
            "initial_c": initial_c,  # (batch, hidden)
        }

    def encode(self, source_ids):
        """The encoder state of `source_ids` `(batch, S)`, computed once a sentence.

        Returns:
            a dict of batch-major tensors: `encoder_outputs` `(batch, S,
            2 * hidden_dim)`, `attention_keys` `(batch, S, hidden_dim)` (the
            encoder side of the attention score, projected once), `source_mask`
            `(batch, S)` int32 (1 for real tokens), and the decoder's initial
            state `initial_h`, `initial_c` `(batch, hidden_dim)`.
        """
        self._check_ids("source_ids", source_ids, self.source_vocabulary_size)
        return self._encode(source_ids)

    # --- attention ----------------------------------------------------------------
    def _weight(self, variable):
        return ops.cast(variable, self.compute_dtype)

    def _attention_keys(self, encoder_outputs):
        """The encoder-side term of the score, once a sentence rather than once a step."""
        layer = self.attention_layer
        if self.attention == "additive":  # W₂ s_j
            return ops.matmul(encoder_outputs, self._weight(layer.key_kernel))
        # h_tᵀ W s_j = h_t · (W s_j): the projected keys are W s_j, (batch, S, hidden).
        return ops.matmul(encoder_outputs, ops.transpose(self._weight(layer.kernel)))

    def _attend(self, query, encoder_state):
        """The layer's attention with the keys projected in advance.

        Args:
            query: `(batch, Tq, hidden)`, the decoder outputs.
            encoder_state: what `encode` returns.

        Returns:
            context `(batch, Tq, 2 * hidden)` and weights `(batch, Tq, S)`; equal
            to `self.attention_layer([query, encoder_outputs], mask=[None, mask])`.
        """
        layer = self.attention_layer
        keys = encoder_state["attention_keys"]  # (batch, S, key size)
        if self.attention == "additive":
            query = ops.matmul(query, self._weight(layer.query_kernel))  # (batch, Tq, units)
            hidden = ops.expand_dims(query, 2) + ops.expand_dims(keys, 1)  # (b, Tq, S, units)
            hidden = ops.tanh(hidden + self._weight(layer.bias))
            scores = ops.sum(hidden * self._weight(layer.scale), axis=-1)  # (batch, Tq, S)
        else:
            scores = ops.matmul(query, ops.swapaxes(keys, 1, 2))  # (batch, Tq, S)
        mask = ops.expand_dims(ops.cast(encoder_state["source_mask"], "bool"), 1)
        weights = masked_softmax(scores, mask)  # (batch, Tq, S); 0 at padding
        return ops.matmul(weights, encoder_state["encoder_outputs"]), weights

    def _output_logits(self, decoder_outputs, encoder_state, training=False):
        context, weights = self._attend(decoder_outputs, encoder_state)
        hidden = self.attentional_hidden(ops.concatenate([context, decoder_outputs], axis=-1))
        hidden = self.output_dropout(hidden, training=training)
        return self.output_projection(hidden), weights

    # --- teacher forcing ----------------------------------------------------------
    def call(self, inputs, training=False, return_attention_scores=False):
        source_ids, target_ids = _unpack(inputs)
        self._check_ids("source_ids", source_ids, self.source_vocabulary_size)
        self._check_ids("target_ids", target_ids, self.target_vocabulary_size)
        encoder_state = self._encode(source_ids, training=training)
        x = self.embedding_dropout(
            self.target_embedding(ops.cast(target_ids, "int32")), training=training
        )
        # No target mask: the decoder is causal and the padding is on the right,
        # so it changes no output at a real position.
        decoder_outputs = self.decoder(
            x, initial_state=[encoder_state["initial_h"], encoder_state["initial_c"]]
        )  # (batch, T, hidden)
        logits, weights = self._output_logits(decoder_outputs, encoder_state, training)
        if return_attention_scores:
            return logits, weights
        return logits

    def compute_output_shape(self, input_shape):
        target_shape = input_shape["target_ids"]
        return (*target_shape, self.target_vocabulary_size)

    # --- step by step -------------------------------------------------------------
    def start_decoding(self, encoder_state, max_length):
        """The decoder state before the first (bos) step.

        Args:
            encoder_state: what `encode` returns.
            max_length: the longest target decoded (unused: the LSTM state does
                not grow; kept for the interface shared with the Transformer).

        Returns:
            `{"h": (batch, hidden_dim), "c": (batch, hidden_dim)}`.
        """
        check_positive_int("max_length", max_length)
        return {"h": encoder_state["initial_h"], "c": encoder_state["initial_c"]}

    def decode_step(self, encoder_state, decoder_state, token_ids, position):
        """One decoder step: the logits of the token after `token_ids`.

        Args:
            encoder_state: what `encode` returns (rows repeated for beams).
            decoder_state: what `start_decoding` or the previous step returns.
            token_ids: `(batch,)` int, the current target token (bos first).
            position: `()` int, its index in the target (unused: the LSTM state
                carries it; kept for the interface shared with the Transformer).

        Returns:
            `(logits (batch, target_vocabulary_size) float32, decoder_state)`,
            the new state with the same keys and shapes.
        """
        del position
        x = self.target_embedding(ops.cast(token_ids, "int32"))  # (batch, embedding_dim)
        h, (h, c) = self.decoder.step(x, [decoder_state["h"], decoder_state["c"]])
        logits, _ = self._output_logits(ops.expand_dims(h, 1), encoder_state)
        return ops.cast(logits[:, 0], "float32"), {"h": h, "c": c}

    # --- checks and config ----------------------------------------------------------
    def _check_ids(self, name, ids, vocabulary_size):
        """Refuses eager ids outside the vocabulary (symbolic ones pass)."""
        value = concrete_value(ids)
        if value is not None:
            if value.ndim != 2:
                raise ValueError(
                    f"`{name}` must be (batch, seq) ids. Received: {name} of shape {value.shape}"
                )
            limit_name = name.split("_")[0] + "_vocabulary_size"
            check_ids_in_range(name, value, vocabulary_size, limit_name)

    def get_config(self):
        config = super().get_config()
        config.update(
            source_vocabulary_size=self.source_vocabulary_size,
            target_vocabulary_size=self.target_vocabulary_size,
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            dropout=self.dropout,
            attention=self.attention,
        )
        return config


def _unpack(inputs):
    if not isinstance(inputs, dict) or not {"source_ids", "target_ids"} <= set(inputs):
        keys = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise ValueError(
            '`RNNTranslator` takes a dict {"source_ids": (batch, S), "target_ids": '
            f"(batch, T)}}. Received: {keys}"
        )
    return inputs["source_ids"], inputs["target_ids"]

"""`SpellingModel`: the character seq2seq of the spelling recipe, registered for `.keras` files."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.export.signatures import Signature
from keras_nlpkit.layers import LSTM
from keras_nlpkit.layers import DotProductAttention


def unrolled(lstm, x, mask=None):
    """`lstm(x, mask=mask)` as `step` calls over the static length of `x`."""
    h, c = lstm.get_initial_state(ops.shape(x)[0])
    outputs = []
    for t in range(x.shape[1]):
        y, (h_new, c_new) = lstm.step(x[:, t], [h, c])
        if mask is not None:  # a masked step keeps the state and repeats the output
            keep = ops.expand_dims(mask[:, t], -1)
            h_new, c_new = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
        h, c = h_new, c_new
        outputs.append(h)
    return ops.stack(outputs, axis=1)


@nlpkit_export("keras_nlpkit.models.SpellingModel")
class SpellingModel(keras.Model):
    """Character seq2seq for spelling: BiLSTM encoder, LSTM decoder with Luong "general" attention.

    The encoder reads the misspelling with a forward `keras_nlpkit.layers.LSTM`
    and one over the reversed characters; the decoder writes the correction with
    an LSTM and `DotProductAttention(score_mode="general")` over the encoder
    outputs. The decoder starts from a zero state and reads, at each step, the
    previous character next to a summary of the whole misspelling; so every LSTM
    runs from a zero state without a mask at batch 1, which is what TFLite's fused
    kernel computes, and the export has no loop.

    Args:
        vocabulary_size: number of character ids.
        embedding_dim: size of the character embedding (shared by both sides).
        encoder_units: units of each encoder direction.
        decoder_units: units of the decoder LSTM.
        summary_dim: size of the word summary the decoder reads at every step.
        max_length: the longest word the exported signatures read.
        pad_id: the padding id (masked in the encoder).
        **kwargs: `keras.Model` arguments.

    Call: `{"chars": (batch, T), "decoder_inputs": (batch, U)}` (ids, `pad_id`
    padding) → logits `(batch, U, vocab)`, teacher-forced.
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim=32,
        encoder_units=128,
        decoder_units=192,
        summary_dim=64,
        max_length=20,
        pad_id=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.pad_id = pad_id
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.encoder_units = encoder_units
        self.decoder_units = decoder_units
        self.summary_dim = summary_dim
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")
        self.forward_lstm = LSTM(encoder_units, return_sequences=True, name="forward_lstm")
        # Reads the reversed characters (reversed by us, not `go_backwards`, so
        # the outputs line up with the characters the same way in every path).
        self.backward_lstm = LSTM(encoder_units, return_sequences=True, name="backward_lstm")
        self.summary = keras.layers.Dense(summary_dim, activation="tanh", name="summary")
        self.decoder_lstm = LSTM(decoder_units, return_sequences=True, name="decoder_lstm")
        self.attention = DotProductAttention(score_mode="general", name="attention")
        self.combine = keras.layers.Dense(decoder_units, activation="tanh", name="combine")
        self.logits = keras.layers.Dense(vocabulary_size, name="logits")

    # --- the pieces the signatures share ---------------------------------------
    def encode(self, chars, mask=None):
        """chars (batch, T) → encoder outputs (batch, T, 2 * units), summary."""
        x = self.embedding(chars)
        forward = self.forward_lstm(x, mask=mask)
        reversed_mask = None if mask is None else ops.flip(mask, axis=1)
        backward = self.backward_lstm(ops.flip(x, axis=1), mask=reversed_mask)
        # With padding on the right and a mask, the forward output at T - 1
        # repeats the last real one and the reversed pass ends on character 0.
        summary = self.summary(ops.concatenate([forward[:, -1], backward[:, -1]], -1))
        outputs = ops.concatenate([forward, ops.flip(backward, axis=1)], axis=-1)
        return outputs, summary

    def decoder_input(self, tokens, summary):
        """Embedded previous characters next to the word summary, (batch, U, e + s)."""
        x = self.embedding(tokens)
        summary = ops.broadcast_to(
            ops.expand_dims(summary, 1), (ops.shape(x)[0], ops.shape(x)[1], self.summary_dim)
        )
        return ops.concatenate([x, summary], axis=-1)

    def output_logits(self, decoder_outputs, encoder_outputs, mask=None):
        context = self.attention(
            [decoder_outputs, encoder_outputs], mask=None if mask is None else [None, mask]
        )
        hidden = self.combine(ops.concatenate([decoder_outputs, context], axis=-1))
        return self.logits(hidden)

    def call(self, inputs, training=False):
        chars, decoder_inputs = inputs["chars"], inputs["decoder_inputs"]
        mask = ops.not_equal(chars, self.pad_id)
        encoder_outputs, summary = self.encode(chars, mask)
        decoder_outputs = self.decoder_lstm(self.decoder_input(decoder_inputs, summary))
        return self.output_logits(decoder_outputs, encoder_outputs, mask)

    # --- export ------------------------------------------------------------------
    def export_signatures(self):
        """`serving_default`, `encode` and `decode_step` for `keras_nlpkit.export`.

        - `serving_default`: chars (1, max_length), decoder_inputs (1,
          max_length + 1), `pad_id`-padded → logits (1, max_length + 1, vocab):
          `call` itself, teacher-forced (the export report's parity check);
        - `encode`: chars (1, max_length), `pad_id`-padded → encoder_outputs
          (1, max_length, 2 units), summary (1, s); the outputs past the word's
          length are padding, which the caller cuts off;
        - `decode_step`: token (1,), decoder_lstm_h/_c (1, units),
          encoder_outputs (1, max_length, 2 units) and summary (1, s) as `encode`
          gave them, chars (1, max_length) as `encode` read them (the padding is
          masked out of the attention) → logits (1, vocab), decoder_lstm_h/_c.
          Every shape is static, batch 1: LiteRT.js runs a signature only on
          tensors of its declared shape, so a host calls it once a row (beams,
          candidates).

        The LSTMs are unrolled over the fixed length with `step` and the mask,
        not run as TFLite's fused LSTM kernel: a masked LSTM would otherwise
        become a loop, and the fused kernel keeps its state in variable tensors
        that the interpreter cannot reset while another signature holding them
        is unallocated. With no state tensors, every call is independent.
        """

        def encode_unrolled(chars):
            mask = ops.not_equal(chars, self.pad_id)
            x = self.embedding(chars)
            forward = unrolled(self.forward_lstm, x, mask)
            backward = unrolled(self.backward_lstm, ops.flip(x, axis=1), ops.flip(mask, axis=1))
            summary = self.summary(ops.concatenate([forward[:, -1], backward[:, -1]], -1))
            encoder_outputs = ops.concatenate([forward, ops.flip(backward, axis=1)], -1)
            return encoder_outputs, summary, mask

        def serve(chars, decoder_inputs):
            encoder_outputs, summary, mask = encode_unrolled(chars)
            decoder_outputs = unrolled(
                self.decoder_lstm, self.decoder_input(decoder_inputs, summary)
            )
            return {"logits": self.output_logits(decoder_outputs, encoder_outputs, mask)}

        def encode(chars):
            encoder_outputs, summary, _ = encode_unrolled(chars)
            return {"encoder_outputs": encoder_outputs, "summary": summary}

        def decode_step(token, decoder_lstm_h, decoder_lstm_c, encoder_outputs, summary, chars):
            x = ops.concatenate([self.embedding(token), summary], axis=-1)
            h, (h, c) = self.decoder_lstm.step(x, [decoder_lstm_h, decoder_lstm_c])
            mask = ops.not_equal(chars, self.pad_id)
            logits = self.output_logits(ops.expand_dims(h, 1), encoder_outputs, mask)[:, 0]
            return {"logits": logits, "decoder_lstm_h": h, "decoder_lstm_c": c}

        ids = lambda name, n=None: tf.TensorSpec((1, n), tf.int32, name=name)  # noqa: E731
        width = 2 * self.encoder_units
        return [
            Signature(
                "serving_default",
                serve,
                [ids("chars", self.max_length), ids("decoder_inputs", self.max_length + 1)],
            ),
            Signature("encode", encode, [ids("chars", self.max_length)]),
            Signature(
                "decode_step",
                decode_step,
                [
                    tf.TensorSpec((1,), tf.int32, name="token"),
                    tf.TensorSpec((1, self.decoder_units), tf.float32, name="decoder_lstm_h"),
                    tf.TensorSpec((1, self.decoder_units), tf.float32, name="decoder_lstm_c"),
                    tf.TensorSpec((1, self.max_length, width), tf.float32, name="encoder_outputs"),
                    tf.TensorSpec((1, self.summary_dim), tf.float32, name="summary"),
                    ids("chars", self.max_length),
                ],
            ),
        ]

    def calibration_records(self, samples, reference):
        """(signature, inputs) for int8 calibration of `encode` and `decode_step`:
        what they see while decoding the samples' corrections, teacher-forced."""
        records = []
        for sample in samples:
            chars = sample["chars"]
            length = int(np.sum(chars[0] != self.pad_id))
            targets = sample["decoder_inputs"][0]
            targets = targets[targets != self.pad_id]
            if length == 0 or targets.size == 0:
                continue
            records.append(("encode", {"chars": chars}))
            encoded = reference("encode", {"chars": chars})
            state = {
                name: np.zeros((1, self.decoder_units), np.float32)
                for name in ("decoder_lstm_h", "decoder_lstm_c")
            }
            for token in targets:
                inputs = {
                    "token": np.asarray([token], np.int32),
                    **state,
                    "encoder_outputs": encoded["encoder_outputs"],
                    "summary": encoded["summary"],
                    "chars": chars,
                }
                records.append(("decode_step", inputs))
                out = reference("decode_step", inputs)
                state = {name: out[name] for name in state}
        return records

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            embedding_dim=self.embedding_dim,
            encoder_units=self.encoder_units,
            decoder_units=self.decoder_units,
            summary_dim=self.summary_dim,
            max_length=self.max_length,
            pad_id=self.pad_id,
        )
        return config

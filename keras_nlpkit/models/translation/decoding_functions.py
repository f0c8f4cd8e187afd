"""The compiled `encode` / `decode_step` / row gather the searches run (not public)."""

import weakref

import keras
import numpy as np
from keras import ops
from keras import tree

_FUNCTIONS = weakref.WeakKeyDictionary()


class DecodingFunctions:
    """A translator's `encode`, `start_decoding`, `decode_step` and row gather.

    On TensorFlow they are `tf.function`s (traced once per shape; the position
    is a tensor, so a step is not retraced per position); on other backends
    they run eagerly.
    """

    def __init__(self, model):
        self.model = model
        encode, step, gather = model.encode, model.decode_step, _gather
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            # No autograph: no tensor-dependent Python control flow to convert.
            encode = tf.function(encode, reduce_retracing=True, autograph=False)
            step = tf.function(step, reduce_retracing=True, autograph=False)
            gather = tf.function(gather, reduce_retracing=True, autograph=False)
        self._encode, self._step, self._gather = encode, step, gather

    @classmethod
    def of(cls, model):
        if model not in _FUNCTIONS:
            _FUNCTIONS[model] = cls(model)
        return _FUNCTIONS[model]

    def encode(self, source_ids):
        return self._encode(np.asarray(source_ids, "int32"))

    def start_decoding(self, encoder_state, max_length):
        return self.model.start_decoding(encoder_state, max_length)

    def decode_step(self, encoder_state, decoder_state, token_ids, position):
        """`(logits as float32 NumPy (rows, vocab), new decoder state)`."""
        logits, state = self._step(
            encoder_state,
            decoder_state,
            np.asarray(token_ids, "int32"),
            np.asarray(position, "int32"),
        )
        return np.asarray(ops.convert_to_numpy(logits), "float32"), state

    def gather(self, state, rows):
        """Every value's rows `rows` (the beam reordering)."""
        return self._gather(state, np.asarray(rows, "int32"))

    def repeat(self, state, times):
        """Each row repeated `times` times, adjacent (batch → batch × beams)."""
        rows = np.repeat(np.arange(_batch_size(state)), times)
        return self.gather(state, rows)


def _gather(state, rows):
    return tree.map_structure(lambda x: ops.take(x, rows, axis=0), state)


def _batch_size(state):
    return int(tree.flatten(state)[0].shape[0])

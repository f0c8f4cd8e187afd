"""`AdaptiveSoftmax`: exact log-probabilities over a large vocabulary at a fraction of the cost."""

import math
import numbers

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.backend import data_dependent_shapes
from keras_nlpkit.checks import check_ids_in_range
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import concrete_value
from keras_nlpkit.layers.initializers import clone_initializer


@nlpkit_export("keras_nlpkit.layers.AdaptiveSoftmax")
class AdaptiveSoftmax(keras.layers.Layer):
    """Adaptive softmax: exact log-probabilities over a large vocabulary, cheaply.

    An output layer in place of `Dense(vocabulary_size)` + softmax (Grave et al.,
    2017). The vocabulary is split at `cutoffs = [c1, c2, ...]` into a head, the
    `c1` most frequent words, and tail clusters `[c1, c2)`, `[c2, c3)`, ...,
    `[c_last, vocabulary_size)`. The head is a softmax over its `c1` words plus one
    entry per tail cluster; tail cluster `i` (from 1) projects the hidden state to
    `hidden_dim // div_value**i` dimensions and has its own softmax over its words:

        log P(w) = log P_head(w)                                   w in the head
        log P(w) = log P_head(cluster i) + log P_i(w | cluster i)  w in tail i

    Every distribution is normalised, so the probabilities over the vocabulary sum
    to 1: the log-probabilities are exact, not an estimate. With `cutoffs=[]` it is
    `Dense(vocabulary_size)` followed by a log-softmax, with the same weights
    (`head`).

    Token ids must be sorted by frequency, most frequent first (id 0 the most
    frequent word): that is the caller's job, when the vocabulary is built.

    Training: called with `targets`, the layer returns each target's
    log-probability `(batch, seq)` and adds the mean negative log-likelihood
    (masked, when a Keras mask reaches it) as the model's loss (`add_loss`,
    Keras' endpoint-layer pattern), so `model.compile(optimizer)` without a
    `loss` and `model.fit({"token_ids": x, "targets": y})` train it, and
    `model.evaluate` gives the mean NLL (`exp` of it is the perplexity). This is
    where the savings are: the head runs at every position, a tail cluster only
    at the positions whose target is in it, through its small projection, and
    nothing of size `vocabulary_size` is built (`log_prob`). At 33k words,
    hidden 256, cutoffs `[2000, 10000]`, a train step is about 9× faster than
    the full softmax's on CPU (`benchmarks/adaptive_softmax.py`). Under JAX, whose
    `jit` needs static shapes, every tail runs at every position (`log_prob`).

    Inference and export: called without `targets`, it returns the
    log-probabilities over the whole vocabulary (builtin TFLite ops). A model
    ending there can also be trained with
    `SparseCategoricalCrossentropy(from_logits=True)` (log-probabilities are
    their own log-softmax), but then every cluster runs at every position and
    the step costs about as much as the full softmax's.

    Args:
        vocabulary_size: positive int, the number of words `V`.
        cutoffs: strictly increasing ints in `[1, V)`; `[]` for one class (a full
            softmax). E.g. `[2000, 10000]` for 33k words.
        div_value: positive number, the ratio between the projection sizes of
            successive tail clusters; `4.0`.
        use_bias: whether the head and the tail output matrices have a bias (the
            tail projections have none).
        kernel_initializer, bias_initializer: initializers of every matrix and bias.
        kernel_regularizer, bias_regularizer: regularizers of the same.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, ..., hidden_dim)` hidden states.
        targets: optional int `(batch, ...)`, the next tokens: then the output is
            their log-probabilities and the layer adds the loss.
        mask: optional boolean `(batch, ...)`, `True` at the positions the loss
            counts (a Keras mask from `Embedding(mask_zero=True)` arrives here).

    Returns:
        `(batch, ..., vocabulary_size)` log-probabilities, or with `targets`,
        `(batch, ...)` the targets' log-probabilities; in the compute dtype.

    Example:
    ```python
    import keras
    import numpy as np
    import keras_nlpkit

    vocabulary_size = 50
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    targets = keras.Input((None,), dtype="int32", name="targets")
    x = keras.layers.Embedding(vocabulary_size, 16)(token_ids)
    hidden = keras_nlpkit.layers.LSTM(16, return_sequences=True)(x)  # (batch, seq, 16)
    output = keras_nlpkit.layers.AdaptiveSoftmax(vocabulary_size, cutoffs=[10, 30])

    # Training: the layer adds the loss (mean negative log-likelihood).
    trainer = keras.Model([token_ids, targets], output(hidden, targets=targets))
    trainer.compile(keras.optimizers.Adam(1e-2))
    ids = np.random.default_rng(0).integers(0, vocabulary_size, (8, 7))
    trainer.fit({"token_ids": ids[:, :-1], "targets": ids[:, 1:]}, epochs=1, verbose=0)

    # Inference and export: log-probabilities over the vocabulary.
    model = keras.Model(token_ids, output(hidden))
    log_probs = model(ids[:2, :-1])  # (2, 6, 50)
    tuple(log_probs.shape)  # (2, 6, 50)
    ```

    References:
        - [Grave et al., 2017](https://arxiv.org/abs/1609.04309)
        - [Goodman, 2001](https://arxiv.org/abs/cs/0108006) (class-based softmax)
    """

    def __init__(
        self,
        vocabulary_size,
        cutoffs=(),
        div_value=4.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("vocabulary_size", vocabulary_size)
        cutoffs = _check_cutoffs(cutoffs, vocabulary_size)
        if (
            isinstance(div_value, bool)
            or not isinstance(div_value, numbers.Real)
            or not math.isfinite(div_value)
            or div_value <= 0
        ):
            raise ValueError(
                f"`div_value` must be a positive number. Received: div_value={div_value!r}"
            )
        self.vocabulary_size = vocabulary_size
        self.cutoffs = cutoffs
        self.div_value = float(div_value)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.supports_masking = True
        # Cluster i covers ids [bounds[i], bounds[i + 1]); cluster 0 is the head's words.
        self._bounds = [0, *cutoffs, vocabulary_size]
        self._shortlist = self._bounds[1]
        self._num_tails = len(cutoffs)

    def _dense(self, units, use_bias, name, input_shape):
        layer = keras.layers.Dense(
            units,
            use_bias=use_bias,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            dtype=self.dtype_policy,
            name=name,
        )
        layer.build(input_shape)
        return layer

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim is None:
            raise ValueError(
                "The last axis of the inputs (hidden_dim) must be known. "
                f"Received: inputs of shape {tuple(inputs_shape)}"
            )
        # Head: the shortlist's words, then one entry per tail cluster.
        self.head = self._dense(
            self._shortlist + self._num_tails, self.use_bias, "head", inputs_shape
        )
        self.tail_projections = []
        self.tail_outputs = []
        for i in range(1, self._num_tails + 1):
            projection_dim = max(1, int(hidden_dim // self.div_value**i))
            size = self._bounds[i + 1] - self._bounds[i]
            projection = self._dense(projection_dim, False, f"tail_{i}_projection", inputs_shape)
            output = self._dense(
                size, self.use_bias, f"tail_{i}_output", (*inputs_shape[:-1], projection_dim)
            )
            self.tail_projections.append(projection)
            self.tail_outputs.append(output)

    def _tail_logits(self, inputs, i):
        """Float32 logits of tail cluster `i` (from 0) over its words, `(..., size)`."""
        projected = self.tail_projections[i](inputs)  # (..., hidden_dim / div_value**(i+1))
        return ops.cast(self.tail_outputs[i](projected), "float32")

    def call(self, inputs, targets=None, mask=None):
        if targets is None:
            return ops.cast(self.log_probs(inputs), self.compute_dtype)
        log_prob = self.log_prob(inputs, targets)  # (batch, ...) float32
        if mask is None:
            loss = -ops.mean(log_prob)
        else:
            weights = ops.cast(mask, "float32")
            loss = -ops.sum(log_prob * weights) / ops.maximum(ops.sum(weights), 1.0)
        self.add_loss(loss)
        return ops.cast(log_prob, self.compute_dtype)

    def log_probs(self, inputs):
        """Float32 log-probabilities over the whole vocabulary, `(..., vocabulary_size)`."""
        head = ops.log_softmax(ops.cast(self.head(inputs), "float32"), axis=-1)
        if not self._num_tails:
            return head
        # (..., shortlist), then (..., 1) for each cluster: split is one builtin TFLite op.
        words, *clusters = ops.split(
            head, [self._shortlist + i for i in range(self._num_tails)], axis=-1
        )
        parts = [words]
        for i, cluster in enumerate(clusters):
            parts.append(ops.log_softmax(self._tail_logits(inputs, i), axis=-1) + cluster)
        return ops.concatenate(parts, axis=-1)

    def log_prob(self, inputs, targets):
        """Float32 log-probability of each target, `(batch, ...)`.

        Computed without the `(..., vocabulary_size)` output: the head's
        log-softmax at every position, and each tail cluster's log-softmax only at
        the positions whose target lies in it (rows gathered by `nonzero`, a
        shape that depends on the data). Under JAX, whose `jit` needs static
        shapes, every cluster is computed at every position and selected instead:
        the same numbers, at a higher cost. Eager targets outside
        `[0, vocabulary_size)` are refused.
        """
        ids = concrete_value(targets)
        if ids is not None:
            check_ids_in_range("targets", ids, self.vocabulary_size, "vocabulary_size")
        targets = ops.cast(targets, "int32")
        head = ops.log_softmax(ops.cast(self.head(inputs), "float32"), axis=-1)
        if not self._num_tails:
            return _gather_last(head, targets)
        # 0 for the head's words, i for tail cluster i.
        cluster = sum(ops.cast(targets >= c, "int32") for c in self.cutoffs)
        head_index = ops.where(cluster == 0, targets, self._shortlist - 1 + cluster)
        result = _gather_last(head, head_index)  # (batch, ...)
        if not data_dependent_shapes():
            for i in range(self._num_tails):
                low, high = self._bounds[i + 1], self._bounds[i + 2]
                logits = self._tail_logits(inputs, i)  # (batch, ..., high - low)
                local = ops.clip(targets - low, 0, high - low - 1)
                word = _gather_last(logits, local) - ops.logsumexp(logits, axis=-1)
                result = result + ops.where(cluster == i + 1, word, 0.0)
            return result
        shape = ops.shape(targets)
        inputs = ops.reshape(inputs, (-1, inputs.shape[-1]))  # (positions, hidden_dim)
        targets, cluster, result = (ops.reshape(x, (-1,)) for x in (targets, cluster, result))
        positions = ops.shape(targets)[0]
        for i in range(self._num_tails):
            (rows,) = ops.nonzero(cluster == i + 1)  # (rows,)
            rows = ops.cast(rows, "int32")
            logits = self._tail_logits(ops.take(inputs, rows, axis=0), i)  # (rows, size)
            local = ops.take(targets, rows, axis=0) - self._bounds[i + 1]
            word = _gather_last(logits, local) - ops.logsumexp(logits, axis=-1)
            result = result + ops.scatter(ops.expand_dims(rows, -1), word, (positions,))
        return ops.reshape(result, shape)

    def compute_output_shape(self, inputs_shape, targets_shape=None):
        if targets_shape is not None:
            return tuple(targets_shape)
        return (*inputs_shape[:-1], self.vocabulary_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "cutoffs": list(self.cutoffs),
                "div_value": self.div_value,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            }
        )
        return config


def _gather_last(values, index):
    """`values[..., index]` for an index of shape `values.shape[:-1]`."""
    return ops.squeeze(ops.take_along_axis(values, ops.expand_dims(index, -1), axis=-1), -1)


def _check_cutoffs(cutoffs, vocabulary_size):
    """The cutoffs as a list, if strictly increasing ints in [1, vocabulary_size)."""
    integers = isinstance(cutoffs, (list, tuple)) and all(
        isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in cutoffs
    )
    bounds = [0, *map(int, cutoffs), vocabulary_size] if integers else []
    if not integers or any(low >= high for low, high in zip(bounds, bounds[1:])):
        raise ValueError(
            "`cutoffs` must be strictly increasing integers in [1, vocabulary_size) "
            f"(vocabulary_size={vocabulary_size}). Received: cutoffs={cutoffs!r}"
        )
    return bounds[1:-1]

"""The GloVe model as Keras layers, and the tf.data stream it trains on."""

import keras
import numpy as np
from keras import ops

from keras_nlpkit import backend
from keras_nlpkit.api_export import nlpkit_export


def weighting(x, x_max, alpha):
    """GloVe's f(x) = min(1, (x / x_max) ** alpha); f(0) = 0."""
    return np.minimum(1.0, np.power(np.asarray(x, np.float64) / x_max, alpha)).astype(np.float32)


@nlpkit_export("keras_nlpkit.glove.GloVe")
class GloVe(keras.Model):
    """GloVe word vectors: two embedding tables and two bias tables.

    The model predicts log X_ij as `w_i . w~_j + b_i + b~_j`. Trained with
    `compile(loss=glove_loss())` and `fit` on `glove_dataset`, it minimises
    Pennington et al.'s J = sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2
    over the non-zero X_ij (the `sample_weight` is f(X_ij)).

    On the TensorFlow backend `train_step` computes J's gradients in closed form
    and sums them per word with a sorted segment sum (each batch of
    `glove_dataset` comes sorted by word, with the order that sorts it by
    context word). This is our own step, written because autodiff through two
    embedding lookups gives per-pair gradients that TF scatters one row at a
    time; `benchmarks/glove.py --train-step autodiff` measures the difference.
    Other backends take Keras' generic step (autodiff), with the same result.

    Args:
        vocabulary_size: number of words.
        dim: vector size.
        **kwargs: passed to `keras.Model`.

    Example:
    ```python
    counts = keras_nlpkit.glove.count_cooccurrences(["corpus.txt"], min_count=1)
    model = keras_nlpkit.glove.GloVe(len(counts.words), dim=50)
    model.compile(optimizer=keras.optimizers.Adagrad(0.05), loss=glove_loss())
    model.fit(glove_dataset(counts, batch_size=4096), epochs=15)
    vectors = model.word_vectors()  # (vocab, dim): w_i + w~_i
    ```

    References:
        Pennington, Socher, Manning. GloVe: Global Vectors for Word Representation.
        EMNLP 2014. https://nlp.stanford.edu/pubs/glove.pdf
    """

    def __init__(self, vocabulary_size, dim, **kwargs):
        if vocabulary_size < 1:
            raise ValueError(f"vocabulary_size must be >= 1. Received: vocabulary_size={vocabulary_size}")
        if dim < 1:
            raise ValueError(f"dim must be >= 1. Received: dim={dim}")
        kwargs.setdefault("name", "glove")
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.dim = dim
        # Stanford's initialisation: uniform in [-0.5, 0.5) / dim, biases too.
        scale = 0.5 / dim
        init = keras.initializers.RandomUniform(-scale, scale)

        def table(width, name):
            layer = keras.layers.Embedding(vocabulary_size, width, embeddings_initializer=init,
                                           dtype=self.dtype_policy, name=name)
            layer.build((None,))
            return layer

        self.word_embedding = table(dim, "word_embedding")
        self.context_embedding = table(dim, "context_embedding")
        self.word_bias = table(1, "word_bias")
        self.context_bias = table(1, "context_bias")
        self.built = True  # every weight exists now (BackupAndRestore needs a built model)

    def call(self, inputs):
        i, j = inputs["i"], inputs["j"]
        dot = ops.sum(self.word_embedding(i) * self.context_embedding(j), axis=-1)
        return dot + self.word_bias(i)[..., 0] + self.context_bias(j)[..., 0]

    def word_vectors(self):
        """The saved vector of each word: w_i + w~_i, as a NumPy (vocab, dim) array."""
        return ops.convert_to_numpy(
            self.word_embedding.embeddings + self.context_embedding.embeddings
        )

    def train_step(self, *args):
        if keras.backend.backend() != "tensorflow":
            return super().train_step(*args)  # (state, data) on JAX, (data,) elsewhere
        ((x, log_x, weight),) = args
        loss, prediction, grads = self.closed_form_gradients(x, log_x, weight)
        self.optimizer.apply(grads, self._tables())
        # Keras' own loss tracker, fed as its train_step feeds it (a mean over batches).
        self._loss_tracker.update_state(loss, sample_weight=ops.shape(x["i"])[0])
        return self.compute_metrics(x, log_x, prediction, weight)

    def _tables(self):
        return [self.word_embedding.embeddings, self.context_embedding.embeddings,
                self.word_bias.embeddings, self.context_bias.embeddings]

    def closed_form_gradients(self, x, log_x, weight):
        """(loss, prediction, gradients of the four tables) for one `glove_dataset` batch.

        The gradients are dense (vocab, ...) tensors, per word sums of the
        per-pair gradients, in the order of `[word_embedding, context_embedding,
        word_bias, context_bias]`.
        """
        i, j = x["i"], x["j"]  # (batch,) each, sorted by i
        # The same pairs sorted by context word: `by_context` is the permutation.
        by_context, i_by_context, j_sorted = x["by_context"], x["i_by_context"], x["j_sorted"]
        words, contexts, word_bias, context_bias = self._tables()
        w = ops.take(words, i, axis=0)  # (batch, dim)
        c = ops.take(contexts, j, axis=0)  # (batch, dim)
        prediction = (ops.sum(w * c, axis=-1) + ops.take(word_bias[:, 0], i)
                      + ops.take(context_bias[:, 0], j))
        error = prediction - log_x
        diff = weight * error  # dJ/dprediction, with J halved
        diff_by_context = ops.take(diff, by_context)

        def per_word(values, ids):  # sum rows of equal (sorted) id: (vocab, ...)
            # The batch's padding pair of the last word makes the sum `vocab` rows long.
            return ops.segment_sum(values, ids, sorted=True)

        # Gathering the word rows again in context order is cheaper than permuting `w`.
        grads = [
            per_word(diff[:, None] * c, i),
            per_word(diff_by_context[:, None] * ops.take(words, i_by_context, axis=0), j_sorted),
            per_word(diff[:, None], i),
            per_word(diff_by_context[:, None], j_sorted),
        ]
        return 0.5 * ops.sum(diff * error), prediction, grads

    def get_config(self):
        return {"vocabulary_size": self.vocabulary_size, "dim": self.dim,
                "name": self.name, "trainable": self.trainable}


@nlpkit_export("keras_nlpkit.glove.GloVeAdagrad")
class GloVeAdagrad(keras.optimizers.Optimizer):
    """AdaGrad as GloVe uses it: `acc += g**2; w -= lr * g / sqrt(acc)`, `acc` from 1.

    Keras' `Adagrad` computes `lr * g / sqrt(acc + epsilon)` in five elementwise
    passes over each table; with the accumulator starting at 1 there is no zero to
    guard, and on TensorFlow the update is one fused kernel
    (`keras_nlpkit.backend.adagrad_update`). On GloVe's dense (vocab, dim)
    gradients that was most of a training step (`benchmarks/glove.py` compares).

    Args:
        learning_rate: step size (a float or a schedule).
        initial_accumulator_value: starting sum of squared gradients (> 0).
        **kwargs: passed to `keras.optimizers.Optimizer`.
    """

    def __init__(self, learning_rate=0.05, initial_accumulator_value=1.0,
                 name="glove_adagrad", **kwargs):
        if not initial_accumulator_value > 0:
            raise ValueError("initial_accumulator_value must be > 0. "
                             f"Received: initial_accumulator_value={initial_accumulator_value}")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        initializer = keras.initializers.Constant(self.initial_accumulator_value)
        self._accumulators = [
            self.add_variable_from_reference(v, "accumulator", initializer=initializer)
            for v in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        accumulator = self._accumulators[self._get_variable_index(variable)]
        # Dense (TF's autodiff gives embedding gradients as IndexedSlices; this sums them).
        gradient = ops.cast(ops.convert_to_tensor(gradient), variable.dtype)
        backend.adagrad_update(variable, accumulator, gradient,
                               ops.cast(learning_rate, variable.dtype))

    def get_config(self):
        return super().get_config() | {"initial_accumulator_value": self.initial_accumulator_value}


@nlpkit_export("keras_nlpkit.glove.GloVeLoss")
class GloVeLoss(keras.losses.Loss):
    """Half the squared error of the predicted log X_ij, weighted by f(X_ij), summed.

    Summed, not averaged, over the batch, so that a gradient step sees the
    gradient of J itself (AdaGrad's accumulators depend on its scale).
    """

    def __init__(self, name="glove_loss", reduction="sum", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return 0.5 * ops.square(y_pred - y_true)


def glove_dataset(cooccurrences, batch_size=65536, x_max=100.0, alpha=0.75, seed=0):
    """A tf.data stream of (pairs, log X_ij, f(X_ij)) batches for `GloVe.fit`.

    The non-zero entries are shuffled once (as Stanford's `shuffle` does), cut
    into batches, and each batch is sorted by word, carrying the permutation
    that sorts it by context word (`by_context`, and `i`, `j` in that order),
    which `GloVe.train_step` uses to sum gradients per word. Each epoch visits
    the batches in a new order.
    Each batch ends with padding pairs of weight 0 (at least one).
    """
    import tensorflow as tf

    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2. Received: batch_size={batch_size}")
    if not x_max > 0:
        raise ValueError(f"x_max must be > 0. Received: x_max={x_max}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0. Received: alpha={alpha}")
    n = cooccurrences.nnz
    if n == 0:
        raise ValueError("cooccurrences: no word pairs to train on")
    order = np.random.default_rng(seed).permutation(n)
    # Every batch ends with at least one pair (last word, last word) of weight 0, so
    # that its per-word gradient sums come out with exactly `vocab` rows.
    batches = -(-n // (batch_size - 1))
    per_batch = -(-n // batches)  # real pairs a batch, as evenly spread as can be
    last = len(cooccurrences.words) - 1

    def padded(array, fill):
        out = np.full((batches, per_batch + 1), fill, dtype=array.dtype)
        real = np.full(batches * per_batch, fill, dtype=array.dtype)
        real[:n] = array[order]
        out[:, :per_batch] = real.reshape(batches, per_batch)
        return out

    i = padded(cooccurrences.rows, last)
    j = padded(cooccurrences.cols, last)
    x = padded(cooccurrences.values, 1.0)
    weight = weighting(x, x_max, alpha) * padded(np.ones(n, np.float32), 0.0)  # 0: padding
    by_word = np.argsort(i, axis=1, kind="stable")
    i, j, x, weight = (np.take_along_axis(a, by_word, axis=1) for a in (i, j, x, weight))
    by_context = np.argsort(j, axis=1, kind="stable").astype(np.int32)
    pairs = {"i": i, "j": j, "by_context": by_context,
             "i_by_context": np.take_along_axis(i, by_context, axis=1),
             "j_sorted": np.take_along_axis(j, by_context, axis=1)}
    data = (pairs, np.log(x).astype(np.float32), weight)
    return (tf.data.Dataset.from_tensor_slices(data)
            .shuffle(batches, seed=seed, reshuffle_each_iteration=True)
            .prefetch(2))

"""`GloVe`: the GloVe model (Pennington et al., 2014) as Keras layers, with a fast TF step."""

import keras
import numpy as np
from keras import ops

from keras_nlpkit.api_export import nlpkit_export


def weighting(x, x_max, alpha):
    """GloVe's f(x) = min(1, (x / x_max) ** alpha); f(0) = 0."""
    return np.minimum(1.0, np.power(np.asarray(x, np.float64) / x_max, alpha)).astype(np.float32)


@nlpkit_export("keras_nlpkit.models.GloVe")
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
    from keras_nlpkit.models import GloVe, GloVeAdagrad, GloVeLoss, glove_dataset
    from keras_nlpkit.text.cooccurrence import count_cooccurrences

    counts = count_cooccurrences(["corpus.txt"], window=5, min_count=1)
    model = GloVe(len(counts.words), dim=16)
    model.compile(optimizer=GloVeAdagrad(0.1), loss=GloVeLoss())
    model.fit(glove_dataset(counts, batch_size=256, x_max=10.0), epochs=2, verbose=0)
    vectors = model.word_vectors()  # (vocab, dim): w_i + w~_i
    ```

    References:
        Pennington, Socher, Manning. GloVe: Global Vectors for Word Representation.
        EMNLP 2014. https://nlp.stanford.edu/pubs/glove.pdf
    """

    def __init__(self, vocabulary_size, dim, **kwargs):
        if vocabulary_size < 1:
            raise ValueError(
                f"vocabulary_size must be >= 1. Received: vocabulary_size={vocabulary_size}"
            )
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
            layer = keras.layers.Embedding(
                vocabulary_size,
                width,
                embeddings_initializer=init,
                dtype=self.dtype_policy,
                name=name,
            )
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
        return [
            self.word_embedding.embeddings,
            self.context_embedding.embeddings,
            self.word_bias.embeddings,
            self.context_bias.embeddings,
        ]

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
        prediction = (
            ops.sum(w * c, axis=-1) + ops.take(word_bias[:, 0], i) + ops.take(context_bias[:, 0], j)
        )
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
        return {
            "vocabulary_size": self.vocabulary_size,
            "dim": self.dim,
            "name": self.name,
            "trainable": self.trainable,
        }

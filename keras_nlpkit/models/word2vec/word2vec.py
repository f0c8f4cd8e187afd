"""`Word2Vec`: skip-gram and CBOW with negative sampling (Mikolov et al., 2013) in Keras."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export

ARCHITECTURES = ("skipgram", "cbow")


@nlpkit_export("keras_nlpkit.models.Word2Vec")
class Word2Vec(keras.Model):
    """word2vec's two tables, trained with negative sampling on `word2vec_dataset` batches.

    A batch row is one centre word: `window` holds its context words and
    `targets` the centre word followed by its noise words (-1: an empty slot).
    Skip-gram scores every context word's input vector against every target's
    output vector (logits `(batch, 2 * window, 1 + negative)`); CBOW scores the
    mean of the context words' input vectors (logits `(batch, 1 + negative)`).
    The loss, computed by the model (`compile` without one), is negative
    sampling's -log σ(score of the centre) - Σ log σ(-score of a noise word),
    summed over the batch, so that `keras.optimizers.SGD(lr)` takes word2vec.c's
    per-pair step of `lr` on each pair. CBOW, as word2vec.c and gensim's
    `cbow_mean=1` do, moves every context word by the whole gradient of the
    mean, not by its 1/count share (the gradient passes the mean as if it were
    the sum).

    The input table starts uniform in [-0.5, 0.5) / dim and the output table at
    zero, as in word2vec.c; `word_vectors()` is the input table, the vectors
    word2vec saves. Two departures from word2vec.c's one-pair-at-a-time loop,
    for vectorised batches: a centre word's noise words serve all of its context
    words (as in Ji et al.'s minibatched skip-gram), and a batch sums its pairs'
    updates, so a frequent word's output vector takes many at once: keep batches
    near 1,024 centre words at word2vec's learning rates (2,048 diverged at
    0.025 on a 4.4M-token corpus).

    On TensorFlow `train_step` computes the gradients in closed form
    (`closed_form_gradients`) from rows gathered out of the variables, and with
    plain `SGD` scatters `lr * gradient` into them directly: about 30% less CPU a
    step than Keras' generic step, whose `Embedding` reads copy both tables at
    every step once they have been scatter-updated
    (`benchmarks/word2vec.py --train-step autodiff` compares). Other backends
    take the generic step, with the same updates.

    Args:
        vocabulary_size: number of words.
        dim: vector size.
        architecture: `"skipgram"` or `"cbow"`.
        **kwargs: passed to `keras.Model`.

    Example:
    ```python
    import keras
    from keras_nlpkit.models import Word2Vec, word2vec_dataset
    from keras_nlpkit.text.cooccurrence import token_ids

    corpus = token_ids(["corpus.txt"], min_count=1, verbose=False)
    model = Word2Vec(len(corpus.words), dim=16, architecture="skipgram")
    model.compile(optimizer=keras.optimizers.SGD(0.025))
    data = word2vec_dataset(corpus.ids, corpus.counts, window=5, negative=5, batch_size=256)
    model.fit(data, epochs=2, verbose=0)
    model.word_vectors().shape  # (32, 16)
    ```

    References:
        Mikolov, Sutskever, Chen, Corrado, Dean. Distributed Representations of
        Words and Phrases and their Compositionality. NeurIPS 2013.
        https://arxiv.org/abs/1310.4546
        Ji, Shah, Satish, Dubey. Parallelizing Word2Vec in Shared and Distributed
        Memory. 2016. https://arxiv.org/abs/1604.04661
    """

    def __init__(self, vocabulary_size, dim=100, architecture="skipgram", **kwargs):
        if vocabulary_size < 1:
            raise ValueError(
                f"vocabulary_size must be >= 1. Received: vocabulary_size={vocabulary_size}"
            )
        if dim < 1:
            raise ValueError(f"dim must be >= 1. Received: dim={dim}")
        if architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {list(ARCHITECTURES)}. "
                f"Received: architecture={architecture!r}"
            )
        kwargs.setdefault("name", "word2vec")
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.dim = dim
        self.architecture = architecture

        def table(name, initializer):
            layer = keras.layers.Embedding(
                vocabulary_size,
                dim,
                embeddings_initializer=initializer,
                dtype=self.dtype_policy,
                name=name,
            )
            layer.build((None,))
            return layer

        scale = 0.5 / dim
        self.word_embedding = table(
            "word_embedding", keras.initializers.RandomUniform(-scale, scale)
        )
        self.context_embedding = table("context_embedding", "zeros")
        self.built = True  # every weight exists now (BackupAndRestore needs a built model)

    def call(self, inputs):
        window, targets = inputs["window"], inputs["targets"]
        context = self.word_embedding(ops.maximum(window, 0))  # (batch, slots, dim)
        outputs = self.context_embedding(ops.maximum(targets, 0))  # (batch, 1 + k, dim)
        return self._logits(window, context, outputs)

    def _logits(self, window, context, outputs):
        if self.architecture == "skipgram":
            return ops.matmul(context, ops.transpose(outputs, (0, 2, 1)))  # (batch, slots, 1 + k)
        mean = self._mean(window, context)
        return ops.squeeze(ops.matmul(outputs, mean[..., None]), -1)  # (batch, 1 + k)

    @staticmethod
    def _mean(window, context):
        """The mean of the context vectors, whose gradient reaches each one undivided."""
        mask = ops.cast(window >= 0, context.dtype)[..., None]  # (batch, slots, 1)
        total = ops.sum(context * mask, axis=1)  # (batch, dim)
        mean = total / ops.maximum(ops.sum(mask, axis=1), 1.0)
        return ops.stop_gradient(mean) + total - ops.stop_gradient(total)

    def _pair_weights(self, window, targets):
        """1 for each (context, target) pair scored, 0 for empty slots: the logits' shape."""
        targets = ops.cast(targets >= 0, "float32")  # (batch, 1 + k)
        context = ops.cast(window >= 0, "float32")  # (batch, slots)
        if self.architecture == "skipgram":
            return context[..., None] * targets[:, None, :]
        return targets * ops.cast(ops.any(window >= 0, axis=-1), "float32")[:, None]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Negative sampling's loss, summed over the batch's (context, target) pairs."""
        del y, sample_weight, training
        logits = ops.cast(y_pred, "float32")
        weights = self._pair_weights(x["window"], x["targets"])
        return ops.sum(weights * ops.softplus(_signs(logits) * logits))

    def train_step(self, *args):
        if keras.backend.backend() != "tensorflow":
            return super().train_step(*args)  # (state, data) on JAX, (data,) elsewhere
        x, _, _ = keras.utils.unpack_x_y_sample_weight(args[0])
        if _plain_sgd(self.optimizer):
            # w -= lr * g, with lr folded into the (batch, ...) errors before the
            # (rows, dim) gradients exist, and the row updates scattered directly.
            loss, steps = self.closed_form_gradients(x, scale=self.optimizer.learning_rate)
            for table, step in zip(self._tables(), steps):
                table.value.scatter_sub(step)
            self.optimizer.iterations.assign_add(1)
        else:
            loss, gradients = self.closed_form_gradients(x)
            self.optimizer.apply(gradients, self._tables())
        # Keras' own loss tracker, fed as its train_step feeds it (a mean over batches).
        self._loss_tracker.update_state(loss, sample_weight=ops.shape(x["window"])[0])
        return self.compute_metrics(x, None, None, None)

    def _tables(self):
        return [self.word_embedding.embeddings, self.context_embedding.embeddings]

    def closed_form_gradients(self, x, scale=1.0):
        """(loss, gradients of `[word_embedding, context_embedding]`) of one batch, on TF.

        The gradients (times `scale`) are `tf.IndexedSlices`, one row per
        looked-up word. The rows are read with `ResourceGather` from the
        variables themselves: Keras' `Embedding` reads the whole table first,
        which TF copies once a variable has been scatter-updated (12 MB a table
        a step at 30k words x 100).
        """
        import tensorflow as tf

        window, targets = x["window"], x["targets"]
        window_ids, target_ids = tf.maximum(window, 0), tf.maximum(targets, 0)
        inputs, outputs = (v.value for v in self._tables())
        context = tf.gather(inputs, window_ids)  # (batch, slots, dim)
        noise = tf.gather(outputs, target_ids)  # (batch, 1 + k, dim)
        logits = self._logits(window, context, noise)
        weights = self._pair_weights(window, targets)
        signs = tf.cast(_signs(logits), logits.dtype)  # (1 + k,)
        positive = tf.cast(signs < 0, logits.dtype)
        loss = tf.reduce_sum(weights * tf.nn.softplus(signs * logits))
        error = (tf.sigmoid(logits) - positive) * weights  # d loss / d logits
        error *= tf.cast(scale, error.dtype)
        if self.architecture == "skipgram":
            d_context = tf.matmul(error, noise)  # (batch, slots, dim)
            d_outputs = tf.matmul(error, context, transpose_a=True)  # (batch, 1 + k, dim)
        else:
            mask = tf.cast(window >= 0, context.dtype)
            d_mean = tf.linalg.matvec(noise, error, transpose_a=True)  # (batch, dim)
            d_context = d_mean[:, None, :] * mask[..., None]  # the whole of it, to each
            d_outputs = error[..., None] * self._mean(window, context)[:, None, :]

        def rows(values, ids, table):
            return tf.IndexedSlices(
                tf.reshape(values, [-1, self.dim]),
                tf.reshape(ids, [-1]),
                tf.shape(table, out_type=tf.int64),
            )

        return loss, [rows(d_context, window_ids, inputs), rows(d_outputs, target_ids, outputs)]

    def word_vectors(self):
        """The saved vector of each word: its input vector, as a NumPy (vocab, dim) array."""
        return ops.convert_to_numpy(self.word_embedding.embeddings)

    def get_config(self):
        return {
            "vocabulary_size": self.vocabulary_size,
            "dim": self.dim,
            "architecture": self.architecture,
            "name": self.name,
            "trainable": self.trainable,
        }


def _signs(logits):
    """(1 + k,): -1 for the centre word (target 0), +1 for noise words, broadcast over the
    logits' last axis: softplus(sign * s) is each pair's loss."""
    targets = ops.arange(ops.shape(logits)[-1])
    return ops.where(targets == 0, -1.0, 1.0)


def _plain_sgd(optimizer):
    """Whether `optimizer` updates w -= lr * g and nothing else (word2vec's SGD)."""
    return (
        type(optimizer) is keras.optimizers.SGD
        and not optimizer.momentum
        and not any(
            (
                optimizer.weight_decay,
                optimizer.clipnorm,
                optimizer.clipvalue,
                optimizer.global_clipnorm,
                optimizer.use_ema,
                optimizer.loss_scale_factor,
                optimizer.gradient_accumulation_steps,
            )
        )
    )

"""`glove_dataset`: the tf.data stream of shuffled, word-sorted co-occurrence batches."""

import numpy as np
import tensorflow as tf

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.glove.glove import weighting


@nlpkit_export("keras_nlpkit.models.glove_dataset")
def glove_dataset(cooccurrences, batch_size=65536, x_max=100.0, alpha=0.75, seed=0):
    """A tf.data stream of (pairs, log X_ij, f(X_ij)) batches for `GloVe.fit`.

    The non-zero entries are shuffled once (as Stanford's `shuffle` does), cut
    into batches, and each batch is sorted by word, carrying the permutation
    that sorts it by context word (`by_context`, and `i`, `j` in that order),
    which `GloVe.train_step` uses to sum gradients per word. Each epoch visits
    the batches in a new order.
    Each batch ends with padding pairs of weight 0 (at least one).
    """
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
    pairs = {
        "i": i,
        "j": j,
        "by_context": by_context,
        "i_by_context": np.take_along_axis(i, by_context, axis=1),
        "j_sorted": np.take_along_axis(j, by_context, axis=1),
    }
    data = (pairs, np.log(x).astype(np.float32), weight)
    return (
        tf.data.Dataset.from_tensor_slices(data)
        .shuffle(batches, seed=seed, reshuffle_each_iteration=True)
        .prefetch(2)
    )

"""`word2vec_dataset`: word2vec.c's sampling, redrawn every epoch, as vectorised batches."""

import numpy as np
import tensorflow as tf

from keras_nlpkit.api_export import nlpkit_export

# Tokens (line breaks included) drawn into batches at a time: bounds the epoch's memory
# (about 150 bytes a token at the defaults) and lets the first batch start early.
CHUNK_TOKENS = 1 << 20


def keep_probabilities(counts, sample=1e-3):
    """word2vec.c's subsampling: the chance that each occurrence of a word is kept.

    A word of count c among T tokens is kept with probability
    (sqrt(c / (sample * T)) + 1) * (sample * T) / c, at most 1, so words rarer than
    about `sample * T` are always kept; `sample=0` keeps everything.
    """
    counts = np.asarray(counts, np.float64)
    if sample == 0:
        return np.ones(counts.shape, np.float64)
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1) * threshold / counts)


def noise_distribution(counts, power=0.75):
    """The negative-sampling distribution: unigram counts to the power 0.75, normalised."""
    weights = np.power(np.asarray(counts, np.float64), power)
    return weights / weights.sum()


def noise_table(counts, power=0.75):
    """word2vec.c's unigram table: each word fills a share of it equal to its noise probability.

    A uniform draw from the table is a draw from `noise_distribution`, in O(1). The
    table has 1,000 entries a word, between 2^16 and 10^7 (word2vec.c: 10^8).
    """
    size = int(np.clip(1000 * len(counts), 1 << 16, 10_000_000))
    cumulative = np.cumsum(noise_distribution(counts, power))
    table = np.searchsorted(cumulative, (np.arange(size) + 0.5) / size, side="right")
    return np.minimum(table, len(counts) - 1).astype(np.int32)


def expected_steps(counts, sample=1e-3, batch_size=1024):
    """Batches an epoch yields on average: one row a kept occurrence (word2vec's schedule)."""
    kept = float(np.dot(np.asarray(counts, np.float64), keep_probabilities(counts, sample)))
    return max(1, round(kept / batch_size))


@nlpkit_export("keras_nlpkit.models.word2vec_dataset")
def word2vec_dataset(
    ids,
    counts,
    window=5,
    negative=5,
    sample=1e-3,
    batch_size=1024,
    seed=0,
    chunk=CHUNK_TOKENS,
    first_epoch=0,
):
    """A tf.data stream of word2vec batches for `Word2Vec.fit`, drawn anew every epoch.

    Each epoch follows word2vec.c: every occurrence is kept with
    `keep_probabilities` (before windowing, so dropped words shorten distances),
    each kept word gets a window radius b ~ U[1, window] that never crosses a line
    break (-1 in `ids`), and draws `negative` noise words from `noise_distribution`.
    A batch row is one centre word: `window` holds its context words and
    `targets` the centre word followed by the noise words; -1 marks an empty
    context slot or a noise word equal to the centre, which word2vec.c skips.
    Rows are grouped by their number of context words c, so a batch's `window`
    is `(batch, c)` for one c in [1, 2 * window], packed without empty slots
    (only an epoch's last batch of each c is padded with -1 rows). The rows are
    shuffled within chunks of about `chunk` tokens, and the batches too.

    Args:
        ids: int array of vocabulary ids, -1 for a line break (`TokenIds.ids`).
        counts: (vocab,) word counts: the subsampling and noise distributions.
        window: the largest radius.
        negative: noise words per centre word (shared by its context words).
        sample: the subsampling threshold (0: no subsampling).
        batch_size: centre words a batch.
        seed: the epochs' draws follow from it.
        chunk: tokens drawn at a time.
        first_epoch: the epoch the stream's first pass draws: a resumed `fit`
            (`keras_nlpkit.recipes.training.resumed_epoch`) goes on with the
            draws an uninterrupted run would have made, not the first epoch's again.

    Returns:
        A `tf.data.Dataset` of `{"window": (batch, c), "targets": (batch, 1 +
        negative)}` int32 dicts.
    """
    for name, value in (("window", window), ("negative", negative)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1. Received: {name}={value!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    if not 0 <= sample < 1:
        raise ValueError(f"sample must be in [0, 1). Received: sample={sample}")
    ids = np.asarray(ids, np.int32)
    counts = np.asarray(counts, np.int64)
    if counts.ndim != 1 or counts.shape[0] == 0 or (counts <= 0).any():
        raise ValueError(f"counts must be positive word counts. Received: {counts[:10]}")
    if not (ids >= 0).any():
        raise ValueError("ids: no words to train on")
    if ids.max() >= counts.shape[0] or ids.min() < -1:
        raise ValueError(
            f"ids must be in [-1, {counts.shape[0]}). Received: [{ids.min()}, {ids.max()}]"
        )
    keep = keep_probabilities(counts, sample)
    table = noise_table(counts)
    offsets = np.array([d for d in range(-window, window + 1) if d], np.int32)  # (2 * window,)
    if not isinstance(first_epoch, (int, np.integer)) or first_epoch < 0:
        raise ValueError(
            f"first_epoch must be an integer >= 0. Received: first_epoch={first_epoch!r}"
        )
    epoch = [int(first_epoch)]

    def rows(kept, rng):
        """(context, inside, count, targets) of each centre word of the kept stream `kept`."""
        kept = np.pad(kept, window, constant_values=-1)  # every window lies inside
        line = np.cumsum(kept < 0, dtype=np.int32)  # line number of each position
        centres = np.flatnonzero(kept >= 0).astype(np.int32)
        radius = rng.integers(1, window + 1, centres.shape[0], dtype=np.int32)
        where = centres[:, None] + offsets
        context = kept[where]  # (centres, 2 * window)
        inside = (np.abs(offsets) <= radius[:, None]) & (line[where] == line[centres, None])
        inside &= context >= 0
        count = inside.sum(axis=1)
        words = kept[centres]
        noise = table[rng.integers(0, table.shape[0], (words.shape[0], negative))]
        targets = np.concatenate([words[:, None], np.where(noise == words[:, None], -1, noise)], 1)
        return context, inside, count, targets

    def batches():
        rng = np.random.default_rng([seed, epoch[0]])
        epoch[0] += 1
        breaks = np.flatnonzero(ids < 0)
        left = {}  # context count -> (context, targets) rows not yet batched
        start = 0
        while start < ids.shape[0]:
            # Cut after a line break, so that no window is split between chunks.
            after = breaks[np.searchsorted(breaks, start + chunk) :]
            end = after[0] + 1 if after.size and start + chunk < ids.shape[0] else ids.shape[0]
            part = ids[start:end]
            start = end
            kept = part[(part < 0) | (rng.random(part.shape[0]) < keep[np.maximum(part, 0)])]
            context, inside, count, targets = rows(kept, rng)
            # Rows in random order, grouped by their number of context words: each
            # batch holds rows of one count, their context words packed, no padding.
            order = rng.permutation(count.shape[0])
            order = order[np.argsort(count[order], kind="stable")]
            context, inside, count, targets = (a[order] for a in (context, inside, count, targets))
            packed = context[inside]
            ready = []
            sizes = np.bincount(count, minlength=2 * window + 1)  # rows of each count
            ends = np.cumsum(sizes)  # where each count's rows end
            packed_ends = np.cumsum(sizes * np.arange(sizes.shape[0]))  # and their words
            for width in range(1, 2 * window + 1):
                group = packed[packed_ends[width - 1] : packed_ends[width]].reshape(-1, width)
                group_targets = targets[ends[width - 1] : ends[width]]
                if width in left:
                    group = np.concatenate([left[width][0], group])
                    group_targets = np.concatenate([left[width][1], group_targets])
                full = group.shape[0] // batch_size * batch_size
                ready += [
                    (group[i : i + batch_size], group_targets[i : i + batch_size])
                    for i in range(0, full, batch_size)
                ]
                left[width] = (group[full:], group_targets[full:])
            for n in rng.permutation(len(ready)):
                yield {"window": ready[n][0], "targets": ready[n][1]}
        for group, group_targets in left.values():  # the epoch's last rows, padded
            if group.shape[0]:
                missing = batch_size - group.shape[0]
                yield {
                    "window": np.pad(group, ((0, missing), (0, 0)), constant_values=-1),
                    "targets": np.pad(group_targets, ((0, missing), (0, 0)), constant_values=-1),
                }

    signature = {
        "window": tf.TensorSpec((batch_size, None), tf.int32),
        "targets": tf.TensorSpec((batch_size, 1 + negative), tf.int32),
    }
    return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(4)

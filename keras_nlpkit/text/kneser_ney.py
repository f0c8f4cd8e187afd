"""`KneserNeyLM`: interpolated Kneser-Ney n-gram language model over token ids (NumPy).

The count baseline of the language-model family (`nlpkit train lm --architecture kn`).
n-grams are kept as sorted arrays of big-endian id rows viewed as raw bytes, so one
`np.unique` counts them and one `np.searchsorted` finds a batch of them: no Python
dict of tuples, and a 5-gram model of a few million tokens builds in seconds.
"""

import numpy as np

from keras_nlpkit.checks import check_positive_int


def _rows(grams):
    """`(N, k)` ids as N byte strings that sort like the id tuples (big-endian)."""
    grams = np.ascontiguousarray(grams, dtype=">u4")
    return grams.view(f"V{4 * grams.shape[1]}").ravel()


def _lookup(keys, values, queries, default=0.0):
    """`values[i]` where `keys[i] == query` (keys sorted), else `default`."""
    at = np.searchsorted(keys, queries)
    at = np.minimum(at, len(keys) - 1)
    found = keys[at] == queries
    return np.where(found, values[at], default)


class KneserNeyLM:
    """Interpolated Kneser-Ney (Kneser & Ney 1995; Chen & Goodman 1998), one discount an order.

    For the highest order n and a context h of n−1 ids,

        P(w | h) = max(c(h w) − D_n, 0) / c(h ·) + D_n · N1+(h ·) / c(h ·) · P(w | h')

    where h' drops h's first id. Lower orders use continuation counts in place of
    c: N1+(· g), the number of distinct ids seen before the n-gram g, which is
    what makes "francisco" unlikely after an unseen context even though it is
    frequent. The unigram level interpolates with the uniform distribution over
    the vocabulary, so every id has a probability; a context never seen backs off
    to the next order whole. D_k = n1 / (n1 + 2 n2) from the counts of counts of
    order k (Ney et al. 1994). Probabilities sum to 1 over the vocabulary for
    every context (tested).

    Training reads one stream of ids (e.g. lines joined by an end-of-line id);
    the stream is padded at the start with `pad_id` so that the first ids have
    full contexts, and the same padding is used by `log_probs`.

    Args:
        order: n, 1 or more (3 to 5 is usual).
        vocabulary_size: ids are in [0, vocabulary_size).
        pad_id: the id that pads the start of a stream.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.text.kneser_ney import KneserNeyLM

    ids = np.array([3, 4, 5, 1] * 50 + [3, 4, 6, 1] * 10)
    lm = KneserNeyLM(order=3, vocabulary_size=7, pad_id=1).fit(ids)
    p = lm.probabilities([3, 4])   # P(· | 3 4), sums to 1
    int(np.argmax(p))              # 5
    ```
    """

    def __init__(self, order=3, vocabulary_size=None, pad_id=0):
        check_positive_int("order", order)
        check_positive_int("vocabulary_size", vocabulary_size)
        if not 0 <= pad_id < vocabulary_size:
            raise ValueError(
                f"`pad_id` must be an id in [0, vocabulary_size). Received: pad_id={pad_id}"
            )
        self.order = order
        self.vocabulary_size = vocabulary_size
        self.pad_id = pad_id
        self.levels = None

    def _padded(self, ids):
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocabulary_size):
            raise ValueError(
                f"`ids` must be in [0, {self.vocabulary_size}). "
                f"Received: ids from {ids.min()} to {ids.max()}"
            )
        return np.concatenate([np.full(self.order - 1, self.pad_id), ids])

    def fit(self, ids):
        """Counts the n-grams of a stream of ids; returns `self`."""
        stream = self._padded(ids)
        if len(stream) < self.order:
            raise ValueError(f"`ids` must hold at least one id. Received: {len(ids)} ids")
        windows = np.lib.stride_tricks.sliding_window_view(stream, self.order)
        # The highest order counts occurrences; each lower order counts the distinct
        # ids seen before it (its continuation count), read off the order above.
        grams, counts = np.unique(_rows(windows), return_counts=True)
        grams = grams.view(">u4").reshape(-1, self.order)
        levels = [None] * (self.order + 1)
        for k in range(self.order, 0, -1):
            levels[k] = self._level(grams, counts.astype(np.float64))
            if k > 1:
                grams, counts = np.unique(_rows(grams[:, 1:]), return_counts=True)
                grams = grams.view(">u4").reshape(-1, k - 1)
        self.levels = levels
        return self

    @staticmethod
    def _level(grams, counts):
        """What one order needs: its n-grams, their counts, and per context the
        total, the number of distinct followers, and the discount."""
        ones, twos = np.sum(counts == 1), np.sum(counts == 2)
        discount = ones / (ones + 2 * twos) if ones else 0.5
        if grams.shape[1] == 1:  # unigrams: one empty context
            contexts, first = np.zeros(1, "V4"), np.zeros(1, np.int64)
        else:
            contexts, first = np.unique(_rows(grams[:, :-1]), return_index=True)
        # `grams` is sorted, so each context's n-grams are one run starting at `first`.
        ends = np.append(first[1:], len(grams))
        totals = np.add.reduceat(counts, first)
        return {
            "grams": _rows(grams),
            "counts": counts,
            "contexts": contexts,
            "totals": totals,
            "followers": (ends - first).astype(np.float64),
            "discount": float(discount),
        }

    def _conditional(self, contexts, words):
        """P(words[i] | contexts[i]) for `(N, n−1)` contexts and `(N,)` words."""
        if self.levels is None:
            raise ValueError("The model is not trained: call `fit` first")
        contexts = np.asarray(contexts, dtype=np.int64).reshape(len(words), self.order - 1)
        words = np.asarray(words, dtype=np.int64)
        unigram = self.levels[1]
        # Level 1: continuation unigram, interpolated with the uniform distribution.
        total = unigram["totals"][0]
        p = (
            np.maximum(
                _lookup(unigram["grams"], unigram["counts"], _rows(words[:, None]))
                - unigram["discount"],
                0.0,
            )
            / total
            + unigram["discount"] * unigram["followers"][0] / total / self.vocabulary_size
        )
        for k in range(2, self.order + 1):
            level = self.levels[k]
            history = contexts[:, self.order - k :]  # the last k − 1 ids
            count = _lookup(
                level["grams"], level["counts"], _rows(np.column_stack([history, words]))
            )
            keys = _rows(history)
            total = _lookup(level["contexts"], level["totals"], keys)
            followers = _lookup(level["contexts"], level["followers"], keys)
            seen = total > 0
            safe = np.where(seen, total, 1.0)
            interpolated = (
                np.maximum(count - level["discount"], 0.0) / safe
                + level["discount"] * followers / safe * p
            )
            p = np.where(seen, interpolated, p)
        return p

    def probabilities(self, context):
        """P(· | context) over the whole vocabulary; `context` holds the last ids
        (padded on the left with `pad_id` when shorter than n − 1)."""
        context = [int(i) for i in context][-(self.order - 1) :] if self.order > 1 else []
        context = [self.pad_id] * (self.order - 1 - len(context)) + context
        words = np.arange(self.vocabulary_size)
        return self._conditional(np.tile(context, (len(words), 1)), words)

    def log_probs(self, ids):
        """log P of each id of a stream given the ids before it (padded as in `fit`)."""
        stream = self._padded(ids)
        windows = np.lib.stride_tricks.sliding_window_view(stream, self.order)
        return np.log(self._conditional(windows[:, :-1], windows[:, -1]))

    def num_ngrams(self):
        """How many distinct n-grams of each order the model holds: `{k: count}`."""
        return {k: len(self.levels[k]["grams"]) for k in range(1, self.order + 1)}

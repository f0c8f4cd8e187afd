"""`ChannelModel`: how people misspell, log P(typo | word) over single-character edits."""

import numpy as np

from keras_nlpkit.ondevice.edit_distance import edit_operations

CHANNEL_FILE = "channel.json"


class ChannelModel:
    """How people misspell: log P(typo | word), a noisy channel over single-character edits.

    The edit probabilities are counted in real (misspelling, word) pairs, as in
    Kernighan, Church & Gale (1990): P(x written y) = sub[x, y] / count(x);
    P(x after p left out) = del[p, x] / count(px); P(y typed after p) = ins[p, y] /
    count(p); P(xy written yx) = tra[x, y] / count(xy), the counts taken over the
    correct words of the pairs, add-`alpha` smoothed. log P(typo | word) is the sum
    over the most probable alignment (a weighted Damerau-Levenshtein / OSA
    alignment), so a word is 0 away from itself and every edit costs what it is
    rare: "e" for "a" costs far less than "q" for "a".

    Args:
        alphabet: the characters (other characters share one symbol).
        counts: `{"sub", "del", "ins", "tra": (A, A) arrays, "unigram": (A,),
            "bigram": (A, A)}` over the symbols `"^" + alphabet + "?"` (A of them).
        alpha: add-alpha smoothing of every edit count.
    """

    START = "^"

    def __init__(self, alphabet, counts, alpha=0.5):
        self.alphabet = alphabet
        self.alpha = float(alpha)
        self.symbols = {c: i for i, c in enumerate(self.START + alphabet)}
        self.other = len(alphabet) + 1
        size = len(alphabet) + 2
        self.counts = {
            name: np.asarray(counts[name], np.float64)
            for name in ("sub", "del", "ins", "tra", "unigram", "bigram")
        }
        for name, value in self.counts.items():
            expected = (size,) if name == "unigram" else (size, size)
            if value.shape != expected:
                raise ValueError(
                    f"`counts[{name!r}]` must have the shape {expected} for "
                    f"{size} symbols. Received: {value.shape}"
                )
        c, a = self.counts, self.alpha

        def cost(edits, context):
            return -np.log((edits + a) / (context + a * size))

        unigram = c["unigram"][:, None]
        self.sub_cost = cost(c["sub"], unigram)
        np.fill_diagonal(self.sub_cost, 0.0)
        self.ins_cost = cost(c["ins"], unigram)
        self.del_cost = cost(c["del"], c["bigram"])
        self.tra_cost = cost(c["tra"], c["bigram"])
        # By the typed character y: the costs of keeping or substituting each character
        # for y, and of typing y after it, next to the unit costs of the same edits.
        self._sub_by_typed = np.ascontiguousarray(
            np.stack([self.sub_cost.T, 1.0 - np.eye(size)], axis=1)
        )
        self._ins_by_typed = np.ascontiguousarray(
            np.stack([self.ins_cost.T, np.ones((size, size))], axis=1)
        )

    def codes(self, text):
        return [self.symbols.get(ch, self.other) for ch in text]

    @classmethod
    def from_pairs(cls, pairs, alphabet, max_distance=2, alpha=0.5):
        """Counts the edits of (misspelling, word) pairs `max_distance` or fewer edits apart."""
        model = cls(
            alphabet,
            {
                name: np.zeros((len(alphabet) + 2,) * (1 + (name != "unigram")))
                for name in ("sub", "del", "ins", "tra", "unigram", "bigram")
            },
            alpha,
        )
        c = model.counts
        used = 0
        for typo, word in pairs:
            edits = edit_operations(typo, word)
            if not edits or len(edits) > max_distance:
                continue
            used += 1
            for kind, a, b in edits:
                c[kind][model.codes(a)[0], model.codes(b)[0]] += 1
            codes = model.codes(cls.START + word)
            np.add.at(c["unigram"], codes, 1)
            np.add.at(c["bigram"], (codes[:-1], codes[1:]), 1)
        model = cls(alphabet, c, alpha)
        model.pairs = used
        return model

    def to_json(self):
        return {
            "alphabet": self.alphabet,
            "alpha": self.alpha,
            "pairs": int(getattr(self, "pairs", 0)),
            "counts": {
                name: value.astype(np.int64).tolist() for name, value in self.counts.items()
            },
        }

    @classmethod
    def from_json(cls, data):
        model = cls(data["alphabet"], data["counts"], data.get("alpha", 0.5))
        model.pairs = data.get("pairs", 0)
        return model

    def encode_words(self, words):
        """`(codes, lengths)` of `words`: a padded int array of symbol ids and the lengths."""
        lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
        codes = np.full((len(words), max(int(lengths.max(initial=0)), 1)), self.other, np.int64)
        for row, w in enumerate(words):
            codes[row, : len(w)] = self.codes(w)
        return codes, lengths

    def log_probs(self, typo, words):
        """log P(typo | w) for each of `words` (an array), all words at once."""
        if not len(words):
            return np.zeros(0)
        return self.log_probs_encoded(typo, *self.encode_words(words))

    def log_probs_encoded(self, typo, codes, lengths, with_distances=False):
        """`log_probs` of words given as `encode_words` codes (rows of a larger array
        may be passed: columns past the longest length are ignored); with
        `with_distances`, also their OSA distances (`osa_distances`), from the same
        pass: `(log_probs, distances)`.

        The weighted OSA alignment, one row of the table per character of `typo`
        and vectorised over the words: deletions (moving along a word) are a running
        minimum over cumulative deletion costs.
        """
        n = len(lengths)
        if not n:
            return (np.zeros(0), np.zeros(0, np.int64)) if with_distances else np.zeros(0)
        width = max(int(lengths.max()), 1)
        # Two tables side by side, [0] with the channel's costs and [1] with unit costs
        # (the OSA distance), of shape (2, prefix length j + 1, word): row j + 1 is
        # w[:j], and row 0 is +inf, so that one expression covers every row.
        shifted = np.zeros((width + 1, n), codes.dtype)  # shifted[j] = w[j - 1] ("^": 0)
        shifted[1:] = codes[:, :width].T
        codes = shifted[1:]
        deleted = np.empty((2, width + 1, n))
        deleted[0, 0] = 0.0
        np.cumsum(self.del_cost[shifted[:-1], codes], axis=0, out=deleted[0, 1:])
        deleted[1] = np.arange(width + 1)[:, None]
        table = np.empty((2, width + 2, n))
        table[:, 0] = np.inf
        table[:, 1:] = deleted  # typed nothing yet: every character of w left out
        before = None  # the table one typed character back, for transpositions
        symbols = len(self.symbols) + 1
        pairs = codes[:-1] * symbols + codes[1:]  # (w[j], w[j + 1]), to find swaps
        has_pair = np.zeros(symbols * symbols, bool)
        has_pair[pairs] = True
        typed = self.codes(typo)
        for i, y in enumerate(typed):
            # Substitute (or keep) w[j - 1] for y, or type y after w[j - 1] (or "^").
            base = np.minimum(
                table[:, :-1] + self._sub_by_typed[y].take(shifted, axis=1),
                table[:, 1:] + self._ins_by_typed[y].take(shifted, axis=1),
            )
            if i and has_pair[y * symbols + typed[i - 1]]:  # w[j - 2:j] is typo[i - 1:i + 1]
                cols, rows = np.nonzero(pairs == y * symbols + typed[i - 1])
                swapped = before[:, cols + 1, rows]
                swapped[0] += self.tra_cost[codes[cols, rows], codes[cols + 1, rows]]
                swapped[1] += 1
                base[:, cols + 2, rows] = np.minimum(base[:, cols + 2, rows], swapped)
            # Leaving out w[j - 1] (a deletion) is a running minimum down the rows: a
            # prefix minimum of base - deleted, in doubling steps.
            base -= deleted
            step = 1
            while step <= width:
                np.minimum(base[:, step:], base[:, :-step], out=base[:, step:])
                step *= 2
            before, table = table, np.empty_like(table)
            table[:, 0] = np.inf
            np.add(base, deleted, out=table[:, 1:])
        words = np.arange(n)
        logp = -table[0, lengths + 1, words]
        if with_distances:
            return logp, np.rint(table[1, lengths + 1, words]).astype(np.int64)
        return logp

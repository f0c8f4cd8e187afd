"""`TrigramCompleter`: the count-based peer the query completer is measured against."""

import collections
import math

import numpy as np

from keras_nlpkit.ondevice.lexicon import Lexicon
from keras_nlpkit.ondevice.prefix_completer import PrefixCompleter
from keras_nlpkit.text.queries import word_counts


class TrigramCompleter(PrefixCompleter):
    """Stupid-backoff word trigram filtered by the typed prefix (Brants et al., 2007).

    S(w | u v) = c(u v w) / c(u v) if c(u v w) > 0, else 0.4 · S(w | v), down to
    0.4² · c(w) / N: the classic count-based completer, trained on the same
    queries, that the neural completer is measured against.
    """

    backoff = 0.4

    def __init__(self, queries, typo_penalty=None):
        unigrams = word_counts(queries)
        super().__init__(Lexicon(list(unigrams), list(unigrams.values())), typo_penalty)
        self.index = {word: i for i, word in enumerate(self.lexicon.words)}
        self.total = float(sum(unigrams.values()))
        self.bigrams = collections.defaultdict(collections.Counter)
        self.trigrams = collections.defaultdict(collections.Counter)
        for query in queries:
            words = ["<s>", "<s>"] + query.split()
            for u, v, w in zip(words, words[1:], words[2:]):
                self.bigrams[v][w] += 1
                self.trigrams[(u, v)][w] += 1
        base = math.log(self.backoff**2) + np.log(self.lexicon.counts / self.total)
        self.unigram_scores = base

    def scores(self, previous_words):
        context = ("<s>", "<s>") + tuple(previous_words)
        u, v = context[-2], context[-1]
        scores = self.unigram_scores.copy()
        for level, key, table in ((1, v, self.bigrams), (0, (u, v), self.trigrams)):
            if key in table:  # the highest order seen wins
                index, log_share = self._continuations(table, key)
                scores[index] = log_share + math.log(self.backoff**level)
        return scores

    def _continuations(self, table, key):
        """(lexicon indices, log relative counts) of a context's continuations, cached."""
        entry = table[key]
        if isinstance(entry, collections.Counter):
            words, counts = zip(*entry.items())
            index = np.asarray([self.index[w] for w in words])
            counts = np.asarray(counts, dtype=np.float64)
            entry = table[key] = (index, np.log(counts / counts.sum()))
        return entry

"""n-gram counts of training queries (`ondevice.ngram_table` stores them for the device)."""

import collections

from keras_nlpkit.ondevice.ngram_table import END
from keras_nlpkit.ondevice.ngram_table import START


def count_ngrams(queries, max_order=3):
    """Counts of every 1..max_order-gram of `<s> <s> query </s>` with a real last word."""
    counts = collections.Counter()
    for query in queries:
        words = [START] * (max_order - 1) + query.split() + [END]
        for order in range(1, max_order + 1):
            for i in range(max_order - 1, len(words)):
                counts[tuple(words[i - order + 1 : i + 1])] += 1
    return counts

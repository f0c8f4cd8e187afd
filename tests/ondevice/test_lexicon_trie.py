"""The lexicon trie and its look-ahead (the best word frequency below each node)."""

import numpy as np

from keras_nlpkit.ondevice import LexiconTrie


def test_trie_look_ahead():
    trie = LexiconTrie({"car": 10, "cart": 5, "cat": 30}, {c: i + 4 for i, c in enumerate("acrt")})
    assert len(trie) == 3 and "cart" in trie and "ca" not in trie
    total = 45.0
    assert np.isclose(trie.best_logp[trie.find("ca")], np.log(30 / total))
    assert np.isclose(trie.best_logp[trie.find("car")], np.log(10 / total))
    assert trie.find("cx") is None

"""The stupid-backoff trigram peer on hand-computed scores."""

import math

from keras_nlpkit.evaluation.trigram_completer import TrigramCompleter


def test_stupid_backoff_scores():
    peer = TrigramCompleter(["a b c", "a b d", "a b c", "b d"])
    scores = peer.scores(("a", "b"))
    index = peer.index
    assert math.isclose(scores[index["c"]], math.log(2 / 3))  # trigram a b → c
    assert math.isclose(scores[index["d"]], math.log(1 / 3))
    scores = peer.scores(("x", "b"))  # no trigram: 0.4 · bigram b → d is 2/4
    assert math.isclose(scores[index["d"]], math.log(0.4 * 2 / 4))
    assert math.isclose(scores[index["a"]], math.log(0.16 * 3 / 11))  # unigram
    assert peer.suggest("a b ") == ["c", "d", "b"]
    assert peer.suggest("a b d") == ["d"]

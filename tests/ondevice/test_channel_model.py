"""The noisy channel: edits counted in real misspellings, scored like a cell-by-cell reference."""

import json
import random

import numpy as np

from keras_nlpkit.ondevice import ChannelModel
from keras_nlpkit.ondevice import osa_distances
from keras_nlpkit.text.misspellings import LETTERS


def reference_channel_log_prob(channel, typo, word):
    """log P(typo | word): the channel's weighted OSA alignment, one cell at a time."""
    code = lambda ch: channel.symbols.get(ch, channel.other)  # noqa: E731
    n, m = len(word), len(typo)
    cost = [[np.inf] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            prev = code(word[i - 2]) if i > 1 else 0  # "^" before the first character
            if i:
                cost[i][j] = min(
                    cost[i][j], cost[i - 1][j] + channel.del_cost[prev, code(word[i - 1])]
                )
            if j:
                after = code(word[i - 1]) if i else 0
                cost[i][j] = min(
                    cost[i][j], cost[i][j - 1] + channel.ins_cost[after, code(typo[j - 1])]
                )
            if i and j:
                cost[i][j] = min(
                    cost[i][j],
                    cost[i - 1][j - 1] + channel.sub_cost[code(word[i - 1]), code(typo[j - 1])],
                )
            if i > 1 and j > 1 and word[i - 1] == typo[j - 2] and word[i - 2] == typo[j - 1]:
                cost[i][j] = min(
                    cost[i][j],
                    cost[i - 2][j - 2] + channel.tra_cost[code(word[i - 2]), code(word[i - 1])],
                )
    return -cost[n][m]


def test_channel_model_counts_real_edits_and_scores_like_the_reference():
    pairs = [
        ("seperate", "separate"),
        ("definately", "definitely"),
        ("recieve", "receive"),
        ("occured", "occurred"),
        ("wierd", "weird"),
        ("grammer", "grammar"),
    ] * 5
    pairs += [("xyzzy", "abcdefgh")]  # too many edits: not counted
    channel = ChannelModel.from_pairs(pairs, LETTERS)
    assert channel.pairs == 30
    # A seen edit (e for a) is cheaper than an unseen one (x for a), and a word is
    # nothing away from itself.
    scores = channel.log_probs("seperate", ["separate", "sxparate", "seperate"])
    assert scores[0] > -3 and scores[1] < scores[0] - 3 and scores[2] == 0
    # Leaving out the second r of "occurred" was seen, the second c was not.
    assert (
        channel.log_probs("occured", ["occurred"])[0]
        > channel.log_probs("ocurred", ["occurred"])[0] + 2
    )
    rng = random.Random(1)
    for _ in range(200):
        typo = "".join(rng.choice("aeirs'1") for _ in range(rng.randint(0, 7)))
        words = [
            "".join(rng.choice("aeirs'") for _ in range(rng.randint(1, 8)))
            for _ in range(rng.randint(1, 5))
        ]
        logp, distances = channel.log_probs_encoded(
            typo, *channel.encode_words(words), with_distances=True
        )
        np.testing.assert_allclose(
            logp, [reference_channel_log_prob(channel, typo, w) for w in words], rtol=1e-9
        )
        assert distances.tolist() == osa_distances(typo, words).tolist()
    again = ChannelModel.from_json(json.loads(json.dumps(channel.to_json())))
    np.testing.assert_allclose(
        again.log_probs("wierd", ["weird", "wired"]), channel.log_probs("wierd", ["weird", "wired"])
    )

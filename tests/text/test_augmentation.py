"""Tang et al.'s augmentation: deterministic with a seed, at its probabilities."""

import numpy as np
import pytest

from keras_nlpkit.text.augmentation import MASK
from keras_nlpkit.text.augmentation import augment_sentence
from keras_nlpkit.text.augmentation import augment_sentences

SENTENCES = [" ".join(f"w{i}_{j}" for j in range(12)) for i in range(300)]


def test_the_same_seed_gives_the_same_sentences():
    first = augment_sentences(SENTENCES, 3, seed=7)
    assert first == augment_sentences(SENTENCES, 3, seed=7)
    assert first != augment_sentences(SENTENCES, 3, seed=8)
    assert len(set(first)) == len(first) and not set(first) & set(SENTENCES)


def test_masking_and_ngram_sampling_happen_at_their_probabilities():
    rng = np.random.default_rng(0)
    words = SENTENCES[0].split()
    masked, cut, lengths = 0, 0, []
    tries = 4000
    for _ in range(tries):
        new = augment_sentence(words, rng, p_mask=0.2, p_ngram=0.3, max_ngram=5)
        if len(new) < len(words):
            cut += 1
            lengths.append(len(new))
            # An n-gram keeps consecutive words in order.
            kept = [w for w in new if w != MASK]
            positions = [words.index(w) for w in kept]
            assert positions == sorted(positions)
        else:
            masked += sum(w == MASK for w in new)
    assert cut / tries == pytest.approx(0.3, abs=0.03)
    assert masked / ((tries - cut) * len(words)) == pytest.approx(0.2, abs=0.02)
    assert set(lengths) == {1, 2, 3, 4, 5}  # n uniform in 1..5
    assert all(abs(lengths.count(n) / len(lengths) - 0.2) < 0.05 for n in range(1, 6))


def test_no_augmentation_rule_leaves_nothing_new():
    assert augment_sentences(SENTENCES, 2, p_mask=0.0, p_ngram=0.0) == []
    everything = augment_sentences(["a b"], 5, p_mask=1.0, p_ngram=0.0)
    assert everything == []  # every word masked: dropped


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="p_mask=1.5"):
        augment_sentences(SENTENCES, 2, p_mask=1.5)
    with pytest.raises(ValueError, match="count=0"):
        augment_sentences(SENTENCES, 0)

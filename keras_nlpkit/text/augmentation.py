"""Tang et al.'s (2019) data augmentation for distillation: new, unlabelled sentences
made from the training sentences, for the teacher to label.

Two of their three rules, applied to one sentence at a time (words split on spaces,
as SST-2 and TREC are already tokenized):

- masking: each word becomes `[MASK]` with probability `p_mask` (BERT reads its
  `[MASK]`; the student reads an unknown word);
- n-gram sampling: with probability `p_ngram` the sentence is cut to one of its
  n-grams, n drawn uniformly from 1..`max_ngram`, its start uniformly.

Their third rule, POS-guided word replacement (a word swapped for another of the
same part of speech), is left out: it needs a tagger of the task's text, which this
library does not have. Their settings: p_mask = 0.1, p_ngram = 0.25, n ≤ 5, and 20
new sentences a training sentence.
"""

import numpy as np

MASK = "[MASK]"


def augment_sentence(words, rng, p_mask=0.1, p_ngram=0.25, max_ngram=5, mask_token=MASK):
    """One augmented copy of `words` (a list): each word masked with `p_mask`, then,
    with `p_ngram`, one random n-gram of the result kept (n in 1..`max_ngram`)."""
    words = [mask_token if rng.random() < p_mask else word for word in words]
    if words and rng.random() < p_ngram:
        n = min(int(rng.integers(1, max_ngram + 1)), len(words))
        start = int(rng.integers(0, len(words) - n + 1))
        words = words[start : start + n]
    return words


def augment_sentences(
    sentences, count, p_mask=0.1, p_ngram=0.25, max_ngram=5, seed=0, mask_token=MASK
):
    """`count` tries of `augment_sentence` per sentence; the new sentences, in order.

    A try that gives a sentence seen before (a training sentence, an earlier
    try) or that masked every word is dropped, so fewer than `count` may come out
    per sentence. The same arguments give the same sentences.

    Args:
        sentences: strings, words separated by spaces.
        count: tries per sentence (Tang et al.'s n_iter).
        p_mask: the probability that a word becomes `mask_token`, in [0, 1].
        p_ngram: the probability that the sentence is cut to an n-gram, in [0, 1].
        max_ngram: the longest n-gram kept (n is uniform in 1..max_ngram).
        seed: the random generator's seed.
        mask_token: what a masked word becomes.
    """
    for name, value in (("p_mask", p_mask), ("p_ngram", p_ngram)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value!r}")
    for name, value in (("count", count), ("max_ngram", max_ngram)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    rng = np.random.default_rng(seed)
    seen = {" ".join(s.split()) for s in sentences}
    augmented = []
    for sentence in sentences:
        words = sentence.split()
        for _ in range(count):
            new = augment_sentence(words, rng, p_mask, p_ngram, max_ngram, mask_token)
            text = " ".join(new)
            if text not in seen and any(word != mask_token for word in new):
                seen.add(text)
                augmented.append(text)
    return augmented

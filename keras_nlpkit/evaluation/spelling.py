"""Spelling-correction figures (METRICS.md) of an exported model, with its peers in the same run."""

import time

from keras_nlpkit.evaluation.metrics import accuracy_at_k
from keras_nlpkit.evaluation.metrics import kept_correct_rate
from keras_nlpkit.evaluation.metrics import latency_summary
from keras_nlpkit.evaluation.spelling_peers import pyspellchecker_peer
from keras_nlpkit.evaluation.spelling_peers import symspell_peer
from keras_nlpkit.ondevice.spelling_corrector import DEFAULT_VARIANT
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.text.misspellings import read_pairs


def measure(correct, pairs, k=5):
    """Our figures for `correct(word) -> ranked words` on (wrong, right) pairs."""
    predictions, seconds = [], []
    for wrong, _ in pairs:
        start = time.perf_counter()
        predictions.append(list(correct(wrong))[:k])
        seconds.append(time.perf_counter() - start)
    rights = sorted({right.lower() for _, right in pairs})
    kept = [(list(correct(word)) or [None])[0] for word in rights]
    return {
        "accuracy@1": accuracy_at_k(predictions, [r for _, r in pairs], 1),
        "accuracy@5": accuracy_at_k(predictions, [r for _, r in pairs], 5),
        "kept_correct_rate": kept_correct_rate(kept, rights),
        "latency": latency_summary(seconds),
    }


def evaluate(model_dir, pairs_file, variant=DEFAULT_VARIANT, peers=True, argument="--model"):
    """Metrics on `pairs_file` through the on-device runtime, with peers in the same run."""
    pairs = read_pairs(pairs_file, "--pairs")
    corrector = SpellingCorrector(model_dir, variant=variant, argument=argument)
    tflite = corrector.model.path
    ours = measure(lambda w: [word for word, _ in corrector.correct(w, k=5)], pairs)
    ours.update(
        variant=variant, tflite_bytes=tflite.stat().st_size, lexicon_words=len(corrector.vocabulary)
    )
    result = {
        "pairs_file": str(pairs_file),
        "pairs": len(pairs),
        "distinct_correct_words": len({r.lower() for _, r in pairs}),
        "ours": ours,
    }
    if peers:
        result["symspell"] = measure(symspell_peer(), pairs)
        result["pyspellchecker"] = measure(pyspellchecker_peer(), pairs)
    return result

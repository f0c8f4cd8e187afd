"""Metrics as defined in the project's METRICS.md (../shared/docs/METRICS.md).

Pure Python + NumPy, so the on-device runtime and `nlpkit evaluate` share them.
"""

import time

import numpy as np


def latency_summary(seconds):
    """Median and p95 of wall times, in milliseconds."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    if ms.size == 0:
        return {"median_ms": None, "p95_ms": None, "count": 0}
    return {
        "median_ms": round(float(np.median(ms)), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
        "count": int(ms.size),
    }


# --- query completion ----------------------------------------------------------------------
PREFIX_LENGTHS = (0, 1, 2, 3)


def simulate_typing(queries, suggest, k=3, typed_queries=None):
    """Types each query left to right, tapping a suggestion whenever it is right.

    Implements METRICS.md's query-completion figures exactly. Before each keystroke
    inside word w_i (and before its first character) `suggest(previous_words,
    prefix)` returns up to k words; if w_i is among them the user taps it, which
    costs one keystroke and also types the following space; otherwise the user
    types the next character (and, after the last one, the space if a word
    follows). KSR = 1 - keystrokes / characters, characters counting the whole
    query with its single spaces.

    Args:
        queries: the intended queries, each a string of lower-case words.
        suggest: `suggest(previous_words: tuple, prefix: str) -> list of words`.
        k: how many suggestions count.
        typed_queries: optional, what the user actually types word by word (e.g.
            with a typo injected): same word count as the query. A word typed out
            in full enters the context as typed; a tapped word as the intended one.
            Characters are always counted on the intended query.

    Returns:
        dict with `ksr`, `next_word_accuracy@1`, `next_word_accuracy@k`,
        `completion_accuracy@k_by_prefix` ({p: hit rate after p typed characters,
        over words longer than p}), `keystrokes`, `characters`, `words`, and
        `latency` (per suggestion update: median/p95 ms).
    """
    keystrokes = characters = words = 0
    next1 = nextk = 0
    by_prefix = {p: [0, 0] for p in PREFIX_LENGTHS}
    seconds = []
    for index, query in enumerate(queries):
        intended = query.split()
        typed = intended if typed_queries is None else typed_queries[index].split()
        if len(typed) != len(intended):
            raise ValueError(
                f"`typed_queries[{index}]` must have as many words as the query. "
                f"Received: {typed_queries[index]!r} for {query!r}"
            )
        characters += len(" ".join(intended))
        context = []
        for i, (word, typed_word) in enumerate(zip(intended, typed)):
            words += 1
            is_last = i == len(intended) - 1
            tapped = False
            for p in range(len(typed_word)):
                start = time.perf_counter()
                shown = list(suggest(tuple(context), typed_word[:p]))[:k]
                seconds.append(time.perf_counter() - start)
                hit = word in shown
                if p == 0:
                    next1 += bool(shown) and shown[0] == word
                    nextk += hit
                if p in by_prefix and len(word) > p:
                    by_prefix[p][0] += hit
                    by_prefix[p][1] += 1
                if hit:
                    keystrokes += p + 1  # typed p characters, then one tap (+ the space)
                    tapped = True
                    break
            if not tapped:
                keystrokes += len(typed_word) + (0 if is_last else 1)
            context.append(word if tapped else typed_word)
    if characters == 0:
        raise ValueError("`queries` holds no words. Received: an empty list")
    return {
        "ksr": round(1.0 - keystrokes / characters, 4),
        "next_word_accuracy@1": round(next1 / words, 4),
        f"next_word_accuracy@{k}": round(nextk / words, 4),
        f"completion_accuracy@{k}_by_prefix": {
            str(p): round(hits / total, 4) if total else None
            for p, (hits, total) in by_prefix.items()
        },
        "keystrokes": keystrokes,
        "characters": characters,
        "queries": len(queries),
        "words": words,
        "latency": latency_summary(seconds),
    }


def perplexity(negative_log_likelihoods):
    """exp(mean negative log-likelihood per token), natural logarithms."""
    nll = np.asarray(negative_log_likelihoods, dtype=np.float64)
    return float(np.exp(nll.mean()))


# --- spelling correction -------------------------------------------------------------------
def accuracy_at_k(predictions, references, k=1):
    """Fraction of pairs whose reference is among the first k suggestions, case-folded.

    Args:
        predictions: for each misspelling, its suggestions best first.
        references: the correction of each misspelling.
    """
    if len(predictions) != len(references) or not references:
        raise ValueError(
            "`predictions` and `references` must be non-empty and of one length. "
            f"Received: {len(predictions)} and {len(references)}"
        )
    hits = sum(
        reference.casefold() in [str(p).casefold() for p in ranked[:k] if p is not None]
        for ranked, reference in zip(predictions, references)
    )
    return round(hits / len(references), 4)


def kept_correct_rate(outputs, words):
    """Fraction of correctly spelled `words` the corrector leaves unchanged: its first
    suggestion `outputs[i]` for `words[i]` equals the word, case-folded."""
    if len(outputs) != len(words) or not words:
        raise ValueError(
            "`outputs` and `words` must be non-empty and of one length. "
            f"Received: {len(outputs)} and {len(words)}"
        )
    kept = sum(o is not None and str(o).casefold() == w.casefold() for o, w in zip(outputs, words))
    return round(kept / len(words), 4)

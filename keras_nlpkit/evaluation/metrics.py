"""The metrics `nlpkit evaluate` reports, as docs/METRICS.md defines them.

Pure Python + NumPy: query completion (`simulate_typing`: KSR, next-word and
completion accuracy), perplexity, spelling (`accuracy_at_k`, `kept_correct_rate`),
word vectors (`spearman`, `word_similarity`, `analogy_accuracy`) and latency.
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


def keystrokes(queries):
    """What a user types for each query: every prefix of it (lower-cased, single
    spaces), letter by letter, then its trailing space (asking for the next word)."""
    typed = []
    for query in queries:
        query = " ".join(query.lower().split())
        if query:
            typed += [query[:i] for i in range(len(query) + 1)] + [query + " "]
    return typed


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


def simulate_typing_phrases(queries, suggest, k=3):
    """METRICS.md's "KSR with phrases": as `simulate_typing`, but an entry may be a
    phrase of words.

    Before each keystroke inside word w_i, `suggest(previous_words, prefix)` returns
    up to k entries, each a tuple of one or more words (the first completing
    `prefix`). If an entry equals the query's next words from w_i on, the user taps
    it (the longest such): one keystroke types all its words and the spaces after
    them (not the one after the query's last word). Otherwise the user types the
    next character.

    Returns:
        dict with `ksr`, `keystrokes`, `characters`, `words`, `taps` (entries
        tapped), `phrase_taps` (of them, entries of 2+ words), `words_by_phrase`
        (words typed by phrase taps) and `latency`.
    """
    keystrokes = characters = words = taps = phrase_taps = phrase_words = 0
    seconds = []
    for query in queries:
        intended = query.split()
        characters += len(" ".join(intended))
        words += len(intended)
        i = 0
        while i < len(intended):
            word = intended[i]
            tapped = None
            for p in range(len(word)):
                start = time.perf_counter()
                shown = list(suggest(tuple(intended[:i]), word[:p]))[:k]
                seconds.append(time.perf_counter() - start)
                right = [e for e in shown if tuple(intended[i : i + len(e)]) == tuple(e)]
                tapped = max(right, key=len, default=None)  # the longest that is right
                if tapped is not None:
                    keystrokes += p + 1
                    break
            if tapped is None:
                keystrokes += len(word) + (0 if i == len(intended) - 1 else 1)
                i += 1
                continue
            taps += 1
            if len(tapped) > 1:
                phrase_taps += 1
                phrase_words += len(tapped)
            i += len(tapped)
    if characters == 0:
        raise ValueError("`queries` holds no words. Received: an empty list")
    return {
        "ksr": round(1.0 - keystrokes / characters, 4),
        "keystrokes": keystrokes,
        "characters": characters,
        "queries": len(queries),
        "words": words,
        "taps": taps,
        "phrase_taps": phrase_taps,
        "words_by_phrase": phrase_words,
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


def spearman(x, y):
    """Spearman's rank correlation of two equal-length sequences (ties get their mean rank)."""

    def ranks(values):
        values = np.asarray(values, dtype=np.float64)
        order = np.argsort(values, kind="stable")
        ranked = np.empty(len(values), dtype=np.float64)
        ranked[order] = np.arange(len(values), dtype=np.float64)
        _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
        for start, count in zip(first, counts):
            if count > 1:  # a run of ties: all get the mean of their ranks
                ranked[order[start : start + count]] = start + (count - 1) / 2
        return ranked

    a, b = ranks(x), ranks(y)
    if len(a) != len(b):
        raise ValueError(f"spearman: lengths differ. Received: {len(a)} and {len(b)}")
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")


def _lookup(index, word):
    """The row of `word` in `index`, trying it as written, then lower-cased."""
    row = index.get(word)
    return index.get(word.lower()) if row is None else row


def word_similarity(words, vectors, pairs):
    """METRICS.md similarity: Spearman of cosine similarity vs human scores, with coverage.

    Args:
        words: the vocabulary, one word per row of `vectors`.
        vectors: (vocab, dim) array.
        pairs: (word1, word2, score) triples.

    Returns:
        {"spearman", "coverage", "pairs", "found"}: coverage is the fraction of
        pairs with both words in the vocabulary, the only ones scored.
    """
    index = {word: row for row, word in enumerate(words)}
    unit = _unit_rows(vectors)
    model_scores, human_scores = [], []
    for first, second, score in pairs:
        a, b = _lookup(index, first), _lookup(index, second)
        if a is not None and b is not None:
            model_scores.append(float(unit[a] @ unit[b]))
            human_scores.append(float(score))
    found = len(model_scores)
    return {
        "spearman": spearman(model_scores, human_scores) if found > 1 else float("nan"),
        "coverage": found / len(pairs) if pairs else 0.0,
        "pairs": len(pairs),
        "found": found,
    }


def analogy_accuracy(words, vectors, questions, batch_size=512):
    """METRICS.md analogy accuracy: 3CosAdd over unit vectors, with coverage.

    A question (a, b, c, d) reads "a is to b as c is to d"; the answer is the
    word whose unit vector has the largest dot product with b - a + c, the three
    question words excluded. Only questions whose four words are all in the
    vocabulary are asked.

    Args:
        questions: (section, a, b, c, d) tuples.

    Returns:
        {"accuracy", "coverage", "questions", "asked", "sections": {name: accuracy}}.
    """
    index = {word: row for row, word in enumerate(words)}
    unit = _unit_rows(vectors)
    asked, sections = [], []
    for section, *four in questions:
        rows = [_lookup(index, word) for word in four]
        if all(row is not None for row in rows):
            asked.append(rows)
            sections.append(section)
    asked = np.asarray(asked, dtype=np.int64).reshape(-1, 4)
    correct = np.zeros(len(asked), dtype=bool)
    for start in range(0, len(asked), batch_size):
        a, b, c, d = asked[start : start + batch_size].T
        scores = (unit[b] - unit[a] + unit[c]) @ unit.T  # (batch, vocab)
        rows = np.arange(len(a))
        for exclude in (a, b, c):
            scores[rows, exclude] = -np.inf
        correct[start : start + batch_size] = scores.argmax(axis=1) == d
    by_section = {}
    for section, hit in zip(sections, correct):
        by_section.setdefault(section, []).append(hit)
    return {
        "accuracy": float(correct.mean()) if len(correct) else float("nan"),
        "coverage": len(asked) / len(questions) if questions else 0.0,
        "questions": len(questions),
        "asked": len(asked),
        "sections": {name: float(np.mean(hits)) for name, hits in by_section.items()},
    }


def _unit_rows(vectors):
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)

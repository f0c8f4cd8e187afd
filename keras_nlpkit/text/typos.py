"""Synthetic typing errors: the kinds people make on a keyboard, one per call.

Injects the typos into queries when measuring typo-tolerant completion
(`inject_typos`). The spelling recipe makes its training pairs with its own
generator (`keras_nlpkit.text.synthetic_misspellings`: other keyboard geometry,
other phonetic swaps, a vowel-swap kind): kept apart on purpose, so the typo-tolerant
figure is not measured on the very error distribution the corrector was trained on.
Pure Python + NumPy.
"""

import numpy as np

# QWERTY neighbours (same row and the rows above and below).
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_POSITIONS = {ch: (r, c) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
KEYBOARD_NEIGHBOURS = {
    ch: "".join(
        other
        for other, (r2, c2) in _POSITIONS.items()
        if other != ch and abs(r2 - r) <= 1 and abs((c2 + 0.5 * r2) - (c + 0.5 * r)) <= 1
    )
    for ch, (r, c) in _POSITIONS.items()
}
# Sounds spelt more than one way in English.
PHONETIC_SWAPS = (
    ("ie", "ei"),
    ("ei", "ie"),
    ("ph", "f"),
    ("f", "ph"),
    ("c", "k"),
    ("k", "c"),
    ("ck", "k"),
    ("s", "c"),
    ("c", "s"),
    ("tion", "sion"),
    ("sion", "tion"),
    ("able", "ible"),
    ("ible", "able"),
    ("ance", "ence"),
    ("ence", "ance"),
    ("ant", "ent"),
    ("ent", "ant"),
    ("er", "or"),
    ("or", "er"),
    ("ee", "ea"),
    ("ea", "ee"),
    ("y", "i"),
    ("i", "y"),
    ("z", "s"),
    ("s", "z"),
    ("ght", "t"),
    ("wh", "w"),
    ("a", "e"),
    ("e", "a"),
    ("ou", "o"),
)
KINDS = ("substitute", "delete", "insert", "transpose", "double", "undouble", "phonetic")


def misspell(word, rng, kind=None):
    """`word` with one error of `kind` (random by default); may return `word` itself.

    Args:
        word: a lower-case word.
        rng: a `numpy.random.Generator`.
        kind: one of `KINDS`, or None for a random applicable kind.
    """
    if kind is None:
        kinds = [k for k in KINDS if _applicable(word, k)]
        if not kinds:
            return word
        kind = kinds[rng.integers(len(kinds))]
    n = len(word)
    if kind == "substitute":
        i = int(rng.integers(n))
        choices = KEYBOARD_NEIGHBOURS.get(word[i]) or "abcdefghijklmnopqrstuvwxyz"
        return word[:i] + choices[rng.integers(len(choices))] + word[i + 1 :]
    if kind == "delete":
        i = int(rng.integers(n))
        return word[:i] + word[i + 1 :]
    if kind == "insert":
        i = int(rng.integers(n + 1))
        near = word[min(i, n - 1)]
        choices = KEYBOARD_NEIGHBOURS.get(near) or "abcdefghijklmnopqrstuvwxyz"
        return word[:i] + choices[rng.integers(len(choices))] + word[i:]
    if kind == "transpose":
        i = int(rng.integers(n - 1))
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "double":
        i = int(rng.integers(n))
        return word[: i + 1] + word[i] + word[i + 1 :]
    if kind == "undouble":
        doubles = [i for i in range(n - 1) if word[i] == word[i + 1]]
        i = doubles[rng.integers(len(doubles))]
        return word[:i] + word[i + 1 :]
    if kind == "phonetic":
        swaps = [(a, b) for a, b in PHONETIC_SWAPS if a in word]
        a, b = swaps[rng.integers(len(swaps))]
        starts = [i for i in range(n) if word.startswith(a, i)]
        i = starts[rng.integers(len(starts))]
        return word[:i] + b + word[i + len(a) :]
    raise ValueError(f"`kind` must be one of {KINDS}. Received: kind={kind!r}")


def _applicable(word, kind):
    if kind in ("transpose",):
        return len(word) >= 2 and len(set(word)) > 1
    if kind == "delete":
        return len(word) >= 3
    if kind == "undouble":
        return any(a == b for a, b in zip(word, word[1:]))
    if kind == "phonetic":
        return any(a in word for a, _ in PHONETIC_SWAPS)
    return len(word) >= 1


def inject_typos(queries, seed=0):
    """Each query with one typo in one of its words of 3+ letters (where it has one)."""
    rng = np.random.default_rng(seed)
    typed = []
    for query in queries:
        words = query.split()
        candidates = [i for i, w in enumerate(words) if len(w) >= 3 and w.isalpha()]
        if candidates:
            i = candidates[rng.integers(len(candidates))]
            words[i] = misspell(words[i], rng)
        typed.append(" ".join(words))
    return typed

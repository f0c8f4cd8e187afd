"""Synthetic misspellings for *training* the spelling model: keyboard, spelling and sound errors.

`corrupt` makes one error of a kind (keyboard-neighbour substitution, deletion,
insertion, transposition, doubled and dropped letters, vowel swaps, phonetic swaps
such as `ph`↔`f`, `ie`↔`ei`, `ance`↔`ence`); `synthetic_pairs` draws words by
frequency and corrupts them. The typos that *evaluation* injects into queries come
from another generator (`keras_nlpkit.text.typos`: other keyboard geometry, other
phonetic swaps, no vowel kind), kept apart on purpose, so that the typo-tolerant
completion figure is not measured on the error distribution the corrector was
trained on.
"""

import random

import numpy as np

from keras_nlpkit.text.misspellings import is_word

KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def keyboard_neighbours():
    """Letters adjacent on a QWERTY keyboard: left and right on the row, and the two
    keys touching it on the rows above and below (each row is shifted right)."""
    position = {c: (r, i) for r, row in enumerate(KEYBOARD_ROWS) for i, c in enumerate(row)}
    touching = {0: (-1, 1), 1: (-1, 0), -1: (0, 1)}  # row offset -> column offsets
    neighbours = {}
    for c, (r, i) in position.items():
        near = [
            d
            for d, (r2, i2) in position.items()
            if d != c and r2 - r in touching and i2 - i in touching[r2 - r]
        ]
        neighbours[c] = "".join(sorted(near))
    return neighbours


NEIGHBOURS = keyboard_neighbours()
VOWELS = "aeiou"
# Sound-alike spellings, applied in either direction.
PHONETIC = (
    ("ph", "f"),
    ("ie", "ei"),
    ("ance", "ence"),
    ("ant", "ent"),
    ("able", "ible"),
    ("tion", "sion"),
    ("c", "k"),
    ("c", "s"),
    ("ck", "k"),
    ("er", "or"),
    ("er", "ar"),
    ("ou", "o"),
    ("ea", "ee"),
    ("y", "i"),
    ("ght", "t"),
    ("wh", "w"),
    ("sc", "s"),
    ("x", "cks"),
    ("qu", "kw"),
    ("ise", "ize"),
    ("al", "el"),
    ("ary", "ery"),
    ("ous", "us"),
    ("ei", "e"),
    ("ai", "a"),
    ("ch", "sh"),
    ("g", "j"),
    ("z", "s"),
)
ERROR_KINDS = (
    "substitution",
    "deletion",
    "insertion",
    "transposition",
    "double",
    "undouble",
    "phonetic",
    "vowel",
)


def corrupt(word, rng, kind=None):
    """One typing or spelling error of `kind` (random if None); the word if impossible."""
    kind = kind or rng.choice(ERROR_KINDS)
    n = len(word)
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    if not letters:
        return word
    i = rng.choice(letters)
    if kind == "substitution":
        near = NEIGHBOURS.get(word[i], "")
        return word[:i] + rng.choice(near) + word[i + 1 :] if near else word
    if kind == "deletion":
        return word[:i] + word[i + 1 :] if n > 1 else word
    if kind == "insertion":
        near = NEIGHBOURS.get(word[i], "") or "e"
        extra = rng.choice(near + word[i])  # a neighbour key, or the same key twice
        return (
            word[: i + 1] + extra + word[i + 1 :]
            if rng.random() < 0.5
            else word[:i] + extra + word[i:]
        )
    if kind == "transposition":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < n else word
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "undouble":
        doubled = [j for j in range(n - 1) if word[j] == word[j + 1]]
        if not doubled:
            return word[:i] + word[i] + word[i:]
        j = rng.choice(doubled)
        return word[:j] + word[j + 1 :]
    if kind == "vowel":
        vowels = [j for j, c in enumerate(word) if c in VOWELS]
        if not vowels:
            return word
        j = rng.choice(vowels)
        return word[:j] + rng.choice(VOWELS.replace(word[j], "")) + word[j + 1 :]
    if kind == "phonetic":
        options = [(a, b) for a, b in PHONETIC if a in word] + [
            (b, a) for a, b in PHONETIC if b in word
        ]
        if not options:
            return corrupt(word, rng, "vowel")
        a, b = rng.choice(options)
        starts = [j for j in range(n) if word.startswith(a, j)]
        j = rng.choice(starts)
        return word[:j] + b + word[j + len(a) :]
    raise ValueError(f"`kind` must be one of {ERROR_KINDS}. Received: kind={kind!r}")


def synthetic_pairs(frequencies, count, identity_fraction, seed, max_length=20):
    """(misspelling, word) pairs over words drawn by frequency^0.5 (rarer words too).

    One error per word, a second one for a quarter of them (codespell's real
    errors are mostly one or two edits away); `identity_fraction` of the pairs
    leave the word unchanged.
    """
    rng = random.Random(seed)
    words = [w for w in frequencies if is_word(w, max_length) and len(w) > 1]
    weights = np.sqrt(np.asarray([frequencies[w] for w in words], dtype=np.float64))
    picks = np.random.default_rng(seed).choice(len(words), size=count, p=weights / weights.sum())
    pairs = []
    for index in picks:
        word = words[index]
        if rng.random() < identity_fraction:
            pairs.append((word, word))
            continue
        wrong = corrupt(word, rng)
        if rng.random() < 0.25:
            wrong = corrupt(wrong, rng)
        if wrong != word and is_word(wrong, max_length):
            pairs.append((wrong, word))
    return pairs

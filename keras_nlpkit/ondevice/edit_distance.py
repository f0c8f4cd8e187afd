"""Edit distances between words: Damerau-Levenshtein (optimal string alignment), vectorised.

`osa_distances` measures one word against many at once (NumPy, one row of the
table per character of the word); `edit_operations` recovers the edits of one
alignment, which the channel model counts; `deletes` is SymSpell's key set.
"""

import numpy as np


def deletes(text, max_distance):
    """`text` and every string made from it by deleting up to `max_distance` characters."""
    found, frontier = {text}, {text}
    for _ in range(max_distance):
        frontier = {x[:i] + x[i + 1 :] for x in frontier for i in range(len(x))}
        found |= frontier
    return found


def osa_distances(word, candidates):
    """Damerau-Levenshtein (optimal string alignment) distances, vectorised over words.

    Args:
        word: a string.
        candidates: a list of strings.

    Returns:
        An int array, one distance per candidate.
    """
    if not candidates:
        return np.zeros(0, np.int64)
    return osa_distances_encoded(word, *character_codes(candidates))


def character_codes(words):
    """`(codes, lengths)`: the words' code points in a -1-padded int array, and lengths."""
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    codes = np.full((len(words), max(int(lengths.max(initial=0)), 1)), -1, np.int32)
    for row, w in enumerate(words):
        codes[row, : len(w)] = [ord(ch) for ch in w]
    return codes, lengths


def osa_distances_encoded(word, codes, lengths):
    """`osa_distances` of words given as `character_codes` (rows of a larger array may
    be passed: columns past the longest length are ignored)."""
    if not len(lengths):
        return np.zeros(0, np.int64)
    width = max(int(lengths.max()), 1)
    codes = codes[:, :width]
    steps = np.arange(width + 1)
    previous2 = None
    previous = np.broadcast_to(steps, (len(lengths), width + 1)).copy()
    for i, ch in enumerate(word, start=1):
        ch = ord(ch)
        cost = (codes != ch).astype(np.int64)
        current = np.empty_like(previous)
        current[:, 0] = i
        # Deletion and substitution first; insertions are a running minimum.
        current[:, 1:] = np.minimum(previous[:, 1:] + 1, previous[:, :-1] + cost)
        if previous2 is not None and width > 1:
            swap = (codes[:, :-1] == ch) & (codes[:, 1:] == ord(word[i - 2]))
            if swap.any():
                rows, cols = np.nonzero(swap)
                current[rows, cols + 2] = np.minimum(
                    current[rows, cols + 2], previous2[rows, cols] + 1
                )
        current = np.minimum.accumulate(current - steps, axis=1) + steps
        previous2, previous = previous, current
    return previous[np.arange(len(lengths)), lengths]


def edit_operations(typo, word):
    """The edits that turn `word` into `typo`, from an optimal (fewest edits) OSA alignment.

    Returns `[(kind, a, b), ...]` in word order: `("sub", x, y)` x written y;
    `("del", p, x)` x (after p) left out; `("ins", p, y)` y typed after p; `("tra", x,
    y)` xy written yx. `p` is `"^"` at the start of the word.
    """
    # Align only what differs: the common prefix and suffix are kept as they are.
    start = 0
    while start < min(len(typo), len(word)) and typo[start] == word[start]:
        start += 1
    stop = 0
    while (
        stop < min(len(typo), len(word)) - start
        and typo[len(typo) - 1 - stop] == word[len(word) - 1 - stop]
    ):
        stop += 1
    t, w = typo[start : len(typo) - stop], word[start : len(word) - stop]
    n, m = len(w), len(t)
    d = [[i + j if not i * j else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (w[i - 1] != t[j - 1])
            )
            if i > 1 and j > 1 and w[i - 1] == t[j - 2] and w[i - 2] == t[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)

    def before(i):  # the character of `word` before w[i - 1]
        return word[start + i - 2] if start + i >= 2 else "^"

    edits, i, j = [], n, m
    while i or j:
        if i and j and w[i - 1] == t[j - 1] and d[i][j] == d[i - 1][j - 1]:
            i, j = i - 1, j - 1
        elif (
            i > 1
            and j > 1
            and w[i - 1] == t[j - 2]
            and w[i - 2] == t[j - 1]
            and d[i][j] == d[i - 2][j - 2] + 1
        ):
            edits.append(("tra", w[i - 2], w[i - 1]))
            i, j = i - 2, j - 2
        elif i and j and d[i][j] == d[i - 1][j - 1] + 1:
            edits.append(("sub", w[i - 1], t[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            edits.append(("del", before(i), w[i - 1]))
            i -= 1
        else:
            edits.append(("ins", before(i + 1), t[j - 1]))
            j -= 1
    return edits[::-1]

"""Words → character ids for character-level word encoders, in NumPy alone.

A word is spelled by its UTF-8 bytes, so every script has ids without a character
vocabulary to build, ship or keep in step with the device: byte b is id b + 3,
after three marks.

    0  padding (a position after the word, or a whole padded word)
    1  begin of word
    2  end of word
    b + 3  UTF-8 byte b (3 … 258), so `NUM_CHARACTERS` = 259

"cat" at `max_characters=6` is `[1, 102, 100, 119, 2, 0]`. A word longer than fits
keeps its begin mark, its first `max_characters - 2` bytes and its end mark, so an
encoder still sees where it ends. The module imports NumPy only: an app computes the
same ids before it runs an exported `CharacterWordEncoder`.
"""

import numpy as np

NUM_CHARACTERS = 259
PADDING = 0
BEGIN_OF_WORD = 1
END_OF_WORD = 2
BYTE_OFFSET = 3


def _word_bytes(word):
    if isinstance(word, bytes):
        return word
    if isinstance(word, str):
        return word.encode("utf-8", errors="surrogatepass")
    raise ValueError(
        f"`words` must hold str (or bytes) words. Received: an element {word!r} of type "
        f"{type(word).__name__}"
    )


def _fill(row, word, max_characters):
    """Writes one word's ids into `row` (already zeros)."""
    data = _word_bytes(word)
    if not data:
        return  # an empty word is a padded position
    data = data[: max_characters - 2]
    row[0] = BEGIN_OF_WORD
    row[1 : 1 + len(data)] = np.frombuffer(data, dtype=np.uint8).astype(np.int32) + BYTE_OFFSET
    row[1 + len(data)] = END_OF_WORD


def character_ids(words, max_characters=50):
    """Character ids of words, or of sentences of words, padded with zeros.

    Args:
        words: a list of words (str or UTF-8 bytes), or a list of sentences, each a
            list of words. An empty word gives a row of zeros (a padded position).
        max_characters: ids per word, the two marks included (at least 3).

    Returns:
        `np.int32` array `(len(words), max_characters)`, or for sentences
        `(sentences, max_words, max_characters)` where shorter sentences are padded
        with all-zero words.

    Example:
    ```python
    from keras_nlpkit.text.word_characters import character_ids

    character_ids(["cat"], max_characters=6).tolist()  # [[1, 102, 100, 119, 2, 0]]
    character_ids([""], max_characters=4).tolist()  # [[0, 0, 0, 0]]
    character_ids([["a", "bc"], ["d"]], max_characters=5).shape  # (2, 2, 5)
    ```
    """
    if (
        not isinstance(max_characters, (int, np.integer))
        or isinstance(max_characters, bool)
        or max_characters < 3
    ):
        raise ValueError(
            "`max_characters` must be an integer >= 3 (begin mark, one byte, end mark). "
            f"Received: max_characters={max_characters!r}"
        )
    max_characters = int(max_characters)
    if isinstance(words, (str, bytes)):
        raise ValueError(
            f"`words` must be a list of words, not one string. Received: words={words!r}"
        )
    if isinstance(words, np.ndarray):
        words = words.tolist()
    words = list(words)
    nested = bool(words) and all(isinstance(w, (list, tuple, np.ndarray)) for w in words)
    if not nested:
        ids = np.zeros((len(words), max_characters), dtype=np.int32)
        for row, word in zip(ids, words):
            _fill(row, word, max_characters)
        return ids
    sentences = [list(s.tolist() if isinstance(s, np.ndarray) else s) for s in words]
    max_words = max(len(s) for s in sentences)
    ids = np.zeros((len(sentences), max_words, max_characters), dtype=np.int32)
    for rows, sentence in zip(ids, sentences):
        for row, word in zip(rows, sentence):
            _fill(row, word, max_characters)
    return ids

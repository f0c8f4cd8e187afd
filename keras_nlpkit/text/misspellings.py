"""Where real misspellings and word frequencies come from, for the spelling recipe.

- `codespell`'s dictionary (`codespell_lib/data/dictionary.txt`, `wrong->right1,
  right2,`): 65k real misspellings, read from the installed package;
- `symspellpy`'s `frequency_dictionary_en_82_765.txt`: 82,765 words with counts;
- pair files: Norvig's `right: wrong wrong` or `wrong<TAB>right` lines (the
  `--pairs` and `--exclude-pairs` of the recipe, and the evaluation sets).
"""

from pathlib import Path

import codespell_lib
import symspellpy

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import read_text

# The characters of the words the spelling model reads and writes.
LETTERS = "'abcdefghijklmnopqrstuvwxyz"


def codespell_dictionary_path():
    return Path(codespell_lib.__file__).parent / "data" / "dictionary.txt"


def symspell_dictionary_path():
    return Path(symspellpy.__file__).parent / "frequency_dictionary_en_82_765.txt"


def is_word(text, max_length=64):
    """Whether `text` is a word the spelling model spells: lower-case letters and
    apostrophes (not first), at most `max_length` of them."""
    return 0 < len(text) <= max_length and all(c in LETTERS for c in text) and text[0] != "'"


def read_frequencies(path=None):
    """`{word: count}` in the file's order (most frequent first)."""
    counts = {}
    with open(path or symspell_dictionary_path(), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                counts[parts[0]] = int(parts[1])
    return counts


def read_codespell(path=None):
    """(wrong, right) pairs of codespell's dictionary, one per listed correction."""
    pairs = []
    text = Path(path or codespell_dictionary_path()).read_text(encoding="utf-8")
    for line in text.splitlines():
        if "->" not in line:
            continue
        wrong, rights = line.split("->", 1)
        for right in rights.split(","):
            right = right.strip()
            if right:
                pairs.append((wrong.strip(), right))
    return pairs


def parse_pairs(text, source="--pairs"):
    """(wrong, right) pairs from Norvig's `right: wrong wrong` or `wrong<TAB>right` lines."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "\t" in line:
            wrong, right = (part.strip() for part in line.split("\t", 1))
            if wrong and right:
                pairs.append((wrong, right))
                continue
        elif ":" in line:
            right, wrongs = line.split(":", 1)
            if right.strip() and wrongs.split():
                pairs.extend((wrong, right.strip()) for wrong in wrongs.split())
                continue
        raise UserInputError(
            f"{source}: line {number} is neither `right: wrong wrong` nor "
            f"`wrong<TAB>right`. Received: {line[:80]!r}"
        )
    if not pairs:
        raise UserInputError(f"{source}: no pairs found. Received: {source}")
    return pairs


def read_pairs(path, argument="--pairs"):
    """(wrong, right) pairs of a pairs file (see `parse_pairs`)."""
    return parse_pairs(read_text(path, argument), source=f"{argument} {path}")


def build_lexicon(frequencies, size, extra_words=()):
    """The words the corrector may output, with counts: the top `size` by frequency,
    plus `extra_words` (codespell's corrections) at the smallest kept count."""
    lexicon = {}
    for word, count in frequencies.items():
        if len(lexicon) >= size:
            break
        if is_word(word):
            lexicon[word] = count
    floor = min(lexicon.values())
    for word in extra_words:
        if is_word(word) and word not in lexicon:
            lexicon[word] = frequencies.get(word, floor)
    return lexicon

"""Misspelling sources (codespell, symspell, pair files) and the synthetic training errors."""

import random

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.text.misspellings import build_lexicon
from keras_nlpkit.text.misspellings import is_word
from keras_nlpkit.text.misspellings import parse_pairs
from keras_nlpkit.text.misspellings import read_codespell
from keras_nlpkit.text.misspellings import read_frequencies
from keras_nlpkit.text.misspellings import read_pairs
from keras_nlpkit.text.synthetic_misspellings import ERROR_KINDS
from keras_nlpkit.text.synthetic_misspellings import NEIGHBOURS
from keras_nlpkit.text.synthetic_misspellings import corrupt
from keras_nlpkit.text.synthetic_misspellings import synthetic_pairs


def test_pairs_in_both_formats():
    norvig = parse_pairs("access: acess accesing\nbeginning: begining\n")
    assert norvig == [("acess", "access"), ("accesing", "access"), ("begining", "beginning")]
    tabbed = parse_pairs("teh\tthe\n\n# comment\nrecieve\treceive\n")
    assert tabbed == [("teh", "the"), ("recieve", "receive")]
    with pytest.raises(UserInputError, match="--pairs.*line 2"):
        parse_pairs("teh\tthe\njust words here\n")


@pytest.mark.parametrize("content", [None, b"", b"\x00\x01binary", b"# only a comment\n"])
def test_bad_pairs_files_name_the_argument(tmp_path, content):
    path = tmp_path / "pairs.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserInputError, match=f"--pairs.*{path}"):
        read_pairs(path)


def test_codespell_and_symspell_come_from_the_installed_packages():
    pairs = read_codespell()
    assert len(pairs) >= 64_980 and ("abandonned", "abandoned") in pairs
    frequencies = read_frequencies()
    assert len(frequencies) > 80_000 and next(iter(frequencies)) == "the"
    lexicon = build_lexicon(frequencies, 1000, extra_words=["abandoned", "x-ray"])
    assert len(lexicon) == 1001 and lexicon["abandoned"] == frequencies["abandoned"]
    assert list(lexicon)[:3] == ["the", "of", "and"]
    assert is_word("don't") and not is_word("'tis") and not is_word("x-ray")


def test_synthetic_errors():
    rng = random.Random(0)
    word = "necessary"
    for kind in ERROR_KINDS:
        wrongs = {corrupt(word, rng, kind) for _ in range(20)}
        assert wrongs - {word}, kind  # each kind can change the word
        assert all(is_word(w) for w in wrongs)
    assert all(len(corrupt(word, rng, "deletion")) == len(word) - 1 for _ in range(10))
    for _ in range(10):
        swapped = corrupt(word, rng, "transposition")
        assert sorted(swapped) == sorted(word)
    assert corrupt("letter", rng, "undouble") == "leter"
    assert set(NEIGHBOURS["s"]) == set("adewxz")
    with pytest.raises(ValueError, match="kind='swap'"):
        corrupt(word, rng, "swap")
    frequencies = {"the": 1000, "spelling": 50, "necessary": 20, "a": 5000}
    pairs = synthetic_pairs(frequencies, 2000, 0.2, seed=1)
    identity = sum(w == r for w, r in pairs) / len(pairs)
    assert 0.12 < identity < 0.3
    assert {r for _, r in pairs} <= set(frequencies) - {"a"}  # one-letter words are skipped

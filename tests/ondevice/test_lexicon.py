"""The one lexicon format: written by training, read on the device, searched by prefix."""

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice import Lexicon
from keras_nlpkit.ondevice.lexicon import parse_lexicon
from keras_nlpkit.text.lexicon import lexicon_file_bytes


def test_written_most_frequent_first_and_read_back_in_that_order():
    counts = {"york": 5, "new": 9, "boston": 5, "a": 1}
    data = lexicon_file_bytes(counts)
    assert data == b"new\t9\nboston\t5\nyork\t5\na\t1\n"
    parsed = parse_lexicon(data, "lexicon.tsv")
    assert parsed == counts and list(parsed) == ["new", "boston", "york", "a"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the lexicon is empty"),
        (b"new\t9\nboston\n", "line 2 is not `word<TAB>count`"),
        (b"new\tnine\n", "line 1"),
        (b"\xff\xfe\n", "not UTF-8"),
    ],
)
def test_a_damaged_lexicon_is_refused_naming_it(data, message):
    with pytest.raises(UserInputError, match=f"lexicon.tsv: {message}"):
        parse_lexicon(data, "lexicon.tsv")


def test_prefix_ranges():
    lexicon = Lexicon.from_counts({"york": 5, "yorker": 1, "you": 9, "zoo": 2, "ant": 3})
    assert list(lexicon.words) == ["ant", "york", "yorker", "you", "zoo"]
    assert lexicon.counts.tolist() == [3, 5, 1, 9, 2]
    lo, hi = lexicon.range("yor")
    assert lexicon.words[lo:hi] == ["york", "yorker"]
    assert lexicon.range("") == (0, 5) and lexicon.range("q")[0] == lexicon.range("q")[1]
    assert "zoo" in lexicon and "zo" not in lexicon and len(lexicon) == 5

"""The count model as sorted arrays: interpolated Kneser-Ney on hand-computed numbers,
the array file's layout, and damaged files refused by name."""

import gzip
import math

import numpy as np
import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice import NgramTable
from keras_nlpkit.ondevice.array_file import array_file_bytes
from keras_nlpkit.ondevice.array_file import read_array_file
from keras_nlpkit.ondevice.ngram_table import ngram_table_bytes
from keras_nlpkit.ondevice.ngram_table import parse_ngrams
from keras_nlpkit.ondevice.sorted_words import SortedWords
from keras_nlpkit.text.ngrams import count_ngrams

QUERIES = ["a b c", "a b d", "a b c", "b d"]
WORDS = {"d": 2, "c": 2, "b": 4, "a": 3}


def table():
    return NgramTable(ngram_table_bytes(WORDS, count_ngrams(QUERIES)))


def test_probabilities_match_hand_computed_kneser_ney():
    counts = count_ngrams(QUERIES)
    assert counts[("<s>", "<s>", "a")] == 3 and counts[("b", "d")] == 2
    model = table()
    assert list(model.words) == ["a", "b", "c", "d"] and list(model.counts) == [3, 4, 2, 2]
    # Continuation counts: distinct words before a, b, c, d, </s>, <unk> are 1, 2, 1, 1, 2, 0
    # (+0.001 each; <s> is never predicted).
    unigram = (np.asarray([1, 2, 1, 1, 2, 0]) + 1e-3) / (7 + 6e-3)
    np.testing.assert_allclose(model.probabilities(("zz",)), unigram[:4])
    # "x b": no trigram; b → c, d twice each: (2 − .75) / 4 + .75 · 2/4 · P(w).
    p_b = model.distribution(("x", "b"))
    expected_b = 0.375 * np.insert(unigram, 4, 0.0)  # ids: a b c d <s> </s> <unk>
    expected_b[[2, 3]] += 1.25 / 4
    np.testing.assert_allclose(p_b, expected_b)
    # "a b" → c twice, d once: (c − .75) / 3 + .75 · 2/3 · P(w | b).
    p_ab = model.distribution(("a", "b"))
    expected_ab = 0.5 * expected_b
    expected_ab[2] += 1.25 / 3
    expected_ab[3] += 0.25 / 3
    np.testing.assert_allclose(p_ab, expected_ab)
    for context in ((), ("a",), ("a", "b"), ("x", "b"), ("b", "d"), ("zz", "qq")):
        p = model.distribution(context)
        assert math.isclose(p.sum(), 1.0, rel_tol=1e-12) and p[model.start_id] == 0.0
        for word in ("a", "b", "c", "d", "</s>"):  # the scalar path agrees with the vector
            i = model.index_of(word)
            assert math.isclose(model.logprob(context, word), math.log(p[i]), rel_tol=1e-12)
        assert math.isclose(model.logprob(context, "zebra"), math.log(p[model.unknown_id]))


def test_words_outside_the_lexicon_pool_into_unk():
    model = NgramTable(ngram_table_bytes({"a": 1, "b": 1}, count_ngrams(["a x", "a y", "b"])))
    # a → x and a → y are both a → <unk>: one follower seen twice.
    p = model.distribution(("a",))
    assert p[model.unknown_id] > 0.5 and math.isclose(p.sum(), 1.0)


def test_sorted_words_search_in_code_point_order():
    words, order = SortedWords.from_words(["zoo", "ant", "ärger", "an", "b", "日本"])
    assert list(words) == ["an", "ant", "b", "zoo", "ärger", "日本"] == sorted(words)
    assert [["zoo", "ant", "ärger", "an", "b", "日本"][i] for i in order] == list(words)
    assert words.range("an") == (0, 2) and words.range("ä") == (4, 5) and words.range("q") == (3, 3)
    assert words.index_of("zoo") == 3 and words.index_of("zo") == -1 and "日本" in words
    assert words.longest_bytes() == 6


def test_array_file_round_trips_and_aligns():
    arrays = {
        "a": np.arange(3, dtype=np.uint16),
        "b": np.asarray([1.5, -2.0]),
        "c": np.zeros(0, np.uint8),
    }
    data = array_file_bytes(arrays, {"x": 1})
    read, meta = read_array_file(data, "f")
    assert meta == {"x": 1}
    for name, a in arrays.items():
        np.testing.assert_array_equal(read[name], a)
        assert read[name].dtype == a.dtype
    with pytest.raises(ValueError, match="array 'm' must be 1-D"):
        array_file_bytes({"m": np.zeros((2, 2))})


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b"NOTMAGIC" + b[8:], "not a keras-nlpkit array file"),
        (lambda b: b[:20], "header is damaged"),
        (lambda b: b[: len(b) // 2], "header is damaged"),  # arrays past the end
        (lambda b: array_file_bytes({"x": np.zeros(1, np.uint8)}), "not an n-gram table"),
        (
            lambda b: array_file_bytes(
                {"x": np.zeros(1, np.uint8)}, {"format": "ngram-table", "format_version": 1}
            ),
            "has no 'word_data' array",
        ),
    ],
)
def test_a_damaged_table_is_refused_naming_it(mutate, message):
    data = mutate(ngram_table_bytes(WORDS, count_ngrams(QUERIES)))
    with pytest.raises(UserInputError, match=f"completion.bin: .*{message}"):
        NgramTable(data, "completion.bin")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="discount"):
        ngram_table_bytes(WORDS, {}, discount=1.0)
    with pytest.raises(ValueError, match="word_counts"):
        ngram_table_bytes({}, {})


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not gzip", "not a gzipped"),
        (gzip.compress(b"", mtime=0), "holds no n-gram"),
        (gzip.compress(b"a b\t2\na b c\n", mtime=0), "line 2"),
        (gzip.compress(b"a\t2\n", mtime=0), "line 1"),
    ],
)
def test_a_damaged_legacy_ngram_file_is_refused_naming_it(data, message):
    with pytest.raises(UserInputError, match=f"ngrams.tsv.gz: {message}"):
        parse_ngrams(data, "ngrams.tsv.gz")


def test_legacy_ngram_file_parses():
    text = "".join(
        f"{' '.join(g)}\t{c}\n" for g, c in sorted(count_ngrams(QUERIES).items()) if len(g) > 1
    )
    parsed = parse_ngrams(gzip.compress(text.encode(), mtime=0), "ngrams")
    assert parsed == {g: c for g, c in count_ngrams(QUERIES).items() if len(g) > 1}

"""GloVe's co-occurrence counts against a brute-force Stanford-style count."""

from collections import defaultdict

import numpy as np
import pytest

from keras_nlpkit.text.cooccurrence import count_cooccurrences
from keras_nlpkit.text.cooccurrence import tokenize

TEXT = """The cat sat on the mat, and the cat's hat fell.
A dog sat on the log; the dog barked at 3 cats!

the end of the line never reaches the next line
Le café, C\u00e6sar: the cat again
"""


def brute_force(lines, window, min_count):
    """Stanford's cooccur, word by word: OOV words dropped, no window across a line."""
    tokens = [tokenize(line) for line in lines]
    counts = defaultdict(int)
    for line in tokens:
        for word in line:
            counts[word] += 1
    vocab = {w for w, c in counts.items() if c >= min_count}
    matrix = defaultdict(float)
    for line in tokens:
        kept = [w for w in line if w in vocab]
        for right in range(len(kept)):
            for left in range(max(0, right - window), right):
                d = right - left
                matrix[kept[left], kept[right]] += 1.0 / d
                matrix[kept[right], kept[left]] += 1.0 / d
    return counts, matrix


def as_dict(counts):
    return {
        (counts.words[i], counts.words[j]): float(x)
        for i, j, x in zip(counts.rows, counts.cols, counts.values)
    }


@pytest.mark.parametrize("window,min_count", [(1, 1), (3, 1), (10, 2)])
def test_counts_equal_brute_force(tmp_path, window, min_count):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    counts = count_cooccurrences([path], window=window, min_count=min_count, verbose=False)
    word_counts, expected = brute_force(TEXT.splitlines(), window, min_count)
    assert counts.tokens == sum(word_counts.values())
    assert counts.words == sorted(counts.words, key=lambda w: -word_counts[w])[: len(counts.words)]
    assert list(counts.counts) == [word_counts[w] for w in counts.words]
    got = as_dict(counts)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6), key
    assert tokenize("Don't STOP-me, C\u00e6sar 42") == ["don't", "stop", "me", "c", "sar", "42"]


def test_latin1_lines_and_spills_give_the_same_counts(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{n}" for n in range(300)]
    lines = [" ".join(rng.choice(words, rng.integers(1, 30))) for _ in range(2000)]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "big.txt"
    path.write_bytes(text.encode() + "caf\xe9 w1 w2\n".encode("latin-1"))
    in_memory = count_cooccurrences([path], window=5, min_count=1, verbose=False)
    spilled = count_cooccurrences(
        [path], window=5, min_count=1, memory_gb=2e-5, work_dir=tmp_path, verbose=False
    )
    assert "caf" in in_memory.words  # the Latin-1 line was read (é is not a token character)
    assert as_dict(in_memory).keys() == as_dict(spilled).keys()
    a, b = as_dict(in_memory), as_dict(spilled)
    assert max(abs(a[k] - b[k]) for k in a) < 1e-4
    _, expected = brute_force(text.splitlines() + ["caf\xe9 w1 w2"], 5, 1)
    assert len(a) == len(expected)


def test_a_chunk_without_pairs_is_counted_not_a_crash(tmp_path):
    # 12,000 one-word lines (24,000 stream entries with the line breaks), then lines with
    # pairs: the first chunk (10,000 entries at the least) holds no pair (an IndexError
    # before 0.2.0).
    lines = [f"w{n % 50}" for n in range(12_000)] + ["w1 w2 w3", "w2 w3 w4"] * 20
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    counts = count_cooccurrences(
        [path], window=2, min_count=1, memory_gb=2e-5, work_dir=tmp_path, verbose=False
    )
    _, expected = brute_force(lines, 2, 1)
    got = as_dict(counts)
    assert got.keys() == expected.keys()
    assert all(got[k] == pytest.approx(v, rel=1e-6) for k, v in expected.items())


def paragraphs(text):
    """The text's paragraphs (blank-line separated), each joined into one line."""
    blocks, block = [], []
    for line in text.splitlines() + [""]:
        if line.strip():
            block.append(line)
        elif block:
            blocks.append(" ".join(block))
            block = []
    return blocks


def test_paragraph_breaks_equal_brute_force_over_joined_paragraphs(tmp_path):
    # Windows run across wrapped lines and stop at blank lines and at the end of a file.
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(TEXT + "tail of the first file", encoding="utf-8")
    second.write_text("the cat\n\n\nthe dog sat\non the mat\n", encoding="utf-8")
    counts = count_cooccurrences(
        [first, second], window=3, min_count=1, verbose=False, breaks="paragraph"
    )
    lines = paragraphs(first.read_text(encoding="utf-8")) + paragraphs(second.read_text())
    _, expected = brute_force(lines, 3, 1)
    got = as_dict(counts)
    assert got.keys() == expected.keys()
    assert all(got[k] == pytest.approx(v, rel=1e-6) for k, v in expected.items())
    by_line = as_dict(count_cooccurrences([first, second], window=3, min_count=1, verbose=False))
    assert ("fell", "a") in got and ("fell", "a") not in by_line  # "... fell." / "A dog ..."
    assert ("line", "le") in got  # the third paragraph is two lines
    assert ("file", "cat") not in got  # files never join: "... first file" / "the cat"


def test_breaks_must_be_line_or_paragraph(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a b\n")
    with pytest.raises(ValueError, match="breaks=.*'sentence'"):
        count_cooccurrences([path], breaks="sentence", verbose=False)

"""Query logs: every line format, the encoding policy, a stable split keeping repeats together."""

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.text.queries import parse_query_line
from keras_nlpkit.text.queries import read_queries
from keras_nlpkit.text.queries import split_queries
from keras_nlpkit.text.queries import word_counts
from tests.corpora import QUERIES


def test_query_lines_in_every_format():
    assert parse_query_line("20001:1:Obama  Family tree") == "obama family tree"
    assert parse_query_line("3:miami white pages") == "miami white pages"
    assert parse_query_line("time: 10:30 pm") == "time: 10:30 pm"
    assert parse_query_line("  plain   query ") == "plain query"


def test_read_queries_reads_a_stray_latin1_line_and_refuses_bad_files(tmp_path, capsys):
    good = tmp_path / "q.txt"
    good.write_bytes(b"1:la ni\xf1a\n" + b"".join(b"%d:query %d\n" % (i, i) for i in range(200)))
    queries = read_queries([good])
    assert len(queries) == 201 and queries[:2] == ["la niña", "query 0"]
    assert "1 line(s)" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01" * 50)
    for path, message in (
        (empty, "the file is empty"),
        (binary, "binary"),
        (tmp_path / "missing.txt", "no such file"),
    ):
        with pytest.raises(UserInputError, match=f"--corpus: {message}.*{path.name}"):
            read_queries([path])
    only_ids = tmp_path / "ids.txt"
    only_ids.write_text("1:\n2:  \n")
    with pytest.raises(UserInputError, match="--corpus: no query in the file"):
        read_queries([only_ids])


def test_split_keeps_repeats_together_and_is_stable():
    train, dev = split_queries(QUERIES, 0.2)
    assert set(train).isdisjoint(dev) and len(train) + len(dev) == len(QUERIES)
    assert (train, dev) == split_queries(list(QUERIES), 0.2)
    assert 0.05 < len(dev) / len(QUERIES) < 0.4
    by_line = split_queries(QUERIES, 0.2, by="line")
    assert set(by_line[0]) & set(by_line[1])  # the same query on both sides
    with pytest.raises(ValueError, match="by='words'"):
        split_queries(QUERIES, 0.2, by="words")
    assert word_counts(["a b", "b c"]) == {"a": 1, "b": 2, "c": 1}

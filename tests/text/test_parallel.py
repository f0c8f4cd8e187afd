"""Reading parallel corpora: plain and gzipped files, and clear errors for bad pairs."""

import gzip

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.text.parallel import read_parallel


def test_reads_plain_and_gzipped_files_alike(tmp_path):
    (tmp_path / "a.en").write_text("A dog runs.\n Two cats. \n", encoding="utf-8")
    with gzip.open(tmp_path / "a.de.gz", "wt", encoding="utf-8") as f:
        f.write("Ein Hund rennt.\nZwei Katzen.\n")
    pairs = read_parallel(tmp_path / "a.en", tmp_path / "a.de.gz")
    assert pairs == [("A dog runs.", "Ein Hund rennt."), ("Two cats.", "Zwei Katzen.")]


def test_unaligned_files_are_refused_naming_both_files_and_the_line(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "a.de").write_text("eins\nzwei\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"unaligned.*a\.en has 3 lines.*a\.de has 2.*line 3"):
        read_parallel(tmp_path / "a.en", tmp_path / "a.de")


def test_an_empty_line_is_refused_naming_the_file_and_the_line(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "a.de").write_text("eins\n  \ndrei\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=r"empty line 2 in .*a\.de"):
        read_parallel(tmp_path / "a.en", tmp_path / "a.de")


def test_missing_and_binary_files_are_refused(tmp_path):
    (tmp_path / "a.en").write_text("one\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="no such file"):
        read_parallel(tmp_path / "a.en", tmp_path / "missing.de")
    (tmp_path / "b.de").write_bytes(b"eins\x00\n")
    with pytest.raises(UserInputError, match="binary"):
        read_parallel(tmp_path / "a.en", tmp_path / "b.de")
    (tmp_path / "c.de.gz").write_bytes(gzip.compress(b"eins\n")[:-8])  # truncated
    with pytest.raises(UserInputError, match="gzip"):
        read_parallel(tmp_path / "a.en", tmp_path / "c.de.gz")

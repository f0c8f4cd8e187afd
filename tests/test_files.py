"""Files written whole with the umask's mode, and the one text-encoding policy for reading."""

import os
import stat

import pytest

from keras_nlpkit import files
from keras_nlpkit.errors import UserInputError


def test_atomic_writes_replace_whole_files_with_the_umask_mode(tmp_path):
    path = tmp_path / "sub" / "out.bin"
    files.atomic_write_bytes(path, b"\x00\x01")
    files.atomic_write_text(tmp_path / "out.txt", "héllo")
    assert path.read_bytes() == b"\x00\x01"
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "héllo"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.bin"]  # no temporary left


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.json"
    files.atomic_write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        files.atomic_write_json(path, {"a": object()})
    assert path.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_utf8_lines_with_a_latin1_line_read_with_one_warning(tmp_path, capsys):
    path = tmp_path / "mixed.txt"
    path.write_bytes("naïve\r\nC\u00e6sar\n".encode() + "caf\xe9\n".encode("latin-1") + b"end")
    assert files.read_lines(path, "--corpus") == ["naïve", "Cæsar", "café", "end"]
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "1 line(s)" in err and str(path) in err
    assert files.read_text(path) == "naïve\nCæsar\ncafé\nend"


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "--data: no such file"),
        ("folder", "--data: a folder, not a file"),
        (b"", "--data: the file is empty"),
        (b"\n  \n\t\n", "--data: the file is empty"),
        (b"\x00\x01text", "--data: binary file"),
        (b"a line\n" * 3000 + b"late\x00nul\n", "--data: binary file"),  # past the first 8 KB
    ],
)
def test_bad_files_are_refused_naming_the_argument_and_the_path(tmp_path, content, message):
    path = tmp_path / "input.txt"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(UserInputError, match=f"{message}.*{path.name}"):
        files.read_lines(path, "--data")


def test_a_nul_block_is_refused_before_the_rest_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_BLOCK", 64)
    path = tmp_path / "big.txt"
    path.write_bytes(b"\x00" + b"x" * 200 + b"\n" * 1000)
    blocks = files.read_line_blocks(path, "--corpus")
    with pytest.raises(UserInputError, match="binary"):
        next(blocks)

"""Files written whole, with the mode any other file the user makes would get."""

import os
import stat

import pytest

from keras_nlpkit import io_utils


def test_atomic_writes_replace_whole_files_with_the_umask_mode(tmp_path):
    path = tmp_path / "sub" / "out.bin"
    io_utils.atomic_write_bytes(path, b"\x00\x01")
    io_utils.atomic_write_text(tmp_path / "out.txt", "héllo")
    assert path.read_bytes() == b"\x00\x01"
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "héllo"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.bin"]  # no temporary left


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.json"
    io_utils.atomic_write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        io_utils.atomic_write_json(path, {"a": object()})
    assert path.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]

"""Reading the user's text and writing our files (TF-free).

Writes are whole or not at all: a temporary file in the same folder, then a
rename. Reads follow one text-encoding policy for every corpus, query log, pair
list and evaluation file (`read_lines`):

- UTF-8, line by line; a line that is not UTF-8 is read as Latin-1 (the encoding
  of Project Gutenberg's older files and of the odd line in TREC's query logs),
  with one warning per file saying how many;
- a NUL byte anywhere means the file is binary: refused, naming the file, as soon
  as the block holding it is read (nothing is read whole first);
- a missing path, a folder or a file with no non-blank line is refused, naming
  the argument and the path.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

from keras_nlpkit.errors import UserInputError

# The process umask, read once at import (reading it means setting it).
_UMASK = os.umask(0)
os.umask(_UMASK)
_BLOCK = 1 << 24  # bytes of lines read at a time


def give_default_mode(path):
    """The mode a new file or folder gets from the umask (`mkstemp`/`mkdtemp` give 0600/0700)."""
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~_UMASK)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        give_default_mode(tmp)  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text):
    """Writes UTF-8 `text` to `path` through a temporary file in the same folder."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_model_atomically(model, path):
    """`model.save(path)` (a `.keras` file) that never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_input_file(path, argument):
    """`path` as a `Path` when it names a readable file; else a `UserInputError`."""
    path = Path(path)
    if path.is_dir():
        raise UserInputError(f"{argument}: a folder, not a file. Received: {path}")
    if path.exists() and not path.is_file():
        raise UserInputError(
            f"{argument}: not a regular file (a pipe or a device?). Received: {path}"
        )
    if not path.is_file():
        raise UserInputError(f"{argument}: no such file. Received: {path}")
    return path


def read_line_blocks(path, argument="--corpus", warn=True):
    """Blocks (lists) of the lines of a text file, by the policy in the module docstring.

    Streams the file (blocks of about 16 MB), so a large corpus is never held
    whole. Line ends are removed. An empty file gives no block; callers that need
    text use `read_lines`, which refuses it.
    """
    path = check_input_file(path, argument)
    latin1 = 0
    with open(path, "rb") as f:
        while raw := f.readlines(_BLOCK):
            if any(b"\x00" in line for line in raw):
                raise UserInputError(f"{argument}: binary file, not text. Received: {path}")
            try:
                yield b"".join(raw).decode("utf-8").splitlines()
            except UnicodeDecodeError:
                lines = []
                for line in raw:
                    try:
                        lines.append(line.decode("utf-8"))
                    except UnicodeDecodeError:
                        lines.append(line.decode("latin-1"))
                        latin1 += 1
                yield "".join(lines).splitlines()
    if latin1 and warn:
        print(
            f"nlpkit: warning: {argument}: {latin1} line(s) of {path} are not UTF-8; "
            "read them as Latin-1",
            file=sys.stderr,
        )


def read_lines(path, argument="--corpus"):
    """The lines of a text file (see the module docstring); refuses a file with no text."""
    lines = [line for block in read_line_blocks(path, argument) for line in block]
    if not any(line.strip() for line in lines):
        raise UserInputError(f"{argument}: the file is empty. Received: {path}")
    return lines


def read_text(path, argument="--corpus"):
    """The whole text of a file (lines joined by newlines), by the same policy."""
    return "\n".join(read_lines(path, argument))

"""Files the library writes: whole or not at all (write a temporary, then rename)."""

import json
import os
import tempfile
from pathlib import Path


class UserInputError(ValueError):
    """Bad input from the user; the CLI prints it and exits with status 2."""


def atomic_write_text(path, text):
    """Writes `text` to `path` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def read_text_files(paths, argument="--corpus"):
    """Reads UTF-8 text files, with one clear error for each way a file can be bad."""
    texts = []
    for path in map(Path, paths):
        if not path.is_file():
            raise UserInputError(f"{argument}: no such file. Received: {path}")
        data = path.read_bytes()
        if b"\x00" in data[:8192]:
            raise UserInputError(f"{argument}: binary file, not text. Received: {path}")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UserInputError(
                f"{argument}: not UTF-8 text (byte {error.start}). Received: {path}"
            ) from None
        if not text.strip():
            raise UserInputError(f"{argument}: the file is empty. Received: {path}")
        texts.append(text)
    return texts

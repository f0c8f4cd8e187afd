"""Files the library writes: whole or not at all (write a temporary, then rename)."""

import json
import os
import tempfile
from pathlib import Path


class UserInputError(ValueError):
    """Bad input from the user; the CLI prints it and exits with status 2."""


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN); the CLI prints it and exits 1."""


# The process umask, read once at import (reading it means setting it).
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it 0600; give it a normal file's mode
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


def _read_bytes(path, argument):
    if not path.is_file():
        raise UserInputError(f"{argument}: no such file. Received: {path}")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UserInputError(f"{argument}: binary file, not text. Received: {path}")
    return data


def read_text_files(paths, argument="--corpus"):
    """Reads UTF-8 text files, with one clear error for each way a file can be bad."""
    texts = []
    for path in map(Path, paths):
        data = _read_bytes(path, argument)
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


def read_text_lines(path, argument="--corpus", max_bad_fraction=0.01):
    """The lines of a UTF-8 file, tolerating a few lines in another encoding.

    Real query logs hold the odd Latin-1 line (TREC's MQ2009 has 2 in 40,000):
    those lines are dropped with a warning on stderr. A file with more than
    `max_bad_fraction` of such lines is not UTF-8 text and is refused.
    """
    import sys

    path = Path(path)
    lines, bad = [], 0
    for raw in _read_bytes(path, argument).splitlines():
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            bad += 1
    total = len(lines) + bad
    if bad > max_bad_fraction * total:
        raise UserInputError(
            f"{argument}: not UTF-8 text ({bad} of {total} lines). Received: {path}"
        )
    if bad:
        print(f"nlpkit: warning: {argument}: skipped {bad} non-UTF-8 line(s) of {path}",
              file=sys.stderr)
    if not any(line.strip() for line in lines):
        raise UserInputError(f"{argument}: the file is empty. Received: {path}")
    return lines


def training_callbacks(out_dir, save_freq="epoch"):
    """What every recipe's `fit` runs with: resumable backup, TensorBoard, stop on NaN.

    `save_freq`: back up after every epoch, or every that many steps (a recipe that
    trains one long epoch, like `gpt_pretrain`, then resumes mid-epoch after a kill).
    """
    import keras

    out_dir = Path(out_dir)
    return [
        keras.callbacks.BackupAndRestore(str(out_dir / "backup"), save_freq=save_freq),
        keras.callbacks.TensorBoard(str(out_dir / "logs")),
        keras.callbacks.TerminateOnNaN(),
    ]

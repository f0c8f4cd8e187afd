"""`read_parallel`: sentence pairs from two line-aligned files (plain or gzipped)."""

import gzip
import sys

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import check_input_file


def read_text_lines(path, argument):
    """The lines of a plain or `.gz` UTF-8 text file, line ends removed.

    The library's encoding policy (`keras_nlpkit.files`): a line that is not
    UTF-8 is read as Latin-1 with one warning per file; a NUL byte means a
    binary file, refused by name. A gzip file is recognised by its magic bytes,
    whatever its name.
    """
    path = check_input_file(path, argument)
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    lines, latin1 = [], 0
    try:
        with opener(path, "rb") as f:
            for raw in f:
                if b"\x00" in raw:
                    raise UserInputError(f"{argument}: binary file, not text. Received: {path}")
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    line, latin1 = raw.decode("latin-1"), latin1 + 1
                lines.append(line.rstrip("\r\n"))
    except (OSError, EOFError) as error:  # a damaged or truncated gzip stream
        if isinstance(error, OSError) and error.errno is not None:
            raise
        raise UserInputError(f"{argument}: damaged gzip file ({error}). Received: {path}") from None
    if latin1:
        print(
            f"nlpkit: warning: {argument}: {latin1} line(s) of {path} are not UTF-8; "
            "read them as Latin-1",
            file=sys.stderr,
        )
    return lines


def read_parallel(source_path, target_path, argument="--data"):
    """`[(source, target), ...]`: line i of one file is the translation of line i of the other.

    Refused with a `UserInputError` (a `ValueError`) naming the file and the
    line: files of different line counts ("unaligned"), and a blank line on
    either side (a pair with nothing to translate or nothing to learn). Lines
    are stripped of surrounding whitespace.

    Example:
    ```python
    from pathlib import Path
    from keras_nlpkit.text.parallel import read_parallel

    Path("tiny.en").write_text("A dog runs.\\nTwo cats.\\n")
    Path("tiny.de").write_text("Ein Hund rennt.\\nZwei Katzen.\\n")
    read_parallel("tiny.en", "tiny.de")[1]  # ('Two cats.', 'Zwei Katzen.')
    ```
    """
    sources = read_text_lines(source_path, argument)
    targets = read_text_lines(target_path, argument)
    if len(sources) != len(targets):
        shorter, longer = (source_path, target_path)
        if len(targets) < len(sources):
            shorter, longer = longer, shorter
        line = min(len(sources), len(targets)) + 1
        raise UserInputError(
            f"{argument}: unaligned parallel files: {source_path} has {len(sources):,} lines "
            f"and {target_path} has {len(targets):,}; {shorter} ends before line {line} of "
            f"{longer}. Received: {source_path}, {target_path}"
        )
    if not sources:
        raise UserInputError(f"{argument}: the file is empty. Received: {source_path}")
    pairs = []
    for number, (source, target) in enumerate(zip(sources, targets), start=1):
        source, target = source.strip(), target.strip()
        for text, path in ((source, source_path), (target, target_path)):
            if not text:
                raise UserInputError(
                    f"{argument}: empty line {number} in {path}, where a sentence pair is "
                    f"expected. Received: {path}:{number}"
                )
        pairs.append((source, target))
    return pairs

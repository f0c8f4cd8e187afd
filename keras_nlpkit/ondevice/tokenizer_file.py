"""`tokenizer.json`: our tokenizers saved as JSON, and read back."""

import json
from pathlib import Path

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.character_tokenizer import CharacterTokenizer
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer

TOKENIZER_FILE = "tokenizer.json"
_KINDS = {CharacterTokenizer.kind: CharacterTokenizer, WordTokenizer.kind: WordTokenizer}


def tokenizer_from_config(config):
    """Rebuilds a tokenizer from `get_config()` (the content of `tokenizer.json`)."""
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind not in _KINDS:
        raise ValueError(
            f"Unknown tokenizer kind; known: {sorted(_KINDS)}. Received: kind={kind!r}"
        )
    arguments = {key: value for key, value in config.items() if key != "kind"}
    return _KINDS[kind](**arguments)


def load_tokenizer(path, argument="--tokenizer"):
    """Reads a `tokenizer.json`; a `UserInputError` naming the file if it is not one."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a folder, or a pipe that would block
        raise UserInputError(f"{argument}: not a regular file. Received: {path}")
    try:
        return parse_tokenizer(path.read_bytes(), argument)
    except OSError as error:
        raise UserInputError(
            f"{argument}: not a tokenizer file ({error}). Received: {path}"
        ) from None
    except UserInputError as error:
        raise UserInputError(f"{error}. Received: {path}") from None


def parse_tokenizer(data, source):
    """A tokenizer from the bytes of a `tokenizer.json`; `source` names it in errors."""
    try:
        return tokenizer_from_config(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as error:
        raise UserInputError(f"{source}: not a tokenizer file ({error})") from None

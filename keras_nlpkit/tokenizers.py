"""Tokenizers shared by training and the on-device runtime (pure Python).

keras-hub's tokenizers run as TensorFlow ops; the on-device runtime cannot import
TensorFlow, and a phone app re-implements whatever tokenizer it is given. So the
tokenizers here are small, pure-Python and fully described by a JSON config
(`tokenizer.json`, exported next to the `.tflite` files): training, the runtime
and an app reading that file tokenize identically.
"""

import json
from pathlib import Path


class _VocabularyTokenizer:
    """A fixed vocabulary, its index, and the JSON config both tokenizers share."""

    kind = None

    def _set_vocabulary(self, vocabulary, bad, what):
        if bad or len(set(vocabulary)) != len(vocabulary):
            raise ValueError(
                f"`vocabulary` must list {what}. "
                f"Received: {'duplicates' if not bad else bad[:5]}"
            )
        self.vocabulary = vocabulary
        self._index = {token: i for i, token in enumerate(vocabulary)}

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def get_config(self):
        return {"kind": self.kind, "vocabulary": self.vocabulary}


class CharacterTokenizer(_VocabularyTokenizer):
    """Characters to ids over a fixed vocabulary; characters outside it map to id 0.

    keras-hub's `UnicodeCodepointTokenizer` uses raw code points (ids up to 1.1M);
    this one uses the vocabulary training saw, so the embedding and softmax stay
    as small as the alphabet.

    Args:
        vocabulary: list of single characters; index 0 is the unknown token.

    Example:
    ```python
    from keras_nlpkit.tokenizers import CharacterTokenizer

    tokenizer = CharacterTokenizer(["<unk>", " ", "a", "b"])
    tokenizer.encode("ab c")      # [2, 3, 1, 0]
    tokenizer.decode([2, 3, 1])   # "ab "
    ```
    """

    kind = "characters"
    unknown_id = 0

    def __init__(self, vocabulary):
        vocabulary = list(vocabulary)
        if len(vocabulary) < 2:
            raise ValueError(
                "`vocabulary` needs the unknown token and at least one character. "
                f"Received: vocabulary={vocabulary!r}"
            )
        bad = [token for token in vocabulary[1:] if not isinstance(token, str) or len(token) != 1]
        self._set_vocabulary(vocabulary, bad, "distinct single characters after index 0")

    def encode(self, text):
        return [self._index.get(char, self.unknown_id) for char in text]

    def decode(self, ids):
        return "".join(self.vocabulary[i] for i in ids if i != self.unknown_id)

class WordTokenizer(_VocabularyTokenizer):
    """Space-separated words to ids over a fixed vocabulary; other words map to id 0.

    Search queries and keyboard text are already split by the user's spaces, so
    splitting is `str.split()` after lower-casing: nothing a phone app cannot
    repeat exactly. Index 0 is the unknown word, 1 the start and 2 the end of a
    query; a language model reads `<s> w_1 .. w_n` and predicts `w_1 .. w_n </s>`.

    Args:
        vocabulary: list of words; indices 0, 1, 2 are `<unk>`, `<s>`, `</s>`.

    Example:
    ```python
    from keras_nlpkit.tokenizers import WordTokenizer

    tokenizer = WordTokenizer(["<unk>", "<s>", "</s>", "new", "york"])
    tokenizer.encode("New York city")   # [3, 4, 0]
    tokenizer.decode([3, 4, 0])         # "new york <unk>"
    ```
    """

    kind = "words"
    unknown_id, start_id, end_id = 0, 1, 2
    special_tokens = ("<unk>", "<s>", "</s>")

    def __init__(self, vocabulary):
        vocabulary = list(vocabulary)
        if tuple(vocabulary[:3]) != self.special_tokens or len(vocabulary) < 4:
            raise ValueError(
                f"`vocabulary` must start with {list(self.special_tokens)} and hold at "
                f"least one word. Received: vocabulary={vocabulary[:5]!r}..."
            )
        bad = [w for w in vocabulary[3:] if not isinstance(w, str) or not w or w != w.strip()
               or " " in w or w != w.lower()]
        self._set_vocabulary(vocabulary, bad, "distinct lower-case words without spaces")

    @staticmethod
    def split(text):
        return text.lower().split()

    def token_id(self, word):
        return self._index.get(word, self.unknown_id)

    def encode(self, text):
        return [self._index.get(word, self.unknown_id) for word in self.split(text)]

    def decode(self, ids):
        return " ".join(self.vocabulary[i] for i in ids)


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


def load_tokenizer(path):
    """Reads a `tokenizer.json`; a clear `ValueError` naming the file if it is not one."""
    path = Path(path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        return tokenizer_from_config(config)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as error:
        raise ValueError(f"Not a tokenizer file ({error}). Received: {path}") from None

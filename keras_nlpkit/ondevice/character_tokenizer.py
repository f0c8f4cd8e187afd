"""`CharacterTokenizer`: characters to ids over the vocabulary training saw."""

from keras_nlpkit.ondevice.vocabulary_tokenizer import VocabularyTokenizer


class CharacterTokenizer(VocabularyTokenizer):
    """Characters to ids over a fixed vocabulary; characters outside it map to id 0.

    keras-hub's `UnicodeCodepointTokenizer` uses raw code points (ids up to 1.1M);
    this one uses the vocabulary training saw, so the embedding and softmax stay
    as small as the alphabet.

    Args:
        vocabulary: list of single characters; index 0 is the unknown token.

    Example:
    ```python
    from keras_nlpkit.ondevice import CharacterTokenizer

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

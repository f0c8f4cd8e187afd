"""`WordTokenizer`: space-separated words to ids, as a keyboard splits them."""

from keras_nlpkit.ondevice.vocabulary_tokenizer import VocabularyTokenizer


class WordTokenizer(VocabularyTokenizer):
    """Space-separated words to ids over a fixed vocabulary; other words map to id 0.

    Search queries and keyboard text are already split by the user's spaces, so
    splitting is `str.split()` after lower-casing: nothing a phone app cannot
    repeat exactly. Index 0 is the unknown word, 1 the start and 2 the end of a
    query; a language model reads `<s> w_1 .. w_n` and predicts `w_1 .. w_n </s>`.

    Args:
        vocabulary: list of words; indices 0, 1, 2 are `<unk>`, `<s>`, `</s>`.

    Example:
    ```python
    from keras_nlpkit.ondevice import WordTokenizer

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
        bad = [
            w
            for w in vocabulary[3:]
            if not isinstance(w, str) or not w or w != w.strip() or " " in w or w != w.lower()
        ]
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

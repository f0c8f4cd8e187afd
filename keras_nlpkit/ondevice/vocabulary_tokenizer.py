"""`VocabularyTokenizer`: what our pure-Python tokenizers share."""


class VocabularyTokenizer:
    """A fixed vocabulary, its index, and the JSON config (`tokenizer.json`) it is saved as.

    keras-hub's tokenizers run as TensorFlow ops; the on-device runtime cannot import
    TensorFlow, and a phone app re-implements whatever tokenizer it is given. So our
    tokenizers are small, pure Python and fully described by `get_config()`, which
    the export writes as `tokenizer.json`: training, this runtime and an app reading
    that file tokenize identically. Subclasses set `kind` (the config's `"kind"`) and
    call `_set_vocabulary` from `__init__`.
    """

    kind = None

    def _set_vocabulary(self, vocabulary, bad, what):
        if bad or len(set(vocabulary)) != len(vocabulary):
            raise ValueError(
                f"`vocabulary` must list {what}. Received: {'duplicates' if not bad else bad[:5]}"
            )
        self.vocabulary = vocabulary
        self._index = {token: i for i, token in enumerate(vocabulary)}

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def get_config(self):
        return {"kind": self.kind, "vocabulary": self.vocabulary}

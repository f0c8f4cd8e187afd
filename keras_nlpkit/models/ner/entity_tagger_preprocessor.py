"""`EntityTaggerPreprocessor`: words → the ids of a tagger's feature blocks."""

import json
from pathlib import Path

import numpy as np

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import read_lines
from keras_nlpkit.text.word_characters import character_ids

PADDING_ID = 0
UNKNOWN_ID = 1
FIRST_WORD_ID = 2  # word n of the vocabulary is id n + 2
# A word's case class, from its letters (letters without case, e.g. CJK, count as
# lower-case), else its digits, else punctuation. Id 0 is padding.
CASE_CLASSES = ("padding", "lower", "title", "upper", "mixed", "digits", "number", "punctuation")
CASE_IDS = {name: i for i, name in enumerate(CASE_CLASSES)}
VOCABULARY_FILE = "vocabulary.txt"
SETTINGS_FILE = "preprocessor.json"


def case_class(word):
    """The case class of a word, one of `CASE_CLASSES[1:]`.

    - lower: no capital letter (`"the"`, `"1st"`, `"u.s"`)
    - title: a capital first and no other (`"Paris"`, `"I"`)
    - upper: two letters or more, all capitals (`"EU"`, `"U.S."`, `"BRUSSELS"`)
    - mixed: any other mix (`"McDonald"`, `"iPhone"`, `"O'Neill"`)
    - digits: no letter, digits only (`"1996"`)
    - number: no letter, digits and other characters (`"1996-08-22"`, `"6-4"`, `"3.5"`)
    - punctuation: neither letters nor digits (`"."`, `"--"`, `":)"`)
    """
    letters = [c for c in word if c.isalpha()]
    if letters:
        capitals = [c.isupper() for c in letters]
        if not any(capitals):
            return "lower"
        if capitals[0] and not any(capitals[1:]):
            return "title"
        if all(capitals):
            return "upper"
        return "mixed"
    if any(c.isdigit() for c in word):
        return "digits" if word.isdigit() else "number"
    return "punctuation"


@nlpkit_export("keras_nlpkit.models.EntityTaggerPreprocessor")
class EntityTaggerPreprocessor:
    """Sentences of words → the padded ids of the tagger's feature blocks.

    `token_ids` and `case_ids` feed `WordVectorFeatures`; with `max_characters`,
    `character_ids` (`keras_nlpkit.text.word_characters`) feed `ELMoFeatures`.

    Word vectors such as ours (GloVe on lower-cased text) have no capitals, and
    capitals are much of what tells a name in English: so a word is looked up
    lower-cased and its case class (`case_class`) goes beside it. Token ids follow
    `WordVectors.embedding`'s layout: 0 is padding, 1 a word outside the vocabulary,
    word n of `vocabulary` is n + 2. Pure Python and NumPy, so an app computes the
    same ids before it runs the exported tagger.

    Args:
        vocabulary: the words of the vectors, in their row order (a list, or the
            path of a file with one word a line); None for no `token_ids`/`case_ids`.
        lowercase: look words up lower-cased (the vocabulary's own case otherwise).
        max_characters: also give `character_ids` of this width (None: none).

    Call arguments:
        sentences: a list of sentences, each a list of words.
        length: pad (or cut) every row to this length; default the longest sentence.

    Returns:
        `{"token_ids", "case_ids"}`: int32 `(len(sentences), length)`, 0 at padding;
        `"character_ids"`: int32 `(len(sentences), length, max_characters)`.

    Example:
    ```python
    from keras_nlpkit.models import EntityTaggerPreprocessor

    preprocessor = EntityTaggerPreprocessor(["the", "eu", "rejects", "german"])
    x = preprocessor([["EU", "rejects", "German", "beef"], ["The", "EU"]])
    x["token_ids"].tolist()  # [[3, 4, 5, 1], [2, 3, 0, 0]]
    x["case_ids"].tolist()  # [[3, 1, 2, 1], [2, 3, 0, 0]]
    ```
    """

    def __init__(self, vocabulary, lowercase=True, max_characters=None):
        if max_characters is not None:
            check_positive_int("max_characters", max_characters)
        self.max_characters = max_characters
        self.lowercase = bool(lowercase)
        if vocabulary is None:
            if max_characters is None:
                raise ValueError(
                    "`vocabulary` or `max_characters` must be given (the ids of some "
                    "block). Received: vocabulary=None, max_characters=None"
                )
            self.vocabulary, self.index = None, {}
            return
        if isinstance(vocabulary, (str, Path)):
            vocabulary = [line for line in read_lines(vocabulary, "vocabulary") if line]
        vocabulary = list(vocabulary)
        if not vocabulary or len(set(vocabulary)) != len(vocabulary):
            raise ValueError(
                "`vocabulary` must hold distinct words, at least one. Received: "
                f"{len(vocabulary)} words, {len(set(vocabulary))} distinct"
            )
        self.vocabulary = vocabulary
        self.index = {word: n + FIRST_WORD_ID for n, word in enumerate(vocabulary)}

    @property
    def vocabulary_size(self):
        """Rows of the embedding: the words, padding and the unknown word."""
        return len(self.vocabulary) + FIRST_WORD_ID if self.vocabulary else 0

    def token_id(self, word):
        return self.index.get(word.lower() if self.lowercase else word, UNKNOWN_ID)

    def __call__(self, sentences, length=None):
        length = max((len(words) for words in sentences), default=0) if length is None else length
        out = {}
        if self.max_characters is not None:
            padded = [list(words[:length]) + [""] * (length - len(words)) for words in sentences]
            out["character_ids"] = character_ids(padded, self.max_characters).reshape(
                len(sentences), length, self.max_characters
            )
        if self.vocabulary is None:
            return out
        token_ids = np.zeros((len(sentences), length), np.int32)
        case_ids = np.zeros((len(sentences), length), np.int32)
        for row, words in enumerate(sentences):
            words = words[:length]
            token_ids[row, : len(words)] = [self.token_id(word) for word in words]
            case_ids[row, : len(words)] = [CASE_IDS[case_class(word)] for word in words]
        return {"token_ids": token_ids, "case_ids": case_ids, **out}

    def coverage(self, sentences):
        """The share of the words of `sentences` that the vocabulary holds (all, with none:
        characters give every word a vector)."""
        if self.vocabulary is None:
            return 1.0
        words = [word for sentence in sentences for word in sentence]
        return sum(self.token_id(w) != UNKNOWN_ID for w in words) / max(len(words), 1)

    def save(self, directory):
        """Writes `vocabulary.txt` (one word a line) and `preprocessor.json`."""
        directory = Path(directory)
        words = self.vocabulary or []
        atomic_write_text(directory / VOCABULARY_FILE, "".join(w + "\n" for w in words))
        atomic_write_json(
            directory / SETTINGS_FILE,
            {
                "lowercase": self.lowercase,
                "case_classes": list(CASE_CLASSES),
                "max_characters": self.max_characters,
                "word_ids": self.vocabulary is not None,
            },
        )

    @classmethod
    def load(cls, directory, argument="--model"):
        directory = Path(directory)
        try:
            settings = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
            lowercase = settings["lowercase"]
        except (OSError, ValueError, KeyError, TypeError):
            raise UserInputError(
                f"{argument}: no readable {SETTINGS_FILE} (an `nlpkit train ner` folder "
                f"holds one). Received: {directory}"
            ) from None
        if settings.get("case_classes") != list(CASE_CLASSES):
            raise UserInputError(
                f"{argument}: {SETTINGS_FILE} lists other case classes than this version's "
                f"{list(CASE_CLASSES)}. Received: {settings.get('case_classes')} in {directory}"
            )
        words = None
        if settings.get("word_ids", True):
            words = [line for line in read_lines(directory / VOCABULARY_FILE, argument) if line]
        return cls(
            words,
            lowercase,
            settings.get("max_characters"),
        )

"""GPT's subword encoder: WordPiece pieces + `[EOL]` per line, invertible at the word level."""

import numpy as np

from keras_nlpkit.tokenizers import SubwordEncoder
from keras_nlpkit.tokenizers.subword_encoder import EOL_ID
from keras_nlpkit.tokenizers.subword_encoder import RESERVED
from keras_nlpkit.tokenizers.subword_encoder import UNK_ID


def test_encoding_is_invertible_at_the_word_level():
    vocabulary = RESERVED + ["the", "cat", "run", "##s", ",", ".", "dog", "##g", "o", "##o"]
    encoder = SubwordEncoder(vocabulary)
    lines = ["the cat runs , the dog", "", "runs oog ."]
    ids = encoder.encode_lines(lines)
    assert int(np.sum(ids == EOL_ID)) == len(lines)
    assert encoder.decode(ids) == "\n".join(lines) + "\n"
    assert encoder.encode("zebra") == [UNK_ID]  # a character outside: one [UNK]
    # A literal word that looks like a continuation piece keeps the line ends right.
    ids = encoder.encode_lines(["the ##s cat", "dog runs"])
    assert list(ids) == [
        encoder.encode("the")[0],
        vocabulary.index("##s"),
        vocabulary.index("cat"),
        EOL_ID,
        vocabulary.index("dog"),
        vocabulary.index("run"),
        vocabulary.index("##s"),
        EOL_ID,
    ]


def test_a_vocabulary_without_the_reserved_tokens_is_refused():
    import pytest

    from keras_nlpkit.errors import UserInputError

    with pytest.raises(UserInputError, match="must start with"):
        SubwordEncoder(["the", "cat"])

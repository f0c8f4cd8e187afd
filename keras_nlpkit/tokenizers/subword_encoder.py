"""`SubwordEncoder`: lines of text ↔ WordPiece ids with an end-of-line token (GPT's input)."""

import keras_hub
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError

# "<unk>" is WikiText's own word for its rare words, a word like any other here.
RESERVED = ["[PAD]", "[UNK]", "[EOL]", "<unk>"]
PAD_ID, UNK_ID, EOL_ID = 0, 1, 2


class SubwordEncoder:
    """Lines of words to WordPiece ids + `[EOL]` per line, and back (keras-hub's tokenizer).

    Why ours: keras-hub's `WordPieceTokenizer` cuts words into pieces; a language
    model over lines also needs each line's end as a token and word boundaries
    that survive any input. This wraps it so: each line's pieces, then `[EOL]`;
    boundaries come from the tokenizer's ragged output, so a literal `##s` word
    cannot shift them. Pieces are cased, `##` marks a piece continuing a word.

    Args:
        vocabulary: pieces, starting with `RESERVED` (`[PAD] [UNK] [EOL] <unk>`).
    """

    def __init__(self, vocabulary):
        self.vocabulary = list(vocabulary)
        if self.vocabulary[: len(RESERVED)] != RESERVED:
            raise UserInputError(
                f"vocabulary: must start with {RESERVED}. Received: {self.vocabulary[:3]}"
            )
        self.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.vocabulary,
            split=False,
            lowercase=False,
            strip_accents=False,
            oov_token="[UNK]",
        )
        # Traced, the tokenizer keeps its ragged (word, piece) output: each word's
        # piece count, so a literal word like "##s" cannot shift the boundaries.
        self._tokenize_words = tf.function(lambda words: self.tokenizer(words[:, None]))

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def encode_lines(self, lines, chunk=200_000):
        """A flat int32 array of every line's pieces followed by `[EOL]`."""
        words = [word for line in lines for word in line.split()]
        pieces, lengths = [np.zeros(0, "int32")], [np.zeros(0, "int64")]
        for i in range(0, len(words), chunk):
            ragged = self._tokenize_words(tf.constant(words[i : i + chunk]))  # (words, pieces)
            pieces.append(ragged.flat_values.numpy().astype("int32"))
            lengths.append(ragged.row_lengths().numpy())
        pieces = np.concatenate(pieces)
        starts = np.concatenate([[0], np.cumsum(np.concatenate(lengths))])  # (words + 1,)
        line_ends = np.cumsum([len(line.split()) for line in lines])  # words before EOL
        return np.insert(pieces, starts[line_ends], EOL_ID).astype("int32")

    def encode(self, text):
        return [int(i) for i in self.encode_lines([text])[:-1]]  # no [EOL] after a prompt

    def decode(self, ids):
        text = []
        for i in ids:
            piece = self.vocabulary[int(i)]
            if int(i) == EOL_ID:
                text.append("\n")
            elif piece.startswith("##"):
                text.append(piece[2:])
            elif int(i) != PAD_ID:
                text.append(("" if not text or text[-1] == "\n" else " ") + piece)
        return "".join(text)

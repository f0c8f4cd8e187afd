"""`WordVectors`: word vectors on disk and in Keras (GloVe text, an Embedding, projector files)."""

import io
from pathlib import Path

import keras
import numpy as np

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import read_line_blocks


@nlpkit_export("keras_nlpkit.models.WordVectors")
class WordVectors:
    """A vocabulary and one vector per word (row `n` of `matrix` is `words[n]`)."""

    def __init__(self, words, matrix):
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ValueError(
                f"matrix must be (len(words), dim). Received: {matrix.shape} for {len(words)} words"
            )
        self.words = list(words)
        self.matrix = matrix
        self.index = {word: row for row, word in enumerate(self.words)}

    @property
    def dim(self):
        return self.matrix.shape[1]

    def __len__(self):
        return len(self.words)

    def __getitem__(self, word):
        return self.matrix[self.index[word]]

    def nearest(self, word, k=10):
        """The `k` words of highest cosine similarity to `word` (itself excluded)."""
        if word not in self.index:
            raise KeyError(f"word not in the vocabulary. Received: {word!r}")
        unit = self.matrix / np.maximum(np.linalg.norm(self.matrix, axis=1, keepdims=True), 1e-12)
        scores = unit @ unit[self.index[word]]
        scores[self.index[word]] = -np.inf
        top = np.argsort(-scores)[:k]
        return [(self.words[n], float(scores[n])) for n in top]

    def save_text(self, path):
        """Writes the GloVe text format: `word v1 ... vd` a line, no header.

        Stanford's tools and gensim's `KeyedVectors.load_word2vec_format(path,
        no_header=True)` read it; `%.9g` keeps every float32 exact.
        """
        bad = next((w for w in self.words if not w or any(c.isspace() for c in w)), None)
        if bad is not None:
            raise ValueError(
                f"a word in the text format cannot be empty or hold spaces. Received: {bad!r}"
            )
        buffer = io.StringIO()
        np.savetxt(buffer, self.matrix, fmt="%.9g")
        lines = buffer.getvalue().splitlines()
        atomic_write_text(path, "".join(f"{w} {line}\n" for w, line in zip(self.words, lines)))

    @classmethod
    def load_text(cls, path, argument="--vectors"):
        """Reads the GloVe text format (or word2vec text, whose `count dim` header is skipped)."""
        words, rows = [], []
        lines = (line for block in read_line_blocks(path, argument) for line in block)
        for number, line in enumerate(lines, 1):
            parts = line.split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header
            if len(parts) < 2:
                raise UserInputError(
                    f"{argument}: line {number} is not `word v1 ... vd`. "
                    f"Received: {line[:60]!r} in {path}"
                )
            words.append(parts[0])
            rows.append(parts[1:])
        if not words:
            raise UserInputError(f"{argument}: no vectors in the file. Received: {path}")
        dims = {len(r) for r in rows}
        if len(dims) != 1:
            raise UserInputError(
                f"{argument}: rows of different lengths {sorted(dims)[:5]}. Received: {path}"
            )
        try:
            matrix = np.asarray(rows, dtype=np.float32)
        except ValueError:
            raise UserInputError(
                f"{argument}: a vector holds a non-number. Received: {path}"
            ) from None
        return cls(words, matrix)

    def embedding(self, trainable=False, name="glove_embedding"):
        """A `keras.Sequential` string → vector model: `StringLookup` + `Embedding`.

        Ids follow `StringLookup(mask_token="", num_oov_indices=1)`: 0 is padding
        (the empty string, masked, zero vector), 1 is an unknown word (the mean
        vector) and word `n` of `words` is id `n + 2`. Drop `.layers[0]` (the lookup)
        and `.layers[1]` (the Embedding) into any model, frozen or `trainable`.
        """
        table = np.concatenate(
            [
                np.zeros((1, self.dim), np.float32),
                self.matrix.mean(axis=0, keepdims=True),
                self.matrix,
            ]
        )
        lookup = keras.layers.StringLookup(
            vocabulary=self.words, mask_token="", num_oov_indices=1, name="vocabulary"
        )
        # The table is set as weights, not as a Constant initializer: an initializer's
        # value goes into the saved config (as JSON text, seconds to write).
        embedding = keras.layers.Embedding(
            table.shape[0], self.dim, mask_zero=True, trainable=trainable, name="vectors"
        )
        model = keras.Sequential(
            [keras.Input(shape=(None,), dtype="string"), lookup, embedding], name=name
        )
        embedding.set_weights([table])
        return model

    def write_projector(self, folder, max_words=None):
        """TensorBoard projector files: `tensors.tsv`, `metadata.tsv`, `projector_config.pbtxt`.

        `tensorboard --logdir FOLDER` shows them under Projector; projector.tensorflow.org
        loads the two `.tsv` files directly. `max_words` keeps the most frequent ones.
        """
        folder = Path(folder)
        count = len(self.words) if max_words is None else min(max_words, len(self.words))
        buffer = io.StringIO()
        np.savetxt(buffer, self.matrix[:count], fmt="%.6g", delimiter="\t")
        atomic_write_text(folder / "tensors.tsv", buffer.getvalue())
        atomic_write_text(folder / "metadata.tsv", "".join(w + "\n" for w in self.words[:count]))
        atomic_write_text(
            folder / "projector_config.pbtxt",
            'embeddings {\n  tensor_name: "glove"\n  tensor_path: "tensors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n}\n',
        )

"""`Mimick`: a word's vector predicted from its spelling, trained on a vector table."""

import keras
import numpy as np

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.layers.character_word_encoder import CharacterWordEncoder
from keras_nlpkit.models.backbone import Backbone
from keras_nlpkit.models.word_vectors import WordVectors
from keras_nlpkit.text.word_characters import character_ids

LOSSES = ("euclidean", "cosine")


@nlpkit_export("keras_nlpkit.models.Mimick")
class Mimick(Backbone):
    """Pinter et al.'s Mimick: spelling → BiLSTM → MLP → a vector like the table's.

    Trained to reproduce pre-trained vectors (GloVe, word2vec) from the words'
    spelling alone, it gives any word a vector, so that words the table does not
    hold (rare, inflected, misspelt) need not be left out or set to zero. The
    characters are `character_ids` (UTF-8 bytes), read by a `CharacterWordEncoder`
    (BiLSTM: both final states), then a tanh hidden layer and a linear output of
    the table's size. `complete` adds the missing words of a list to a
    `WordVectors`.

    Args:
        dim: the size of the vectors mimicked.
        max_characters: ids per word, marks included (longer words are cut).
        character_dim: size of a character's embedding.
        hidden_dim: units of each LSTM direction.
        mlp_dim: units of the tanh hidden layer.
        dtype: the dtype policy of every layer.
        **kwargs: `keras.Model` arguments (`name`).

    Inputs: `character_ids`, int `(batch, max_characters)`.
    Output: `(batch, dim)`.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import Mimick, WordVectors

    vectors = WordVectors(["cat", "cats", "dog"], np.eye(3, 4))
    model = Mimick(dim=4, hidden_dim=8, mlp_dim=8)
    model.compile("adam", loss=Mimick.loss("euclidean"))
    model.fit(model.character_ids(vectors.words), vectors.matrix, epochs=2, verbose=0)
    model.vectors_for(["dogs"]).shape  # (1, 4)
    completed = model.complete(vectors, ["dogs", "cat", "CAT"])
    completed.words  # ['cat', 'cats', 'dog', 'dogs']
    ```

    References:
        - [Pinter et al., 2017](https://arxiv.org/abs/1707.06961)
    """

    config_arguments = ("dim", "max_characters", "character_dim", "hidden_dim", "mlp_dim")

    def __init__(
        self,
        dim,
        max_characters=24,
        character_dim=20,
        hidden_dim=50,
        mlp_dim=100,
        dtype=None,
        **kwargs,
    ):
        check_positive_int("dim", dim)
        check_positive_int("max_characters", max_characters)
        if max_characters < 3:
            raise ValueError(
                "`max_characters` must be at least 3 (begin mark, one byte, end mark). "
                f"Received: max_characters={max_characters}"
            )
        check_positive_int("mlp_dim", mlp_dim)
        # === Layers ===
        self.spelling = CharacterWordEncoder(
            character_dim=character_dim, hidden_dim=hidden_dim, dtype=dtype, name="spelling"
        )
        self.hidden = keras.layers.Dense(mlp_dim, activation="tanh", dtype=dtype, name="hidden")
        self.vector = keras.layers.Dense(dim, dtype=dtype, name="vector")

        # === Functional model ===
        ids = keras.Input((max_characters,), dtype="int32", name="character_ids")
        vectors = self.vector(self.hidden(self.spelling(ids)))  # (batch, dim)
        super().__init__(inputs=ids, outputs=vectors, dtype=dtype, **kwargs)

        # === Config ===
        self.dim = dim
        self.max_characters = max_characters
        self.character_dim = character_dim
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim

    @staticmethod
    def loss(name):
        """The training loss: `"euclidean"` (squared distance, Pinter et al.'s; here
        averaged over the dimensions) or `"cosine"` (minus the cosine similarity)."""
        if name == "euclidean":
            return keras.losses.MeanSquaredError(name="euclidean")
        if name == "cosine":
            return keras.losses.CosineSimilarity(name="cosine")
        raise ValueError(f"`name` must be one of {LOSSES}. Received: name={name!r}")

    def character_ids(self, words):
        """`character_ids(words, self.max_characters)`: the model's input for `words`."""
        return character_ids(words, self.max_characters)

    def vectors_for(self, words, batch_size=1024):
        """`(len(words), dim)` float32: the vector of each word, from its spelling."""
        if len(words) == 0:
            return np.zeros((0, self.dim), np.float32)
        ids = self.character_ids(words)
        return np.asarray(self.predict(ids, batch_size=batch_size, verbose=0), np.float32)

    def complete(self, vectors, words, batch_size=1024):
        """A `WordVectors` of `vectors` plus the words of `words` it lacks, mimicked.

        A word counts as held when it, or its lower-cased form, is in `vectors` (as
        `evaluation.metrics.word_similarity` looks words up); empty words and
        repeats are skipped. Held words keep their vectors; the new rows follow
        in the order of `words`, their vectors from their spelling as written.
        """
        if vectors.dim != self.dim:
            raise ValueError(
                f"`vectors` must have the model's dim={self.dim}. Received: vectors of "
                f"dim {vectors.dim}"
            )
        missing = []
        for word in dict.fromkeys(words):
            if word and word not in vectors.index and word.lower() not in vectors.index:
                missing.append(word)
        matrix = np.concatenate([vectors.matrix, self.vectors_for(missing, batch_size)])
        return WordVectors(vectors.words + missing, matrix)

"""`WordVectorFeatures`: a tagger's per-token features from word vectors and case."""

import keras
import numpy as np

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.models.backbone import Backbone
from keras_nlpkit.models.ner.entity_tagger_preprocessor import CASE_CLASSES


@nlpkit_export("keras_nlpkit.models.WordVectorFeatures")
class WordVectorFeatures(Backbone):
    """Pretrained word vectors (frozen) beside a small trained embedding of the case.

    A feature block of `EntityTagger`: named int inputs in, `(batch, seq, dim)` out,
    with a mask. The vectors stay as trained on their corpus (frozen: the tagger's
    few hundred thousand tokens would only move the words they hold, away from the
    words they do not); the case class (`EntityTaggerPreprocessor`, `case_class`)
    is learnt, because lower-cased vectors cannot tell "Bush" from "bush".
    `from_word_vectors` builds one with the vectors in place.

    Args:
        vocabulary_size: rows of the word table: the words + 2 (padding 0, unknown 1).
        embedding_dim: the vectors' size.
        case_dim: the size of the case embedding.
        trainable_vectors: train the word vectors too.
        dtype: the dtype policy of every layer.
        **kwargs: `keras.Model` arguments (`name`).

    Inputs: `token_ids` and `case_ids`, int `(batch, seq)`, 0 at padding (masked).
    Output: `(batch, seq, embedding_dim + case_dim)`, the word vector then the case's.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import WordVectorFeatures, WordVectors

    vectors = WordVectors(["the", "eu"], np.random.rand(2, 8))
    features = WordVectorFeatures.from_word_vectors(vectors, case_dim=4)
    y = features({"token_ids": np.array([[3, 2, 0]]), "case_ids": np.array([[3, 2, 0]])})
    y.shape  # (1, 3, 12)
    ```
    """

    config_arguments = ("vocabulary_size", "embedding_dim", "case_dim", "trainable_vectors")

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        case_dim=16,
        trainable_vectors=False,
        dtype=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("case_dim", case_dim)
        if not isinstance(trainable_vectors, bool):
            raise ValueError(
                "`trainable_vectors` must be True or False. "
                f"Received: trainable_vectors={trainable_vectors!r}"
            )
        # === Layers ===
        self.word_vectors = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            mask_zero=True,
            trainable=trainable_vectors,
            dtype=dtype,
            name="word_vectors",
        )
        self.case_embedding = keras.layers.Embedding(
            len(CASE_CLASSES), case_dim, mask_zero=True, dtype=dtype, name="case_embedding"
        )
        self.concatenate = keras.layers.Concatenate(dtype=dtype, name="word_features")

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        case_ids = keras.Input((None,), dtype="int32", name="case_ids")
        features = self.concatenate(  # (batch, seq, embedding_dim + case_dim); masks ANDed
            [self.word_vectors(token_ids), self.case_embedding(case_ids)]
        )
        super().__init__(
            inputs={"token_ids": token_ids, "case_ids": case_ids},
            outputs=features,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.case_dim = case_dim
        self.trainable_vectors = trainable_vectors

    @classmethod
    def from_word_vectors(cls, vectors, **kwargs):
        """A block whose word table holds `vectors` (a `WordVectors`) in their row order.

        The table follows `EntityTaggerPreprocessor`'s ids: padding (zeros), the
        unknown word (the mean vector, as `WordVectors.embedding` has it), then the
        words; `EntityTaggerPreprocessor(vectors.words)` feeds it.
        """
        matrix = np.asarray(vectors.matrix, np.float32)
        table = np.concatenate(
            [np.zeros((1, matrix.shape[1]), np.float32), matrix.mean(0, keepdims=True), matrix]
        )
        block = cls(table.shape[0], matrix.shape[1], **kwargs)
        block.word_vectors.embeddings.assign(table)
        return block

"""`LSTMClassifier`: a word LSTM/BiLSTM sentence classifier small enough for a phone."""

import keras
import tensorflow as tf

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.export.signatures import Signature
from keras_nlpkit.layers import LSTM
from keras_nlpkit.models.backbone import Backbone


@nlpkit_export("keras_nlpkit.models.LSTMClassifier")
class LSTMClassifier(Backbone):
    """Sentence classifier: word embedding → (Bi)LSTM's final states → Dense logits.

    The student of `nlpkit train distill` (Tang et al., 2019: a BiLSTM distilled
    from BERT). The embedding table is meant to start from word vectors (set
    `token_embedding.embeddings`), trainable or frozen. The sentence is summarised
    by the LSTM's last output (with `bidirectional`, the forward reader's last and the
    backward reader's last, concatenated): no pooling ops, so the exported graph stays
    a few ops around the recurrence.

    Padding is given by `padding_mask`, not by a reserved id, so the ids can be
    `keras_nlpkit.ondevice.WordTokenizer`'s as they are (its id 0 is the unknown
    word, which has its own row). A padded batch classifies each sentence as it would
    alone. The export (`export_signatures`) serves one unpadded sentence, `token_ids`
    only, through the same layers without a mask, so that TFLite's fused LSTM kernel
    can replace the recurrence when the export asks for it (`fused_lstm=True`).

    Args:
        vocabulary_size: rows of the embedding table.
        embedding_dim: the word vectors' size.
        hidden_dim: LSTM units (in each direction).
        num_classes: positive int.
        bidirectional: read the sentence both ways (a BiLSTM) or forward only.
        dropout: dropout rate on the word vectors and on the sentence vector.
        trainable_embedding: train the embedding table too (False: frozen vectors).
        dtype: the dtype policy of every layer.
        **kwargs: `keras.Model` arguments (`name`).

    Inputs: `token_ids` and `padding_mask`, int `(batch, seq)`; `padding_mask` is 1
    at real words, 0 at padding.
    Output: logits `(batch, num_classes)`.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import LSTMClassifier

    model = LSTMClassifier(vocabulary_size=100, embedding_dim=8, hidden_dim=6, num_classes=2)
    x = {"token_ids": np.array([[5, 9, 0, 0]]), "padding_mask": np.array([[1, 1, 0, 0]])}
    model(x).shape  # (1, 2)
    ```

    References:
        - [Hochreiter and Schmidhuber, 1997](https://www.bioinf.jku.at/publications/older/2604.pdf)
        - [Tang et al., 2019](https://arxiv.org/abs/1903.12136)
    """

    config_arguments = (
        "vocabulary_size",
        "embedding_dim",
        "hidden_dim",
        "num_classes",
        "bidirectional",
        "dropout",
        "trainable_embedding",
    )

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        hidden_dim,
        num_classes,
        bidirectional=True,
        dropout=0.0,
        trainable_embedding=True,
        dtype=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("hidden_dim", hidden_dim)
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        for name, value in (
            ("bidirectional", bidirectional),
            ("trainable_embedding", trainable_embedding),
        ):
            if not isinstance(value, bool):
                raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")

        # === Layers ===
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            trainable=trainable_embedding,
            dtype=dtype,
            name="token_embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        lstm = LSTM(hidden_dim, dtype=dtype, name="lstm")
        self.encoder = (
            keras.layers.Bidirectional(lstm, dtype=dtype, name="bilstm") if bidirectional else lstm
        )
        self.output_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="output_dropout")
        self.logits = keras.layers.Dense(num_classes, dtype=dtype, name="logits")

        # === Functional model ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        x = self.embedding_dropout(self.token_embedding(token_ids))  # (batch, seq, embedding_dim)
        mask = keras.ops.cast(padding_mask, "bool")
        x = self.encoder(x, mask=mask)  # (batch, hidden_dim), or (batch, 2 * hidden_dim)
        logits = self.logits(self.output_dropout(x))  # (batch, num_classes)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=logits,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.num_classes = num_classes
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.trainable_embedding = trainable_embedding

    def sentence_logits(self, token_ids):
        """Logits of unpadded sentences `(batch, seq)` (one, on a phone): no mask at all."""
        x = self.token_embedding(token_ids)  # (batch, seq, embedding_dim)
        return self.logits(self.encoder(x, training=False))  # (batch, num_classes)

    def export_signatures(self):
        """`serving_default` for `keras_nlpkit.export`: `token_ids` int32 `(1, seq)`, one
        sentence without padding → `logits (1, num_classes)`."""
        spec = tf.TensorSpec((1, None), tf.int32, name="token_ids")
        return [
            Signature("serving_default", lambda ids: {"logits": self.sentence_logits(ids)}, [spec])
        ]

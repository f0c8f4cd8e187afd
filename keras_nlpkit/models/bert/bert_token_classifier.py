from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.bert.bert_backbone import serving_signatures
from keras_nlpkit.models.bert.bert_task import BertTask
from keras_nlpkit.models.bert.bert_task import classification_head


@nlpkit_export("keras_nlpkit.models.BertTokenClassifier")
class BertTokenClassifier(BertTask):
    """Token classification (e.g. named entities): a label per WordPiece, read per word.

    `Dropout → Dense(num_classes)` on every final hidden vector: the output has a
    row at every position. Tagged data labels words, and a word may be several
    pieces: first-piece labelling (Devlin et al.'s for CoNLL-2003) trains and reads
    each word's label at its first piece only. `BertTokenClassifierPreprocessor`
    encodes sentences of words so, with sample weight 1 at first pieces and 0 at the
    other pieces, [CLS], [SEP] and padding, which then count for nothing in the loss;
    `word_tag_ids` maps the logits back to words. (To label every piece instead,
    weigh by `BertPreprocessor.word_mask(token_ids)`.)

    Args:
        backbone: a `BertBackbone`.
        num_classes: positive int, the number of tags.
        dropout: dropout rate before the output layer.
        **kwargs: `keras.Model` arguments.

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask`.
    Output: logits `(batch, seq, num_classes)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.BertBackbone.from_size("tiny", 1000, 32)
    tagger = keras_nlpkit.models.BertTokenClassifier(backbone, num_classes=9)
    logits = tagger({"token_ids": np.array([[1, 50, 51, 2]]),
                     "segment_ids": np.zeros((1, 4), "int32"),
                     "padding_mask": np.ones((1, 4), "int32")})   # (1, 4, 9)
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), section 4.3
    """

    config_arguments = ("num_classes", "dropout")

    def __init__(self, backbone, num_classes, dropout=0.1, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.output_dropout, self.output_dense = classification_head(
            num_classes, dropout, dtype=backbone.dtype_policy
        )

        # === Functional model ===
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]  # (batch, seq, hidden)
        outputs = self.output_dense(self.output_dropout(sequence))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.dropout = dropout

    def export_signatures(self):
        """`serving_default` for `keras_nlpkit.export`: the three named inputs at batch 1."""
        return serving_signatures(self)

import keras

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.bert.bert_backbone import serving_signatures
from keras_nlpkit.models.bert.bert_task import BertTask
from keras_nlpkit.models.bert.bert_task import classification_head


@nlpkit_export("keras_nlpkit.models.BertClassifier")
class BertClassifier(BertTask):
    """Sentence or sentence-pair classification from BERT's pooled [CLS] vector.

    `Dropout → Dense(num_classes)` on the backbone's `pooled_output`. One sentence
    is packed `[CLS] A [SEP]` (segment 0), a pair `[CLS] A [SEP] B [SEP]` (B in
    segment 1); `BertPreprocessor` does both.

    Args:
        backbone: a `BertBackbone`.
        num_classes: positive int.
        dropout: dropout rate before the output layer.
        activation: output activation; `None` gives logits.
        **kwargs: `keras.Model` arguments.

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask`.
    Output: `(batch, num_classes)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.BertBackbone.from_size("tiny", 1000, 32)
    classifier = keras_nlpkit.models.BertClassifier(backbone, num_classes=2)
    logits = classifier({"token_ids": np.array([[1, 50, 51, 2]]),
                         "segment_ids": np.zeros((1, 4), "int32"),
                         "padding_mask": np.ones((1, 4), "int32")})   # (1, 2)
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    config_arguments = ("num_classes", "dropout")

    def __init__(self, backbone, num_classes, dropout=0.1, activation=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.output_dropout, self.output_dense = classification_head(
            num_classes, dropout, activation, dtype=backbone.dtype_policy
        )

        # === Functional model ===
        inputs = dict(backbone.input)
        pooled = backbone(inputs)["pooled_output"]  # (batch, hidden)
        outputs = self.output_dense(self.output_dropout(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.dropout = dropout
        self.activation = keras.activations.get(activation)

    def export_signatures(self):
        """`serving_default` for `keras_nlpkit.export`: the three named inputs at batch 1."""
        return serving_signatures(self)

    def get_config(self):
        config = super().get_config()
        config["activation"] = keras.activations.serialize(self.activation)
        return config

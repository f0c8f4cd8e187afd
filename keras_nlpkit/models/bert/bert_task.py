"""`BertTask`: the base of the BERT task models, and the classification head they share."""

import keras

from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.models.bert.bert_backbone import BertBackbone
from keras_nlpkit.models.bert.bert_backbone import bert_kernel_initializer
from keras_nlpkit.models.task import Task


class BertTask(Task, keras.Model):
    """A task model on a `BertBackbone`: see `keras_nlpkit.models.task.Task`."""

    backbone_class = BertBackbone


def classification_head(num_classes, dropout, activation=None, dtype=None):
    """`Dropout(dropout)` and `Dense(num_classes)` layers, named `output_dropout`, `logits`.

    Checks `num_classes` (positive int) and `dropout` (a rate) first; `dtype` is
    the backbone's dtype policy, so that a mixed-precision backbone's head is too.
    """
    check_positive_int("num_classes", num_classes)
    check_rate("dropout", dropout)
    output_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="output_dropout")
    output_dense = keras.layers.Dense(
        num_classes,
        activation=activation,
        kernel_initializer=bert_kernel_initializer(),
        dtype=dtype,
        name="logits",
    )
    return output_dropout, output_dense

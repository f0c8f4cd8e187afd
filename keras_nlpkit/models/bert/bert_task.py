"""`BertTask`: what the BERT task models share (backbone in the config, output head)."""

import keras

from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.models.bert.bert_backbone import BertBackbone
from keras_nlpkit.models.bert.bert_backbone import bert_kernel_initializer
from keras_nlpkit.models.keras_hub_interop import arguments_of


class BertTask(keras.Model):
    """A functional model on a `BertBackbone`, saved with its backbone.

    A subclass sets `self.backbone`, builds its graph in `__init__`, stores its
    other constructor arguments under their own names and lists them in
    `config_arguments`; `get_config` saves the serialised backbone and those
    arguments, `from_config` rebuilds the backbone and passes them back.
    """

    config_arguments = ()

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            **arguments_of(self, self.config_arguments),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(
            config["backbone"], custom_objects={"BertBackbone": BertBackbone}
        )
        return cls(**config)


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

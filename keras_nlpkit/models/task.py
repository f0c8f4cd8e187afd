"""`Task`: what every task model on a backbone shares (the backbone saved in its config)."""

import keras

from keras_nlpkit.models.keras_hub_interop import arguments_of


class Task:
    """A model on a backbone (`BertClassifier`, `GPTCausalLM`, ...), saved with it.

    A mixin before `keras.Model` in the bases (`class BertTask(Task, keras.Model)`):
    Keras rewrites the bases of a functional subclass at construction, so a shared
    `keras.Model` base would turn every subclassed task (GPT) functional too.

    keras-hub's pattern: a subclass sets `self.backbone`, builds its layers in
    `__init__`, stores its other constructor arguments under their own names and
    lists them in `config_arguments`, and names its backbone class in
    `backbone_class`. `get_config` saves the serialised backbone and those
    arguments (Keras objects among them serialised too); `from_config` rebuilds the
    backbone and passes them back.
    """

    backbone_class = None
    config_arguments = ()

    def get_config(self):
        arguments = {
            name: keras.saving.serialize_keras_object(value)
            if hasattr(value, "get_config")
            else value
            for name, value in arguments_of(self, self.config_arguments).items()
        }
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            **arguments,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(
            config["backbone"],
            custom_objects={cls.backbone_class.__name__: cls.backbone_class},
        )
        return cls(**config)

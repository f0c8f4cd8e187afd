"""`Backbone`: the base of our functional backbones (config = constructor arguments)."""

import keras

from keras_nlpkit.models.keras_hub_interop import arguments_of


class Backbone(keras.Model):
    """A functional model whose config holds its constructor arguments only.

    A subclass builds its graph in `__init__`, stores every constructor argument
    under its own name, and lists the names in `config_arguments`; `get_config`
    saves them (with `name` and `trainable`) and `from_config` passes them back.
    """

    config_arguments = ()

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            **arguments_of(self, self.config_arguments),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

"""`Backbone`: the base of our functional backbones (config = constructor arguments)."""

import keras

from keras_nlpkit.models.keras_hub_interop import arguments_of


class Backbone(keras.Model):
    """A functional model whose config holds its constructor arguments only.

    A subclass builds its graph in `__init__`, stores every constructor argument
    under its own name, and lists the names in `config_arguments`; `get_config`
    saves them (with `name`, `trainable` and the `dtype` policy, which the
    subclass passes to every layer) and `from_config` passes them back.
    """

    config_arguments = ()

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        if dtype is not None:
            # A functional model drops `dtype`: set the policy that `get_config` saves.
            self.dtype_policy = keras.dtype_policies.get(dtype)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            **arguments_of(self, self.config_arguments),
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

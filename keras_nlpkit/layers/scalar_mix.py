import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export


@nlpkit_export("keras_nlpkit.layers.ScalarMix")
class ScalarMix(keras.layers.Layer):
    """ELMo's task-specific mix of a language model's layers: γ · Σ_j softmax(w)_j · h_j.

    Peters et al. (2018): "different weights per LSTM layer's hidden state, and a
    weight for the whole LM's hidden states per task": L scalars w_j, softmax-
    normalised, and one scale γ, all learnt by the task that uses the (frozen) LM.
    The weights start equal (w = 0) and γ at 1, so an untrained mix is the layers'
    mean.

    Args:
        num_layers: L, how many tensors are mixed.
        initial_scale: γ's initial value.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a list of L tensors of one shape, e.g. `(batch, seq, 2 · units)`.
        mask: their mask (the first one's is used and passed on).

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    layers = [np.random.rand(2, 7, 16).astype("float32") for _ in range(3)]
    mixed = keras_nlpkit.layers.ScalarMix(num_layers=3)(layers)  # (2, 7, 16): the mean
    ```

    References:
        - [Peters et al., 2018](https://arxiv.org/abs/1802.05365)
    """

    def __init__(self, num_layers, initial_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        if int(num_layers) != num_layers or num_layers < 1:
            raise ValueError(
                f"`num_layers` must be a whole number ≥ 1. Received: num_layers={num_layers!r}"
            )
        self.num_layers = int(num_layers)
        self.initial_scale = float(initial_scale)
        self.supports_masking = True

    def build(self, inputs_shape):
        if not isinstance(inputs_shape, (list, tuple)) or len(inputs_shape) != self.num_layers:
            raise ValueError(
                f"`ScalarMix` expects a list of {self.num_layers} tensors. "
                f"Received: inputs_shape={inputs_shape}"
            )
        shapes = {tuple(shape) for shape in inputs_shape}
        if len(shapes) != 1:
            raise ValueError(
                f"`ScalarMix` mixes tensors of one shape. Received: inputs_shape={inputs_shape}"
            )
        self.layer_weights = self.add_weight(
            name="layer_weights", shape=(self.num_layers,), initializer="zeros"
        )
        self.scale = self.add_weight(
            name="scale", shape=(), initializer=keras.initializers.Constant(self.initial_scale)
        )
        self.built = True

    def call(self, inputs, mask=None):
        shares = ops.cast(ops.softmax(self.layer_weights), self.compute_dtype)
        mixed = shares[0] * inputs[0]
        for j in range(1, self.num_layers):
            mixed = mixed + shares[j] * inputs[j]
        return ops.cast(self.scale, self.compute_dtype) * mixed

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(num_layers=self.num_layers, initial_scale=self.initial_scale)
        return config

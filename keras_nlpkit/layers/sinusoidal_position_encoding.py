import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export


@nlpkit_export("keras_nlpkit.layers.SinusoidalPositionEncoding")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Fixed sinusoidal position encodings of "Attention is all you need".

    P[i, 2j] = sin(i / w^(2j/d)) and P[i, 2j+1] = cos(i / w^(2j/d)), with w the
    `max_wavelength` (10000) and d the hidden size. No weights, any length.
    keras-hub's `SinePositionEncoding`: the same function, arguments and call
    arguments (`start_index` for a cached decoding step, `positions`).

    Args:
        max_wavelength: the w above; `10000`.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `(batch, seq, hidden)`, only its shape is used.
        start_index: int or scalar tensor, position of the first input.
        positions: optional `(seq,)` or `(batch, seq)`, the position of each input
            (packed or left-padded sequences); replaces `start_index`.

    Returns:
        `(batch, seq, hidden)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    tokens = np.random.rand(2, 7, 16).astype("float32")
    x = tokens + keras_nlpkit.layers.SinusoidalPositionEncoding()(tokens)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if not max_wavelength > 0:
            raise ValueError(
                f"`max_wavelength` must be positive. Received: max_wavelength={max_wavelength!r}"
            )
        self.max_wavelength = max_wavelength
        self.supports_masking = True
        self.built = True

    def call(self, inputs, start_index=0, positions=None):
        shape = ops.shape(inputs)
        length, hidden = shape[-2], shape[-1]
        if positions is None:
            positions = ops.arange(length, dtype="float32") + ops.cast(start_index, "float32")
        positions = ops.cast(positions, "float32")
        if len(positions.shape) == 1:
            positions = ops.expand_dims(positions, 0)  # (1 or batch, seq)
        dims = ops.arange(hidden)
        pair = ops.cast(dims - dims % 2, "float32")  # 2j for both 2j and 2j + 1
        inverse_frequency = ops.power(
            float(self.max_wavelength), -pair / ops.cast(hidden, "float32")
        )
        angles = ops.expand_dims(positions, -1) * inverse_frequency  # (b, seq, hidden)
        encoding = ops.where(dims % 2 == 0, ops.sin(angles), ops.cos(angles))
        return ops.broadcast_to(ops.cast(encoding, self.compute_dtype), shape)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config["max_wavelength"] = self.max_wavelength
        return config

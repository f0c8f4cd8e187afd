from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.layers.recurrent import RecurrentLayer


@nlpkit_export("keras_nlpkit.layers.GRU")
class GRU(RecurrentLayer):
    """Gated recurrent unit layer, stateless or stateful, with a one-step call.

    What it adds over `keras.layers.GRU`: the explicit-state `step()` for streaming
    inference and export, and inputs projected for all timesteps in one matmul.
    Weights have the Keras layout (`kernel` `(features, 3 * units)`,
    `recurrent_kernel` `(units, 3 * units)`, gates in the order z, r, h; `bias`
    `(2, 3 * units)` with `reset_after=True`, else `(3 * units,)`), so they copy
    unchanged to and from `keras.layers.GRU` and tf-keras.

    For each timestep (`reset_after=True`, the Keras and cuDNN default):
        z = σ(x W_z + b_z + h U_z + b'_z), r = σ(x W_r + b_r + h U_r + b'_r),
        ĥ = tanh(x W_h + b_h + r ⊙ (h U_h + b'_h)), h' = z ⊙ h + (1 − z) ⊙ ĥ.
    With `reset_after=False`: ĥ = tanh(x W_h + b_h + (r ⊙ h) U_h).

    Args:
        units: positive int, size of the hidden state.
        reset_after: apply the reset gate after the recurrent matmul.
        The other arguments are those of `keras_nlpkit.layers.LSTM` (without
        `unit_forget_bias`); the state is the single tensor `h`.

    Call arguments:
        sequences: `(batch, seq, features)`.
        initial_state: optional `[h]`, `(batch, units)`.
        mask: optional `(batch, seq)` boolean, `True` for real timesteps.
        training: enables dropout.

    Returns:
        `(batch, units)`, or `(batch, seq, units)` with `return_sequences`;
        with `return_state`, the tuple `(output, h)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    gru = keras_nlpkit.layers.GRU(16, return_state=True)
    x = np.random.rand(2, 5, 8).astype("float32")
    last, h = gru(x)                       # (2, 16), (2, 16)
    y, (h1,) = gru.step(x[:, 0], [h])
    ```

    References:
        - [Cho et al., 2014](https://arxiv.org/abs/1406.1078)
    """

    gates = 3
    state_names = ("h",)

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def build_bias(self):
        self.bias = self.add_weight(
            shape=(2, 3 * self.units) if self.reset_after else (3 * self.units,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
            name="bias",
        )

    def input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def cell_weights(self):
        weights = super().cell_weights()
        if self.use_bias and self.reset_after:
            weights["recurrent_bias"] = ops.cast(self.bias, self.compute_dtype)[1]
        return weights

    def cell(self, projected, states, weights, recurrent_mask=None):
        (h,) = states
        h_in = h if recurrent_mask is None else h * recurrent_mask
        recurrent_kernel = weights["recurrent_kernel"]
        x_z, x_r, x_h = ops.split(projected, 3, axis=-1)
        if self.reset_after:
            inner = ops.matmul(h_in, recurrent_kernel)
            if self.use_bias:
                inner = inner + weights["recurrent_bias"]
            r_z, r_r, r_h = ops.split(inner, 3, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(x_h + r * r_h)
        else:
            inner = ops.matmul(h_in, recurrent_kernel[:, : 2 * self.units])
            r_z, r_r = ops.split(inner, 2, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(
                x_h + ops.matmul(r * h_in, recurrent_kernel[:, 2 * self.units :])
            )
        h = z * h + (1 - z) * candidate
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config

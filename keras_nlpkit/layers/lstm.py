import keras
from keras import ops

from keras_nlpkit import backend
from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.layers.recurrent import RecurrentLayer


@nlpkit_export("keras_nlpkit.layers.LSTM")
class LSTM(RecurrentLayer):
    """Long short-term memory layer, stateless or stateful, with a one-step call.

    What it adds over `keras.layers.LSTM`: an explicit-state `step()` (one timestep,
    state in → output and state out) that the streaming export and the on-device
    runtime are built on, and a time loop that projects the inputs of all timesteps
    in one matmul before the recurrence. Weights have the Keras layout and names
    (`kernel` `(features, 4 * units)`, `recurrent_kernel` `(units, 4 * units)`,
    `bias` `(4 * units,)`, gates in the order i, f, c, o), so they copy unchanged to
    and from `keras.layers.LSTM` and tf-keras.

    For each timestep:
        i = σ(x W_i + h U_i + b_i), f = σ(x W_f + h U_f + b_f),
        g = tanh(x W_c + h U_c + b_c), o = σ(x W_o + h U_o + b_o),
        c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').

    Args:
        units: positive int, size of the hidden and cell state.
        activation: activation of the candidate and of the output; `"tanh"`.
        recurrent_activation: activation of the gates; `"sigmoid"`.
        use_bias: whether the gates have a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers.
        unit_forget_bias: if `True`, the forget-gate bias starts at 1 (Jozefowicz
            et al., 2015), whatever `bias_initializer` is.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: rate of the input dropout, one mask for all timesteps.
        recurrent_dropout: rate of the dropout on `h` inside the recurrence.
        seed: seed of the dropout masks.
        return_sequences: return `(batch, seq, units)` instead of the last output.
        return_state: also return the final `h` and `c`.
        go_backwards: read the sequence backwards (outputs in reading order).
        stateful: the final state of batch k is the initial state of batch k+1;
            needs a fixed batch size; `reset_state()` zeroes it.
        zero_output_for_mask: output zeros at masked steps instead of repeating
            the previous output.
        unroll: write the time loop out step by step (a static length is then
            needed): faster for short sequences, more memory, as in Keras.
        activity_regularizer: regularizer of the output, as in Keras.
        use_cudnn: `"auto"` or `False` (Keras' argument; there is no cuDNN
            kernel here, `True` is refused). Keras' legacy `implementation` is
            accepted and ignored: every implementation gives the same numbers.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        sequences: `(batch, seq, features)`.
        initial_state: optional `[h, c]`, each `(batch, units)`.
        mask: optional `(batch, seq)` boolean, `True` for real timesteps.
        training: enables dropout.

    Returns:
        `(batch, units)`, or `(batch, seq, units)` with `return_sequences`;
        with `return_state`, the tuple `(output, h, c)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    lstm = keras_nlpkit.layers.LSTM(16, return_sequences=True, return_state=True)
    x = np.random.rand(2, 5, 8).astype("float32")
    outputs, h, c = lstm(x)                      # (2, 5, 16), (2, 16), (2, 16)
    y, (h1, c1) = lstm.step(x[:, 0], [h, c])     # one more timestep
    ```

    References:
        - [Hochreiter and Schmidhuber, 1997](https://www.bioinf.jku.at/publications/older/2604.pdf)
        - [Gers et al., 2000](https://doi.org/10.1162/089976600300015015)
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def build_bias(self):
        if not self.unit_forget_bias:
            return super().build_bias()
        units = self.units

        def forget_gate_at_one(shape, dtype=None):
            return ops.concatenate(
                [
                    self.bias_initializer((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    self.bias_initializer((2 * units,), dtype=dtype),
                ]
            )

        super().build_bias(forget_gate_at_one)

    def cell(self, projected, states, weights, recurrent_mask=None):
        h, c = states
        if recurrent_mask is not None:
            h = h * recurrent_mask
        z = projected + ops.matmul(h, weights["recurrent_kernel"])
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if backend.tflite_export_hints_active() and self._fusable(sequences, initial_state, mask):
            return self._call_fused(sequences)
        return super().call(sequences, initial_state, mask=mask, training=training)

    def _fusable(self, sequences, initial_state, mask):
        """Whether TFLite's fused LSTM kernel computes exactly this call."""
        return (
            initial_state is None
            and mask is None
            and not self.stateful
            and not self.return_state
            and sequences.shape[0] is not None  # the kernel's state has a fixed batch
            and self.activation is keras.activations.tanh
            and self.recurrent_activation is keras.activations.sigmoid
        )

    def _call_fused(self, sequences):
        batch_size = sequences.shape[0]
        h0, c0 = self.get_initial_state(batch_size)
        bias = self.bias if self.use_bias else ops.zeros((4 * self.units,))

        def run(inputs, init_h, init_c):
            (h, c), outputs = self._scan(inputs, [init_h, init_c])
            return outputs, h, c

        last_output, outputs = backend.lstm_as_tflite_composite(
            run,
            sequences,
            h0,
            c0,
            self.kernel,
            self.recurrent_kernel,
            bias,
            go_backwards=self.go_backwards,
        )
        return outputs if self.return_sequences else last_output

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config

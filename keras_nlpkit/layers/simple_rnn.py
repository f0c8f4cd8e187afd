from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.layers.recurrent import RecurrentLayer


@nlpkit_export("keras_nlpkit.layers.SimpleRNN")
class SimpleRNN(RecurrentLayer):
    """Elman recurrent layer, stateless or stateful, with a one-step call.

    The plain recurrent network: one state, no gates. What it adds over
    `keras.layers.SimpleRNN`: the explicit-state `step()` for streaming inference
    and export, and inputs projected for all timesteps in one matmul. Weights have
    the Keras layout and names (`kernel` `(features, units)`, `recurrent_kernel`
    `(units, units)`, `bias` `(units,)`), so they copy unchanged to and from
    `keras.layers.SimpleRNN` and tf-keras, and a Keras config loads with
    `SimpleRNN.from_config`.

    For each timestep:
        h' = activation(x W + h U + b).

    Args:
        units: positive int, size of the hidden state.
        activation: activation of the state; `"tanh"` (`None`: linear).
        use_bias: whether there is a bias `b`.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: constraints.
        dropout: rate of the input dropout, one mask for all timesteps.
        recurrent_dropout: rate of the dropout on `h` inside the recurrence.
        seed: seed of the dropout masks.
        return_sequences: return `(batch, seq, units)` instead of the last output.
        return_state: also return the final `h`.
        go_backwards: read the sequence backwards (outputs in reading order).
        stateful: the final state of batch k is the initial state of batch k+1;
            needs a fixed batch size; `reset_state()` zeroes it.
        unroll: write the time loop out step by step (a static length is then
            needed): faster for short sequences, more memory, as in Keras.
        **kwargs: the other arguments of `keras_nlpkit.layers.LSTM`
            (`zero_output_for_mask`, `activity_regularizer`, `use_cudnn`) and
            `keras.layers.Layer` arguments (`name`, `dtype`, ...). There is no
            `recurrent_activation`: the cell has no gates.

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

    rnn = keras_nlpkit.layers.SimpleRNN(16, return_sequences=True, return_state=True)
    x = np.random.rand(2, 5, 8).astype("float32")
    outputs, h = rnn(x)                    # (2, 5, 16), (2, 16)
    y, (h1,) = rnn.step(x[:, 0], [h])      # one more timestep
    tuple(y.shape)  # (2, 16)
    ```

    References:
        - [Elman, 1990](https://doi.org/10.1207/s15516709cog1402_1)
    """

    gates = 1
    state_names = ("h",)

    def __init__(self, units, **kwargs):
        if "recurrent_activation" in kwargs:
            raise ValueError(
                "SimpleRNN has no gates, so no `recurrent_activation`. "
                f"Received: recurrent_activation={kwargs['recurrent_activation']!r}"
            )
        super().__init__(units, **kwargs)

    def cell(self, projected, states, weights, recurrent_mask=None):
        (h,) = states
        if recurrent_mask is not None:
            h = h * recurrent_mask
        h = self.activation(projected + ops.matmul(h, weights["recurrent_kernel"]))
        return h, [h]

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]  # no gates (and no such key in Keras' config)
        return config

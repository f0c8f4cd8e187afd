"""The one place where keras-nlpkit does something backend-specific.

Layer math is written in `keras.ops`; the functions here are the exceptions, each
with the reason it cannot be plain `keras.ops`.
"""

import keras
from keras import ops


def recurrent_scan(step, states, xs):
    """Runs a recurrence over the leading (time) axis of `xs`.

    Args:
        step: `step(states, x_t) -> new_states`, states a list of tensors.
        states: the initial states, a list of tensors.
        xs: a tensor or a tuple of tensors, time-major.

    Returns:
        `(final_states, outputs)`: the last states, and the first state (the
        output, e.g. `h`) stacked over time, `(time, ...)`.

    On TensorFlow this is a `tf.while_loop` with `maximum_iterations` set and
    TensorArrays for the inputs and outputs: `keras.ops.scan` leaves the bound
    unset, so XLA cannot compile its gradient (the TensorArray accumulators need a
    fixed size), and its per-step output must mirror the whole carry (here only
    the output is stacked). Like Keras' own RNN loop, it lets 32 iterations
    overlap and swaps the saved activations to host memory on GPU. Elsewhere it
    is `keras.ops.scan`.
    """
    if keras.backend.backend() != "tensorflow":

        def scan_step(carry, x_t):
            new_states = step(carry, x_t)
            return new_states, new_states[0]

        return ops.scan(scan_step, list(states), xs)

    import tensorflow as tf

    flat_xs = [tf.convert_to_tensor(x) for x in keras.tree.flatten(xs)]
    length = tf.shape(flat_xs[0])[0]
    inputs = [
        tf.TensorArray(x.dtype, size=length, element_shape=x.shape[1:]).unstack(x)
        for x in flat_xs
    ]
    outputs = tf.TensorArray(states[0].dtype, size=length, element_shape=states[0].shape)

    def body(t, carry, outputs):
        x_t = keras.tree.pack_sequence_as(xs, [ta.read(t) for ta in inputs])
        new_states = step(list(carry), x_t)
        return t + 1, new_states, outputs.write(t, new_states[0])

    _, final_states, outputs = tf.while_loop(
        lambda t, *_: t < length,
        body,
        (tf.constant(0), list(states), outputs),
        maximum_iterations=length,
        parallel_iterations=32,
        swap_memory=True,
    )
    outputs = outputs.stack()
    outputs.set_shape(flat_xs[0].shape[:1].concatenate(outputs.shape[1:]))
    return list(final_states), outputs

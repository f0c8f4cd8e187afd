"""The one place where keras-nlpkit does something backend-specific.

Layer math is written in `keras.ops`; the functions here are the exceptions, each
with the reason it cannot be plain `keras.ops`.
"""

import contextlib
import threading
import uuid

import keras
from keras import ops

_hints = threading.local()


@contextlib.contextmanager
def tflite_export_hints():
    """While active, layers traced on TensorFlow leave hints for the TFLite converter.

    The export tool traces its signatures inside this context; training and
    ordinary inference never see the hints.
    """
    previous = getattr(_hints, "active", False)
    _hints.active = keras.backend.backend() == "tensorflow"
    try:
        yield
    finally:
        _hints.active = previous


def tflite_export_hints_active():
    return getattr(_hints, "active", False)


def lstm_as_tflite_composite(
    run, inputs, init_h, init_c, kernel, recurrent_kernel, bias, go_backwards
):
    """Runs an LSTM over a sequence as the composite function TFLite fuses.

    TensorFlow Lite's converter (its `prepare-composite-functions` pass) replaces
    a function tagged `api_implements="lstm_<id>"` with its builtin
    `UNIDIRECTIONAL_SEQUENCE_LSTM` kernel. It reads everything from the function's
    interface, as tf-keras' `standard_lstm` lays it out: the arguments
    `(inputs (batch, seq, features), init_h, init_c, kernel, recurrent_kernel,
    bias)` with static shapes (so a fixed batch), no mask argument, the attributes
    `time_major` and `go_backwards`, and five results `(last_output, outputs,
    h, c, runtime)` of which only the first two may be used. The fused kernel
    clips the cell state to ±10. The body, `run(inputs, init_h, init_c) ->
    (outputs, h, c)`, is what TensorFlow itself executes (SavedModel, or a
    converter that cannot fuse); it may read the weights from the layer, they are
    the same tensors as the arguments.
    """
    import tensorflow as tf

    def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        outputs, h, c = run(inputs, init_h, init_c)
        runtime = tf.constant(0.0)  # tf-keras reports the implementation used here
        return outputs[:, -1], outputs, h, c, runtime

    fused = tf.function(
        standard_lstm,
        autograph=False,
        experimental_attributes={
            "api_implements": f"lstm_{uuid.uuid4()}",
            "api_preferred_device": "CPU",
            "time_major": False,
            "go_backwards": go_backwards,
        },
    )
    arguments = [inputs, init_h, init_c, kernel, recurrent_kernel, bias]
    last_output, outputs, _, _, _ = fused(*[tf.convert_to_tensor(a) for a in arguments])
    return last_output, outputs


def recurrent_scan(step, states, xs, stack_outputs=True):
    """Runs a recurrence over the leading (time) axis of `xs`.

    Args:
        step: `step(states, x_t) -> new_states`, states a list of tensors.
        states: the initial states, a list of tensors.
        xs: a tensor or a tuple of tensors, time-major.
        stack_outputs: False when only the final states are read: on TensorFlow the
            loop then writes no output TensorArray, which TFLite would otherwise
            rebuild with a slice and a concatenation of the whole sequence at every
            step (quadratic in its length).

    Returns:
        `(final_states, outputs)`: the last states, and the first state (the
        output, e.g. `h`) stacked over time, `(time, ...)`; outputs is None
        without `stack_outputs`.

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

        final_states, outputs = ops.scan(scan_step, list(states), xs)
        return final_states, outputs if stack_outputs else None

    import tensorflow as tf

    flat_xs = [tf.convert_to_tensor(x) for x in keras.tree.flatten(xs)]
    length = tf.shape(flat_xs[0])[0]
    inputs = [
        tf.TensorArray(x.dtype, size=length, element_shape=x.shape[1:]).unstack(x) for x in flat_xs
    ]
    outputs = tf.TensorArray(states[0].dtype, size=length, element_shape=states[0].shape)

    def body(t, carry, *outputs):
        x_t = keras.tree.pack_sequence_as(xs, [ta.read(t) for ta in inputs])
        new_states = step(list(carry), x_t)
        return t + 1, new_states, *(ta.write(t, new_states[0]) for ta in outputs)

    _, final_states, *outputs = tf.while_loop(
        lambda t, *_: t < length,
        body,
        (tf.constant(0), list(states), *([outputs] if stack_outputs else [])),
        maximum_iterations=length,
        parallel_iterations=32,
        swap_memory=True,
    )
    if not stack_outputs:
        return list(final_states), None
    outputs = outputs[0].stack()
    outputs.set_shape(flat_xs[0].shape[:1].concatenate(outputs.shape[1:]))
    return list(final_states), outputs


def adagrad_update(variable, accumulator, gradient, learning_rate):
    """`accumulator += gradient**2; variable -= learning_rate * gradient / sqrt(accumulator)`.

    On TensorFlow this is the fused `ResourceApplyAdagradV2` kernel: one pass over
    the table instead of five elementwise ones, 4x faster on GloVe's (vocab, dim)
    tables (`benchmarks/glove.py`). Elsewhere, the same update in `keras.ops`.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        def handle(v):  # a Keras variable wraps a tf.Variable
            return (v.value if isinstance(v, keras.Variable) else v).handle

        tf.raw_ops.ResourceApplyAdagradV2(
            var=handle(variable),
            accum=handle(accumulator),
            lr=ops.cast(learning_rate, variable.dtype),
            epsilon=ops.cast(0.0, variable.dtype),
            grad=gradient,
            use_locking=False,
            update_slots=True,
        )
        return
    accumulator.assign(accumulator + ops.square(gradient))
    variable.assign(variable - learning_rate * gradient * ops.rsqrt(accumulator))


def data_dependent_shapes():
    """Whether ops may return shapes that depend on the data (`ops.nonzero`).

    TensorFlow (graph or eager, and XLA through its dynamic padder) and PyTorch
    can; JAX's `jit`, which every JAX `fit` uses, cannot. `AdaptiveSoftmax` trains
    each tail cluster on its own positions only where this holds (10× faster at
    33k words), and on every position otherwise (exact, slower).
    """
    return keras.backend.backend() != "jax"

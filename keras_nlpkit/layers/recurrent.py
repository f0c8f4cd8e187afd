"""The machinery `LSTM`, `GRU` and `SimpleRNN` share: time loop, masks, state, dropout, config."""

import keras
from keras import ops

# Keras' own RNN keeps its stateful state out of `weights` this way, so that a
# stateful layer has the same weight list as a stateless one (and as Keras').
from keras.src.utils.tracking import no_automatic_dependency_tracking

from keras_nlpkit.backend import recurrent_scan
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate


class RecurrentLayer(keras.layers.Layer):
    """Base of our recurrent layers (not public: use `LSTM`, `GRU` or `SimpleRNN`).

    A subclass defines the gate count (`gates`), the state names (`state_names`,
    the output state first), its `bias` (`build_bias`, and `input_bias()`, the part
    added to the input projection), `cell_weights()` — the recurrent weights as
    tensors in the compute dtype, read once per call, outside the time loop — and
    `cell(projected_t, states, weights, recurrent_mask)`, one timestep given the
    input projection `x_t W + b` that `project_inputs` computes for all timesteps
    at once, in one large matmul outside the loop.

    Everything else lives here: the time loop
    (`keras_nlpkit.backend.recurrent_scan`), masking with the
    Keras semantics (a masked step keeps the state; its output repeats the previous
    output, or is zero with `zero_output_for_mask=True`), `go_backwards`, stateful
    state variables, dropout masks constant over time, and the explicit-state
    `step()` used for streaming inference and on-device export.
    """

    gates = None
    state_names = None

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        zero_output_for_mask=False,
        unroll=False,
        use_cudnn="auto",
        activity_regularizer=None,
        **kwargs,
    ):
        # Keras' legacy `implementation` (1 or 2) chose how the gates were batched;
        # the numbers are the same, and there is one implementation here.
        kwargs.pop("implementation", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        check_positive_int("units", units)
        if use_cudnn not in ("auto", False):
            raise ValueError(
                f"{type(self).__name__} has no cuDNN kernel (its loop compiles with XLA and "
                f"exports to TFLite's fused kernel); use 'auto' or False. "
                f"Received: use_cudnn={use_cudnn!r}"
            )
        check_rate("dropout", dropout)
        check_rate("recurrent_dropout", recurrent_dropout)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.zero_output_for_mask = zero_output_for_mask
        self.unroll = unroll
        self.use_cudnn = use_cudnn
        self.supports_masking = True
        self.state_variables = None
        if dropout or recurrent_dropout:
            self.seed_generator = keras.random.SeedGenerator(seed)

    # --- subclass hooks (the defaults: one bias, all of it on the input side) --------
    def build_bias(self, initializer=None):
        self.bias = self.add_weight(
            shape=(self.gates * self.units,),
            initializer=initializer or self.bias_initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
            name="bias",
        )

    def input_bias(self):
        return self.bias

    def cell_weights(self):
        return {"recurrent_kernel": ops.cast(self.recurrent_kernel, self.compute_dtype)}

    def cell(self, projected, states, weights, recurrent_mask=None):
        raise NotImplementedError

    # --- build ----------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        if len(sequences_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expects inputs of shape (batch, seq, features)."
                f" Received: inputs.shape={tuple(sequences_shape)}"
            )
        self.kernel = self.add_weight(
            shape=(sequences_shape[-1], self.gates * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.gates * self.units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
        )
        if self.use_bias:
            self.build_bias()
        if self.stateful:
            batch_size = sequences_shape[0]
            if batch_size is None:
                raise ValueError(
                    "`stateful=True` needs a fixed batch size: give the input one, e.g. "
                    "`keras.Input(shape=(seq, features), batch_size=32)`. "
                    f"Received: inputs.shape={tuple(sequences_shape)}"
                )
            self._create_state_variables(batch_size)

    @no_automatic_dependency_tracking
    def _create_state_variables(self, batch_size):
        # The carried state is not a weight: not in `weights`, not saved.
        self.state_variables = [
            keras.Variable(
                ops.zeros((batch_size, self.units)),
                trainable=False,
                dtype=self.variable_dtype,
                name=f"state_{name}",
            )
            for name in self.state_names
        ]

    def project_inputs(self, inputs):
        """`inputs @ kernel + input_bias`, the input half of every gate."""
        projected = ops.matmul(inputs, ops.cast(self.kernel, self.compute_dtype))
        if self.use_bias:
            projected = projected + ops.cast(self.input_bias(), self.compute_dtype)
        return projected

    # --- state ----------------------------------------------------------------------
    def get_initial_state(self, batch_size):
        """Zero states, a list ordered as `state_names`, each `(batch, units)`."""
        return [
            ops.zeros((batch_size, self.units), dtype=self.compute_dtype) for _ in self.state_names
        ]

    def reset_state(self):
        """Zeroes the carried state of a stateful layer."""
        if self.state_variables is not None:
            for variable in self.state_variables:
                variable.assign(ops.zeros(variable.shape, variable.dtype))

    def _validate_initial_state(self, initial_state, batch_size):
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        if len(initial_state) != len(self.state_names):
            raise ValueError(
                f"{type(self).__name__} takes {len(self.state_names)} initial state "
                f"tensor(s) {list(self.state_names)}. "
                f"Received: initial_state with {len(initial_state)} tensor(s)"
            )
        for name, state in zip(self.state_names, initial_state):
            shape = tuple(state.shape)
            batch_ok = shape[:1] in ((None,), (batch_size,)) or batch_size is None
            if len(shape) != 2 or shape[-1] != self.units or not batch_ok:
                raise ValueError(
                    f"`initial_state` ({name}) must have shape "
                    f"(batch={batch_size}, units={self.units}). "
                    f"Received: initial_state shape={shape}"
                )
        return [ops.cast(state, self.compute_dtype) for state in initial_state]

    # --- dropout --------------------------------------------------------------------
    def _dropout_mask(self, like, rate):
        ones = ops.ones_like(like)
        return keras.random.dropout(ones, rate=rate, seed=self.seed_generator)

    # --- one timestep ---------------------------------------------------------------
    def step(self, inputs, states):
        """One timestep with explicit state, for streaming inference.

        Args:
            inputs: `(batch, features)`, the input at this timestep.
            states: list of `(batch, units)` tensors ordered as `state_names`.

        Returns:
            `(output, new_states)`: output `(batch, units)` and the new state list.
            Running `step` over a sequence reproduces `call` on it exactly.
        """
        projected = self.project_inputs(ops.cast(inputs, self.compute_dtype))
        states = [ops.cast(s, self.compute_dtype) for s in states]
        return self.cell(projected, states, self.cell_weights())

    # --- the sequence ---------------------------------------------------------------
    def _scan(self, sequences, states, mask=None, recurrent_mask=None, sequence_output=True):
        """The time loop: `(final_states, outputs (batch, seq, units))`, or without
        `sequence_output`, `(final_states, the last output (batch, units))`: the same
        number, read from the final state instead of a stacked sequence."""
        # Time-major before the projection: transposing the inputs is cheaper than
        # transposing the `gates` times wider projection.
        sequences = ops.transpose(sequences, (1, 0, 2))  # (seq, batch, features)
        if self.go_backwards:
            sequences = ops.flip(sequences, axis=0)
            mask = None if mask is None else ops.flip(mask, axis=1)
        projected = self.project_inputs(sequences)  # (seq, batch, gates * units)
        weights = self.cell_weights()

        if mask is None:

            def step(states, projected_t):
                return self.cell(projected_t, states, weights, recurrent_mask)[1]

            xs = projected
        else:
            mask = ops.expand_dims(ops.transpose(ops.cast(mask, "bool")), -1)

            def step(states, inputs_t):
                projected_t, mask_t = inputs_t  # (batch, gates * units), (batch, 1)
                _, new_states = self.cell(projected_t, states, weights, recurrent_mask)
                # A masked step keeps the state.
                return [ops.where(mask_t, new, old) for new, old in zip(new_states, states)]

            xs = (projected, mask)

        if self.unroll:
            final_states, outputs = self._unrolled(step, states, xs)
        else:
            final_states, outputs = recurrent_scan(step, states, xs, sequence_output)
        if not sequence_output:
            # Every step outputs its new h, and a masked step keeps the state, so the
            # last output is the final h, zeroed where `keep` (below) ends false.
            last = final_states[0]
            if mask is not None:
                keep = mask[-1] if self.zero_output_for_mask else ops.any(mask, axis=0)
                last = ops.where(keep, last, ops.zeros_like(last))
            return final_states, last
        if mask is not None:
            # Keras: a masked step outputs zeros (`zero_output_for_mask`) or repeats
            # the previous output, which is zero before the first real step, even
            # when the state itself starts non-zero.
            if self.zero_output_for_mask:
                keep = mask
            else:
                keep = ops.cumsum(ops.cast(mask, "int32"), axis=0) > 0
            outputs = ops.where(keep, outputs, ops.zeros_like(outputs))

        return final_states, ops.transpose(outputs, (1, 0, 2))  # (batch, seq, units)

    def _unrolled(self, step, states, xs):
        """The time loop written out step by step (`unroll=True`): faster for short
        sequences, memory-hungry for long ones, as in Keras."""
        length = keras.tree.flatten(xs)[0].shape[0]
        if length is None:
            raise ValueError(
                f"{type(self).__name__}(unroll=True) needs a sequence length known when "
                "the model is built. Received: inputs of unknown length"
            )
        outputs = []
        for t in range(length):
            states = step(states, keras.tree.map_structure(lambda x, t=t: x[t], xs))
            outputs.append(states[0])
        return states, ops.stack(outputs)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        batch_size = ops.shape(sequences)[0]
        if initial_state is not None:
            states = self._validate_initial_state(initial_state, sequences.shape[0])
        elif self.stateful:
            states = [ops.cast(v, self.compute_dtype) for v in self.state_variables]
        else:
            states = self.get_initial_state(batch_size)

        if training and self.dropout > 0:
            sequences = sequences * ops.expand_dims(
                self._dropout_mask(sequences[:, 0], self.dropout), 1
            )
        recurrent_mask = None
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self._dropout_mask(states[0], self.recurrent_dropout)

        final_states, output = self._scan(
            sequences, states, mask, recurrent_mask, sequence_output=self.return_sequences
        )

        if self.stateful:
            for variable, state in zip(self.state_variables, final_states):
                variable.assign(ops.cast(state, variable.dtype))

        if self.return_state:
            return (output, *final_states)
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        if self.return_sequences:
            output_shape = (batch, length, self.units)
        else:
            output_shape = (batch, self.units)
        if self.return_state:
            return (output_shape, *[(batch, self.units)] * len(self.state_names))
        return output_shape

    def compute_mask(self, sequences, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_names)
        return output_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": keras.constraints.serialize(self.recurrent_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "zero_output_for_mask": self.zero_output_for_mask,
                "unroll": self.unroll,
                "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer),
            }
        )
        return config

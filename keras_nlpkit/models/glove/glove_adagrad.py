"""`GloVeAdagrad`: AdaGrad as GloVe uses it, fused into one kernel on TensorFlow."""

import keras
from keras import ops

from keras_nlpkit import backend
from keras_nlpkit.api_export import nlpkit_export


@nlpkit_export("keras_nlpkit.models.GloVeAdagrad")
class GloVeAdagrad(keras.optimizers.Optimizer):
    """AdaGrad as GloVe uses it: `acc += g**2; w -= lr * g / sqrt(acc)`, `acc` from 1.

    Keras' `Adagrad` computes `lr * g / sqrt(acc + epsilon)` in five elementwise
    passes over each table; with the accumulator starting at 1 there is no zero to
    guard, and on TensorFlow the update is one fused kernel
    (`keras_nlpkit.backend.adagrad_update`). On GloVe's dense (vocab, dim)
    gradients that was most of a training step (`benchmarks/glove.py` compares).

    Args:
        learning_rate: step size (a float or a schedule).
        initial_accumulator_value: starting sum of squared gradients (> 0).
        **kwargs: passed to `keras.optimizers.Optimizer`.
    """

    def __init__(
        self, learning_rate=0.05, initial_accumulator_value=1.0, name="glove_adagrad", **kwargs
    ):
        if not initial_accumulator_value > 0:
            raise ValueError(
                "initial_accumulator_value must be > 0. "
                f"Received: initial_accumulator_value={initial_accumulator_value}"
            )
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        initializer = keras.initializers.Constant(self.initial_accumulator_value)
        self._accumulators = [
            self.add_variable_from_reference(v, "accumulator", initializer=initializer)
            for v in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        accumulator = self._accumulators[self._get_variable_index(variable)]
        # Dense (TF's autodiff gives embedding gradients as IndexedSlices; this sums them).
        gradient = ops.cast(ops.convert_to_tensor(gradient), variable.dtype)
        backend.adagrad_update(
            variable, accumulator, gradient, ops.cast(learning_rate, variable.dtype)
        )

    def get_config(self):
        return super().get_config() | {"initial_accumulator_value": self.initial_accumulator_value}

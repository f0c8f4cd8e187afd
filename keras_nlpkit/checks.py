"""Argument and input checks shared by layers and models: a `ValueError` naming the value.

`check_positive_int` and `check_rate` guard constructor arguments. The eager input
checks (`concrete_value`, `check_ids_in_range`, `check_length`) guard what a model
is called with: out-of-range ids would index past an embedding table (a silent
wrong answer on some backends), so eager calls refuse them by name. Symbolic
inputs (inside a compiled `fit`/`predict` or a trace) cannot be read and are
passed through.
"""

import keras
import numpy as np


def check_positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")


def check_rate(name, value):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value!r}")


def concrete_value(value):
    """The NumPy value of an eager input, or None for a symbolic (traced) one."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return np.asarray(value)
    try:
        return keras.ops.convert_to_numpy(value)
    except Exception:  # a KerasTensor, or a tensor inside tf.function / jax.jit
        return None


def check_ids_in_range(name, ids, limit, limit_name):
    """Raises unless the integer `ids` (NumPy) lie in `[0, limit)`."""
    if ids.size == 0:
        return
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"`{name}` must hold integer ids. Received: dtype {ids.dtype}")
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= limit:
        raise ValueError(
            f"`{name}` must lie in [0, {limit}) ({limit_name}={limit}). "
            f"Received: {name} containing {low if low < 0 else high}"
        )


def check_length(name, ids, max_length):
    """Raises when a `(batch, seq)` input (NumPy) is longer than `max_length`."""
    if ids.ndim >= 2 and ids.shape[-1] > max_length:
        raise ValueError(
            f"`{name}` is longer than the model's max_sequence_length="
            f"{max_length}. Received: {name} of length {ids.shape[-1]}"
        )

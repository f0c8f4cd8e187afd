"""`run_layer_test`: the checks every layer of the library goes through."""

import json

import keras
import numpy as np
from keras import ops

MIXED_POLICIES = {"mixed_float16": 2e-2, "mixed_bfloat16": 1e-1}  # policy: atol


def check_config_round_trips(obj):
    """`from_config(get_config())` and a JSON serialize/deserialize give the same config."""
    cls = type(obj)
    config = obj.get_config()
    assert cls.from_config(config).get_config() == config
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(obj)))
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is cls
    assert revived.get_config() == config


def _flat(structure):
    return keras.tree.flatten(structure)


def _numpy(structure):
    return [np.asarray(ops.convert_to_numpy(x)) for x in _flat(structure)]


def _symbolic(data):
    """keras.Input tensors with the shapes (batch included) and dtypes of `data`,
    named after their call argument (`query`, `inputs_0`, ...)."""

    def symbolic(x, name):
        return keras.Input(batch_shape=x.shape, dtype=str(x.dtype), name=name)

    if not isinstance(data, dict):
        return symbolic(data, "inputs")
    return {
        key: [symbolic(x, f"{key}_{i}") for i, x in enumerate(value)]
        if isinstance(value, (list, tuple))
        else symbolic(value, key)
        for key, value in data.items()
    }


def _call(layer, input_data, call_kwargs):
    if isinstance(input_data, dict):
        return layer(**input_data, **call_kwargs)
    return layer(input_data, **call_kwargs)


def _reset_states(layer_or_model):
    """Zeroes every stateful layer in it (`_flatten_layers` includes itself)."""
    for layer in layer_or_model._flatten_layers():
        if hasattr(layer, "reset_state"):
            layer.reset_state()


def _assert_close(actual, expected, atol, what):
    actual, expected = _numpy(actual), _numpy(expected)
    assert len(actual) == len(expected), what
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(
            a.astype("float32"), e.astype("float32"), atol=atol, rtol=0, err_msg=what
        )


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    expected_num_trainable_weights,
    expected_num_non_trainable_weights=0,
    call_kwargs=None,
    run_training_check=True,
    run_mixed_precision_check=True,
    tmp_path=None,
):
    """Runs the common checks on `layer_cls(**init_kwargs)`.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        input_data: a NumPy array (the first call argument) or a dict of call
            arguments whose values are arrays or lists of arrays.
        expected_output_shape: a shape, or a tuple of shapes for several outputs.
        expected_num_trainable_weights, expected_num_non_trainable_weights: counts
            after the first call.
        call_kwargs: non-tensor call arguments (`return_state=True`, ...).
        run_training_check: fit one epoch in a functional model.
        run_mixed_precision_check: check `mixed_float16` and `mixed_bfloat16`.
        tmp_path: a folder for the `.keras` round-trip (pytest's `tmp_path`).

    Checks: `get_config`/`from_config` and JSON round-trips; the weight counts; the
    eager output shapes; the symbolic (functional) output shapes and values equal
    to the eager ones; one `fit` epoch with finite loss that moves the weights;
    `.keras` save/load with identical outputs; under each mixed policy, float32
    weights, outputs in the compute dtype and close to the float32 outputs.
    """
    call_kwargs = call_kwargs or {}

    layer = layer_cls(**init_kwargs)
    check_config_round_trips(layer)

    # Eager call: weights and shapes.
    eager = _call(layer, input_data, call_kwargs)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    expected_shapes = (
        list(expected_output_shape)
        if isinstance(expected_output_shape[0], (tuple, list))
        else [expected_output_shape]
    )
    assert [tuple(x.shape) for x in _flat(eager)] == [tuple(s) for s in expected_shapes]

    # Functional model: symbolic shapes, and the same values as eager.
    inputs = _symbolic(input_data)
    functional_layer = layer_cls(**init_kwargs)
    symbolic = _call(functional_layer, inputs, call_kwargs)
    assert [tuple(x.shape) for x in _flat(symbolic)] == [tuple(s) for s in expected_shapes]
    model = keras.Model(inputs, symbolic)
    _reset_states(model)
    predicted = model(input_data)
    _reset_states(model)
    _assert_close(predicted, _call(functional_layer, input_data, call_kwargs), 1e-6, "functional")

    if run_training_check:
        first_output = _flat(symbolic)[0]
        train_model = keras.Model(inputs, first_output)
        train_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        before = _numpy(train_model.trainable_weights)
        target = np.ones(tuple(first_output.shape), "float32")
        batch_size = _flat(input_data)[0].shape[0]
        history = train_model.fit(
            input_data, target, batch_size=batch_size, epochs=1, shuffle=False, verbose=0
        )
        assert np.isfinite(history.history["loss"][0])
        after = _numpy(train_model.trainable_weights)
        assert any(not np.array_equal(b, a) for b, a in zip(before, after)), (
            "one fit epoch changed no weight"
        )

    if tmp_path is not None:
        path = tmp_path / f"{layer_cls.__name__}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        _reset_states(model)
        _reset_states(loaded)
        _assert_close(loaded(input_data), model(input_data), 0.0, ".keras round-trip")

    if run_mixed_precision_check:
        reference = layer_cls(**init_kwargs)
        reference_output = _call(reference, input_data, call_kwargs)
        _reset_states(reference)
        for policy, atol in MIXED_POLICIES.items():
            mixed = layer_cls(**init_kwargs, dtype=policy)
            _call(mixed, input_data, call_kwargs)
            mixed.set_weights(reference.get_weights())
            _reset_states(mixed)
            output = _call(mixed, input_data, call_kwargs)
            compute_dtype = keras.DTypePolicy(policy).compute_dtype
            for x in _flat(output):
                assert keras.backend.standardize_dtype(x.dtype) == compute_dtype, policy
            for weight in mixed.weights:
                if weight.dtype not in ("int32", "int64", "uint32"):
                    assert weight.dtype == "float32", (policy, weight.path)
            _assert_close(output, reference_output, atol, policy)


def _model_call(model, input_data):
    return model(input_data)


def run_model_test(
    make_model, input_data, padded_input_data, real_positions, tmp_path, call=_model_call
):
    """The `run_layer_test` checks for a model: config, save/load, mixed precision, masks.

    Args:
        make_model: `make_model(dtype)` builds the model (its backbone too) under
            `dtype`, `None` meaning the float32 default.
        input_data: inputs with padding.
        padded_input_data: the same inputs with other token ids at the padded positions.
        real_positions: bool `(batch, seq)`, the positions that are not padding.
        tmp_path: a folder for the `.keras` round-trips.
        call: `call(model, input_data)` → outputs (default `model(input_data)`).

    Checks: `get_config`/`from_config` and JSON round-trips; `.keras` save/load
    with identical outputs; tokens at padded positions change no output at a real
    position (outputs with a `(batch, seq)` prefix are compared at the real
    positions, others whole); under `mixed_float16`, float32 weights, float16
    outputs, finite and close to float32 (clipped to float16's range), and a
    config that keeps the policy.
    """
    model = make_model(None)
    cls = type(model)

    check_config_round_trips(model)

    # .keras save/load.
    expected = call(model, input_data)
    path = tmp_path / f"{cls.__name__}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is cls
    _assert_close(call(loaded, input_data), expected, 0.0, ".keras round-trip")

    # Masks: what stands at padded positions changes nothing at real positions.
    real_positions = np.asarray(real_positions, bool)
    for a, b in zip(_numpy(expected), _numpy(call(model, padded_input_data))):
        if a.shape[:2] == real_positions.shape:
            a, b = a[real_positions], b[real_positions]
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0, err_msg="padding changed outputs")

    # mixed_float16: float32 weights, float16 outputs close to the float32 ones.
    policy = "mixed_float16"
    mixed = make_model(policy)
    mixed.set_weights(model.get_weights())
    output = call(mixed, input_data)
    for weight in mixed.weights:
        if weight.dtype not in ("int32", "int64", "uint32"):
            assert weight.dtype == "float32", (policy, weight.path)
    for x in _numpy(output):
        assert x.dtype == np.float16, (policy, x.dtype)
        assert np.isfinite(x).all(), policy
    # Masking floors beyond float16's range (-1e9) stand at its lowest value instead.
    float16_range = [np.clip(x, -65504.0, 65504.0) for x in _numpy(expected)]
    _assert_close(output, float16_range, MIXED_POLICIES[policy], policy)
    revived = cls.from_config(mixed.get_config())
    assert all(x.dtype == np.float16 for x in _numpy(call(revived, input_data))), (
        "the config lost the dtype policy"
    )

"""Does a `.tflite` load and run in LiteRT's other client, and give the same numbers?

The project's runtime uses the classic `Interpreter`. Apps may use LiteRT's
`CompiledModel` API instead: the LiteRT 2.x C++ API that Android's Kotlin API and
LiteRT.js wrap. It refuses some files the Interpreter runs, the whole file at once
(e.g. "Variable tensors not yet supported": TFLite's fused
`UNIDIRECTIONAL_SEQUENCE_LSTM` keeps its state in variable tensors). So export runs
every signature of every file in both, on the same inputs, and reports per client
whether it loaded, which signatures ran, and the largest difference.

Inputs are made from the signature's declared shapes (a dynamic dimension runs at
1): token ids 1, a `position` 0, float inputs small seeded noise. This checks the
file and the client, not the model's quality (the parity checks do that).
"""

import contextlib
import gc
import os
import tempfile

import numpy as np
from ai_edge_litert.compiled_model import CompiledModel
from ai_edge_litert.interpreter import Interpreter


@contextlib.contextmanager
def captured_native_stderr(lines):
    """Collects what native code writes to fd 2 (LiteRT's C++ logs) into `lines`.

    CompiledModel's exception says only "Failed to load model from buffer"; the
    reason goes to stderr. Capturing it gives the reason, and keeps LiteRT's
    start-up lines out of the CLI's output.
    """
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def _load_error(lines, error):
    reasons = [line.strip() for line in lines if "ERROR" in line and "not" in line.lower()]
    reasons = reasons or [line.strip() for line in lines if "ERROR" in line]
    return reasons[0] if reasons else f"{type(error).__name__}: {error}"


def signature_inputs(runner, seed=0):
    """Inputs for one Interpreter signature runner, from its declared shapes."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, detail in sorted(runner.get_input_details().items()):
        shape = [max(1, int(d)) for d in detail["shape_signature"]]
        dtype = detail["dtype"]
        if np.issubdtype(dtype, np.integer):
            inputs[name] = np.full(shape, 0 if name == "position" else 1, dtype)
        else:
            inputs[name] = (0.1 * rng.standard_normal(shape)).astype(dtype)
    return inputs


def signature_tensors(content):
    """`{signature: {"inputs": {name: {"shape", "dtype"}}, "outputs": {...}}}` of a
    `.tflite` (its bytes, or an `Interpreter` of them; declared shapes, -1 for a dynamic
    dimension): what the manifest tells a runtime, so that it can check a file before
    running it."""
    interpreter = (
        content if isinstance(content, Interpreter) else Interpreter(model_content=content)
    )
    tensors = {}
    for signature in sorted(interpreter.get_signature_list()):
        runner = interpreter.get_signature_runner(signature)
        tensors[signature] = {
            side: {
                name: {
                    "shape": [int(d) for d in detail["shape_signature"]],
                    "dtype": np.dtype(detail["dtype"]).name,
                }
                for name, detail in sorted(details.items())
            }
            for side, details in (
                ("inputs", runner.get_input_details()),
                ("outputs", runner.get_output_details()),
            )
        }
    return tensors


def dynamic_inputs(interpreter):
    """`{signature: [input names with a dimension declared -1]}` (LiteRT.js needs none)."""
    found = {}
    for signature, tensors in signature_tensors(interpreter).items():
        names = [name for name, tensor in tensors["inputs"].items() if -1 in tensor["shape"]]
        if names:
            found[signature] = names
    return found


def _run_compiled(model, signature, inputs):
    buffers = {}
    for name, value in inputs.items():
        buffers[name] = model.create_input_buffer_by_name(signature, name)
        buffers[name].write(value)
    details = model.get_output_tensor_details(signature)
    outputs = {name: model.create_output_buffer_by_name(signature, name) for name in details}
    model.run_by_name(signature, buffers, outputs)
    return {name: (buffer, details[name]["shape"]) for name, buffer in outputs.items()}


def check_clients(content):
    """`{"compiled_model": {...}, "dynamic_inputs": {...}}` for one `.tflite` file.

    `compiled_model` holds `loaded`, `ran` (the signatures that ran), `max_abs_diff`
    against the Interpreter over every output, and `error` (the reason, or None).
    """
    interpreter = Interpreter(model_content=content)
    signatures = sorted(interpreter.get_signature_list())
    result = {"loaded": False, "ran": [], "max_abs_diff": None, "error": None}
    lines = []
    try:
        with captured_native_stderr(lines):
            model = CompiledModel.from_buffer(content)
    except RuntimeError as error:
        result["error"] = _load_error(lines, error)
        return {"compiled_model": result, "dynamic_inputs": dynamic_inputs(interpreter)}
    result["loaded"] = True
    largest = 0.0
    for signature in signatures:
        runner = interpreter.get_signature_runner(signature)
        inputs = signature_inputs(runner)
        expected = runner(**inputs)
        lines = []
        try:
            with captured_native_stderr(lines):
                got = _run_compiled(model, signature, inputs)
        except RuntimeError as error:
            result["error"] = f"{signature}: {_load_error(lines, error)}"
            break
        for name, (buffer, shape) in got.items():
            want = np.asarray(expected[name])
            value = buffer.read(int(np.prod(shape)), want.dtype).reshape(shape)
            if value.shape != want.shape:
                result["error"] = f"{signature}: {name} has shape {value.shape}, not {want.shape}"
                break
            diff = np.abs(value.astype(np.float64) - want.astype(np.float64))
            largest = max(largest, float(diff.max()) if diff.size else 0.0)
        if result["error"]:
            break
        result["ran"].append(signature)
    result["max_abs_diff"] = largest
    with captured_native_stderr([]):  # LiteRT logs its accelerators' teardown (INFO lines)
        model = got = buffer = None  # the buffers hold the model too
        gc.collect()
    return {"compiled_model": result, "dynamic_inputs": dynamic_inputs(interpreter)}


def compiled_model_works(clients):
    """True when CompiledModel loaded the file and ran every signature."""
    return clients["compiled_model"]["loaded"] and clients["compiled_model"]["error"] is None

"""Model files that hold code: checked before anything of theirs runs.

A `.keras` file of Keras 3 loads in Keras' safe mode (a `Lambda`'s bytecode is refused).
The other inputs `nlpkit export` takes are programs:

- a legacy (tf-keras) `.h5` or `.keras` file rebuilds its layers from a config, and a
  `Lambda` layer there carries Python bytecode that runs while the model is rebuilt;
  a `TFOpLambda` names TensorFlow functions to call, file-writing ones among them;
- a SavedModel is a graph: running a signature runs whatever ops it holds.

`check_legacy_file` and `check_saved_model` read the file without running it and refuse,
naming what they found, a `Lambda`, a `TFOpLambda` of a file or Python function, and
signature ops that write files, call Python or write summaries — unless the user passes
`--unsafe-load`, saying they trust the file. What is not found this way (an op that
misuses a legitimate kernel) is why only files you trust should be exported at all.
"""

import json
import zipfile

import h5py
from tensorflow.core.protobuf import saved_model_pb2

from keras_nlpkit.export.signatures import ExportError

# Ops that reach outside the graph: files, Python, summaries, checkpoints.
UNSAFE_OPS = frozenset(
    {
        "WriteFile",
        "DeleteFile",
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
        "Save",
        "SaveV2",
        "SaveSlices",
        "MergeV2Checkpoints",
        "PrintV2",
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
        "WriteSummary",
        "WriteRawProtoSummary",
        "WriteScalarSummary",
        "WriteHistogramSummary",
        "WriteImageSummary",
        "WriteAudioSummary",
        "WriteGraphSummary",
        "ImportEvent",
        "DebugIdentityV2",
        "DebugIdentityV3",
    }
)
# `TFOpLambda` function names (tf-keras writes `tf.io.write_file` as "io.write_file").
UNSAFE_FUNCTIONS = (
    "io.",
    "compat.v1.io.",
    "raw_ops.",
    "py_function",
    "numpy_function",
    "compat.v1.py_func",
    "print",
    "summary.",
    "compat.v1.summary.",
    "saved_model.",
    "debugging.",
)
ADVICE = "pass --unsafe-load to export it anyway if you trust the file"


def legacy_config(path):
    """The model config of a tf-keras `.h5` or `.keras` file, without loading the model."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("config.json"))
        with h5py.File(path, "r") as file:
            config = file.attrs.get("model_config")
    except (OSError, KeyError, ValueError) as error:
        raise ExportError(f"MODEL: not a readable model file ({error}). Received: {path}") from None
    if config is None:
        raise ExportError(
            f"MODEL: an .h5 file without a model config (weights only?). Received: {path}"
        )
    return json.loads(config.decode() if isinstance(config, bytes) else config)


def check_legacy_file(path):
    """Refuses a legacy model file whose config holds code (see the module docstring)."""
    for layer in _layers(legacy_config(path)):
        name, config = layer.get("class_name"), layer.get("config") or {}
        if name == "Lambda":
            raise ExportError(
                f"MODEL: layer {config.get('name')!r} is a Lambda: its Python "
                f"code would run while the model loads; {ADVICE}. "
                f"Received: {path}"
            )
        function = str(config.get("function", ""))
        if name in ("TFOpLambda", "SlicingOpLambda") and function.startswith(UNSAFE_FUNCTIONS):
            raise ExportError(
                f"MODEL: layer {config.get('name')!r} calls tf.{function}, "
                f"which reaches outside the model; {ADVICE}. Received: {path}"
            )


def check_saved_model(path):
    """Refuses a SavedModel whose signatures hold ops in `UNSAFE_OPS`."""
    try:
        saved = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    except Exception as error:  # a protobuf parse error of any kind
        raise ExportError(
            f"MODEL: saved_model.pb is not a SavedModel ({type(error).__name__}). Received: {path}"
        ) from None
    for graph in saved.meta_graphs:
        found = sorted(_signature_ops(graph) & UNSAFE_OPS)
        if found:
            raise ExportError(
                f"MODEL: the SavedModel's signatures run {found}, which reach "
                f"outside the model; {ADVICE}. Received: {path}"
            )


def _layers(config):
    """Every `{"class_name", "config"}` object in a Keras config, nested ones included."""
    if isinstance(config, dict):
        if "class_name" in config:
            yield config
        for value in config.values():
            yield from _layers(value)
    elif isinstance(config, list):
        for value in config:
            yield from _layers(value)


def _signature_ops(graph):
    """The op types the graph's signatures can run: their nodes and every function called."""
    functions = {f.signature.name: f for f in graph.graph_def.library.function}
    nodes = {node.name: node for node in graph.graph_def.node}
    pending = []
    for signature in graph.signature_def.values():
        for tensor in signature.outputs.values():
            pending.append(("node", tensor.name.split(":")[0]))
    ops, seen = set(), set()
    while pending:
        kind, name = pending.pop()
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        if kind == "node" and name in nodes:
            node = nodes[name]
            members = [node]
            pending.extend(("node", i.lstrip("^").split(":")[0]) for i in node.input)
        elif kind == "function" and name in functions:
            members = list(functions[name].node_def)
        else:
            continue
        for node in members:
            ops.add(node.op)
            for value in node.attr.values():
                called = [value.func.name] if value.HasField("func") else []
                called += [f.name for f in value.list.func]
                pending.extend(("function", f) for f in called if f)
            if node.op in functions:  # a function called by its name
                pending.append(("function", node.op))
    return ops

"""SavedModel → TFLite, one file per quantisation (`ondevice.describe_tflite` reads one)."""

import struct

import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from tensorflow.core.protobuf import saved_model_pb2

from keras_nlpkit.export.signatures import ExportError
from keras_nlpkit.native_logs import filtered_stderr


def convert(saved_model_dir, signature_keys, variant, representative_dataset=None, allow_flex=True):
    """Converts the SavedModel's signatures into one `.tflite` (bytes) for `variant`.

    Flex (Select TF) ops are allowed here so that a model that needs them still
    converts and the caller can name them; the caller decides whether to keep it.
    Full-integer `int8` asks for int8 kernels everywhere, and falls back to float
    kernels only for ops that have no int8 one (the returned note says so).
    """

    def converter(supported_ops):
        c = tf.lite.TFLiteConverter.from_saved_model(
            str(saved_model_dir), signature_keys=list(signature_keys)
        )
        c.target_spec.supported_ops = supported_ops + (
            [tf.lite.OpsSet.SELECT_TF_OPS] if allow_flex else []
        )
        if variant != "float32":
            c.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "float16":
            c.target_spec.supported_types = [tf.float16]
        if variant == "int8":
            c.representative_dataset = representative_dataset
        return c

    note = None
    try:
        with filtered_stderr():  # the quantizer's summary line, the calibrator's warning
            if variant == "int8":
                try:
                    content = converter([tf.lite.OpsSet.TFLITE_BUILTINS_INT8]).convert()
                except Exception:  # an op without an int8 kernel: keep float for that op only
                    content = converter(
                        [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
                    ).convert()
                    note = "float kernels kept for ops without an int8 kernel"
            else:
                content = converter([tf.lite.OpsSet.TFLITE_BUILTINS]).convert()
    except Exception as error:
        raise ExportError(
            f"The TFLite converter failed ({variant}): {_first_lines(error)}"
        ) from None
    return remove_lstm_cell_clip(content), note


def remove_lstm_cell_clip(content):
    """Sets `cell_clip` of every fused LSTM op to 0 (no clipping), in place.

    The converter's Keras-LSTM fusion hard-codes `cell_clip=10`, which Keras'
    LSTM does not have: once a cell state has grown past ±10 (a counter over a
    long input), the clipped kernel forgets the excess and its outputs differ
    from Keras' (`tests/export/test_export.py` builds such a case). The option is a
    float field of the op's `UnidirectionalSequenceLSTMOptions` table, overwritten
    without re-serialising.
    """
    buffer = bytearray(content)
    model = schema.Model.GetRootAsModel(buffer, 0)
    codes = [
        max(model.OperatorCodes(i).BuiltinCode(), model.OperatorCodes(i).DeprecatedBuiltinCode())
        for i in range(model.OperatorCodesLength())
    ]
    cell_clip_field = 6  # vtable offset of field 1, `cell_clip`
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for o in range(subgraph.OperatorsLength()):
            op = subgraph.Operators(o)
            if codes[op.OpcodeIndex()] != schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM:
                continue
            table = op.BuiltinOptions()
            offset = table.Offset(cell_clip_field) if table is not None else 0
            if offset:
                struct.pack_into("<f", buffer, table.Pos + offset, 0.0)
    return bytes(buffer)


def _first_lines(error, count=6):
    lines = [line for line in str(error).splitlines() if line.strip()]
    return " | ".join(lines[:count])


def flex_op_sources(saved_model_dir, flex_ops, layer_names):
    """For each Flex op (`FlexStridedSlice`), the model layers whose graph has the TF op.

    Node names in the SavedModel carry the Keras name scopes (`.../lstm/...`), so
    a layer is named when one of its scope components is a layer name.
    """
    with open(f"{saved_model_dir}/saved_model.pb", "rb") as f:
        saved = saved_model_pb2.SavedModel.FromString(f.read())
    graph_def = saved.meta_graphs[0].graph_def
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    names = set(layer_names)
    sources = {}
    for op in flex_ops:
        tf_type = op[len("Flex") :]
        found = set()
        for node in nodes:
            if node.op == tf_type:
                for part in node.name.split("/"):
                    # Keras scopes a layer's ops as `<name>` or `<name>_<n>`.
                    base = part.rsplit("_", 1)[0] if part.rsplit("_", 1)[-1].isdigit() else part
                    found.update(n for n in (part, base) if n in names)
        sources[op] = sorted(found)
    return sources


__all__ = ["convert", "flex_op_sources", "remove_lstm_cell_clip"]

"""The export tool: a trained model → SavedModel and builtin-only TFLite files + manifest.

    from keras_nlpkit.export import export
    report = export(model, "runs/export", quantize=["float32", "dynamic_int8"])

`exporter.py` writes the folder (see its docstring), `signatures.py` builds the
functions it serves, `convert.py` runs the TFLite converter, `command.py` is
`nlpkit export`.
"""

from keras_nlpkit.export.exporter import Source
from keras_nlpkit.export.exporter import export
from keras_nlpkit.export.exporter import format_report
from keras_nlpkit.export.exporter import keras_source
from keras_nlpkit.export.exporter import load_source
from keras_nlpkit.export.signatures import ExportError

__all__ = ["ExportError", "Source", "export", "format_report", "keras_source", "load_source"]

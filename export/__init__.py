"""The export tool: a trained model → SavedModel and builtin-only TFLite files.

Installed as `keras_nlpkit.export` (the checkout keeps it at `export/`).

    from keras_nlpkit.export import export
    report = export(model, "runs/export", quantize=["none", "dynamic"])

See `exporter.py` for the folder it writes and `signatures.py` for the signatures.
"""

from keras_nlpkit.export.exporter import Source
from keras_nlpkit.export.exporter import export
from keras_nlpkit.export.exporter import format_report
from keras_nlpkit.export.exporter import keras_source
from keras_nlpkit.export.exporter import load_source
from keras_nlpkit.export.signatures import ExportError

__all__ = ["ExportError", "Source", "export", "format_report", "keras_source", "load_source"]

"""keras-nlpkit: Keras 3 NLP layers that export to builtin-only TFLite.

Submodules load on first use, so that `keras_nlpkit.runtime` (the on-device
runtime) and `keras_nlpkit.tokenizers` import without TensorFlow or Keras, as on a
phone. Importing `keras_nlpkit.layers` or `keras_nlpkit.models` registers their
classes for `keras.saving.load_model`.
"""

import importlib
import os

# Keras 3 picks its backend at first import; TensorFlow is ours by default, but an explicit
# KERAS_BACKEND (e.g. "jax") from the user always wins.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

_SUBMODULES = ("export", "glove", "layers", "models", "recipes", "runtime", "tokenizers")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

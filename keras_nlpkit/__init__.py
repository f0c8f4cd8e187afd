"""keras-nlpkit: Keras 3 NLP layers that train with `model.fit` and ship as builtin-only TFLite.

Three rooms (docs/ARCHITECTURE.md):

- training side: `layers`, `models`, `tokenizers`, `text` (preparing training data),
  `export` (a model → SavedModel + TFLite + manifest), `evaluation` (metrics, peers);
- `recipes`: what `nlpkit` runs — a config, its arguments and `run` per command;
- `ondevice`: what an app mirrors, TF-free by contract.

Submodules load on first use, so that `keras_nlpkit.ondevice` imports without
TensorFlow or Keras, as on a phone. Importing `keras_nlpkit.layers` or
`keras_nlpkit.models` registers their classes for `keras.saving.load_model`.
"""

import importlib
import os

# Keras 3 picks its backend at first import; TensorFlow is ours by default, but an explicit
# KERAS_BACKEND (e.g. "jax") from the user always wins.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.3.0"

_SUBMODULES = (
    "evaluation",
    "export",
    "layers",
    "models",
    "ondevice",
    "recipes",
    "text",
    "tokenizers",
)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

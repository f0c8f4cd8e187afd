"""keras-nlpkit: Keras 3 NLP layers that export to builtin-only TFLite."""

import os

# Keras 3 picks its backend at first import; TensorFlow is ours by default, but an explicit
# KERAS_BACKEND (e.g. "jax") from the user always wins.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

from keras_nlpkit import layers  # noqa: E402,F401

"""A pytest plugin: Keras' own layer tests, run with one of its layers swapped for ours.

`NLPKIT_SWAP="LSTM=LSTM"` (keras name = our name, comma-separated) replaces
`keras.src.layers.<keras name>` by `keras_nlpkit.layers.<our name>` before the test
module imports it; the test file itself is read from the installed keras wheel
and runs unchanged. Used by `tests/peers/test_keras_layer_tests.py`.
"""

import os


def pytest_configure(config):
    import keras.src.layers

    import keras_nlpkit.layers

    for pair in filter(None, os.environ.get("NLPKIT_SWAP", "").split(",")):
        theirs, ours = pair.split("=")
        setattr(keras.src.layers, theirs, getattr(keras_nlpkit.layers, ours))

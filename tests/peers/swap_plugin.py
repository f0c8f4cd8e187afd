"""A pytest plugin: Keras' own layer tests, run with one of its layers swapped for ours.

`NLPKIT_SWAP="LSTM=LSTM"` (keras name = our name, comma-separated) replaces
`keras.src.layers.<keras name>` by `keras_nlpkit.layers.<our name>` before the test
module imports it; the test file itself is read from the installed keras wheel
and runs unchanged. Used by `tests/peers/test_keras_layer_tests.py`, which reads how
many of our layers the file built (`NLPKIT_SWAP_REPORT`): a swap that missed would
otherwise pass against Keras' own class.
"""

import json
import os

BUILT = {}


def pytest_configure(config):
    import keras.src.layers

    import keras_nlpkit.layers

    for pair in filter(None, os.environ.get("NLPKIT_SWAP", "").split(",")):
        theirs, ours = pair.split("=")
        layer = getattr(keras_nlpkit.layers, ours)
        setattr(keras.src.layers, theirs, layer)
        BUILT[ours] = 0
        original = layer.__init__

        def counting(self, *args, _original=original, _name=ours, **kwargs):
            if type(self).__name__ == _name:
                BUILT[_name] += 1
            _original(self, *args, **kwargs)

        layer.__init__ = counting


def pytest_sessionfinish(session):
    report = os.environ.get("NLPKIT_SWAP_REPORT")
    if report:
        with open(report, "w") as file:
            json.dump(BUILT, file)

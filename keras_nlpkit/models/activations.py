"""`gelu_approximate`: the one registered tanh-GELU that BERT and GPT-2 blocks save by name."""

import keras


@keras.saving.register_keras_serializable(package="keras_nlpkit")
def gelu_approximate(x):
    """GELU with the tanh approximation (BERT's and GPT-2's original code; keras-hub's).

    A named, registered function so that a block's `activation` round-trips through
    `get_config`; equal to `keras.activations.gelu(x, approximate=True)`, and
    exported as TFLite's builtin `GELU` with its `approximate` flag.
    """
    return keras.activations.gelu(x, approximate=True)

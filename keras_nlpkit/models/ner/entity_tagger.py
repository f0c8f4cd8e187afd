"""`EntityTagger`: a BiLSTM tagger (one BIO tag a token) over pluggable per-token features."""

import keras
import tensorflow as tf

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.export.signatures import Signature
from keras_nlpkit.layers import LSTM


def _merged_inputs(features):
    """One `keras.Input` per input name of the blocks; blocks naming one input share it."""
    inputs = {}
    for block in features:
        if not isinstance(getattr(block, "input", None), dict):
            raise ValueError(
                "Each feature block must be a functional keras.Model with a dict of named "
                f"inputs. Received: {type(block).__name__} {getattr(block, 'name', '')!r}"
            )
        for name, tensor in block.input.items():
            spec = (tuple(tensor.shape[1:]), tensor.dtype)
            if name in inputs and (tuple(inputs[name].shape[1:]), inputs[name].dtype) != spec:
                raise ValueError(
                    f"Feature blocks name the input {name!r} with different shapes or "
                    f"dtypes. Received: {inputs[name].shape} {inputs[name].dtype} and "
                    f"{tensor.shape} {tensor.dtype} (block {block.name!r})"
                )
            inputs.setdefault(name, keras.Input(spec[0], dtype=tensor.dtype, name=name))
    return inputs


@nlpkit_export("keras_nlpkit.models.EntityTagger")
class EntityTagger(keras.Model):
    """Named-entity tagger: feature blocks → BiLSTM → one tag's logits a token.

    The seam is `features`: each block is a functional model that maps its own
    named inputs to one vector a token, `(batch, seq, d)`, with a padding mask (e.g.
    `WordVectorFeatures`: `token_ids`, `case_ids`; an ELMo block would map
    `character_ids` through a frozen biLM and a `ScalarMix`). The tagger takes the
    union of their inputs, concatenates their vectors, and reads them with a
    bidirectional `keras_nlpkit.layers.LSTM` (Lample et al.'s tagger without the
    CRF): every tag is chosen on its own, and the BIO constraints are left to the
    scorer's reading (`keras_nlpkit.evaluation.ner`). Padding is masked all the way,
    so a padded batch tags each sentence as it would alone; train with the mask
    (Keras applies it to the loss) and read `argmax` at the real tokens. Keras'
    `Concatenate` ORs its inputs' masks (a block without a mask counts as all real),
    so every block must mask its own padding.

    Args:
        features: a non-empty list of feature blocks (functional `keras.Model`s with
            a dict of named inputs); blocks naming the same input share it.
        num_tags: positive int, the number of tags (the BIO tag set).
        hidden_dim: LSTM units in each direction.
        dropout: dropout rate on the features and on the BiLSTM's output.
        **kwargs: `keras.Model` arguments (`name`).

    Inputs: the blocks' named inputs, e.g. `{"token_ids", "case_ids"}`.
    Output: logits `(batch, seq, num_tags)`.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import EntityTagger, WordVectorFeatures

    tagger = EntityTagger([WordVectorFeatures(10, 8, case_dim=4)], num_tags=5, hidden_dim=6)
    x = {"token_ids": np.array([[4, 7, 2, 0]]), "case_ids": np.array([[2, 1, 1, 0]])}
    tagger(x).shape  # (1, 4, 5)
    ```

    References:
        - [Huang et al., 2015](https://arxiv.org/abs/1508.01991)
        - [Lample et al., 2016](https://arxiv.org/abs/1603.01360)
    """

    def __init__(self, features, num_tags, hidden_dim=100, dropout=0.5, **kwargs):
        features = list(features) if isinstance(features, (list, tuple)) else features
        if not isinstance(features, list) or not features:
            raise ValueError(
                f"`features` must be a non-empty list of feature blocks. Received: {features!r}"
            )
        check_positive_int("num_tags", num_tags)
        check_positive_int("hidden_dim", hidden_dim)
        check_rate("dropout", dropout)
        dtype = features[0].dtype_policy

        # === Layers ===
        self.features = features
        self.concatenate = None
        if len(features) > 1:
            self.concatenate = keras.layers.Concatenate(dtype=dtype, name="features")
        self.feature_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="feature_dropout")
        self.bilstm = keras.layers.Bidirectional(
            LSTM(hidden_dim, return_sequences=True, dtype=dtype, name="lstm"),
            dtype=dtype,
            name="bilstm",
        )
        self.output_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="output_dropout")
        self.logits = keras.layers.Dense(num_tags, dtype=dtype, name="logits")

        # === Functional model ===
        inputs = _merged_inputs(features)
        vectors = [block({name: inputs[name] for name in block.input}) for block in features]
        x = self.concatenate(vectors) if self.concatenate else vectors[0]  # (batch, seq, d)
        x = self.bilstm(self.feature_dropout(x))  # (batch, seq, 2 * hidden_dim)
        logits = self.logits(self.output_dropout(x))  # (batch, seq, num_tags)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

        # === Config ===
        self.num_tags = num_tags
        self.hidden_dim = hidden_dim
        self.dropout = dropout

    def export_signatures(self):
        """`serving_default` for `keras_nlpkit.export`: one sentence (batch 1), any length.

        Inputs under the blocks' names, int32 `(1, seq, ...)`, no padding needed;
        output `logits (1, seq, num_tags)`.
        """
        specs = [  # ids travel as int32, as TFLite's GATHER and phone APIs take them
            tf.TensorSpec(
                (1, *tensor.shape[1:]),
                tf.int32 if "int" in str(tensor.dtype) else tf.as_dtype(tensor.dtype),
                name=name,
            )
            for name, tensor in self.input.items()
        ]
        names = list(self.input)

        def serve(*values):
            return {"logits": self(dict(zip(names, values)), training=False)}

        return [Signature("serving_default", serve, specs)]

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "features": [keras.saving.serialize_keras_object(block) for block in self.features],
            "num_tags": self.num_tags,
            "hidden_dim": self.hidden_dim,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["features"] = [
            keras.saving.deserialize_keras_object(block) for block in config["features"]
        ]
        return cls(**config)

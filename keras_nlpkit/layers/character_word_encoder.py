import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.layers.highway import Highway
from keras_nlpkit.layers.lstm import LSTM

ENCODERS = ("bilstm", "cnn")
KIM_FILTERS = ((1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024))


def _check_filters(filters):
    """`filters` as a tuple of `(width, count)` int pairs, or a ValueError naming it."""
    try:
        pairs = tuple((width, count) for width, count in filters)
    except (TypeError, ValueError):
        pairs = ()
    ok = bool(pairs) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for pair in pairs for v in pair
    )
    if not ok:
        raise ValueError(
            "`filters` must be a non-empty list of (width, count) pairs of positive "
            f"integers. Received: filters={filters!r}"
        )
    return pairs


@nlpkit_export("keras_nlpkit.layers.CharacterWordEncoder")
class CharacterWordEncoder(keras.layers.Layer):
    """A word's vector from its characters, so that any spelling gets one.

    The ids of each word (`keras_nlpkit.text.word_characters.character_ids`: 0 is
    padding) are embedded, then read by one of two encoders:

    - `"bilstm"`: a forward and a backward `LSTM` over the characters, masked, so
      the forward state is taken at the word's real last character and the
      backward one at its first; the two are concatenated (`2 * hidden_dim`).
      Padding does not change a word's vector.
    - `"cnn"` (Kim et al., 2016): per `(width, count)` in `filters`, `count`
      convolutions of that width and a max over the positions a window can start
      at inside the word (padding never wins the max), concatenated
      (`sum(count)` features).

    then `highway_layers` `Highway` layers and, with `output_dim`, a linear
    projection. A word of only padding gets a zero vector, and the layer's mask
    (`any(ids != 0)`) marks it for the layers downstream. Any leading shape works:
    `(batch, chars)` for a word list, `(batch, words, chars)` for sentences.

    Args:
        num_characters: size of the character vocabulary (259 for `character_ids`).
        character_dim: size of a character's embedding.
        encoder: `"bilstm"` or `"cnn"`.
        hidden_dim: units of each LSTM direction (`"bilstm"`).
        filters: `(width, count)` pairs of the convolutions (`"cnn"`); the default is
            Kim et al.'s large model (2,048 features).
        highway_layers: `Highway` layers after the encoder (Kim et al. and ELMo: 2).
        output_dim: size of a linear projection at the end, or None for none.
        cnn_activation: the convolutions' activation; `"tanh"` as Kim et al.
            (ELMo uses `"relu"`).
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        inputs: int ids `(..., max_characters)`.

    Returns:
        `(..., features)`: `output_dim`, else `2 * hidden_dim` or the filter counts'
        sum.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit
    from keras_nlpkit.text.word_characters import character_ids

    ids = character_ids([["the", "cat"], ["purred", ""]], max_characters=12)  # (2, 2, 12)
    encoder = keras_nlpkit.layers.CharacterWordEncoder(hidden_dim=8)
    tuple(encoder(ids).shape)  # (2, 2, 16)
    np.asarray(encoder.compute_mask(ids)).tolist()  # [[True, True], [True, False]]
    ```

    References:
        - [Ling et al., 2015](https://arxiv.org/abs/1508.02096)
        - [Kim et al., 2016](https://arxiv.org/abs/1508.06615)
        - [Pinter et al., 2017](https://arxiv.org/abs/1707.06961)
    """

    def __init__(
        self,
        num_characters=259,
        character_dim=16,
        encoder="bilstm",
        hidden_dim=50,
        filters=KIM_FILTERS,
        highway_layers=0,
        output_dim=None,
        cnn_activation="tanh",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("num_characters", num_characters)
        check_positive_int("character_dim", character_dim)
        if encoder not in ENCODERS:
            raise ValueError(f"`encoder` must be one of {ENCODERS}. Received: encoder={encoder!r}")
        check_positive_int("hidden_dim", hidden_dim)
        filters = _check_filters(filters)
        if (
            not isinstance(highway_layers, int)
            or isinstance(highway_layers, bool)
            or highway_layers < 0
        ):
            raise ValueError(
                "`highway_layers` must be a non-negative integer. "
                f"Received: highway_layers={highway_layers!r}"
            )
        check_positive_int("output_dim", output_dim, allow_none=True)
        self.num_characters = num_characters
        self.character_dim = character_dim
        self.encoder = encoder
        self.hidden_dim = hidden_dim
        self.filters = filters
        self.highway_layers = highway_layers
        self.output_dim = output_dim
        self.cnn_activation = keras.activations.get(cnn_activation)
        self.supports_masking = True

    @property
    def features(self):
        """The size of the output vectors."""
        if self.output_dim is not None:
            return self.output_dim
        return self.encoder_features

    @property
    def encoder_features(self):
        if self.encoder == "bilstm":
            return 2 * self.hidden_dim
        return sum(count for _, count in self.filters)

    def build(self, inputs_shape):
        if len(inputs_shape) < 2:
            raise ValueError(
                "`CharacterWordEncoder` takes ids of shape (..., max_characters) with a "
                f"batch axis. Received: inputs_shape={tuple(inputs_shape)}"
            )
        characters = inputs_shape[-1]
        self.embedding = keras.layers.Embedding(
            self.num_characters,
            self.character_dim,
            dtype=self.dtype_policy,
            name="character_embedding",
        )
        self.embedding.build((None, characters))
        embedded_shape = (None, characters, self.character_dim)
        if self.encoder == "bilstm":
            self.forward_lstm = LSTM(self.hidden_dim, dtype=self.dtype_policy, name="forward_lstm")
            self.backward_lstm = LSTM(
                self.hidden_dim, go_backwards=True, dtype=self.dtype_policy, name="backward_lstm"
            )
            self.forward_lstm.build(embedded_shape)
            self.backward_lstm.build(embedded_shape)
        else:
            self.convolutions = []
            for index, (width, count) in enumerate(self.filters):
                conv = keras.layers.Conv1D(
                    count,
                    width,
                    activation=self.cnn_activation,
                    dtype=self.dtype_policy,
                    name=f"conv_{index}_width_{width}",
                )
                padded = None if characters is None else characters + width - 1
                conv.build((None, padded, self.character_dim))
                self.convolutions.append(conv)
        self.highways = []
        for index in range(self.highway_layers):
            highway = Highway(dtype=self.dtype_policy, name=f"highway_{index}")
            highway.build((None, self.encoder_features))
            self.highways.append(highway)
        self.projection = None
        if self.output_dim is not None:
            self.projection = keras.layers.Dense(
                self.output_dim, dtype=self.dtype_policy, name="projection"
            )
            self.projection.build((None, self.encoder_features))
        self.built = True

    def _encode_cnn(self, embedded, mask):
        # Zero embeddings after the word, and as many zeros again past the end, so a
        # window starting at any real character sees the same values whatever the
        # padded length: the word's vector does not depend on `max_characters`.
        embedded = embedded * ops.cast(ops.expand_dims(mask, -1), embedded.dtype)
        starts = ops.expand_dims(mask, -1)  # (words, chars, 1): windows starting in the word
        pooled = []
        for (width, _), conv in zip(self.filters, self.convolutions):
            padded = ops.pad(embedded, ((0, 0), (0, width - 1), (0, 0)))
            features = conv(padded)  # (words, chars, count)
            # Windows starting on padding take the row's minimum, which cannot win the max.
            floor = ops.stop_gradient(ops.min(features, axis=1, keepdims=True))
            pooled.append(ops.max(ops.where(starts, features, floor), axis=1))
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    def call(self, inputs):
        ids = ops.cast(inputs, "int32")
        shape = ops.shape(ids)
        characters = shape[-1]
        flat = ops.reshape(ids, (-1, characters))  # (words, chars)
        mask = ops.not_equal(flat, 0)
        embedded = self.embedding(flat)  # (words, chars, character_dim)
        if self.encoder == "bilstm":
            forward = self.forward_lstm(embedded, mask=mask)  # (words, hidden): at the last char
            backward = self.backward_lstm(embedded, mask=mask)  # at the first char
            x = ops.concatenate([forward, backward], axis=-1)
        else:
            x = self._encode_cnn(embedded, mask)
        for highway in self.highways:
            x = highway(x)
        if self.projection is not None:
            x = self.projection(x)
        words = ops.any(mask, axis=-1, keepdims=True)
        x = ops.where(words, x, ops.zeros_like(x))  # a padded word is a zero vector
        return ops.reshape(x, (*shape[:-1], self.features))

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, 0), axis=-1)

    def compute_output_shape(self, inputs_shape):
        return (*inputs_shape[:-1], self.features)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_characters=self.num_characters,
            character_dim=self.character_dim,
            encoder=self.encoder,
            hidden_dim=self.hidden_dim,
            filters=[list(pair) for pair in self.filters],
            highway_layers=self.highway_layers,
            output_dim=self.output_dim,
            cnn_activation=keras.activations.serialize(self.cnn_activation),
        )
        return config

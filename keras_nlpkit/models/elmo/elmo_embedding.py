"""`ELMoEmbedding`: a trained, frozen `ELMoBiLM` as a layer of a downstream model."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.elmo.elmo_bilm import ELMoBiLM


@nlpkit_export("keras_nlpkit.models.ELMoEmbedding")
class ELMoEmbedding(keras.layers.Layer):
    """The L + 1 layers of a frozen biLM for each word of a sentence, for `ScalarMix`.

    What a tagger or classifier puts where its word embedding was (Peters et al.,
    2018): the words' character ids in, `ELMoBiLM.representations` out — layer 0 the
    token encoding `[x; x]`, layer j the forward and backward LSTM layers `[f_j; b_j]`,
    each `(batch, seq, 2 * projection_dim)`. Each sentence is read on its own, both
    directions starting from the state the biLM has after `</s>`, so a word's
    vectors depend on its sentence and not on the batch. The biLM is frozen by
    default (`trainable=False`): the task learns only `ScalarMix`'s weights and γ.
    The mask (words with a non-zero id) goes with every layer, so masked layers
    downstream (an LSTM tagger) skip the padding.

    The biLM's weights are saved with the model that holds this layer; the layer
    exports to builtin-only TFLite (both directions are loops over `LSTM` cells).

    Args:
        bilm: a stateless `ELMoBiLM` (e.g. `keras.saving.load_model` of a
            `nlpkit train elmo` folder's `model.keras`), or its serialized config.
        trainable: fine-tune the biLM with the task; False (frozen) by default.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        character_ids: int `(batch, seq, max_characters)`
            (`keras_nlpkit.text.word_characters.character_ids` of the sentences,
            at the biLM's `max_characters`); all-zero rows are padding.

    Returns:
        a list of `bilm.num_layers + 1` tensors `(batch, seq, 2 * projection_dim)`.

    Example:
    ```python
    import keras
    from keras_nlpkit.layers import ScalarMix
    from keras_nlpkit.models import ELMoBiLM, ELMoEmbedding
    from keras_nlpkit.text.word_characters import character_ids

    bilm = ELMoBiLM(vocabulary_size=20, filters=[[1, 8], [2, 8]], units=16,
                    projection_dim=8, max_characters=10)
    chars = keras.Input((None, 10), dtype="int32", name="character_ids")
    words = ScalarMix(num_layers=3)(ELMoEmbedding(bilm)(chars))  # (batch, seq, 16)
    tagger = keras.Model(chars, keras.layers.Dense(5)(words))
    sentence = character_ids([["John", "lives", "in", "Paris"]], max_characters=10)
    tuple(tagger(sentence).shape)  # (1, 4, 5)
    ```

    References:
        - [Peters et al., 2018](https://arxiv.org/abs/1802.05365)
    """

    def __init__(self, bilm, trainable=False, **kwargs):
        kwargs.setdefault("name", "elmo_embedding")
        super().__init__(trainable=trainable, **kwargs)
        if isinstance(bilm, dict):
            bilm = keras.saving.deserialize_keras_object(bilm)
        if not isinstance(bilm, ELMoBiLM):
            raise ValueError(f"`bilm` must be an `ELMoBiLM`. Received: bilm={bilm!r}")
        if bilm.stateful:
            raise ValueError(
                "`bilm` must be stateless (each sentence is read from its start): use "
                "`bilm.with_state(False)`. Received: a bilm with stateful=True"
            )
        self.bilm = bilm
        self.bilm.trainable = trainable
        self.supports_masking = True

    @property
    def num_outputs(self):
        return self.bilm.num_layers + 1

    def build(self, character_ids_shape):
        self.built = True  # the biLM is built

    def call(self, character_ids):
        return self.bilm.representations(character_ids)

    def compute_mask(self, character_ids, mask=None):
        words = ops.any(ops.not_equal(character_ids, 0), axis=-1)  # (batch, seq)
        return [words] * self.num_outputs

    def compute_output_shape(self, character_ids_shape):
        shape = (*character_ids_shape[:-1], 2 * self.bilm.projection_dim)
        return [shape] * self.num_outputs

    def get_config(self):
        config = super().get_config()
        config["bilm"] = keras.saving.serialize_keras_object(self.bilm)
        return config

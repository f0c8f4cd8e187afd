"""`ELMoFeatures`: a frozen ELMo biLM mixed by `ScalarMix`, as a tagger's feature block."""

import keras

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.layers.scalar_mix import ScalarMix
from keras_nlpkit.models.backbone import Backbone
from keras_nlpkit.models.elmo.elmo_bilm import ELMoBiLM
from keras_nlpkit.models.elmo.elmo_embedding import ELMoEmbedding


@nlpkit_export("keras_nlpkit.models.ELMoFeatures")
class ELMoFeatures(Backbone):
    """ELMo vectors of each word of a sentence: `ScalarMix` over a frozen biLM's layers.

    Peters et al. (2018)'s recipe for a task: the biLM's L + 1 layers
    (`ELMoEmbedding`) mixed with softmax-normalised weights and a scale γ that the
    task learns (`ScalarMix`); the biLM itself stays frozen. The input is the
    words' `character_ids` (`keras_nlpkit.text.word_characters`, at the biLM's
    `max_characters`), so every word has a vector, in or out of any vocabulary, and
    its capitals are seen. A feature block of `EntityTagger`: dict input,
    `(batch, seq, 2 * projection_dim)` output, padding masked.

    Args:
        bilm: a trained stateless `ELMoBiLM` (`nlpkit train elmo`'s `model.keras`), or
            its serialized config.
        dtype: the dtype policy of the block's layers.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Example:
    ```python
    from keras_nlpkit.models import ELMoBiLM, ELMoFeatures
    from keras_nlpkit.text.word_characters import character_ids

    bilm = ELMoBiLM(vocabulary_size=20, filters=[[1, 8], [2, 8]], units=16,
                    projection_dim=8, max_characters=10)
    block = ELMoFeatures(bilm)
    x = character_ids([["John", "lives", "in", "Paris"]], max_characters=10)
    tuple(block({"character_ids": x}).shape)  # (1, 4, 16)
    ```
    """

    def __init__(self, bilm, dtype=None, **kwargs):
        if isinstance(bilm, dict):
            bilm = keras.saving.deserialize_keras_object(bilm)
        if not isinstance(bilm, ELMoBiLM):
            raise ValueError(f"`bilm` must be an `ELMoBiLM`. Received: bilm={bilm!r}")
        # === Layers ===
        self.elmo = ELMoEmbedding(bilm, dtype=dtype, name="elmo")
        self.mix = ScalarMix(num_layers=bilm.num_layers + 1, dtype=dtype, name="scalar_mix")

        # === Functional model ===
        character_ids = keras.Input(
            (None, bilm.max_characters), dtype="int32", name="character_ids"
        )
        features = self.mix(self.elmo(character_ids))
        super().__init__(
            inputs={"character_ids": character_ids}, outputs=features, dtype=dtype, **kwargs
        )

        # === Config ===
        self.bilm = bilm

    def get_config(self):
        config = super().get_config()
        config["bilm"] = keras.saving.serialize_keras_object(self.bilm)
        return config

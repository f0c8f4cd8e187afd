"""ELMo (Peters et al., 2018): a character-level biLM and its layers for a downstream task.

    from keras_nlpkit.layers import ScalarMix
    from keras_nlpkit.models import ELMoEmbedding

    bilm = keras.saving.load_model("runs/elmo/model.keras")  # nlpkit train elmo
    words = ScalarMix(num_layers=3)(ELMoEmbedding(bilm)(character_ids))

`nlpkit train elmo` (`keras_nlpkit/recipes/elmo.py`) trains the biLM with truncated
back-propagation through time and scores both directions' perplexity.
"""

from keras_nlpkit.models.elmo.elmo_bilm import ELMoBiLM  # noqa: F401
from keras_nlpkit.models.elmo.elmo_embedding import ELMoEmbedding  # noqa: F401

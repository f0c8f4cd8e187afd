"""Named-entity tagging: `EntityTagger` over feature blocks (`WordVectorFeatures`,
`ELMoFeatures`), and `EntityTaggerPreprocessor`, the words → ids of the blocks.

`nlpkit train ner` (`keras_nlpkit/recipes/ner.py`) trains one on CoNLL-style files;
`keras_nlpkit.evaluation.ner` scores it (entity F1, conlleval's definition).
"""

from keras_nlpkit.models.ner.elmo_features import ELMoFeatures  # noqa: F401
from keras_nlpkit.models.ner.entity_tagger import EntityTagger  # noqa: F401
from keras_nlpkit.models.ner.entity_tagger_preprocessor import EntityTaggerPreprocessor  # noqa: F401
from keras_nlpkit.models.ner.word_vector_features import WordVectorFeatures  # noqa: F401

"""Tokenizers: the pure-Python ones every runtime shares, and keras-hub WordPiece helpers.

`CharacterTokenizer` and `WordTokenizer` are defined in `keras_nlpkit.ondevice`
(an app re-implements them from `tokenizer.json`) and re-exported here;
`learn_word_piece_vocabulary` and `SubwordEncoder` wrap keras-hub's WordPiece
learner and tokenizer for the BERT and GPT recipes (TensorFlow ops: training only).
BERT's packing and masking are `keras_nlpkit.models.BertPreprocessor`.
"""

from keras_nlpkit.ondevice.character_tokenizer import CharacterTokenizer
from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.tokenizers.subword_encoder import SubwordEncoder
from keras_nlpkit.tokenizers.word_piece_vocabulary import learn_word_piece_vocabulary

__all__ = [
    "CharacterTokenizer",
    "SubwordEncoder",
    "WordTokenizer",
    "learn_word_piece_vocabulary",
    "load_tokenizer",
]

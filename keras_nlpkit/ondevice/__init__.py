"""The on-device room: everything an app mirrors, TF-free by contract.

Nothing under `keras_nlpkit.ondevice` may import TensorFlow, Keras, keras-hub,
tf-keras or JAX, not even inside a function: `lint-imports` (the contract in
pyproject.toml) checks it in CI, and `tests/ondevice/test_import_contract.py`
proves the package runs with those imports blocked. It needs NumPy and
`ai_edge_litert` (the LiteRT interpreter), and reads export folders only.

    OnDeviceModel        a `.tflite` export: streaming `step`/`prefill`/`decode`, host loops
    QueryCompleter       search-query completion (network + counts, typo-tolerant)
    NgramTable           a trigram count model as sorted, memory-mapped arrays
    LocalHistory         the user's own queries, learnt on the device, mixed into completion
    SpellingCorrector    single-word correction (candidates, channel model, reranking)
    SentenceCorrector    correction in context: candidates rescored with a word trigram LM
    Translator           sentence translation: SentencePiece, `encode`/`decode_step`, beam search
    CharacterTokenizer, WordTokenizer, load_tokenizer    what `tokenizer.json` holds
"""

from keras_nlpkit.ondevice.channel_model import ChannelModel
from keras_nlpkit.ondevice.character_tokenizer import CharacterTokenizer
from keras_nlpkit.ondevice.corrector_settings import CorrectorSettings
from keras_nlpkit.ondevice.deletes_index import DeletesIndex
from keras_nlpkit.ondevice.edit_distance import edit_operations
from keras_nlpkit.ondevice.edit_distance import osa_distances
from keras_nlpkit.ondevice.lexicon import Lexicon
from keras_nlpkit.ondevice.lexicon_trie import LexiconTrie
from keras_nlpkit.ondevice.local_history import LocalHistory
from keras_nlpkit.ondevice.model_folder import find_export_dir
from keras_nlpkit.ondevice.ngram_table import NgramTable
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.ondevice.prefix_completer import PrefixCompleter
from keras_nlpkit.ondevice.query_completer import QueryCompleter
from keras_nlpkit.ondevice.sentence_corrector import SentenceCorrector
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.ondevice.tflite_file import describe_tflite
from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer
from keras_nlpkit.ondevice.translator import Translator
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer

__all__ = [
    "ChannelModel",
    "CharacterTokenizer",
    "CorrectorSettings",
    "DeletesIndex",
    "Lexicon",
    "LexiconTrie",
    "LocalHistory",
    "NgramTable",
    "OnDeviceModel",
    "PrefixCompleter",
    "QueryCompleter",
    "SentenceCorrector",
    "SpellingCorrector",
    "Translator",
    "WordTokenizer",
    "describe_tflite",
    "edit_operations",
    "find_export_dir",
    "load_tokenizer",
    "osa_distances",
]

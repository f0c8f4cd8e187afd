"""`nlpkit correct`: correct misspelled words on the device (no TensorFlow is imported).

    nlpkit correct --model DIR [--k 5] [--variant dynamic_int8] word [word ...]

Prints one JSON object a word: `{"word": ..., "suggestions": [[word, score], ...]}`.
"""

import json

from keras_nlpkit.ondevice.model_folder import VARIANTS
from keras_nlpkit.ondevice.spelling_corrector import DEFAULT_VARIANT
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.recipes.arguments import positive_integer


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a `train spelling` folder")
    parser.add_argument("--k", type=positive_integer, default=5)
    parser.add_argument("--variant", default=DEFAULT_VARIANT, choices=VARIANTS)
    parser.add_argument("words", nargs="+")


def run(args):
    corrector = SpellingCorrector(args.model, variant=args.variant)
    for word in args.words:
        print(json.dumps({"word": word, "suggestions": corrector.correct(word, k=args.k)}))

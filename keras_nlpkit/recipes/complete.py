"""`nlpkit complete`: suggestion strips for typed query prefixes, on the device (TF-free).

    nlpkit complete --model DIR [--k 3] [--spelling-model DIR2] "new york ci" "how to "

Prints one JSON object a prefix: `{"typed": ..., "suggestions": [word, ...]}`; a
trailing space asks for the next word.
"""

import json

from keras_nlpkit.ondevice.query_completer import QueryCompleter
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.recipes.arguments import positive_integer


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a query-completion folder")
    parser.add_argument("--k", type=positive_integer, default=3)
    parser.add_argument(
        "--spelling-model",
        default=None,
        help="a spelling model folder, for typo-tolerant completion",
    )
    parser.add_argument("prefix", nargs="+", help="what the user typed (quote it)")


def corrector_of(model_dir):
    """The `SpellingCorrector` of `--spelling-model`, or None when not given."""
    if model_dir is None:
        return None
    return SpellingCorrector(model_dir, argument="--spelling-model")


def run(args):
    completer = QueryCompleter(args.model, corrector=corrector_of(args.spelling_model))
    for prefix in args.prefix:
        print(json.dumps({"typed": prefix, "suggestions": completer.suggest(prefix, args.k)}))

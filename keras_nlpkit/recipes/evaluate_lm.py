"""`nlpkit evaluate lm`: word perplexity of a text, with Keras and on the device (int8).

    nlpkit evaluate lm --model DIR --text FILE [--max-words N]

Prints one JSON object: `perplexity` (Keras, or the counts of a `kn` model),
`perplexity_on_device_int8` and `ms_per_token_on_device` (a network's int8 export
run one `step` a token), `words`, `unknown_words` and the `tokenization`.
"""

import json

from keras_nlpkit.recipes import lm
from keras_nlpkit.recipes.arguments import integer


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a `train lm` folder")
    parser.add_argument("--text", required=True, help="a WikiText-style text file")
    parser.add_argument("--max-words", type=integer, default=0, help="0: the whole text")


def run(args):
    print(json.dumps(lm.evaluate(args.model, args.text, args.max_words), indent=2))

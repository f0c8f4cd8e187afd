"""`nlpkit evaluate spelling`: accuracy@1/@5, kept-correct, latency; with SymSpell, pyspellchecker.

nlpkit evaluate spelling --model DIR --pairs FILE [--variant dynamic_int8] [--no-peers]
"""

import json

from keras_nlpkit.evaluation.spelling import evaluate
from keras_nlpkit.ondevice.model_folder import VARIANTS
from keras_nlpkit.ondevice.spelling_corrector import DEFAULT_VARIANT


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a `train spelling` folder")
    parser.add_argument(
        "--pairs", required=True, help="`right: wrong wrong` or `wrong<TAB>right` lines"
    )
    parser.add_argument("--variant", default=DEFAULT_VARIANT, choices=VARIANTS)
    parser.add_argument("--no-peers", action="store_true", help="skip SymSpell and pyspellchecker")


def run(args):
    result = evaluate(args.model, args.pairs, variant=args.variant, peers=not args.no_peers)
    print(json.dumps(result, sort_keys=True))

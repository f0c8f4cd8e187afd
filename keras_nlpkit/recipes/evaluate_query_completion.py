"""`nlpkit evaluate query-completion`: KSR, next-word accuracy, perplexity, latency (one JSON).

nlpkit evaluate query-completion --model DIR --queries DIR/data/dev.txt [--k 3]
    [--variant int8] [--limit N] [--peer-corpus FILE ...] [--spelling-model DIR2]
"""

import json

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.query_completion import evaluate
from keras_nlpkit.ondevice.model_folder import VARIANTS
from keras_nlpkit.ondevice.prefix_completer import PHRASE_CONFIDENCE
from keras_nlpkit.recipes.arguments import number
from keras_nlpkit.recipes.arguments import positive_integer
from keras_nlpkit.recipes.complete import corrector_of


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a folder written by train")
    parser.add_argument("--queries", required=True, help="a query file")
    parser.add_argument("--k", type=positive_integer, default=3)
    parser.add_argument("--variant", default="int8", choices=VARIANTS)
    parser.add_argument(
        "--limit", type=positive_integer, default=None, help="evaluate the first N queries only"
    )
    parser.add_argument(
        "--peer-corpus",
        nargs="+",
        default=None,
        help="train the trigram peer on these (default: DIR/data/train.txt)",
    )
    parser.add_argument(
        "--ngram-weight",
        type=number,
        default=None,
        help="the counts' weight in the mixture (default: the export's; 0: the network alone)",
    )
    parser.add_argument(
        "--phrases",
        type=number,
        nargs="?",
        const=PHRASE_CONFIDENCE,
        default=None,
        metavar="CONFIDENCE",
        help="also KSR with phrases (entries of 1-3 words), for ours and the trigram, "
        f"each word past the first needing this probability (default {PHRASE_CONFIDENCE})",
    )
    parser.add_argument(
        "--repeat",
        action="store_true",
        help="also type every query a second time later on: repeat-query KSR with and "
        "without the on-device local history",
    )
    parser.add_argument(
        "--spelling-model",
        default=None,
        help="a spelling model folder: also measure typo-tolerant completion",
    )


def run(args):
    if args.phrases is not None and not 0.0 < args.phrases <= 1.0:
        raise UserInputError(f"--phrases must be in (0, 1]. Received: {args.phrases!r}")
    result = evaluate(
        args.model,
        args.queries,
        k=args.k,
        variant=args.variant,
        limit=args.limit,
        peer_corpus=args.peer_corpus,
        corrector=corrector_of(args.spelling_model),
        ngram_weight=args.ngram_weight,
        repeat=args.repeat,
        phrases=args.phrases,
    )
    print(json.dumps(result, indent=2, sort_keys=True))

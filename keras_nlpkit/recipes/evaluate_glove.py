"""`nlpkit evaluate glove`: analogy accuracy (3CosAdd) and similarity (Spearman), with coverage.

nlpkit evaluate glove --vectors DIR/vectors.txt [--analogies FILE] [--similarity FILE ...]
"""

import json

from keras_nlpkit.evaluation.word_vectors import evaluate


def add_arguments(parser):
    parser.add_argument("--vectors", required=True, help="GloVe text format file")
    parser.add_argument("--analogies", default=None, help="`: section` and `a b c d` lines")
    parser.add_argument("--similarity", nargs="+", default=(), help="`w1 w2 score` files")


def run(args):
    result = evaluate(args.vectors, args.analogies, args.similarity)
    print(json.dumps(result, indent=2, sort_keys=True))

"""`nlpkit evaluate word-vectors`: analogy accuracy (3CosAdd), similarity (Spearman), coverage.

    nlpkit evaluate word-vectors --vectors DIR/vectors.txt [--analogies FILE]
        [--similarity FILE ...] [--oov-model MIMICK_DIR]

Any vectors in the GloVe or word2vec text format (`nlpkit train glove`, `nlpkit
train word2vec`, gensim's `save_word2vec_format`). `nlpkit evaluate glove` is the
same command under its first name.
"""

import json

from keras_nlpkit.evaluation.word_vectors import evaluate


def add_arguments(parser):
    parser.add_argument("--vectors", required=True, help="GloVe or word2vec text format file")
    parser.add_argument(
        "--analogies",
        default=None,
        help="`: section` and `a b c d` lines, or a `,type,word1,word2,word3,target` CSV",
    )
    parser.add_argument("--similarity", nargs="+", default=(), help="`w1 w2 score` files")
    parser.add_argument(
        "--oov-model",
        default=None,
        help="an `nlpkit train mimick` folder: words the vectors lack get vectors from spelling",
    )


def run(args):
    result = evaluate(args.vectors, args.analogies, args.similarity, args.oov_model)
    print(json.dumps(result, indent=2, sort_keys=True))

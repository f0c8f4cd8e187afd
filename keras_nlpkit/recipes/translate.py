"""`nlpkit translate`: translate sentences with a `train translation` model.

    nlpkit translate --model runs/mt "A man is riding a bicycle." [--beam 4]

One translation a line, in the order of the sentences; `--beam 1` is greedy.
"""

from keras_nlpkit.recipes.arguments import positive_integer


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a `nlpkit train translation` folder")
    parser.add_argument(
        "--beam", type=positive_integer, default=4, help="beam width (1: greedy); default 4"
    )
    parser.add_argument("sentences", nargs="+", help="sentences in the source language")


def run(args):
    from keras_nlpkit.recipes import translation

    translator = translation.load(args.model)
    for line in translator.translate(args.sentences, num_beams=args.beam, greedy=args.beam == 1):
        print(line)

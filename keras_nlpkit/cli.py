"""`nlpkit`: the one command in front of training, generation and (later) export.

    nlpkit demo [--out DIR] [--epochs N]
    nlpkit train char-lm --corpus FILE [FILE ...] --out DIR [--epochs N] [--units N] ...
    nlpkit generate --model DIR [--length N] [--temperature T] PROMPT

Bad input prints `nlpkit: error: ...` naming the argument and the value, and exits 2.
"""

import argparse
import dataclasses
import os
import sys


def _positive_int(text):
    value = int(text) if text.strip().lstrip("+").isdigit() else 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _parser():
    parser = argparse.ArgumentParser(prog="nlpkit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="train, save, reload and sample a char LM")
    demo.add_argument("--out", default="runs/demo", help="output folder")
    demo.add_argument("--epochs", type=_positive_int, default=None)

    train = commands.add_parser("train", help="train a recipe")
    recipes = train.add_subparsers(dest="recipe", required=True)
    char_lm = recipes.add_parser("char-lm", help="character LSTM language model")
    char_lm.add_argument("--corpus", nargs="+", required=True, help="UTF-8 text files")
    char_lm.add_argument("--out", required=True, help="output folder")
    from keras_nlpkit.recipes.char_lm import CharLMConfig

    for field in dataclasses.fields(CharLMConfig):
        kind = _positive_int if field.type is int else float
        char_lm.add_argument(
            "--" + field.name.replace("_", "-"), type=kind, default=field.default
        )

    generate = commands.add_parser("generate", help="continue a prompt with a char LM")
    generate.add_argument("--model", required=True, help="a folder written by train")
    generate.add_argument("--length", type=_positive_int, default=80)
    generate.add_argument("--temperature", type=float, default=0.0)
    generate.add_argument("prompt")
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = _parser()
    args = parser.parse_args(argv)

    from keras_nlpkit.io_utils import UserInputError
    from keras_nlpkit.io_utils import read_text_files
    from keras_nlpkit.recipes import char_lm

    try:
        if args.command == "demo":
            char_lm.demo(args.out, epochs=args.epochs)
        elif args.command == "train":
            config = char_lm.CharLMConfig(
                **{
                    field.name: getattr(args, field.name)
                    for field in dataclasses.fields(char_lm.CharLMConfig)
                }
            )
            texts = read_text_files(args.corpus)
            metrics = char_lm.train(texts, args.out, config)
            print(metrics)
        elif args.command == "generate":
            generator = char_lm.load(args.model)
            print(args.prompt + generator.generate(
                args.prompt, length=args.length, temperature=args.temperature
            ))
    except UserInputError as error:
        parser.exit(2, f"nlpkit: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

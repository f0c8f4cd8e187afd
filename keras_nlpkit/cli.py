"""`nlpkit`: the one command in front of training, generation and (later) export.

    nlpkit demo [--out DIR] [--epochs N]
    nlpkit train char-lm --corpus FILE [FILE ...] --out DIR [--epochs N] [--units N] ...
    nlpkit generate --model DIR [--length N] [--temperature T] PROMPT
    nlpkit export MODEL --out DIR [--quantize none,float16,dynamic,int8]
                  [--representative-data FILE] [--tokenizer FILE] [--allow-flex]

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

    export = commands.add_parser(
        "export", help="SavedModel + builtin-only TFLite (float32, float16, int8) + report"
    )
    export.add_argument("model", help="a .keras or tf-keras .h5 file, or a SavedModel folder")
    export.add_argument("--out", required=True, help="output folder (replaced whole)")
    export.add_argument(
        "--quantize", default=None,
        help="comma-separated variants from none,float16,dynamic,int8 "
             "(default: all four with --representative-data, else the first three)",
    )
    export.add_argument("--representative-data", default=None,
                        help="real inputs: a UTF-8 text file (one sample a line) or a .npz")
    export.add_argument("--tokenizer", default=None,
                        help="tokenizer.json (default: the one beside MODEL, if any)")
    export.add_argument("--sequence-length", type=_positive_int, default=64,
                        help="longest sample taken from a text file, in tokens")
    export.add_argument("--allow-flex", action="store_true",
                        help="write files that need Flex ops anyway, with a warning")
    return parser


def _export(args):
    from pathlib import Path

    from keras_nlpkit.export import export
    from keras_nlpkit.export import load_source
    from keras_nlpkit.io_utils import UserInputError
    from keras_nlpkit.tokenizers import load_tokenizer

    quantize = None  # export's default: all variants, int8 only with representative data
    if args.quantize is not None:
        quantize = [q.strip() for q in args.quantize.split(",") if q.strip()]
    model_path = Path(args.model)
    tokenizer_path = args.tokenizer
    if tokenizer_path is None:
        beside = (model_path if model_path.is_dir() else model_path.parent) / "tokenizer.json"
        tokenizer_path = beside if beside.is_file() else None
    tokenizer = None
    if tokenizer_path is not None:
        try:
            tokenizer = load_tokenizer(tokenizer_path)
        except ValueError as error:
            raise UserInputError(f"--tokenizer: {error}") from None
    source = load_source(model_path)
    export(source, args.out, quantize=quantize, representative_data=args.representative_data,
           tokenizer=tokenizer, allow_flex=args.allow_flex,
           sequence_length=args.sequence_length)


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
        elif args.command == "export":
            _export(args)
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

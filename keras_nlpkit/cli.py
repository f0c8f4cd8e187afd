"""`nlpkit`: the one command in front of training, evaluation, export, completion and correction.

    nlpkit demo [--out DIR] [--epochs N]
    nlpkit train char-lm --corpus FILE [FILE ...] --out DIR [--epochs N] [--units N] ...
    nlpkit train query-completion --corpus FILE [FILE ...] --out DIR [--epochs N ...]
    nlpkit evaluate query-completion --model DIR --queries FILE [--k 3] [--spelling-model DIR]
    nlpkit complete --model DIR [--spelling-model DIR] "typed prefix" [...]
    nlpkit train spelling --out DIR [--pairs FILE ...] [--preset small] [--epochs N ...]
    nlpkit evaluate spelling --model DIR --pairs FILE [--variant V] [--no-peers]
    nlpkit correct --model DIR [--k 5] word [word ...]
    nlpkit train glove --corpus FILE [FILE ...] --out DIR [--dim 100 --window 10 --memory GB ...]
    nlpkit evaluate glove --vectors FILE [--analogies FILE] [--similarity FILE ...]
    nlpkit train bert-pretrain --corpus FILE [FILE ...] --out DIR [--size tiny --epochs N ...]
    nlpkit train bert-finetune --task sst2|trec_qc --data PATH --out DIR [--pretrained DIR ...]
    nlpkit train gpt-pretrain --corpus FILE [FILE ...] --out DIR [--eval-text FILE ...]
    nlpkit generate --model DIR [--length N] [--temperature T]
                    [--sampler greedy|beam|top_k|top_p|random --top-k K --top-p P --num-beams B] PROMPT
    nlpkit export MODEL --out DIR [--quantize none,float16,dynamic,int8]
                  [--representative-data FILE] [--tokenizer FILE] [--allow-flex]

Bad input prints `nlpkit: error: ...` naming the argument and the value, and exits 2.
"""

import argparse
import dataclasses
import json
import os
import sys


def _positive_int(text):
    value = int(text) if text.strip().lstrip("+").isdigit() else 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_config_arguments(parser, config_class):
    """One `--flag` per field of a recipe's config dataclass, typed from its default."""
    for field in dataclasses.fields(config_class):
        kind = {int: _positive_int, float: float}.get(type(field.default), str)
        parser.add_argument("--" + field.name.replace("_", "-"), type=kind, default=field.default)


def _add_text_recipe_parser(recipes, name, help_text, config_class):
    """`train NAME --corpus FILE [FILE ...] --out DIR` plus one flag per config field."""
    parser = recipes.add_parser(name, help=help_text)
    parser.add_argument("--corpus", nargs="+", required=True, help="UTF-8 text files")
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    _add_config_arguments(parser, config_class)
    return parser


def _config(config_class, args):
    return config_class(**{f.name: getattr(args, f.name) for f in dataclasses.fields(config_class)})


def _parser():
    parser = argparse.ArgumentParser(prog="nlpkit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", help="train both recipes small, export them, complete and correct on device"
    )
    demo.add_argument("--out", default="runs/demo", help="output folder")
    demo.add_argument("--epochs", type=_positive_int, default=None)

    train = commands.add_parser("train", help="train a recipe")
    recipes = train.add_subparsers(dest="recipe", required=True)
    char_lm = recipes.add_parser("char-lm", help="character LSTM language model")
    char_lm.add_argument("--corpus", nargs="+", required=True, help="UTF-8 text files")
    char_lm.add_argument("--out", required=True, help="output folder")
    from keras_nlpkit.recipes.char_lm import CharLMConfig
    from keras_nlpkit.recipes.query_completion import QueryCompletionConfig

    _add_config_arguments(char_lm, CharLMConfig)
    queries = recipes.add_parser(
        "query-completion", help="word LSTM (or GPT) query completer, exported to TFLite"
    )
    queries.add_argument("--corpus", nargs="+", required=True,
                         help="query files: one a line, or TREC `id:query` / `id:n:query`")
    queries.add_argument("--out", required=True, help="output folder")
    _add_config_arguments(queries, QueryCompletionConfig)
    from keras_nlpkit.recipes.spelling_correction import DEFAULT_VARIANT
    from keras_nlpkit.recipes.spelling_correction import PRESETS
    from keras_nlpkit.recipes.spelling_correction import SpellingConfig

    spelling = recipes.add_parser(
        "spelling", help="character BiLSTM + attention spelling corrector, exported to TFLite"
    )
    spelling.add_argument("--out", required=True, help="output folder (rerun to resume)")
    spelling.add_argument("--pairs", nargs="+", default=None,
                          help="extra pairs: `right: wrong wrong` or `wrong<TAB>right` lines")
    spelling.add_argument("--preset", choices=sorted(PRESETS), default="default")
    for field in dataclasses.fields(SpellingConfig):  # overrides of the preset
        kind = {int: _positive_int, float: float}.get(type(field.default), str)
        spelling.add_argument("--" + field.name.replace("_", "-"), type=kind, default=None)

    from keras_nlpkit.recipes.glove import GloVeConfig

    glove = recipes.add_parser("glove", help="GloVe word vectors (model.fit on co-occurrences)")
    glove.add_argument("--corpus", nargs="+", required=True, help="UTF-8 text files")
    glove.add_argument("--out", required=True, help="output folder (rerun to resume)")
    _add_config_arguments(glove, GloVeConfig)

    from keras_nlpkit.recipes.bert_pretrain import BertPretrainConfig

    _add_text_recipe_parser(recipes, "bert-pretrain",
                            "BERT masked LM + next-sentence prediction on raw text",
                            BertPretrainConfig)
    from keras_nlpkit.recipes.bert_finetune import TASKS
    from keras_nlpkit.recipes.bert_finetune import BertFinetuneConfig

    bert_finetune = recipes.add_parser(
        "bert-finetune", help="BERT sentence classifier (SST-2, TREC QC) vs bag of embeddings")
    bert_finetune.add_argument("--task", choices=TASKS, required=True)
    bert_finetune.add_argument("--data", required=True,
                               help="sst2: folder with train.tsv, dev.tsv; trec_qc: train.txt")
    bert_finetune.add_argument("--out", required=True, help="output folder (rerun to resume)")
    bert_finetune.add_argument("--pretrained", default=None,
                               help="a `train bert-pretrain` folder (default: random init)")
    bert_finetune.add_argument("--vocabulary", default=None,
                               help="vocabulary file instead of the pretrained folder's")
    _add_config_arguments(bert_finetune, BertFinetuneConfig)

    from keras_nlpkit.recipes.gpt_pretrain import GPTPretrainConfig

    _add_text_recipe_parser(recipes, "gpt-pretrain",
                            "GPT on WordPiece text; word perplexity on --eval-text",
                            GPTPretrainConfig)

    evaluate = commands.add_parser(
        "evaluate", help="METRICS.md figures of an exported model, as one JSON object"
    )
    evaluators = evaluate.add_subparsers(dest="recipe", required=True)
    evaluate_queries = evaluators.add_parser("query-completion",
                                             help="KSR, next-word accuracy, perplexity, latency")
    evaluate_queries.add_argument("--model", required=True, help="a folder written by train")
    evaluate_queries.add_argument("--queries", required=True, help="a query file")
    evaluate_queries.add_argument("--k", type=_positive_int, default=3)
    evaluate_queries.add_argument("--variant", default="int8",
                                  choices=["float32", "float16", "dynamic_int8", "int8"])
    evaluate_queries.add_argument("--limit", type=_positive_int, default=None,
                                  help="evaluate the first N queries only")
    evaluate_queries.add_argument("--peer-corpus", nargs="+", default=None,
                                  help="train the trigram peer on these (default: DIR/data/train.txt)")
    evaluate_queries.add_argument("--spelling-model", default=None,
                                  help="a spelling model folder: also measure typo-tolerant completion")

    evaluate_spelling = evaluators.add_parser(
        "spelling", help="accuracy@1/@5, kept-correct, latency; SymSpell and pyspellchecker too")
    evaluate_spelling.add_argument("--model", required=True, help="a `train spelling` folder")
    evaluate_spelling.add_argument("--pairs", required=True,
                                   help="`right: wrong wrong` or `wrong<TAB>right` lines")
    evaluate_spelling.add_argument("--variant", default=DEFAULT_VARIANT,
                                   choices=["float32", "float16", "dynamic_int8", "int8"])
    evaluate_spelling.add_argument("--no-peers", action="store_true",
                                   help="skip SymSpell and pyspellchecker")

    evaluate_glove = evaluators.add_parser(
        "glove", help="analogy accuracy (3CosAdd) and similarity (Spearman), with coverage")
    evaluate_glove.add_argument("--vectors", required=True, help="GloVe text format file")
    evaluate_glove.add_argument("--analogies", default=None,
                                help="`: section` and `a b c d` lines")
    evaluate_glove.add_argument("--similarity", nargs="+", default=(),
                                help="`w1 w2 score` files")

    correct = commands.add_parser("correct", help="correct misspelled words on device")
    correct.add_argument("--model", required=True, help="a `train spelling` folder")
    correct.add_argument("--k", type=_positive_int, default=5)
    correct.add_argument("--variant", default=DEFAULT_VARIANT,
                         choices=["float32", "float16", "dynamic_int8", "int8"])
    correct.add_argument("words", nargs="+")

    complete = commands.add_parser("complete", help="suggest words for typed query prefixes")
    complete.add_argument("--model", required=True, help="a query-completion folder")
    complete.add_argument("--k", type=_positive_int, default=3)
    complete.add_argument("--spelling-model", default=None,
                          help="a spelling model folder, for typo-tolerant completion")
    complete.add_argument("prefix", nargs="+", help="what the user typed (quote it)")

    generate = commands.add_parser(
        "generate", help="continue a prompt with a char LM or a GPT (gpt-pretrain)")
    generate.add_argument("--model", required=True, help="a folder written by train")
    generate.add_argument("--length", type=_positive_int, default=80,
                          help="new characters (char LM) or subword tokens (GPT)")
    generate.add_argument("--temperature", type=float, default=0.0)
    generate.add_argument("--sampler", default=None,
                          choices=["greedy", "beam", "top_k", "top_p", "random"],
                          help="GPT only (default: greedy, or random with --temperature)")
    generate.add_argument("--top-k", type=_positive_int, default=10)
    generate.add_argument("--top-p", type=float, default=0.9)
    generate.add_argument("--num-beams", type=_positive_int, default=4)
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


def _spelling(args):
    from keras_nlpkit.recipes import spelling_correction as spelling

    if args.command == "train":
        overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(spelling.SpellingConfig)
                     if getattr(args, f.name) is not None}
        config = dataclasses.replace(spelling.PRESETS[args.preset](), **overrides)
        print(json.dumps(spelling.train(args.out, config, pair_files=args.pairs), indent=2))
    elif args.command == "evaluate":
        result = spelling.evaluate(args.model, args.pairs, variant=args.variant,
                                   peers=not args.no_peers)
        print(json.dumps(result, sort_keys=True))
    else:
        for word, found in spelling.correct_words(args.model, args.words, k=args.k,
                                                  variant=args.variant).items():
            print(json.dumps({"word": word, "suggestions": found}))


def _corrector(model_dir):
    """The on-device spelling corrector of a `train spelling` folder, or None."""
    if model_dir is None:
        return None
    from keras_nlpkit.correction import SpellingCorrector

    return SpellingCorrector(model_dir)


def _is_gpt_folder(path):
    from keras_nlpkit.recipes.gpt_pretrain import is_model_dir

    return is_model_dir(path)


def _gpt_sampler(args):
    """The keras-hub (or our beam) sampler that `nlpkit generate`'s flags ask for."""
    import keras_hub

    from keras_nlpkit.io_utils import UserInputError
    from keras_nlpkit.models.gpt import BeamSampler

    name = args.sampler or ("random" if args.temperature > 0 else "greedy")
    temperature = args.temperature if args.temperature > 0 else 1.0
    if name in ("top_p",) and not 0 < args.top_p <= 1:
        raise UserInputError(f"--top-p must be in (0, 1]. Received: {args.top_p}")
    return {
        "greedy": lambda: keras_hub.samplers.GreedySampler(),
        "beam": lambda: BeamSampler(num_beams=args.num_beams),
        "top_k": lambda: keras_hub.samplers.TopKSampler(k=args.top_k, temperature=temperature),
        "top_p": lambda: keras_hub.samplers.TopPSampler(p=args.top_p, temperature=temperature),
        "random": lambda: keras_hub.samplers.RandomSampler(temperature=temperature),
    }[name]()


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = _parser()
    args = parser.parse_args(argv)

    from keras_nlpkit.io_utils import TrainingError
    from keras_nlpkit.io_utils import UserInputError
    from keras_nlpkit.io_utils import read_text_files
    from keras_nlpkit.recipes import char_lm

    try:
        if args.command == "demo":
            from keras_nlpkit.demo import demo

            demo(args.out, epochs=args.epochs)
        elif args.command == "train" and args.recipe == "char-lm":
            texts = read_text_files(args.corpus)
            print(char_lm.train(texts, args.out, _config(char_lm.CharLMConfig, args)))
        elif args.command == "train" and args.recipe == "query-completion":
            from keras_nlpkit.recipes import query_completion

            config = _config(query_completion.QueryCompletionConfig, args)
            print(json.dumps(query_completion.train(args.corpus, args.out, config), indent=2))
        elif args.command == "evaluate" and args.recipe == "query-completion":
            from keras_nlpkit.recipes import query_completion

            result = query_completion.evaluate(
                args.model, args.queries, k=args.k, variant=args.variant, limit=args.limit,
                peer_corpus=args.peer_corpus, corrector=_corrector(args.spelling_model),
            )
            print(json.dumps(result, indent=2, sort_keys=True))
        elif args.command == "complete":
            from keras_nlpkit.completion import QueryCompleter

            completer = QueryCompleter(args.model, corrector=_corrector(args.spelling_model))
            for prefix in args.prefix:
                print(json.dumps({"typed": prefix, "suggestions": completer.suggest(prefix, args.k)}))
        elif getattr(args, "recipe", None) == "glove":
            from keras_nlpkit.recipes import glove

            if args.command == "train":
                result = glove.train(args.corpus, args.out, _config(glove.GloVeConfig, args))
            else:
                result = glove.evaluate(args.vectors, args.analogies, args.similarity)
            print(json.dumps(result, indent=2, sort_keys=True))
        elif args.command == "train" and args.recipe == "bert-pretrain":
            from keras_nlpkit.recipes import bert_pretrain

            config = _config(bert_pretrain.BertPretrainConfig, args)
            print(json.dumps(bert_pretrain.train(args.corpus, args.out, config, verbose=2),
                             indent=2, sort_keys=True))
        elif args.command == "train" and args.recipe == "bert-finetune":
            from keras_nlpkit.recipes import bert_finetune

            config = _config(bert_finetune.BertFinetuneConfig, args)
            print(json.dumps(bert_finetune.train(
                args.task, args.data, args.out, config, pretrained=args.pretrained,
                vocabulary=args.vocabulary), indent=2, sort_keys=True))
        elif args.command == "correct" or getattr(args, "recipe", None) == "spelling":
            _spelling(args)
        elif args.command == "export":
            _export(args)
        elif args.command == "train" and args.recipe == "gpt-pretrain":
            from keras_nlpkit.recipes import gpt_pretrain

            config = _config(gpt_pretrain.GPTPretrainConfig, args)
            print(json.dumps(gpt_pretrain.train(args.corpus, args.out, config, verbose=1),
                             indent=2, sort_keys=True))
        elif args.command == "generate" and _is_gpt_folder(args.model):
            from keras_nlpkit.recipes import gpt_pretrain

            generator = gpt_pretrain.load(args.model)
            print(args.prompt + " " + generator.generate(
                args.prompt, length=args.length, sampler=_gpt_sampler(args)))
        elif args.command == "generate":
            generator = char_lm.load(args.model)
            print(args.prompt + generator.generate(
                args.prompt, length=args.length, temperature=args.temperature
            ))
    except UserInputError as error:
        parser.exit(2, f"nlpkit: error: {error}\n")
    except TrainingError as error:
        parser.exit(1, f"nlpkit: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`nlpkit`: one command in front of the recipes. A table of names → modules.

Each command is a module under `keras_nlpkit.recipes` with `add_arguments(parser)`
and `run(args)`; only the module of the command being run is imported, so
`nlpkit complete` and `nlpkit correct` start without TensorFlow. Bad input prints
one line, `nlpkit: error: ...`, naming the argument and the value, and exits 2; a
training that cannot go on (NaN loss) exits 1 the same way.
"""

import argparse
import importlib
import os
import sys

from keras_nlpkit.errors import TrainingError
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.native_logs import filtered_stderr

# (command, recipe) → (module, help). `None` as the recipe: a command without one.
COMMANDS = {
    ("demo", None): ("demo", "train both on-device recipes small, export, run on device"),
    ("train", "query-completion"): (
        "query_completion",
        "word LSTM (or GPT) query completer, exported to TFLite",
    ),
    ("train", "spelling"): (
        "spelling",
        "character BiLSTM + attention spelling corrector, to TFLite",
    ),
    ("train", "char-lm"): ("char_lm", "character LSTM language model"),
    ("train", "glove"): ("glove", "GloVe word vectors (model.fit on co-occurrences)"),
    ("train", "word2vec"): ("word2vec", "word2vec vectors: skip-gram or CBOW, negative sampling"),
    ("train", "mimick"): ("mimick", "vectors for unseen words from their spelling (Mimick)"),
    ("train", "bert-pretrain"): (
        "bert_pretrain",
        "BERT masked LM + next-sentence prediction on raw text",
    ),
    ("train", "bert-finetune"): (
        "bert_finetune",
        "BERT sentence classifier (SST-2, TREC QC) vs bag of embeddings; --task ner: tagger",
    ),
    ("train", "distill"): (
        "distill",
        "LSTM student distilled from a fine-tuned BERT, vs one trained on labels only",
    ),
    ("train", "gpt-pretrain"): (
        "gpt_pretrain",
        "GPT on WordPiece text; word perplexity on --eval-text",
    ),
    ("train", "lm"): ("lm", "one LM family, one text: Kneser-Ney, FFNN, simple RNN, LSTM"),
    ("train", "elmo"): ("elmo", "ELMo's character biLM (forward + backward LSTM LMs)"),
    ("train", "translation"): (
        "translation",
        "English → German translation: Transformer or RNN + attention, BLEU on val",
    ),
    ("evaluate", "translation"): (
        "evaluate_translation",
        "corpus BLEU and chrF (sacrebleu) of a translation model",
    ),
    ("translate", None): ("translate", "translate sentences with a trained translation model"),
    ("evaluate", "lm"): ("evaluate_lm", "word perplexity, with Keras and on the device (int8)"),
    ("evaluate", "query-completion"): (
        "evaluate_query_completion",
        "KSR, next-word accuracy, perplexity, latency",
    ),
    ("evaluate", "spelling"): (
        "evaluate_spelling",
        "accuracy@1/@5, kept-correct, latency; SymSpell, pyspellchecker",
    ),
    ("evaluate", "word-vectors"): (
        "evaluate_word_vectors",
        "analogy accuracy (3CosAdd) and similarity (Spearman) of word vectors",
    ),
    ("evaluate", "glove"): ("evaluate_word_vectors", "the same as `evaluate word-vectors`"),
    ("train", "ner"): ("ner", "BiLSTM named-entity tagger over word vectors, entity F1"),
    ("evaluate", "ner"): ("evaluate_ner", "entity precision, recall, F1 (conlleval's), per type"),
    ("complete", None): ("complete", "suggest words for typed query prefixes, on device"),
    ("correct", None): ("correct", "correct misspelled words, on device"),
    ("serve-demo", None): (
        "serve_demo",
        "the browser demo (LiteRT.js) on 127.0.0.1: suggestions per keystroke, corrections",
    ),
    ("generate", None): ("generate", "continue a prompt with a char LM or a GPT"),
    ("export", None): (
        "export_model",
        "SavedModel + builtin-only TFLite (float32/float16/int8) + manifest",
    ),
}
GROUPS = {
    "train": "train a recipe",
    "evaluate": "METRICS.md figures of a model, as one JSON object",
}


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one `nlpkit: error:` line (the usage is in --help)."""

    def error(self, message):
        self.exit(2, f"nlpkit: error: {message} (see `{self.prog} --help`)\n")


def _selected(argv):
    """The (command, recipe) that `argv` names, before any parsing."""
    words = [word for word in argv if not word.startswith("-")][:2]
    command = words[0] if words else None
    recipe = words[1] if command in GROUPS and len(words) > 1 else None
    return command, recipe


def _parser(argv):
    parser = _Parser(prog="nlpkit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    groups = {}
    for (command, recipe), (module, help_text) in COMMANDS.items():
        if recipe is None:
            sub = commands.add_parser(command, help=help_text)
        else:
            if command not in groups:
                group = commands.add_parser(command, help=GROUPS[command])
                groups[command] = group.add_subparsers(dest="recipe", required=True)
            sub = groups[command].add_parser(recipe, help=help_text)
        if (command, recipe) == _selected(argv):
            loaded = _import_quietly(f"keras_nlpkit.recipes.{module}")
            loaded.add_arguments(sub)
            run = loaded.run
            if command == "train":  # every training recipe scales out alike
                from keras_nlpkit.recipes import distribution

                distribution.add_arguments(sub)
                run = _distributed(loaded.run)
            sub.set_defaults(run=run)
    return parser


def _distributed(run):
    """`run`, after choosing the engine its `--distribution` flags ask for."""

    def run_distributed(args):
        from keras_nlpkit.recipes import distribution

        plan = distribution.configure_from_arguments(args)
        if plan.mode != "none":
            print(f"nlpkit: training {plan.describe()}", file=sys.stderr)
        run(args)

    return run_distributed


def _import_quietly(name):
    """Imports a command's module; TensorFlow's start-up lines are dropped, others kept.

    Left alone when the user asked for TensorFlow's info logs (`TF_CPP_MIN_LOG_LEVEL`
    0 or 1); a higher level does not silence the start-up lines in TF 2.21, so they
    are dropped then too.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1") or "tensorflow" in sys.modules:
        return importlib.import_module(name)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with filtered_stderr():
        module = importlib.import_module(name)
        if "tensorflow" in sys.modules:  # the first device query logs CUDA's absence
            sys.modules["tensorflow"].config.list_physical_devices()
    return module


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(argv)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except UserInputError as error:
        parser.exit(2, f"nlpkit: error: {error}\n")
    except TrainingError as error:
        parser.exit(1, f"nlpkit: error: {error}\n")
    except OSError as error:  # a full disk, a folder we may not write, ...
        where = f": {error.filename}" if error.filename else ""
        parser.exit(2, f"nlpkit: error: {error.strerror or error}{where}\n")
    except KeyboardInterrupt:
        parser.exit(130, "nlpkit: interrupted (rerun the same command to resume a training)\n")
    if "ai_edge_litert.compiled_model" in sys.modules:
        # LiteRT's CompiledModel (export's client check) logs its accelerators' teardown
        # at exit, INFO lines after the command's output: the command is done, drop them.
        sys.stderr.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

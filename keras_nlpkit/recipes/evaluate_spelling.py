"""`nlpkit evaluate spelling`: accuracy@1/@5, kept-correct, latency; with SymSpell, pyspellchecker.

nlpkit evaluate spelling --model DIR --pairs FILE [--variant dynamic_int8] [--no-peers]
nlpkit evaluate spelling --model DIR --context-text FILE_OR_FOLDER[,...] [--sentences 1000]
                         [--seed 0] [--save-dev FILE] [--no-peers]

With `--context-text`, the figures are those of sentences (see
`keras_nlpkit.evaluation.spelling_in_context`): a dev set is built from the text's
held-out sentences (the side the context LM never counts) with codespell
misspellings the model never trained on and real-word confusions injected, and
corrected three ways in the same run: ours in context (`correct_sentence`), ours
word by word, and SymSpell's `lookup_compound`. DIR must be the training folder:
its `recipe.json` and `heldout.tsv` say which misspellings were trained on.
"""

import json
from pathlib import Path

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation import spelling_in_context
from keras_nlpkit.evaluation.spelling import evaluate
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.ondevice.model_folder import VARIANTS
from keras_nlpkit.ondevice.spelling_corrector import DEFAULT_VARIANT
from keras_nlpkit.ondevice.spelling_corrector import KIND
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.recipes.arguments import integer
from keras_nlpkit.recipes.arguments import positive_integer
from keras_nlpkit.text.context_sentences import corpus_files
from keras_nlpkit.text.context_sentences import read_sentences


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a `train spelling` folder")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--pairs", help="`right: wrong wrong` or `wrong<TAB>right` lines")
    what.add_argument(
        "--context-text",
        help="sentences in context: text files or folders (comma-separated) to build the dev set",
    )
    parser.add_argument("--sentences", type=positive_integer, default=1000)
    parser.add_argument("--seed", type=integer, default=0)
    parser.add_argument("--save-dev", help="also write the dev set here (JSON lines)")
    parser.add_argument("--variant", default=DEFAULT_VARIANT, choices=VARIANTS)
    parser.add_argument("--no-peers", action="store_true", help="skip the peers")


def run(args):
    if args.context_text:
        result = evaluate_in_context(
            args.model,
            args.context_text,
            count=args.sentences,
            seed=args.seed,
            variant=args.variant,
            peers=not args.no_peers,
            save_dev=args.save_dev,
        )
    else:
        result = evaluate(args.model, args.pairs, variant=args.variant, peers=not args.no_peers)
    print(json.dumps(result, sort_keys=True))


def training_wrongs(model_dir, argument="--model"):
    """Every misspelling the model in the training folder `model_dir` trained on.

    The recipe's pairs are made again from its `recipe.json` (the same packages and
    seed give the same pairs); those in `heldout.tsv` were not trained on.
    """
    from keras_nlpkit.recipes import spelling  # imports TensorFlow: only here
    from keras_nlpkit.recipes import training

    model_dir = Path(model_dir)
    run = training.read_run(model_dir, KIND, argument)
    heldout_path = model_dir / "heldout.tsv"
    if not heldout_path.is_file():
        raise UserInputError(
            f"{argument}: --context-text needs the training folder (its heldout.tsv says "
            f"which misspellings the model never saw). Received: {model_dir}"
        )
    config = spelling.SpellingConfig(**run["config"])
    pairs, _, _ = spelling.training_pairs(config, log=lambda *_: None)
    heldout = {
        tuple(line.split("\t"))
        for line in heldout_path.read_text(encoding="utf-8").splitlines()
        if line
    }
    return {wrong for wrong, right in pairs if (wrong, right) not in heldout}


def evaluate_in_context(
    model_dir, text, count=1000, seed=0, variant=DEFAULT_VARIANT, peers=True, save_dev=None
):
    """The sentence figures of `spelling_in_context`, ours in context and word by word,
    and SymSpell's `lookup_compound`, on one dev set of `count` sentences."""
    files = corpus_files(text, "--context-text")
    corrector = SpellingCorrector(model_dir, variant=variant)
    in_context = corrector.sentence_corrector()  # fails early without the context LM
    pairs = spelling_in_context.unused_pairs(training_wrongs(model_dir))
    sentences = read_sentences(files, "--context-text")
    items = spelling_in_context.build_dev_set(sentences, pairs, count, seed)
    if save_dev:
        lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
        atomic_write_text(Path(save_dev), lines)
    result = {
        "context_text": text,
        "seed": seed,
        "dev_set": spelling_in_context.describe(items),
        "unused_codespell_words": len(pairs),
        "variant": variant,
        "ours_in_context": spelling_in_context.measure(in_context.correct, items),
        "ours_word_by_word": spelling_in_context.measure(
            corrector.sentence_corrector(context=False).correct, items
        ),
    }
    if peers:
        result["symspell_lookup_compound"] = spelling_in_context.measure(
            spelling_in_context.symspell_compound_peer(), items
        )
    return result

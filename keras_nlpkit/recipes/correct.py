"""`nlpkit correct`: correct misspelled words on the device (no TensorFlow is imported).

    nlpkit correct --model DIR [--k 5] [--variant dynamic_int8] word [word ...]
    nlpkit correct --model DIR [--k 5] [--variant dynamic_int8] --json < words.txt
    nlpkit correct --model DIR --context "i want to by a new phone" ["sentence" ...]
    nlpkit correct --model DIR --context --json < sentences.txt

Prints one JSON object a word: `{"word": ..., "suggestions": [[word, score], ...]}`.
With `--json`, the words are read from standard input, one a line, and each gets one
JSON array of corrections (words, best first) on a line of its own: the contract the
TypeScript runtime's `node ondevice-js/bin/nlpkit-ondevice.mjs correct` shares.

With `--context`, each argument (or stdin line) is a sentence, corrected in context
(`SpellingCorrector.correct_sentence`: the export's word LM rescores every word's
candidates, real-word confusions included); each prints one JSON object on a line:
`{"text": ..., "corrected": ..., "changes": [{"start", "end", "typed", "output"}]}`.
The model must have been trained with `--context-corpus` (else exit 2, naming the file).
"""

import json
import sys

from keras_nlpkit.native_logs import filtered_stderr
from keras_nlpkit.ondevice.model_folder import VARIANTS
from keras_nlpkit.ondevice.sentence_corrector import applied
from keras_nlpkit.ondevice.spelling_corrector import DEFAULT_VARIANT
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.recipes.arguments import positive_integer
from keras_nlpkit.recipes.complete import stdin_or_arguments


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a `train spelling` folder")
    parser.add_argument("--k", type=positive_integer, default=5)
    parser.add_argument("--variant", default=DEFAULT_VARIANT, choices=VARIANTS)
    parser.add_argument(
        "--json",
        action="store_true",
        help="read the words from stdin, one a line; print one JSON array a line",
    )
    parser.add_argument(
        "--context",
        action="store_true",
        help="correct whole sentences in context (the arguments or stdin lines are sentences)",
    )
    parser.add_argument("words", nargs="*", help="words (sentences with --context)")


def sentence_result(corrector, text):
    """The `--context` JSON object of one sentence."""
    decisions = corrector.sentence_decisions(text)
    changes = [
        {key: d[key] for key in ("start", "end", "typed", "output")}
        for d in decisions
        if d["output"] != d["typed"]
    ]
    return {"text": text, "corrected": applied(text, decisions), "changes": changes}


def run_sentences(args, corrector):
    with filtered_stderr():
        corrector.sentence_decisions("a")  # the context LM is there, and mapped
    lines = (line.removesuffix("\n").removesuffix("\r") for line in sys.stdin)
    for text in lines if args.json else args.words:
        result = sentence_result(corrector, text)
        print(json.dumps(result, ensure_ascii=False, separators=(",", ":")), flush=True)


def run(args):
    stdin_or_arguments(args.words, args.json, "sentences" if args.context else "words")
    with filtered_stderr():  # LiteRT logs its CPU delegate at the first call: made here
        corrector = SpellingCorrector(args.model, variant=args.variant)
        corrector.correct("a", k=1)
    if args.context:
        run_sentences(args, corrector)
        return
    if args.json:
        for line in sys.stdin:
            word = line.removesuffix("\n").removesuffix("\r")
            words = [w for w, _ in corrector.correct(word, k=args.k)]
            print(json.dumps(words, ensure_ascii=False, separators=(",", ":")), flush=True)
        return
    for word in args.words:
        print(json.dumps({"word": word, "suggestions": corrector.correct(word, k=args.k)}))

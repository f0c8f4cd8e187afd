"""`nlpkit demo`, the README's main job: both on-device recipes, small, trained → exported → run.

    nlpkit demo [--out runs/demo] [--epochs N]

Everything it reads arrives with the install: the documentation that ships with
Python (`pydoc_data.topics`) for query completion, and the misspellings and word
frequencies inside the `codespell` and `symspellpy` packages for spelling
correction. About a minute and a half on 2 cores.
"""

import dataclasses
import json
import shlex
import time
from pathlib import Path

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.ondevice.query_completer import QueryCompleter
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.recipes import query_completion
from keras_nlpkit.recipes import serve_demo
from keras_nlpkit.recipes import spelling
from keras_nlpkit.recipes.arguments import positive_integer
from keras_nlpkit.text.corpora import documentation_phrases

COMPLETION_INPUTS = ("the ", "a list of ", "the value of the ", "retur", "exceptoin ")
SPELLING_INPUTS = ("recieve", "definately", "seperate", "acommodate", "beleive", "python")


def add_arguments(parser):
    parser.add_argument("--out", default="runs/demo", help="output folder")
    parser.add_argument("--epochs", type=positive_integer, default=None)


def run(args):
    demo(args.out, epochs=args.epochs)


def demo(out_dir="runs/demo", epochs=None, log=print):
    out_dir = Path(out_dir)
    start = time.perf_counter()

    log(
        "== 1/3 Spelling correction: codespell's real misspellings + synthetic typos "
        "over symspellpy's word frequencies"
    )
    spelling_config = spelling.SpellingConfig.small()
    if epochs is not None:
        spelling_config = dataclasses.replace(spelling_config, epochs=epochs)
    spelling_dir = out_dir / "spelling"
    spelling_metrics = spelling.train(spelling_dir, spelling_config, log=log, verbose=1)
    log(json.dumps(spelling_metrics, indent=2))

    log("== 2/3 Query completion: a word LSTM on phrases of Python's documentation")
    corpus = out_dir / "queries-corpus.txt"
    atomic_write_text(corpus, "\n".join(documentation_phrases()) + "\n")
    completion_config = query_completion.QueryCompletionConfig(
        vocabulary_size=4000, units=128, epochs=epochs or 10, batch_size=256
    )
    completion_dir = out_dir / "queries"
    completion_metrics = query_completion.train(
        [corpus], completion_dir, completion_config, log=log
    )
    log(json.dumps(completion_metrics, indent=2))

    log("== 3/3 On the device (LiteRT interpreter, one thread, no TensorFlow)")
    # Full-integer int8 of the seq2seq does not yet run under XNNPACK: the corrector
    # runs the dynamic-range int8 file (its default).
    corrector = SpellingCorrector(spelling_dir)
    for word in SPELLING_INPUTS:
        best = [w for w, _ in corrector.correct(word, k=3)]
        log(f"  correct {word!r:14} -> {best}")
    plain = QueryCompleter(completion_dir, variant="int8")
    tolerant = QueryCompleter(completion_dir, variant="int8", corrector=corrector)
    for typed in COMPLETION_INPUTS:
        log(
            f"  complete {typed!r:20} -> {plain.suggest(typed)}   "
            f"typo-tolerant: {tolerant.suggest(typed)}"
        )
    log(
        f"Done in {time.perf_counter() - start:.0f} s. Models and exports under {out_dir}; "
        f'try `nlpkit complete --model {completion_dir} "the value "` and '
        f"`nlpkit correct --model {spelling_dir} recieve`."
    )
    log(browser_demo_command(completion_dir, spelling_dir))


def browser_demo_command(completion_dir, spelling_dir):
    """What to run to try both models in the browser (the page `nlpkit serve-demo` serves)."""
    lines = ["The same models in the browser, on LiteRT.js (a search box, as you type):"]
    try:
        serve_demo.check_package(serve_demo.PACKAGE)
    except UserInputError:  # a fresh checkout: the TypeScript runtime is not built yet
        lines.append(f"  (cd {shlex.quote(str(serve_demo.PACKAGE))} && npm ci && npm run build)")
    lines += [
        f"  nlpkit serve-demo --model {shlex.quote(str(completion_dir))} "
        f"--spelling-model {shlex.quote(str(spelling_dir))}",
        "  then open http://127.0.0.1:8765/",
    ]
    return "\n".join(lines)

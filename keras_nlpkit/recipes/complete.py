"""`nlpkit complete`: suggestion strips for typed query prefixes, on the device (TF-free).

    nlpkit complete --model DIR [--k 3] [--spelling-model DIR2] "new york ci" "how to "
    nlpkit complete --model DIR [--k 3] [--spelling-model DIR2] --json < typed.txt

Prints one JSON object a prefix: `{"typed": ..., "suggestions": [word, ...]}`; a
trailing space asks for the next word. With `--json`, the typed prefixes are read
from standard input, one a line, and each gets one JSON array of suggestions on a
line of its own: the contract the TypeScript runtime's
`node ondevice-js/bin/nlpkit-ondevice.mjs complete` shares, line for line.

With `--phrases N`, an entry may be a phrase of up to N words (`suggest_phrases`),
printed as one string with its spaces.

With `--history FILE` (the user's `LocalHistory`, created if missing), suggestions
mix in the queries the user submitted before; on the `--json` stream a line ending in
a tab is a submitted query: it is learnt, FILE is replaced atomically, and the
answer is `[]`.
"""

import json
import sys

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.native_logs import filtered_stderr
from keras_nlpkit.ondevice.local_history import LocalHistory
from keras_nlpkit.ondevice.query_completer import QueryCompleter
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.recipes.arguments import positive_integer


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a query-completion folder")
    parser.add_argument("--k", type=positive_integer, default=3)
    parser.add_argument(
        "--spelling-model",
        default=None,
        help="a spelling model folder, for typo-tolerant completion",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="read the typed prefixes from stdin, one a line; print one JSON array a line",
    )
    parser.add_argument(
        "--phrases",
        type=positive_integer,
        default=None,
        metavar="N",
        help="suggest phrases of up to N words too (printed with their spaces)",
    )
    parser.add_argument(
        "--history",
        default=None,
        help="the user's local history file (JSON; created if missing); with --json, "
        "a line ending in a tab is a submitted query and is learnt",
    )
    parser.add_argument("prefix", nargs="*", help="what the user typed (quote it)")


def corrector_of(model_dir):
    """The `SpellingCorrector` of `--spelling-model`, or None when not given."""
    if model_dir is None:
        return None
    return SpellingCorrector(model_dir, argument="--spelling-model")


def stdin_or_arguments(values, from_stdin, name):
    """Refuses both or neither of positional `values` and `--json` (stdin)."""
    if bool(values) == from_stdin:
        raise UserInputError(
            f"{name}: give them as arguments, or --json and them on stdin, one a line. "
            f"Received: {len(values)} {name}, --json={from_stdin}"
        )


def run(args):
    stdin_or_arguments(args.prefix, args.json, "prefix")
    with filtered_stderr():  # LiteRT logs its CPU delegate at the first call: made here
        history = None if args.history is None else LocalHistory(args.history)
        completer = QueryCompleter(
            args.model, corrector=corrector_of(args.spelling_model), history=history
        )
        completer.suggest("", args.k)
    if args.json:
        for line in sys.stdin:
            typed = line.removesuffix("\n").removesuffix("\r")
            if history is not None and typed.endswith("\t"):
                history.learn(typed)  # submitted
                suggestions = []
            else:
                suggestions = completer.suggest(typed, args.k, args.phrases or 1)
            print(json.dumps(suggestions, ensure_ascii=False, separators=(",", ":")), flush=True)
        return
    for prefix in args.prefix:
        suggestions = completer.suggest(prefix, args.k, args.phrases or 1)
        print(json.dumps({"typed": prefix, "suggestions": suggestions}))

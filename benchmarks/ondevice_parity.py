"""Python runtime vs TypeScript runtime: the same strips and corrections, and how fast.

    python benchmarks/ondevice_parity.py --model runs/queries [--queries runs/queries/data/dev.txt]
        [--spelling-model runs/spelling] [--pairs ../shared/data/spelling/spell-testset1.txt]

1. Plain completion: every query of the file typed letter by letter (then its
   trailing space: the next word), through `QueryCompleter` in this process and
   through the TypeScript runtime (`ondevice-js/bench/time_lines.mjs`, LiteRT.js in
   Node); the fraction of keystrokes whose strips are identical (target 1.000).
2. With `--spelling-model`: the same for typo-tolerant completion, on the queries
   with one typo injected into each (`keras_nlpkit.text.typos.inject_typos`, as
   `nlpkit evaluate query-completion` does),
   and for the corrections of every misspelling of `--pairs`.

Each runtime's load time and per-call milliseconds (median / p95, one thread) are
printed beside the other's. Needs `npm ci && npm run build` in ondevice-js/.
"""

import argparse
import json
import subprocess
import time
from pathlib import Path

from keras_nlpkit.evaluation.metrics import keystrokes
from keras_nlpkit.evaluation.metrics import latency_summary
from keras_nlpkit.ondevice import QueryCompleter
from keras_nlpkit.ondevice import SpellingCorrector
from keras_nlpkit.text.misspellings import read_pairs
from keras_nlpkit.text.typos import inject_typos

ROOT = Path(__file__).resolve().parents[1]
TIMER = ROOT / "ondevice-js" / "bench" / "time_lines.mjs"


def python_run(load, answer, lines):
    start = time.perf_counter()
    runtime = load()
    load_ms = (time.perf_counter() - start) * 1e3
    answers, ms = [], []
    for line in lines:
        start = time.perf_counter()
        answers.append(answer(runtime, line))
        ms.append((time.perf_counter() - start) * 1e3)
    return {"load_ms": load_ms, "answers": answers, "ms": ms}


def typescript_run(arguments, lines):
    result = subprocess.run(
        ["node", str(TIMER), *map(str, arguments)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def report(name, lines, python, typescript):
    same = sum(p == t for p, t in zip(python["answers"], typescript["answers"]))
    print(f"{name}: {len(lines):,} lines; identical {same:,} ({same / len(lines):.4f})")
    for line, p, t in zip(lines, python["answers"], typescript["answers"]):
        if p != t and same < len(lines):
            print(f"  first difference {line!r}: python {p} typescript {t}")
            break
    for runtime, result in (("python", python), ("typescript", typescript)):
        summary = latency_summary([ms / 1e3 for ms in result["ms"]])  # METRICS.md's rule
        print(
            f"  {runtime:10} load {result['load_ms']:7.0f} ms; per call median "
            f"{summary['median_ms']:.3f} ms, p95 {summary['p95_ms']:.3f} ms"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a query-completion training folder")
    parser.add_argument("--queries", default=None, help="default: MODEL/data/dev.txt")
    parser.add_argument("--spelling-model", default=None)
    parser.add_argument("--pairs", default=None, help="misspellings to correct (`right: wrong`)")
    args = parser.parse_args()
    queries_file = args.queries or Path(args.model) / "data" / "dev.txt"
    queries = Path(queries_file).read_text(encoding="utf-8").splitlines()
    typed = keystrokes(queries)

    def suggest(completer, line):
        return completer.suggest(line, 3)

    python = python_run(lambda: QueryCompleter(args.model), suggest, typed)
    report("plain completion", typed, python, typescript_run(["complete", args.model], typed))
    if args.spelling_model is None:
        return
    typed = keystrokes(inject_typos(queries, seed=0))

    def tolerant():
        return QueryCompleter(args.model, corrector=SpellingCorrector(args.spelling_model))

    python = python_run(tolerant, suggest, typed)
    typescript = typescript_run(["complete", args.model, args.spelling_model], typed)
    report("typo-tolerant completion, one typo a query", typed, python, typescript)
    if args.pairs is None:
        return
    words = [wrong for wrong, _ in read_pairs(args.pairs)]

    def correct(corrector, word):
        return [w for w, _ in corrector.correct(word, k=5)]

    python = python_run(lambda: SpellingCorrector(args.spelling_model), correct, words)
    typescript = typescript_run(["correct", args.spelling_model], words)
    report(f"corrections of {Path(args.pairs).name}", words, python, typescript)


if __name__ == "__main__":
    main()

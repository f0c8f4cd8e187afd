"""Python runtime vs TypeScript runtime: the same suggestion strip at every keystroke?

    python benchmarks/ondevice_parity.py --model runs/queries [--queries runs/queries/data/dev.txt]

Types every query of the file letter by letter (then its trailing space: the next
word), runs `nlpkit complete --json` and `node ondevice-js/bin/nlpkit-ondevice.mjs
complete` on the same lines, and prints the fraction of keystrokes whose strips are
identical (target 1.000), the first differences, and each runtime's wall time.
Needs `npm ci && npm run build` in ondevice-js/.
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def typed_prefixes(queries_file):
    typed = []
    for line in Path(queries_file).read_text(encoding="utf-8").splitlines():
        query = " ".join(line.lower().split())
        if query:
            typed += [query[:i] for i in range(len(query) + 1)] + [query + " "]
    return typed


def run(command, typed):
    start = time.perf_counter()
    result = subprocess.run(
        command, input="\n".join(typed) + "\n", capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in result.stdout.splitlines()], time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a query-completion training folder")
    parser.add_argument("--queries", default=None, help="default: MODEL/data/dev.txt")
    args = parser.parse_args()
    typed = typed_prefixes(args.queries or Path(args.model) / "data" / "dev.txt")
    nlpkit = shutil.which("nlpkit", path=str(Path(sys.executable).parent)) or "nlpkit"
    python, python_s = run([nlpkit, "complete", "--model", args.model, "--json"], typed)
    cli = ROOT / "ondevice-js" / "bin" / "nlpkit-ondevice.mjs"
    typescript, typescript_s = run(["node", str(cli), "complete", "--model", args.model], typed)
    same = sum(p == t for p, t in zip(python, typescript))
    print(f"keystrokes {len(typed):,}; identical strips {same:,} ({same / len(typed):.4f})")
    for text, p, t in [(x, p, t) for x, p, t in zip(typed, python, typescript) if p != t][:5]:
        print(f"  {text!r}: python {p} typescript {t}")
    print(f"wall time: python {python_s:.1f} s, typescript {typescript_s:.1f} s")


if __name__ == "__main__":
    main()

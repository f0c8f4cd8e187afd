"""What the query completer costs a phone: load time, resident memory, time per keystroke.

    python benchmarks/completer_footprint.py --model runs/queries \\
        [--baseline-code /tmp/nlpkit-0.3 --baseline-model DIR] [--limit 500]

A `--model` exported by 0.3 (`lexicon.tsv` + `ngrams.tsv.gz`) is measured through a
copy whose side files are rewritten as 0.4's `completion.bin`: the same network and
counts, so the peer can be the very same folder.

Each runtime runs in a fresh process, one thread, on the keystrokes of the first
`--limit` dev queries (every prefix of each query, as a user types it):

- Python (`keras_nlpkit.ondevice.QueryCompleter`) on `--model`;
- TypeScript (`ondevice-js/bench/time_lines.mjs`, LiteRT.js) on `--model`, when
  `ondevice-js/dist/` is built; its load includes starting LiteRT.js's WebAssembly,
  so it also reports `reload_ms`, a second load in the same process;
- the peer, with `--baseline-code`: the same Python measurement with another checkout
  of keras-nlpkit first on the path (e.g. 0.3, whose counts were Python dicts:
  `git worktree add /tmp/nlpkit-0.3 6c3f76e`) on `--baseline-model`, an export of
  that version (default: `--model`).

"RSS added" is the resident memory after loading (and one suggestion) minus before,
the runtime's imports already done: what the completer itself holds; "after typing",
the same once every keystroke was answered (its caches full). Prints one JSON
object with each row and the ratios to the peer.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# Runs in the measured process: imports first, then the completer alone.
PROBE = r"""
import json, sys, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
import ai_edge_litert.interpreter  # noqa: F401  (the runtime, loaded before measuring)
from keras_nlpkit.ondevice import QueryCompleter
model, lines = sys.argv[1], sys.stdin.read().split("\n")[:-1]
before = rss()
start = time.perf_counter()
completer = QueryCompleter(model, num_threads=1)
load_ms = (time.perf_counter() - start) * 1e3
completer.suggest("a")
rss_added = rss() - before
ms, answers = [], []
for line in lines:
    start = time.perf_counter()
    answers.append(completer.suggest(line))
    ms.append((time.perf_counter() - start) * 1e3)
rss_typing = rss() - before
import keras_nlpkit
code = keras_nlpkit.__file__
print(json.dumps({"code": code, "load_ms": load_ms, "rss_added_bytes": rss_added,
                  "rss_after_typing_bytes": rss_typing, "ms": ms, "answers": answers}))
"""


def keystrokes(queries):
    """Every text a user has typed on the way to each query (one line each)."""
    return [query[:i] for query in queries for i in range(len(query) + 1)]


def run_python(model, lines, code=None):
    code = Path(code or ROOT).resolve()
    env = dict(os.environ, PYTHONPATH=str(code))
    result = subprocess.run(  # in `code`: `-c` puts the working folder first on the path
        [sys.executable, "-c", PROBE, str(Path(model).resolve())],
        cwd=code,
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def run_typescript(model, lines):
    script = ROOT / "ondevice-js" / "bench" / "time_lines.mjs"
    if not (ROOT / "ondevice-js" / "dist" / "index.js").is_file():
        return None
    result = subprocess.run(
        ["node", str(script), "complete", str(model)],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def summary(measured):
    ms = np.asarray(measured["ms"])
    return {
        "code": str(Path(measured.get("code", "ondevice-js")).parent),
        "load_ms": round(measured["load_ms"], 1),
        "rss_added_mb": round(measured["rss_added_bytes"] / 2**20, 1),
        **({"reload_ms": round(measured["reload_ms"], 1)} if "reload_ms" in measured else {}),
        **(
            {"rss_after_typing_mb": round(measured["rss_after_typing_bytes"] / 2**20, 1)}
            if "rss_after_typing_bytes" in measured
            else {}
        ),
        "keystroke_median_ms": round(float(np.median(ms)), 3),
        "keystroke_p95_ms": round(float(np.percentile(ms, 95)), 3),
        "keystrokes": len(ms),
    }


def bundle_bytes(model):
    """What an app ships: the int8 model and every listed file that is not a model."""
    export = Path(model) / "export" if (Path(model) / "export").is_dir() else Path(model)
    manifest = json.loads((export / "manifest.json").read_text())
    names = [manifest["variants"]["int8"]]
    names += [name for name in manifest["files"] if not name.endswith(".tflite")]
    return sum((export / name).stat().st_size for name in set(names))


def upgraded(model):
    """`model` itself if its export has `completion.bin`; else a copy of it with the
    0.3 side files (`lexicon.tsv`, `ngrams.tsv.gz`) rewritten as one, in a temporary
    folder: the same network and counts in 0.4's format."""
    source = Path(model) / "export" if (Path(model) / "export").is_dir() else Path(model)
    manifest = json.loads((source / "manifest.json").read_text())
    if "completion.bin" in manifest["files"]:
        return Path(model)
    from keras_nlpkit.ondevice.lexicon import parse_lexicon
    from keras_nlpkit.ondevice.ngram_table import ngram_table_bytes
    from keras_nlpkit.ondevice.ngram_table import parse_ngrams
    from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer

    target = Path(tempfile.mkdtemp(prefix="completer_footprint_")) / "export"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("saved_model"))
    data = ngram_table_bytes(
        parse_lexicon((target / "lexicon.tsv").read_bytes(), "lexicon.tsv"),
        parse_ngrams((target / "ngrams.tsv.gz").read_bytes(), "ngrams.tsv.gz"),
        model_ids=load_tokenizer(target / "tokenizer.json").token_id,
    )
    (target / "completion.bin").write_bytes(data)
    for name in ("lexicon.tsv", "ngrams.tsv.gz"):
        (target / name).unlink()
        del manifest["files"][name]
    manifest["files"]["completion.bin"] = {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--queries", help="default: the model's data/dev.txt")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--baseline-code", help="another keras-nlpkit checkout (the peer)")
    parser.add_argument("--baseline-model", help="an export that checkout reads")
    args = parser.parse_args()
    queries_file = Path(args.queries or Path(args.model) / "data" / "dev.txt")
    queries = queries_file.read_text().split("\n")[: args.limit]
    lines = keystrokes([q for q in queries if q])
    model = upgraded(args.model)
    rows = {"python": summary(run_python(model, lines))}
    rows["python"]["bundle_bytes"] = bundle_bytes(model)
    typescript = run_typescript(model, lines)
    if typescript is not None:
        rows["typescript"] = summary(typescript)
    if args.baseline_code:
        baseline_model = args.baseline_model or args.model
        peer = run_python(baseline_model, lines, code=Path(args.baseline_code).resolve())
        rows["peer_python"] = summary(peer)
        rows["peer_python"]["bundle_bytes"] = bundle_bytes(baseline_model)
        ours = run_python(model, lines)
        rows["same_answers_as_peer"] = sum(a == b for a, b in zip(ours["answers"], peer["answers"]))
        rows["ratios_to_peer"] = {
            key: round(rows["python"][key] / rows["peer_python"][key], 3)
            for key in ("load_ms", "rss_added_mb", "keystroke_median_ms", "keystroke_p95_ms")
        }
    print(json.dumps({"queries": str(queries_file), "limit": args.limit, **rows}, indent=1))


if __name__ == "__main__":
    main()

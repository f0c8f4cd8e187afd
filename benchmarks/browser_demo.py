"""The browser demo's cost: load time, bytes, per-keystroke latency, beside the Python runtime.

    python benchmarks/browser_demo.py --model runs/queries [--spelling-model runs/spelling]
        [--queries FILE] [--n 20]

Serves the model(s) as `nlpkit serve-demo` does, opens the page in headless Chromium
(`/usr/bin/chromium`, Playwright from `ondevice-js/node_modules`), types the first N
queries of the file (default: MODEL/data/dev.txt) key by key, each followed by a
space (the next word), and prints:

- the time from navigation to the page being ready (LiteRT.js and the models
  loaded, the first strip shown), with a fresh browser profile (nothing cached);
- the bytes the page downloaded (response bodies and headers), by file type;
- the browser's per-keystroke latency (from the input event to the strip in the
  page), median and p95;
- the Python runtime's (`QueryCompleter.suggest`, in this process, on the same
  keystrokes), median and p95; and how many strips the two runtimes agree on.

Needs `npm ci && npm run build` in ondevice-js/ and Debian's `chromium`.
"""

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from keras_nlpkit.evaluation.metrics import latency_summary
from keras_nlpkit.ondevice.query_completer import QueryCompleter
from keras_nlpkit.ondevice.spelling_corrector import SpellingCorrector
from keras_nlpkit.recipes.serve_demo import PACKAGE
from keras_nlpkit.recipes.serve_demo import make_server

DRIVER = PACKAGE / "e2e" / "drive_demo.mjs"


def read_queries(path, n):
    queries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        query = " ".join(line.lower().split())
        if query:
            queries.append(query)
        if len(queries) == n:
            break
    return queries


def browser_run(model, spelling_model, queries, chromium):
    server = make_server(model, spelling_model, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    steps = []
    for query in queries:
        steps += [{"type": "type", "text": query + " "}, {"type": "clear"}]
    job = {
        "url": f"http://127.0.0.1:{server.server_address[1]}/",
        "chromium": chromium,
        "steps": steps,
        "timeoutMs": 120000,
    }
    try:
        result = subprocess.run(
            ["node", str(DRIVER)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=PACKAGE,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    if result.returncode != 0:
        sys.exit(f"browser_demo: the driver failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def python_run(model, spelling_model, typed):
    corrector = SpellingCorrector(spelling_model) if spelling_model else None
    completer = QueryCompleter(model, variant="int8", corrector=corrector)
    strips, ms = [], []
    completer.suggest("")  # as the page: the empty box's strip is shown once it loads
    for text in typed:
        start = time.perf_counter()
        strips.append(completer.suggest(text))
        ms.append((time.perf_counter() - start) * 1000)
    return strips, ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a query-completion training folder")
    parser.add_argument("--spelling-model", default=None)
    parser.add_argument("--queries", default=None, help="default: MODEL/data/dev.txt")
    parser.add_argument("--n", type=int, default=20, help="how many queries to type")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    queries_file = args.queries or Path(args.model) / "data" / "dev.txt"
    if not Path(queries_file).is_file():
        sys.exit(f"browser_demo: no queries file {queries_file}: pass --queries FILE")
    queries = read_queries(queries_file, args.n)

    result = browser_run(args.model, args.spelling_model, queries, args.chromium)
    if result["ready"]["error"]:
        sys.exit(f"browser_demo: the page says: {result['ready']['error']}")
    keys = [key for step in result["steps"] for key in step.get("keystrokes", [])]
    typed = [key["typed"] for key in keys]
    # One timing a strip shown, in order: the empty box's first, then each keystroke's
    # (the driver waits for each), with the empty box again after each clear.
    browser_ms = [t["ms"] for t in result["timings"] if t["text"] != ""]
    assert len(browser_ms) == len(typed), (len(browser_ms), len(typed))
    python_strips, python_ms = python_run(args.model, args.spelling_model, typed)
    same = sum(key["strip"] == strip for key, strip in zip(keys, python_strips))

    size = lambda n: f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"
    by_type = sorted(result["bytes"]["byType"].items(), key=lambda item: -item[1])
    print(f"model {args.model} (int8); spelling model {args.spelling_model or '-'}")
    print(f"{len(queries)} queries of {queries_file}, {len(typed)} keystrokes")
    print(f"page ready: {result['ready']['loadMs']:.0f} ms after navigation (fresh profile)")
    print(
        f"downloaded: {size(result['bytes']['total'])} in {len(result['requests'])} "
        f"responses ({', '.join(f'{ext} {size(n)}' for ext, n in by_type)})"
    )
    for name, ms in (("browser (LiteRT.js)", browser_ms), ("python (LiteRT)", python_ms)):
        summary = latency_summary([m / 1e3 for m in ms])  # METRICS.md's median and p95
        print(
            f"per keystroke, {name:20} median {summary['median_ms']:6.2f} ms, "
            f"p95 {summary['p95_ms']:6.2f} ms, max {max(ms):6.2f} ms"
        )
    print(f"identical strips: {same}/{len(typed)}")


if __name__ == "__main__":
    main()

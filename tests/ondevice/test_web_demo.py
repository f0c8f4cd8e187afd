"""The browser demo (`nlpkit serve-demo`), end to end in a real headless Chromium.

Each test serves tiny models with `nlpkit serve-demo --port 0`, and
`ondevice-js/e2e/drive_demo.mjs` (Playwright, on Debian's `/usr/bin/chromium`) types
into the page key by key. The page runs the TypeScript runtime on LiteRT.js; what it
shows must be what the Python runtime says for the same keys: `nlpkit complete
--json` for the strip at every keystroke, `nlpkit correct` for the corrections.
The translator has no demo page: `ondevice-js/e2e/translate_in_browser.mjs` serves a
tiny translation export and has a blank page translate with it, which must give the
Python runtime's ids and text (exported files load in every LiteRT client, LiteRT.js
in a browser included). `.ci/run` installs Chromium; `python3 dev.py test` runs `npm ci` and builds
`ondevice-js/` first.
"""

import json
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ondevice-js"
DRIVER = PACKAGE / "e2e" / "drive_demo.mjs"
TRANSLATE = PACKAGE / "e2e" / "translate_in_browser.mjs"
CHROMIUM = Path("/usr/bin/chromium")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def node():
    """Node, with the package built and Playwright installed, and Chromium: or a failure."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser demo's tests need Debian's Chromium "
            "(`apt-get update && apt-get install -y chromium`; .ci/run does it)"
        )
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed: the browser demo's tests need Node 20+")
    for needed in ("dist/index.js", "node_modules/playwright-core/package.json"):
        if not (PACKAGE / needed).is_file():
            pytest.fail(f"ondevice-js/{needed} is missing: run `npm ci && npm run build` there")
    return path


@contextmanager
def served(tmp_path, *arguments):
    """`nlpkit serve-demo ARGUMENTS` on a free port; yields the page's URL."""
    log = tmp_path / "serve-demo.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "keras_nlpkit.cli", "serve-demo", *map(str, arguments)]
            + ["--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, f"serve-demo printed {line!r}; stderr: {log.read_text()[-2000:]}"
        yield found.group(0)
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def drive(node, url, steps):
    """The result of `drive_demo.mjs` for `steps` on the page at `url`."""
    job = {"url": url, "chromium": str(CHROMIUM), "steps": steps}
    result = subprocess.run(
        [node, DRIVER],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=PACKAGE,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def nlpkit(*arguments, stdin=None):
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", *map(str, arguments)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def python_strips(typed, *arguments):
    """`nlpkit complete --json ARGUMENTS`: the Python runtime's strip for each text."""
    strips = nlpkit("complete", *arguments, "--json", stdin="\n".join(typed) + "\n")
    assert len(strips) == len(typed)
    return strips


def keystrokes(result):
    return [key for step in result["steps"] for key in step.get("keystrokes", [])]


def assert_png(path):
    data = Path(path).read_bytes()
    assert data.startswith(PNG) and len(data) > 1000, f"not a screenshot: {path}"


def assert_clean(result):
    """The page started, and nothing failed on the way: no exception, no lost request."""
    assert result["ready"]["error"] is None and result["errorText"] is None, result["ready"]
    assert result["ready"]["loadMs"] > 0
    assert not result["pageErrors"] and not result["failed"], result


def test_the_strip_at_every_keystroke_is_the_python_runtimes_and_tab_accepts(
    node, query_completion_run, tmp_path
):
    _, out, _ = query_completion_run
    screenshot = tmp_path / "demo.png"
    steps = [
        {"type": "type", "text": "hotels new york"},
        {"type": "clear"},
        {"type": "type", "text": "weather bo"},
        {"type": "press", "key": "Tab"},
        {"type": "screenshot", "path": str(screenshot)},
    ]
    with served(tmp_path, "--model", out) as url:
        result = drive(node, url, steps)
    assert_clean(result)
    assert result["spelling"] is False
    keys = keystrokes(result)
    typed = [key["typed"] for key in keys]
    assert len(typed) == len("hotels new york") + len("weather bo")
    python = python_strips(typed + [result["steps"][3]["value"]], "--model", out)
    differing = [
        (key["typed"], key["strip"], p) for key, p in zip(keys, python) if key["strip"] != p
    ]
    assert not differing, differing[:5]
    assert sum(bool(p) for p in python) > len(typed) // 2  # strips, not empty lists
    # Tab: the first word of the strip replaces the word being typed, and a space follows.
    accepted = result["steps"][3]
    assert accepted["value"] == f"weather {python[len(typed) - 1][0]} "
    assert accepted["strip"] == python[-1]
    assert len(result["timings"]) >= len(typed)  # a latency for every strip shown
    assert_png(screenshot)


def test_a_misspelled_word_is_underlined_with_the_python_corrections(
    node, query_completion_run, spelling_run, tmp_path
):
    index = (PACKAGE / "dist" / "index.js").read_text(encoding="utf-8")
    if "SpellingCorrector" not in index:
        pytest.fail(
            "ondevice-js/dist/index.js exports no SpellingCorrector, so the page cannot check "
            "spelling: build the package (`npm run build` in ondevice-js/)"
        )
    _, out, _ = query_completion_run
    corrected = nlpkit("correct", "--model", spelling_run, "--k", 3, "hotels", "bostn")
    python = {row["word"]: [word for word, _ in row["suggestions"]] for row in corrected}
    expected = {word: best for word, best in python.items() if best and best[0] != word}
    assert "bostn" in expected, python  # the tiny corrector repairs it (else pick another)
    fix = expected["bostn"][0]
    screenshot = tmp_path / "spelling.png"
    steps = [
        {"type": "type", "text": "hotels bostn "},
        {"type": "state"},
        {"type": "screenshot", "path": str(screenshot)},
        {"type": "click", "testid": "correction-option", "text": fix},
    ]
    with served(tmp_path, "--model", out, "--spelling-model", spelling_run) as url:
        result = drive(node, url, steps)
    assert_clean(result)
    assert result["spelling"] is True
    # With a corrector the completion is typo-tolerant: `nlpkit complete --spelling-model`.
    keys = keystrokes(result)
    arguments = ["--model", out, "--spelling-model", spelling_run]
    python_strip = python_strips([key["typed"] for key in keys], *arguments)
    differing = [(k["typed"], k["strip"], p) for k, p in zip(keys, python_strip) if k["strip"] != p]
    assert not differing, differing[:5]
    # Once a space finishes it, the word is underlined in the box, with its corrections.
    typed = result["steps"][1]
    assert typed["value"] == "hotels bostn "
    assert typed["corrections"] == expected
    assert typed["underlined"] == ["bostn"]
    clicked = result["steps"][3]
    assert clicked["value"] == f"hotels {fix} "
    assert "bostn" not in clicked["corrections"] and clicked["underlined"] == []
    assert_png(screenshot)


def test_a_damaged_model_file_is_one_error_on_the_page_naming_it(
    node, query_completion_run, tmp_path
):
    _, out, _ = query_completion_run
    copy = tmp_path / "model"
    shutil.copytree(out / "export", copy)
    (copy / "model_int8.tflite").write_bytes(b"not a model")
    screenshot = tmp_path / "error.png"
    with served(tmp_path, "--model", copy) as url:
        result = drive(node, url, [{"type": "screenshot", "path": str(screenshot)}])
    message = (
        "--model: model_int8.tflite is damaged (its size or checksum differs from the "
        f"manifest's). Received: {url}models/queries/model_int8.tflite"
    )
    assert result["errorText"] == result["ready"]["error"] == message
    assert_png(screenshot)


def test_the_translator_in_the_browser_gives_the_python_translations(node):
    """Greedy and at the widest beam, float32 and dynamic_int8."""
    from keras_nlpkit.ondevice import Translator
    from tests.translation_exports import NUM_BEAMS
    from tests.translation_exports import SENTENCES
    from tests.translation_exports import exported

    index = (PACKAGE / "dist" / "index.js").read_text(encoding="utf-8")
    if "Translator" not in index:
        pytest.fail(
            "ondevice-js/dist/index.js exports no Translator, so the page cannot translate: "
            "build the package (`npm run build` in ondevice-js/)"
        )
    variants, beams = ("float32", "dynamic_int8"), [1, NUM_BEAMS]
    _, out, _ = exported("transformer", variants)
    job = {"model": str(out), "sentences": SENTENCES, "beams": beams, "variants": variants}
    result = subprocess.run(
        [node, TRANSLATE],
        input=json.dumps({**job, "chromium": str(CHROMIUM)}),
        capture_output=True,
        text=True,
        cwd=PACKAGE,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    assert not found["pageErrors"] and not found["failed"], found
    for variant in variants:
        translator = Translator(out, variant=variant)
        for beam in beams:
            rows = found["variants"][variant]["beams"][str(beam)]
            python = [translator.translate_ids(translator.source_ids(s), beam) for s in SENTENCES]
            assert [row["ids"] for row in rows] == python, (variant, beam)
            assert [row["text"] for row in rows] == [translator.detokenize(i) for i in python]

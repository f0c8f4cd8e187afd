"""`nlpkit serve-demo`'s server: what it serves, as what, and what it refuses (no browser).

The page itself is tested in a real Chromium by tests/ondevice/test_web_demo.py.
"""

import json
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.recipes.serve_demo import PACKAGE
from keras_nlpkit.recipes.serve_demo import make_server


@contextmanager
def serving(*args, **kwargs):
    server = make_server(*args, port=0, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def get(url):
    """(status, Content-Type, body) of a GET, 4xx included."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_it_serves_the_page_the_runtime_litert_and_only_the_listed_model_files(
    query_completion_run, spelling_run
):
    _, out, _ = query_completion_run
    export = out / "export"
    manifest = json.loads((export / "manifest.json").read_text())
    with serving(out, spelling_run) as base:
        status, kind, body = get(f"{base}/")
        assert status == 200 and kind.startswith("text/html") and b"demo.js" in body
        assert get(f"{base}/demo.js")[1].startswith("text/javascript")
        assert get(f"{base}/dist/index.js")[1].startswith("text/javascript")
        wasm = "node_modules/@litertjs/core/wasm/litert_wasm_internal.wasm"
        assert get(f"{base}/{wasm}")[:2] == (200, "application/wasm")
        config = json.loads(get(f"{base}/config.json")[2])
        assert config == {
            "queries": "models/queries/",
            "spelling": "models/spelling/",
            "wasm": "node_modules/@litertjs/core/wasm/",
        }
        for name in ["manifest.json", *manifest["files"]]:
            status, _, body = get(f"{base}/models/queries/{name}")
            assert status == 200 and body == (export / name).read_bytes(), name
        # The array file is checksummed as written: served as bytes, no Content-Encoding.
        assert get(f"{base}/models/queries/completion.bin")[1] == "application/octet-stream"
        assert get(f"{base}/models/spelling/manifest.json")[0] == 200
        refused = [
            "/models/queries/report.json",  # in the export folder, but not listed
            "/models/queries/saved_model",
            "/models/queries/../model.keras",
            "/models/queries/%2e%2e/recipe.json",
            "/models/other/manifest.json",
            "/dist/../package.json",
            "/dist/%2e%2e/package.json",
            "/node_modules/playwright-core/package.json",
            "/..%2fpackage.json",
            "/missing.js",
        ]
        for path in refused:  # urllib sends a path as it is, `..` and all
            assert get(f"{base}{path}")[0] == 404, path


def test_a_spelling_model_is_optional(query_completion_run):
    _, out, _ = query_completion_run
    with serving(out) as base:
        assert json.loads(get(f"{base}/config.json")[2])["spelling"] is None
        assert get(f"{base}/models/spelling/manifest.json")[0] == 404


def test_bad_folders_are_one_clear_error(query_completion_run, spelling_run, tmp_path):
    _, out, _ = query_completion_run
    with pytest.raises(UserInputError, match="--model: not a model folder"):
        make_server(tmp_path, port=0)
    with pytest.raises(UserInputError, match="--spelling-model: this is a query-completion"):
        make_server(out, out, port=0)
    with pytest.raises(UserInputError, match="--model: this is a spelling-correction"):
        make_server(spelling_run, port=0)
    unbuilt = tmp_path / "ondevice-js"
    (unbuilt / "web").mkdir(parents=True)
    (unbuilt / "web" / "index.html").write_text("<!doctype html>")
    with pytest.raises(UserInputError, match=r"run `npm ci && npm run build` in .*ondevice-js"):
        make_server(out, port=0, package=unbuilt)
    with pytest.raises(UserInputError, match="a checkout of the repository"):
        make_server(out, port=0, package=tmp_path / "nowhere")
    assert PACKAGE.name == "ondevice-js" and (PACKAGE / "web" / "index.html").is_file()


def test_a_port_in_use_names_it(query_completion_run):
    _, out, _ = query_completion_run
    first = make_server(out, port=0)
    try:
        port = first.server_address[1]
        with pytest.raises(UserInputError, match=f"--port: cannot listen on 127.0.0.1:{port}"):
            make_server(out, port=port)
    finally:
        first.server_close()

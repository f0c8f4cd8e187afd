"""`nlpkit serve-demo`: the browser demo, served on this machine (standard library only).

    nlpkit serve-demo --model DIR [--spelling-model DIR2] [--port 8765] [--host 127.0.0.1]

Serves `ondevice-js/web/` (the page), the built TypeScript runtime
(`ondevice-js/dist/`), LiteRT.js (`@litertjs/core`'s `dist/` and `wasm/`,
`@litertjs/wasm-utils`' `dist/`) and the two export folders, under
`/models/queries/` and `/models/spelling/`. Everything runs in the browser; the
server only hands out files. Of the user's disk it serves nothing but each export
folder's `manifest.json` and the files that manifest lists. Needs a checkout of
the repository with `npm ci && npm run build` done in `ondevice-js/`.
"""

import argparse
import http.server
import json
import socket
import sys
import urllib.parse
from functools import partial
from pathlib import Path

import keras_nlpkit
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.model_folder import MANIFEST_FILE
from keras_nlpkit.ondevice.model_folder import find_export_dir
from keras_nlpkit.recipes.arguments import integer

PACKAGE = Path(keras_nlpkit.__file__).resolve().parents[1] / "ondevice-js"
LITERT = "node_modules/@litertjs"
# URL prefix → folder under ondevice-js/ whose files are served as they are.
STATIC = {
    "/dist/": "dist",
    f"/{LITERT}/core/dist/": f"{LITERT}/core/dist",
    f"/{LITERT}/core/wasm/": f"{LITERT}/core/wasm",
    f"/{LITERT}/wasm-utils/dist/": f"{LITERT}/wasm-utils/dist",
    "/": "web",
}
# Files a folder needs before the page can run, and what is missing without each.
REQUIRED = {
    "web/index.html": "the page",
    "dist/index.js": "the built runtime",
    f"{LITERT}/core/wasm/litert_wasm_internal.wasm": "LiteRT.js",
    f"{LITERT}/wasm-utils/dist/index.js": "LiteRT.js",
}
# Module scripts and WebAssembly are refused by browsers under any other type; `.gz`
# goes without Content-Encoding, so the page checksums the bytes the export wrote.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".gz": "application/gzip",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a query-completion folder")
    parser.add_argument(
        "--spelling-model",
        default=None,
        help="a spelling model folder: misspelled words underlined, typo-tolerant completion",
    )
    parser.add_argument("--port", type=port_number, default=8765, help="0: any free port")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (anything but loopback exposes the page to the network)",
    )


def port_number(text):
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    value = integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in [0, 65535], got {text!r}")
    return value


def run(args):
    server = make_server(args.model, args.spelling_model, host=args.host, port=args.port)
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    try:  # Ctrl-C is how it ends: no "interrupted" message, exit 0
        if args.host not in LOOPBACK:
            print(
                f"nlpkit: warning: listening on {args.host}: other machines can open the page",
                file=sys.stderr,
            )
        print(f"nlpkit serve-demo: open http://{shown}:{port}/ (Ctrl-C stops it)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def make_server(model, spelling_model=None, host="127.0.0.1", port=8765, package=PACKAGE):
    """A `ThreadingHTTPServer` for the demo, bound but not serving yet."""
    check_package(package)
    models = {"queries": model_files(model, "query-completion", "--model")}
    if spelling_model is not None:
        models["spelling"] = model_files(spelling_model, "spelling", "--spelling-model")
    config = {
        "queries": "models/queries/",
        "spelling": "models/spelling/" if spelling_model is not None else None,
        "wasm": f"{LITERT}/core/wasm/",
    }
    handler = partial(_Handler, package=Path(package), models=models, config=config)
    server_class = _Server6 if ":" in host else _Server
    try:
        return server_class((host, port), handler)
    except OSError as error:
        raise UserInputError(
            f"--port: cannot listen on {host}:{port} ({error.strerror or error}). "
            f"Received: --host {host} --port {port}"
        ) from None


def check_package(package):
    """The page, the built runtime and LiteRT.js are there, or a `UserInputError`."""
    package = Path(package)
    if not package.is_dir():
        raise UserInputError(
            f"serve-demo: the page and the TypeScript runtime live in ondevice-js/ of a "
            f"checkout of the repository, which this install lacks. Received: {package}"
        )
    for name, what in REQUIRED.items():
        if not (package / name).is_file():
            raise UserInputError(
                f"serve-demo: {what} is missing: run `npm ci && npm run build` in "
                f"{package}. Received: no {package / name}"
            )


def model_files(path, kind, argument):
    """`{name: path}` of what an export folder may serve: its manifest and its listed files."""
    export_dir, manifest = find_export_dir(path, kind, argument)
    names = [MANIFEST_FILE, *manifest.get("files", {})]
    # A manifest naming `../x` or `a/b` does not open the rest of the disk.
    plain = [name for name in names if name == Path(name).name and name not in ("", ".", "..")]
    return {name: export_dir / name for name in plain}


class _Server(http.server.ThreadingHTTPServer):
    """The demo's server: a browser that drops a connection is not an error worth a trace."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of the page, the runtime, LiteRT.js and the listed model files; 404 else."""

    server_version = "nlpkit-serve-demo"

    def __init__(self, *args, package, models, config, **kwargs):
        self.package, self.models, self.config = package, models, config
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self._respond(body=True)

    def do_HEAD(self):
        self._respond(body=False)

    def _respond(self, body):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if path == "/config.json":
            return self._send(json.dumps(self.config).encode(), ".json", body)
        file = self._file(path)
        if file is None or not file.is_file():
            return self.send_error(404, "not part of the demo")
        self._send(file.read_bytes(), file.suffix, body)

    def _file(self, path):
        """The file `path` names, or None; never a file outside the folders served."""
        if "\\" in path or ".." in path.split("/"):
            return None
        if path.startswith("/models/"):
            kind, _, name = path.removeprefix("/models/").partition("/")
            return self.models.get(kind, {}).get(name)
        if path == "/":
            path = "/index.html"
        for prefix, folder in STATIC.items():
            if path.startswith(prefix):
                root = (self.package / folder).resolve()
                file = (root / path.removeprefix(prefix)).resolve()
                return file if file.is_relative_to(root) else None
        return None

    def _send(self, data, suffix, body):
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        # A retrained model or a rebuilt runtime is what the next reload shows.
        self.send_header("Cache-Control", "no-cache")
        # Cross-origin isolated (every file is same-origin): performance.now() in the page
        # then ticks in microseconds, not 0.1 ms, for the latencies it shows.
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_request(self, code="-", size="-"):
        """Quiet on success: only the requests that went wrong are printed, once each."""
        if isinstance(code, int) and code >= 400:
            super().log_request(code, size)

    def log_error(self, format, *args):
        pass  # `send_error` logs through `log_request` too

    def log_message(self, format, *args):
        sys.stderr.write(f"nlpkit serve-demo: {self.address_string()} {format % args}\n")

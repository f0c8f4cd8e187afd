#!/usr/bin/env python3
"""The README's two commands (and the linters), runnable with nothing but Python 3.11+.

    python3 dev.py demo [nlpkit demo arguments]  # set up .venv, run the main job
    python3 dev.py test [pytest arguments]       # .venv + test extras, ondevice-js, chromium; tests
    python3 dev.py lint                          # ruff (lint + format check), import contracts

Each creates `.venv` beside this file on first use and installs the project into it
(editable), then reinstalls only when pyproject.toml changes. Standard library only.
`python3 dev.py test --run-large` also runs the slow tests (real data, long training).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
NODE_PACKAGE = ROOT / "ondevice-js"  # the TypeScript on-device runtime
CHROMIUM = "/usr/bin/chromium"  # Debian's, for the browser demo's test
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv(extras):
    if not (BIN / "python").exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"dev.py: installing keras-nlpkit{spec[1:]} into {VENV}", flush=True)
    pip = [str(BIN / "python"), "-m", "pip"]
    subprocess.run(pip + ["install", "--upgrade", "pip"], check=True)
    subprocess.run(pip + ["install", "-e", spec], check=True, cwd=ROOT)
    stamp.write_text(digest)


def ensure_node_package():
    """`npm ci` in ondevice-js/ when its lock file changed, then `npm test` (build + its
    own tests): the Python tests compare the Python runtime with the built package."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("dev.py: the tests need Node.js 20+ with npm (ondevice-js/, on LiteRT.js)")
    stamp = NODE_PACKAGE / "node_modules" / ".installed"
    digest = hashlib.sha256((NODE_PACKAGE / "package-lock.json").read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == digest):
        print("dev.py: npm ci in ondevice-js/", flush=True)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], check=True, cwd=NODE_PACKAGE)
        stamp.write_text(digest)
    return subprocess.run([npm, "test"], cwd=NODE_PACKAGE).returncode


def ensure_chromium():
    """Debian's Chromium for the browser demo's end-to-end test (playwright-core drives
    it; npm ci brings no browser): installed with apt-get when this is root, else named."""
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("dev.py: installing chromium (apt-get), for the browser demo's test", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        install = ["apt-get", "install", "-y", "-qq", "chromium"]
        subprocess.run(install, check=True, env=env, stdout=subprocess.DEVNULL)
        return
    sys.exit(f"dev.py: the tests need Chromium at {CHROMIUM} (apt-get install chromium)")


def lint():
    """ruff's lint rules and format check, then the import contracts (pyproject.toml)."""
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["lint-imports"]):
        code = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT).returncode
        if code:
            return code
    return 0


def main(argv):
    if not argv or argv[0] not in ("demo", "test", "lint"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    if command == "demo":
        ensure_venv("")
        return subprocess.run([str(BIN / "nlpkit"), "demo", *rest]).returncode
    ensure_venv("test")
    if command == "lint":
        return lint()
    if ensure_node_package():
        return 1
    ensure_chromium()
    if not any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in rest):
        # pytest-xdist: the tests are mostly single-threaded TensorFlow, so one worker a
        # core (up to 4; each holds its own TensorFlow) nearly halves the wall time on 2.
        rest = ["-n", str(min(4, os.cpu_count() or 1)), *rest]
    return subprocess.run([str(BIN / "python"), "-m", "pytest", "-q", *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

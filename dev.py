#!/usr/bin/env python3
"""The README's two commands, runnable with nothing but Python 3.11+.

    python3 dev.py demo [nlpkit demo arguments]   # set up .venv, run the main job
    python3 dev.py test [pytest arguments]        # set up .venv with test extras, run the fast suite

Each creates `.venv` beside this file on first use and installs the project into it
(editable), then reinstalls only when pyproject.toml changes. Standard library only.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
# The fast suite: everything but tests marked `large` (real data, long training).
FAST_SUITE = ["-m", "not large", "-q"]


def ensure_venv(extras):
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Python 3.11+ is needed. Received: {sys.version.split()[0]}")
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


def main(argv):
    if not argv or argv[0] not in ("demo", "test"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if command == "demo":
        ensure_venv("")
        return subprocess.run([str(BIN / "nlpkit"), "demo", *rest], env=env).returncode
    ensure_venv("test")
    cmd = [str(BIN / "python"), "-m", "pytest", *FAST_SUITE, *rest]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

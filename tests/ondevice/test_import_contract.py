"""The on-device package is TF-free, by the linter's contract and in a running process."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("tensorflow", "keras", "keras_hub", "tf_keras", "jax")

# Runs with every heavy import refused by a meta-path hook, as on a phone without them.
BLOCKED = f"""
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            raise ImportError(f"blocked: {{name}}")

sys.meta_path.insert(0, Refuse())
"""


def run(script):
    return subprocess.run(
        [sys.executable, "-c", BLOCKED + script], capture_output=True, text=True, cwd=ROOT
    )


def test_every_ondevice_module_and_the_cli_commands_import_with_tensorflow_blocked():
    script = """
import pkgutil, importlib, keras_nlpkit.ondevice as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"keras_nlpkit.ondevice.{module.name}")
from keras_nlpkit import cli
for argv in (
    ["complete", "--model", "m", "x"],
    ["correct", "--model", "m", "x"],
    ["serve-demo", "--model", "m"],
):
    cli._parser(argv)
print("ok")
"""
    result = run(script)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_the_block_itself_refuses_tensorflow():
    result = run("import keras_nlpkit.layers\n")
    assert result.returncode != 0 and "blocked: keras" in result.stderr


@pytest.fixture
def lint_imports():
    path = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if path is None:
        pytest.fail("lint-imports is not installed: it is a test extra (pip install -e '.[test]')")
    return path


def test_the_contract_holds_and_fails_on_a_function_level_import(tmp_path, lint_imports):
    assert subprocess.run([lint_imports], cwd=ROOT, capture_output=True).returncode == 0
    # A copy of the package whose on-device lexicon imports TensorFlow inside a function.
    copy = tmp_path / "repo"
    shutil.copytree(
        ROOT / "keras_nlpkit", copy / "keras_nlpkit", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    lexicon = copy / "keras_nlpkit" / "ondevice" / "lexicon.py"
    lexicon.write_text(lexicon.read_text() + "\n\ndef sneaky():\n    import tensorflow\n")
    result = subprocess.run(
        [lint_imports],
        cwd=copy,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(copy), "PATH": ""},
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "ondevice is TF-free" in result.stdout and "BROKEN" in result.stdout
    assert "keras_nlpkit.ondevice.lexicon -> tensorflow" in result.stdout

"""`nlpkit`: the command table, one quiet line per failure, TF-free on-device commands."""

import importlib
import os
import subprocess
import sys

import pytest

from keras_nlpkit import cli


def test_every_command_of_the_table_has_its_module():
    for (command, recipe), (module, help_text) in cli.COMMANDS.items():
        loaded = importlib.import_module(f"keras_nlpkit.recipes.{module}")
        assert callable(loaded.add_arguments) and callable(loaded.run), module
        assert help_text and (recipe is None or command in cli.GROUPS)
    assert cli._selected(["train", "glove", "--dim", "3"]) == ("train", "glove")
    assert cli._selected(["complete", "--model", "m", "x"]) == ("complete", None)
    assert cli._selected(["--help"]) == (None, None)


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for (command, recipe), _ in cli.COMMANDS.items():
        if command == "train":
            assert recipe in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["train", "char-lm", "--corpus", "missing.txt", "--out", "o"],
            "nlpkit: error: --corpus: no such file. Received: missing.txt",
        ),
        (
            ["train", "glove", "--corpus", "c.txt", "--out", "o", "--learning-rate", "-1"],
            "nlpkit: error: --learning-rate must be in (0, inf). Received: -1.0",
        ),
    ],
)
def test_a_failure_is_one_line_with_no_tensorflow_start_up_noise(tmp_path, argv, message):
    """TensorFlow prints C++ start-up lines (oneDNN, CUDA) at import; the CLI drops them."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [message], result.stderr
    assert not (tmp_path / "o").exists()

"""One config validation for every recipe, and the flags made from a config."""

import argparse
import dataclasses
import json

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments


@dataclasses.dataclass
class ExampleConfig(RecipeConfig):
    units: int = 8
    learning_rate: float = 1e-3
    dropout: float = 0.1
    fraction: float = 0.5
    seed: int = 0
    mode: str = "fast"
    path: str = ""

    ranges = {"fraction": "(0, 1]"}
    choices = {"mode": ("fast", "slow")}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"units": 0}, r"--units must be in \[1, inf\). Received: 0"),
        ({"units": 2.5}, "--units must be a whole number. Received: 2.5"),
        ({"learning_rate": -1.0}, r"--learning-rate must be in \(0, inf\). Received: -1.0"),
        ({"learning_rate": float("nan")}, "--learning-rate must be a finite number. Received: nan"),
        ({"dropout": 1.0}, r"--dropout must be in \[0, 1\)"),
        ({"fraction": 0.0}, r"--fraction must be in \(0, 1\]"),
        ({"seed": -1}, r"--seed must be in \[0, inf\)"),
        ({"mode": "medium"}, r"--mode must be one of \['fast', 'slow'\]. Received: 'medium'"),
    ],
)
def test_every_field_is_checked_by_one_rule_set(change, message):
    with pytest.raises(UserInputError, match=message):
        dataclasses.replace(ExampleConfig(), **change).check()


def test_the_edges_that_are_allowed():
    config = ExampleConfig(dropout=0.0, fraction=1.0, seed=0, units=1).check()
    assert config.units == 1


def test_flags_from_the_config_and_back():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, ExampleConfig)
    args = parser.parse_args(["--units", "16", "--learning-rate", "0.01", "--mode", "slow"])
    config = config_from_arguments(ExampleConfig, args)
    assert (config.units, config.learning_rate, config.mode, config.dropout) == (
        16,
        0.01,
        "slow",
        0.1,
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--learning-rate", "inf"])
    overrides = argparse.ArgumentParser()
    add_config_arguments(overrides, ExampleConfig, overrides_only=True)
    base = ExampleConfig(units=64, seed=3)
    config = config_from_arguments(ExampleConfig, overrides.parse_args(["--seed", "5"]), base)
    assert (config.units, config.seed) == (64, 5)


def test_a_training_folder_belongs_to_one_recipe(tmp_path):
    out = training.start_run(tmp_path / "run", "glove", ExampleConfig())
    run = json.loads((out / "recipe.json").read_text())
    assert run["recipe"] == "glove" and run["config"]["units"] == 8 and run["nlpkit_version"]
    assert training.read_run(out, "glove")["config"] == run["config"]
    training.start_run(out, "glove", ExampleConfig(units=9))  # the same recipe: a rerun
    with pytest.raises(UserInputError, match="--out: the folder holds a `glove` run"):
        training.start_run(out, "spelling", ExampleConfig())
    with pytest.raises(UserInputError, match="--model: a `glove` run, not a `char-lm` one"):
        training.read_run(out, "char-lm")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserInputError, match="--out: exists and is not a folder"):
        training.start_run(tmp_path / "file", "glove", ExampleConfig())

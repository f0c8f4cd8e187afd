"""What every recipe's command line shares: a config dataclass becomes its flags, checked once.

A recipe's config is a dataclass deriving from `RecipeConfig`; `add_config_arguments`
gives it one `--flag` per field (typed from the default) and `config_from_arguments`
builds it back from the parsed flags. `RecipeConfig.check` validates every field
by one rule set: an `int` must be ≥ 1 and a `float` finite and > 0, unless the
config's `ranges` gives the field another interval (`"[0, 1)"`, `"[0, inf)"`) or
the field is one every recipe bounds alike (`seed` ≥ 0, `dropout` in [0, 1));
a `str` listed in `choices` must be one of them. The error names the flag and the
value, e.g. `--dropout must be in [0, 1). Received: 1.5`.
"""

import argparse
import dataclasses
import math
from typing import ClassVar

from keras_nlpkit.errors import UserInputError


def flag(name):
    """The command-line flag of a config field: `learning_rate` → `--learning-rate`."""
    return "--" + name.replace("_", "-")


MAX_INTEGER = 2**31 - 1  # beyond what the arrays index


def integer(text):
    """An argparse type: a whole number (its range is the config's to check)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_integer(text):
    """An argparse type: a whole number in [1, MAX_INTEGER]."""
    value = integer(text)
    if not 1 <= value <= MAX_INTEGER:
        raise argparse.ArgumentTypeError(
            f"expected a whole number in [1, {MAX_INTEGER}], got {text!r}"
        )
    return value


def number(text):
    """An argparse type: a finite number (`nan` and `inf` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


# Every field is checked: by the config's `ranges`, else by its name, else by its type.
COMMON_RANGES = {"seed": "[0, inf)", "dropout": "[0, 1)"}
DEFAULT_RANGES = {int: "[1, inf)", float: "(0, inf)"}


def _interval(text):
    """`"[0, 1)"` → (0.0, 1.0, low inclusive, high inclusive)."""
    low, high = (part.strip() for part in text[1:-1].split(","))
    return float(low), float(high), text[0] == "[", text[-1] == "]"


@dataclasses.dataclass
class RecipeConfig:
    """The base of every recipe's config: `check()` validates the fields (module docstring)."""

    ranges: ClassVar[dict] = {}
    choices: ClassVar[dict] = {}
    # Fields that may change when a run resumes: they say how long to train, not what.
    resumable: ClassVar[tuple] = ("epochs",)

    def check(self):
        for field in dataclasses.fields(self):
            name, value = field.name, getattr(self, field.name)
            kind = type(field.default)
            if name in self.choices:
                if value not in self.choices[name]:
                    raise UserInputError(
                        f"{flag(name)} must be one of "
                        f"{list(self.choices[name])}. Received: {value!r}"
                    )
                continue
            if kind not in (int, float):
                continue
            if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
                raise UserInputError(f"{flag(name)} must be a whole number. Received: {value!r}")
            if kind is int and value > MAX_INTEGER:
                raise UserInputError(
                    f"{flag(name)} must be at most {MAX_INTEGER}. Received: {value!r}"
                )
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise UserInputError(f"{flag(name)} must be a finite number. Received: {value!r}")
            interval = self.ranges.get(name, COMMON_RANGES.get(name, DEFAULT_RANGES[kind]))
            low, high, low_in, high_in = _interval(interval)
            if not (
                (value > low or (low_in and value == low))
                and (value < high or (high_in and value == high))
            ):
                raise UserInputError(f"{flag(name)} must be in {interval}. Received: {value!r}")
        return self


def add_config_arguments(parser, config_class, overrides_only=False):
    """One flag per field of `config_class`, typed from its default.

    With `overrides_only`, every flag defaults to None: the values given replace
    those of a preset (`config_from_arguments(..., base=preset)`).
    """
    for field in dataclasses.fields(config_class):
        kind = {int: integer, float: number}.get(type(field.default), str)
        default = None if overrides_only else field.default
        parser.add_argument(
            flag(field.name), type=kind, default=default, help=f"default: {field.default!r}"
        )


def config_from_arguments(config_class, args, base=None):
    """The config the parsed flags describe (over `base` when given), checked."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class)}
    if base is not None:
        config = dataclasses.replace(base, **{k: v for k, v in values.items() if v is not None})
    else:
        config = config_class(**values)
    return config.check()


def add_corpus_arguments(parser, corpus_help="UTF-8 text files"):
    """`--corpus FILE [FILE ...]` and `--out DIR`, as every text recipe takes them."""
    parser.add_argument("--corpus", nargs="+", required=True, help=corpus_help)
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")

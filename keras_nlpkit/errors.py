"""The two errors the library raises for its users (TF-free: the on-device code uses them too).

The CLI turns a `UserInputError` into one line, `nlpkit: error: ...`, and exit
status 2; a `TrainingError` into the same line and status 1. Everything else is
a bug and keeps its traceback.
"""


class UserInputError(ValueError):
    """Bad input from the user: an argument, a file or a folder. The message names it
    and the value received."""


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. the loss became NaN); the message says what to change."""

"""What every recipe's training shares: its folder (`recipe.json`) and one `fit` wrapper.

A training folder belongs to one recipe: `start_run` writes `recipe.json`
(`{"recipe", "nlpkit_version", "config"}`, the manifest of a training folder,
read by `keras_nlpkit.ondevice.model_folder` and `read_run`) and refuses a folder
another recipe wrote. `fit` runs `model.fit` with what every recipe needs —
`BackupAndRestore` (rerun the same command to resume after a kill), TensorBoard
logs and `TerminateOnNaN` — and applies the one NaN rule: a non-finite loss in
the history raises `TrainingError`, whatever stopped the run.
"""

import dataclasses
import math
import warnings
from pathlib import Path

import keras

import keras_nlpkit
from keras_nlpkit.errors import TrainingError
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.ondevice.model_folder import RECIPE_FILE
from keras_nlpkit.ondevice.model_folder import read_json


def start_run(out_dir, recipe, config, argument="--out"):
    """Makes `out_dir` this recipe's training folder and writes its `recipe.json`."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"{argument}: exists and is not a folder. Received: {out_dir}")
    manifest = out_dir / RECIPE_FILE
    if manifest.is_file():
        found = read_json(manifest, argument).get("recipe")
        if found != recipe:
            raise UserInputError(
                f"{argument}: the folder holds a `{found}` run (written by `nlpkit train "
                f"{found}`); train `{recipe}` into another folder. Received: {out_dir}"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        manifest,
        {
            "recipe": recipe,
            "nlpkit_version": keras_nlpkit.__version__,
            "config": dataclasses.asdict(config),
        },
    )
    return out_dir


def read_run(model_dir, recipe, argument="--model"):
    """`recipe.json` of a training folder of `recipe`; a `UserInputError` otherwise."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise UserInputError(f"{argument}: no such folder. Received: {model_dir}")
    path = model_dir / RECIPE_FILE
    if not path.is_file():
        raise UserInputError(
            f"{argument}: not a training folder (no {RECIPE_FILE}). Received: {model_dir}"
        )
    run = read_json(path, argument)
    if run.get("recipe") != recipe:
        raise UserInputError(
            f"{argument}: a `{run.get('recipe')}` run, not a `{recipe}` one. Received: {model_dir}"
        )
    return run


def fit(
    model,
    data,
    out_dir,
    epochs,
    save_freq="epoch",
    callbacks=(),
    verbose=1,
    learning_rate=None,
    **fit_arguments,
):
    """`model.fit(data, ...)` with backup, TensorBoard and the NaN rule; returns the history.

    Args:
        model: a compiled Keras model (built, so that a backup can restore into it).
        data: the training stream (it shuffles itself: `fit` does not).
        out_dir: the folder of `backup/` and `logs/`.
        epochs: passes (or checkpoint intervals with `steps_per_epoch`).
        save_freq: back up after every epoch, or every that many steps (a recipe
            training one long epoch then resumes mid-epoch).
        callbacks: more callbacks.
        learning_rate: quoted in the NaN message.
        **fit_arguments: `validation_data`, `steps_per_epoch`, ...
    """
    out_dir = Path(out_dir)
    with warnings.catch_warnings():
        if "steps_per_epoch" not in fit_arguments:
            # Our finite streams end every epoch by design; Keras warns at each first end.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(
            data,
            epochs=epochs,
            callbacks=[
                keras.callbacks.BackupAndRestore(str(out_dir / "backup"), save_freq=save_freq),
                keras.callbacks.TensorBoard(str(out_dir / "logs")),
                keras.callbacks.TerminateOnNaN(),
                *callbacks,
            ],
            shuffle=False,
            verbose=verbose,
            **fit_arguments,
        )
    losses = history.history.get("loss", [])
    if any(not math.isfinite(value) for value in losses):
        now = f" (now {learning_rate})" if learning_rate is not None else ""
        raise TrainingError(
            f"{model.name}: training stopped at epoch {len(losses)}: the loss "
            f"became NaN. Lower --learning-rate{now} and rerun."
        )
    return history


def adamw_with_warmup(learning_rate, total_steps, warmup_fraction, weight_decay):
    """BERT's optimizer: AdamW, linear warm-up to `learning_rate`, then cosine decay to 0.

    No weight decay on layer-norm scales and offsets or biases; gradients clipped to
    norm 1. `warmup_fraction` of `total_steps` warm up (at least one step).
    """
    warmup = max(1, int(warmup_fraction * total_steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=max(1, total_steps - warmup),
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=weight_decay, clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return optimizer

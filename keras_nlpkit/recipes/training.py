"""What every recipe's training shares: its folder (`recipe.json`) and one `fit` wrapper.

A training folder belongs to one recipe: `start_run` writes `recipe.json`
(`{"recipe", "nlpkit_version", "config", "inputs"}`, the manifest of a training
folder, read by `keras_nlpkit.ondevice.model_folder` and `read_run`), refuses a
folder another recipe wrote, and refuses to resume with another config or other
input files. `fit` runs `model.fit` with what every recipe needs —
`BackupAndRestore` (rerun the same command to resume after a kill), TensorBoard
logs and `TerminateOnNaN` — and applies the one NaN rule: a non-finite loss in
the history raises `TrainingError`, whatever stopped the run. `finish` removes the
backup once the recipe's outputs are written. Under a distribution
(`keras_nlpkit.recipes.distribution`) process 0 alone writes the backup, the logs
and the history; every process restores from the backup.
"""

import dataclasses
import hashlib
import json
import math
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import keras

import keras_nlpkit
from keras_nlpkit.errors import TrainingError
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import check_input_file
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.ondevice.model_folder import RECIPE_FILE
from keras_nlpkit.ondevice.model_folder import read_json
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes.arguments import flag

BACKUP = "backup"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"


def start_run(out_dir, recipe, config, inputs=(), argument="--out"):
    """Makes `out_dir` this recipe's training folder and writes its `recipe.json`.

    A folder of another recipe is refused. A folder where a run of this recipe has
    begun (a backup or a model is there) resumes only with the same config and the
    same input files (their SHA-256 is in `recipe.json`); a fields listed in the
    config's `resumable` (how long to train) may change. Checked before anything is
    written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"{argument}: exists and is not a folder. Received: {out_dir}")
    manifest = out_dir / RECIPE_FILE
    run = {
        "recipe": recipe,
        "nlpkit_version": keras_nlpkit.__version__,
        "config": dataclasses.asdict(config),
        "inputs": {str(path): file_digest(path) for path in inputs},
    }
    if manifest.is_file():
        found = read_json(manifest, argument)
        if found.get("recipe") != recipe:
            raise UserInputError(
                f"{argument}: the folder holds a `{found.get('recipe')}` run (written by "
                f"`nlpkit train {found.get('recipe')}`); train `{recipe}` into another folder. "
                f"Received: {out_dir}"
            )
        begun = (out_dir / MODEL_FILE).is_file() or any(out_dir.rglob(BACKUP))
        changes = _changes(found, run, getattr(config, "resumable", ()))
        if begun and changes:
            raise UserInputError(
                f"{argument}: the folder holds a `{recipe}` run with other settings "
                f"({'; '.join(changes)}); rerun it as it was, or train into a new folder. "
                f"Received: {out_dir}"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(manifest, run)
    return out_dir


def file_digest(path):
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def _changes(old, new, resumable):
    """What differs between two `recipe.json`s, as `--flag: old → new` phrases."""
    changes = []
    old_config, new_config = old.get("config", {}), new["config"]
    for name in sorted(set(old_config) | set(new_config)):
        if name not in resumable and old_config.get(name) != new_config.get(name):
            changes.append(f"{flag(name)}: {old_config.get(name)!r} → {new_config.get(name)!r}")
    if old.get("inputs", {}) != new["inputs"]:
        changes.append("the input files differ (names or contents)")
    return changes


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


@dataclasses.dataclass
class Fit:
    """What `fit` returns: the per-epoch history and the wall time of the fit that made it."""

    history: dict
    seconds: float

    def last(self, name, digits=4):
        """The last epoch's value of `name` (e.g. "val_loss"), rounded; None if not logged."""
        values = self.history.get(name)
        return round(values[-1], digits) if values else None

    @property
    def epochs(self):
        return len(self.history.get("loss", []))


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
    """`model.fit(data, ...)` with backup, TensorBoard and the NaN rule; returns a `Fit`.

    The backup outlives `fit`: it is removed by `finish`, once the recipe has saved
    and exported the model, so a kill during the export resumes with the trained
    weights (Keras then runs no epoch, and the finished fit's history is returned).
    A damaged backup (e.g. written on a full disk) is set aside with a warning, and
    training starts again.

    Args:
        model: a compiled Keras model (built, so that a backup can restore into it).
        data: the training stream (it shuffles itself: `fit` does not).
        out_dir: the folder of `backup/`, `logs/` and `history.json`.
        epochs: passes (or checkpoint intervals with `steps_per_epoch`).
        save_freq: back up after every epoch, or every that many steps (a recipe
            training one long epoch then resumes mid-epoch).
        callbacks: more callbacks.
        learning_rate: quoted in the NaN message.
        **fit_arguments: `validation_data`, `steps_per_epoch`, ...
    """
    out_dir = Path(out_dir)
    plan = distribution.current()
    if plan.is_chief:
        _set_aside_a_damaged_backup(out_dir / BACKUP)
    data = _even_batches(data, plan)
    if "validation_data" in fit_arguments:
        fit_arguments["validation_data"] = _even_batches(fit_arguments["validation_data"], plan)
    backup = _Backup(str(out_dir / BACKUP), save_freq=save_freq, delete_checkpoint=False)
    logs = [keras.callbacks.TensorBoard(str(out_dir / "logs"))] if plan.is_chief else []
    verbose = verbose if plan.is_chief else 0  # one progress bar, process 0's
    start = time.perf_counter()
    with warnings.catch_warnings():
        if "steps_per_epoch" not in fit_arguments:
            # Our finite streams end every epoch by design; Keras warns at each first end.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(
            data,
            epochs=epochs,
            callbacks=[backup, *logs, keras.callbacks.TerminateOnNaN(), *callbacks],
            shuffle=False,
            verbose=verbose,
            **fit_arguments,
        )
    result = Fit(
        {k: [float(v) for v in values] for k, values in history.history.items()},
        time.perf_counter() - start,
    )
    losses = result.history.get("loss", [])
    if any(not math.isfinite(value) for value in losses):
        if plan.is_chief:  # the backup holds the diverged weights
            shutil.rmtree(out_dir / BACKUP, ignore_errors=True)
        now = f" (now {learning_rate})" if learning_rate is not None else ""
        raise TrainingError(
            f"{model.name}: training stopped at epoch {len(losses)}: the loss "
            f"became NaN. Lower --learning-rate{now} and rerun."
        )
    stored = out_dir / HISTORY_FILE
    if not losses and stored.is_file():  # resumed after the last epoch: that fit's figures
        return Fit(**read_json(stored, "--out"))
    if plan.is_chief:
        atomic_write_json(stored, dataclasses.asdict(result))
    return result


class _Backup(keras.callbacks.BackupAndRestore):
    """Keras' backup, written by process 0 alone; every process restores from it.

    With a step frequency it is also written when training ends, so that the backup
    always holds the trained weights (a rerun, e.g. on TensorFlow to export, trains
    no further); Keras writes it only every `save_freq` steps.
    """

    def _save_model(self):
        plan = distribution.current()
        if plan.is_chief:
            with plan.outside():
                super()._save_model()

    def on_train_end(self, logs=None):
        if self.save_freq != "epoch":
            self._save_model()
        super().on_train_end(logs)


def _even_batches(data, plan):
    """On JAX, the batches of a `tf.data` stream that split evenly over the replicas.

    An epoch's shorter last batch is skipped; a batch size that does not split is
    refused (`Distribution.check_batch_size`) when the pipeline's graph tells it.
    TensorFlow's strategies split unevenly.
    """
    if plan.replicas == 1 or keras.backend.backend() != "jax":
        return data
    import tensorflow as tf
    from tensorflow.python.data.experimental.ops import distribute

    if not isinstance(data, tf.data.Dataset):
        return data
    # Read from the graph, as Keras' own sharding does: drawing a batch would start
    # a shuffled stream's epochs one permutation later.
    rows = int(distribute.compute_batch_size(data))
    if rows > 0:
        plan.check_batch_size(rows)
    replicas = plan.replicas
    return data.filter(lambda *batch: tf.shape(tf.nest.flatten(batch)[0])[0] % replicas == 0)


def exports_here(log, how):
    """Whether this backend can export to TFLite (TensorFlow); if not, logs `how` to.

    A model trained on JAX is saved as a backend-neutral `.keras` and the backup is
    kept; the TFLite files come from TensorFlow.
    """
    if keras.backend.backend() == "tensorflow":
        return True
    log(f"Trained on {keras.backend.backend()}; the TFLite export needs TensorFlow: {how}")
    return False


RERUN_TO_EXPORT = (
    "rerun the same command with KERAS_BACKEND=tensorflow (it resumes from the backup, "
    "trains no further, and exports)"
)


def export_figures(report):
    """`metrics.json`'s `export` entry: each variant's size and parity figures."""
    return {
        label: {
            "bytes": entry["bytes"],
            "max_abs_diff": entry["max_abs_diff"],
            "top1_agreement": entry["top1_agreement"],
        }
        for label, entry in report["variants"].items()
    }


def check_corpus(paths):
    """`--corpus` names files that exist and are not empty; a `UserInputError` otherwise."""
    if not paths:
        raise UserInputError("--corpus: no files given. Received: []")
    for path in paths:
        path = check_input_file(path, "--corpus")
        if path.stat().st_size == 0:
            raise UserInputError(f"--corpus: the file is empty. Received: {path}")


def save_word_vectors(vectors, out_dir, projector_words, name):
    """A word-vector recipe's outputs of a `WordVectors`: `vectors.txt` (GloVe text format),
    `embedding.keras` (StringLookup + frozen Embedding, named `name`) and `projector/`."""
    out_dir = Path(out_dir)
    vectors.save_text(out_dir / "vectors.txt")
    save_model_atomically(vectors.embedding(name=name), out_dir / "embedding.keras")
    vectors.write_projector(out_dir / "projector", max_words=projector_words)


def print_metrics(metrics, **dumps_arguments):
    """Prints a recipe's metrics as JSON; nothing on a process that wrote none (not 0)."""
    if metrics is not None:
        print(json.dumps(metrics, **dumps_arguments))


def finish(out_dir):
    """Ends a run: the model is saved and exported, so the backup can go."""
    shutil.rmtree(Path(out_dir) / BACKUP, ignore_errors=True)


def resumed_epoch(out_dir):
    """The epoch `fit` resumes at in `out_dir`: the epochs its backup has finished, or 0.

    For a stream whose draws depend on the epoch (Word2Vec's), so that a resumed run
    draws what an uninterrupted one would. Reads the metadata Keras'
    `BackupAndRestore` writes at each epoch's end (a damaged backup is first set
    aside, as `fit` would).
    """
    backup = Path(out_dir) / BACKUP
    if distribution.current().is_chief:
        _set_aside_a_damaged_backup(backup)
    metadata = backup / "training_metadata.json"
    if not metadata.is_file():
        return 0
    return int(json.loads(metadata.read_text(encoding="utf-8")).get("epoch", 0))


def _set_aside_a_damaged_backup(backup):
    metadata = backup / "training_metadata.json"
    if not metadata.is_file():
        return
    try:
        json.loads(metadata.read_text(encoding="utf-8"))
        return
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    aside = backup.with_name(f"{backup.name}.damaged-{int(time.time())}")
    os.replace(backup, aside)
    print(
        f"nlpkit: warning: the backup of the interrupted run is damaged ({metadata} is not "
        f"JSON); it was moved to {aside} and training starts again",
        file=sys.stderr,
    )


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


def stop_after(seconds):
    """A callback that stops training `seconds` of wall time after the first step."""

    class StopAfter(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.start = None

        def on_train_batch_end(self, batch, logs=None):
            if self.start is None:  # the first step traces; time from its end
                self.start = time.perf_counter()
            elif time.perf_counter() - self.start > seconds:
                self.model.stop_training = True

    return StopAfter()

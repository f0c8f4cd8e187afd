"""Keras 3 `model.fit` under TensorFlow's MultiWorkerMirroredStrategy (keras-team/keras#20585).

    python benchmarks/multi_worker_mirrored.py                      # every scenario, ~1.5-2.5 min
    python benchmarks/multi_worker_mirrored.py --scenarios plain,patched --timeout 60
    python benchmarks/multi_worker_mirrored.py --work-dir /tmp/mwms # keep logs in a known place

What it checks. Each scenario starts 2 worker processes on 127.0.0.1, each with its own
TF_CONFIG (`{"cluster": {"worker": [2 free ports]}, "task": {"type": "worker", "index":
i}}`), KERAS_BACKEND=tensorflow and no GPU (two workers would share one). Each worker
creates `tf.distribute.MultiWorkerMirroredStrategy()` (2 replicas in sync, one per
worker) and, in its scope, a tiny model: `Input((8,), int32) → Embedding(50, 8) →
Dense(50)`, SGD(0.5), sparse cross-entropy from logits, seed 1; data: 256 random rows
of 9 ids as (first 8, last 8), batched by 16 (the global batch; each worker gets 8
rows) and repeated; `model.fit(epochs=2, steps_per_epoch=3)`. Scenarios:
- `plain`: just `fit`;
- `backup_shared`: `fit` with `keras.callbacks.BackupAndRestore`, both workers given
  one folder (what a user writes for a one-host run);
- `build_patch_only`: probe patch 1 (below) only, to show the second bug behind it;
- `patched`: probe patches 1 and 2;
- `patched_backup_shared`: both patches, BackupAndRestore in one shared folder;
- `patched_backup_per_worker`: both patches, one backup folder per worker; the first
  run dies after epoch 1's backup (`os._exit(3)`, as if killed), a second run resumes.
A scenario is `ok` when every worker exits as intended, else `failed` with the key
error line of each failing worker, in the order they died, or `timed out` (each run
has `--timeout` seconds). For finished runs it compares the final weights of the two
workers, and with a one-process run of the same script without any strategy (the
reference: global batch 16 on one device; for the resumed scenario, a reference that
restarts its data iterator after epoch 1, as a resumed `fit` does).

The probe patches (section "PROBE ONLY") replace private Keras internals to find out
what lies behind the first error. They are not a workaround, and keras_nlpkit does
not use them: its multi-host route is JAX's (`keras.distribution.initialize`).

Found with keras 3.15.1, tensorflow 2.21.0, Python 3.11.7, CPU (no run hung; 1.5-2.5 min
in all on 2 shared cores, most of it starting TensorFlow):
1. `plain` and `backup_shared` fail at once on both workers, in fit's first call:
   `_maybe_symbolic_build` all-reduces the whole first (x, y) batch of PerReplica
   values with `strategy.reduce("MEAN", batch, axis=None)`, and the collective
   (multi-worker) reduce takes one value, not a tuple: "ValueError: Attempt to convert
   a value (PerReplica:...) with an unsupported type (<class '...PerReplica'>) to a
   Tensor." BackupAndRestore changes nothing (the error comes before any callback).
2. Behind it (`build_patch_only`), the first train step fails: `reduce_per_replica`
   averages each step's logs across workers with `strategy.reduce("MEAN", v, axis=0)`,
   and the logs are scalars: "ValueError: Invalid reduction dimension 0 for input with
   0 dimensions."
3. With both patched (`patched`), training is correct: the two workers end with
   identical weights, equal to the one-process reference to ~3e-8 (losses 3.912703,
   3.911211 in both).
4. BackupAndRestore in one shared folder (`patched_backup_shared`) then fails: Keras 3's
   callback has no chief/worker logic (tf.keras wrote the other workers' backups to
   temporary folders), so both workers write `latest.weights.h5` to the same path; one
   dies on h5py's file lock ("BlockingIOError: [Errno 11] Unable to synchronously create
   file (unable to lock file ...)"), the other in its next all-reduce
   ("UnavailableError: Collective ops is aborted by: ...", then "Socket closed" or "The
   following tasks are unhealthy"). Which worker hits the lock varies from run to run.
5. One backup folder per worker (`patched_backup_per_worker`) works: the rerun resumes
   both workers at epoch 2 (optimizer step 3, ending at 6) with identical weights, equal
   to the restarted reference to ~3e-8. (They differ from the uninterrupted run by ~0.03
   only because a resumed `fit` starts a new tf.data iterator; so does one device.)
So keras#20585 still holds: `fit` under MultiWorkerMirroredStrategy fails at once.

Prints one line per scenario, then one JSON line; exits 1 if a scenario ended other than
as recorded above. Worker logs, weights (.npz) and backups stay under the work folder.
"""

import argparse
import dataclasses
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

WORKERS = 2
VOCABULARY = 50
LENGTH = 8
ROWS = 256
GLOBAL_BATCH = 16
EPOCHS = 2
STEPS_PER_EPOCH = 3
INTERRUPT_EXIT_CODE = 3  # a worker killed on purpose after epoch 1 exits with this


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One 2-worker cluster configuration, and how it ended with the versions above."""

    name: str
    patches: tuple = ()  # probe patches: "build", "logs"
    backup: str | None = None  # None, "shared" (one folder) or "per_worker"
    interrupt: bool = False  # run twice: killed after epoch 1, then resumed
    expected: str = "ok"  # the outcome recorded in the docstring


SCENARIOS = (
    Scenario("plain", expected="failed"),
    Scenario("backup_shared", backup="shared", expected="failed"),
    Scenario("build_patch_only", patches=("build",), expected="failed"),
    Scenario("patched", patches=("build", "logs")),
    Scenario("patched_backup_shared", ("build", "logs"), backup="shared", expected="failed"),
    Scenario("patched_backup_per_worker", ("build", "logs"), backup="per_worker", interrupt=True),
)


# === Worker: one training process (a cluster worker, or the one-process reference) ===
def _worker(args):
    """Trains the tiny model once; prints a RESULT line and saves the final weights."""
    import tensorflow as tf

    # MultiWorkerMirroredStrategy reads TF_CONFIG and must be created before any other
    # TensorFlow op runs in this process.
    if args.strategy == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    import keras

    keras.config.disable_traceback_filtering()  # full tracebacks in the logs
    task = json.loads(os.environ.get("TF_CONFIG", "{}")).get("task")
    print(
        f"keras {keras.__version__}, tensorflow {tf.__version__}, "
        f"replicas in sync {strategy.num_replicas_in_sync}, task {task}",
        flush=True,
    )
    model, data = _model_and_data(strategy)
    if "build" in args.patches:
        _probe_patch_symbolic_build(model, strategy)
    if "logs" in args.patches:
        _probe_patch_log_reduction()

    epochs = _epoch_recorder()
    callbacks = []
    if args.backup_dir:
        callbacks.append(keras.callbacks.BackupAndRestore(args.backup_dir))
    if args.interrupt_after_epoch:
        # After BackupAndRestore in the list, so the epoch's backup is written first.
        callbacks.append(_interrupter(args.interrupt_after_epoch))
    callbacks.append(epochs)

    if args.restart_after_epoch:
        # A resumed fit starts a fresh tf.data iterator: so does this reference.
        model.fit(data, epochs=args.restart_after_epoch, steps_per_epoch=STEPS_PER_EPOCH, verbose=2)
        history = model.fit(
            data,
            epochs=EPOCHS,
            initial_epoch=args.restart_after_epoch,
            steps_per_epoch=STEPS_PER_EPOCH,
            callbacks=callbacks,
            verbose=2,
        )
    else:
        history = model.fit(
            data, epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH, callbacks=callbacks, verbose=2
        )
    weights = [np.asarray(w) for w in model.get_weights()]
    np.savez(args.weights_out, *weights)
    result = {
        "losses": [round(float(loss), 6) for loss in history.history["loss"]],
        "epochs_begun": epochs.begun,
        "optimizer_steps_at_start": epochs.steps_at_start,
        "optimizer_steps": int(model.optimizer.iterations.numpy()),
    }
    print("RESULT " + json.dumps(result), flush=True)


def _model_and_data(strategy):
    """The tiny next-token model, built and compiled in the strategy's scope, and its data."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCABULARY, (ROWS, LENGTH + 1)).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((ids[:, :-1], ids[:, 1:]))
    data = data.batch(GLOBAL_BATCH).repeat()
    with strategy.scope():
        keras.utils.set_random_seed(1)
        model = keras.Sequential(
            [
                keras.Input((LENGTH,), dtype="int32"),
                keras.layers.Embedding(VOCABULARY, 8),
                keras.layers.Dense(VOCABULARY),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(0.5),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    return model, data


def _epoch_recorder():
    """A callback noting which epochs ran and the optimizer step at the first: shows a resume."""
    import keras

    class EpochRecorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.begun = []
            self.steps_at_start = None

        def on_epoch_begin(self, epoch, logs=None):
            steps = int(self.model.optimizer.iterations.numpy())
            if self.steps_at_start is None:
                self.steps_at_start = steps
            self.begun.append(epoch + 1)
            print(f"epoch {epoch + 1} begins at optimizer step {steps}", flush=True)

    return EpochRecorder()


def _interrupter(after_epoch):
    """A callback that ends the process abruptly after `after_epoch`, as if it were killed."""
    import keras

    class Interrupter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == after_epoch:
                print(f"interrupting after epoch {epoch + 1}", flush=True)
                os._exit(INTERRUPT_EXIT_CODE)  # no cleanup, no exception: like a kill

    return Interrupter()


# === PROBE ONLY: monkeypatches of private Keras internals (keras 3.15.1) ===
# They exist to see what lies behind keras#20585, one bug at a time. They are not a fix,
# keras_nlpkit does not use them, and any Keras release may break them.
def _probe_patch_symbolic_build(model, strategy):
    """PROBE ONLY. Builds metrics and optimizer from this worker's own first batch.

    Bug 1: Keras' TF trainer (`Model._maybe_symbolic_build`) takes one batch of the
    distributed dataset and all-reduces it, `strategy.reduce("MEAN", (x, y), axis=None)`,
    to learn its shapes; MultiWorkerMirroredStrategy's collective reduce takes one
    value, not a tuple of PerReplica values, and raises ValueError. Only the shapes
    matter, so this replacement takes the first local replica's values instead.
    """
    import tensorflow as tf

    def symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                batch = next(batches)
                data_batch = tf.nest.map_structure(
                    lambda value: strategy.experimental_local_results(value)[0], batch
                )
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = symbolic_build


def _probe_patch_log_reduction():
    """PROBE ONLY. Averages each step's logs across workers with axis=None.

    Bug 2: `keras.src.backend.tensorflow.trainer.reduce_per_replica`, under a
    multi-worker strategy, averages the logs of each step (loss, metrics: scalars) with
    `strategy.reduce("MEAN", v, axis=0)`: "Invalid reduction dimension 0 for input with
    0 dimensions". The trainer looks the function up in its module at each call, so
    replacing the module's attribute is enough.
    """
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction="auto"):
        multi_worker = trainer._collective_all_reduce_multi_worker(strategy)
        if multi_worker and reduction in ("auto", "mean"):
            return tf.nest.map_structure(
                lambda value: strategy.reduce("MEAN", value, axis=None), values
            )
        return original(values, strategy, reduction)

    trainer.reduce_per_replica = reduce_per_replica


# === Launcher: processes, logs, outcomes ===
def _free_ports(count):
    """`count` distinct free TCP ports on 127.0.0.1 (all held open until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _worker_env(tf_config):
    """The environment of a worker: TensorFlow backend, CPU only, its TF_CONFIG or none."""
    env = dict(
        os.environ,
        KERAS_BACKEND="tensorflow",
        CUDA_VISIBLE_DEVICES="",  # both workers on one host would share one GPU
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


def _worker_command(weights_out, strategy, patches=(), backup_dir=None, interrupt=0, restart=0):
    """This script again, in worker mode: one process per worker (TF_CONFIG is per process)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        f"--strategy={strategy}",
        f"--weights-out={weights_out}",
        f"--patches={','.join(patches)}",
        f"--interrupt-after-epoch={interrupt}",
        f"--restart-after-epoch={restart}",
    ]
    if backup_dir:
        command.append(f"--backup-dir={backup_dir}")
    return command


def _run_together(commands, envs, logs, timeout):
    """Starts the processes at once and waits for all of them, at most `timeout` seconds.

    Returns, per process, its exit code (None: killed at the timeout) and the second at
    which it ended: the first worker to die is usually the cause, the other its victim.
    """
    start = time.perf_counter()
    processes = []
    for command, env, log in zip(commands, envs, logs):
        with open(log, "w") as out:
            processes.append(
                subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
    ended = [None] * len(processes)
    while any(e is None for e in ended) and time.perf_counter() - start < timeout:
        for i, process in enumerate(processes):
            if ended[i] is None and process.poll() is not None:
                ended[i] = time.perf_counter() - start
        time.sleep(0.2)
    results = []
    for i, process in enumerate(processes):
        if ended[i] is None:
            process.kill()  # a worker whose peer died can wait in a collective forever
            process.wait()
            results.append({"exit_code": None, "seconds": round(timeout, 1)})
        else:
            results.append({"exit_code": process.returncode, "seconds": round(ended[i], 1)})
    return results


def _key_error(log):
    """The last exception line of a log, with its continuation lines, shortened to one line.

    A message may span lines (a PerReplica repr prints its arrays): lines are joined
    while brackets are open. Tensor values, TensorFlow's `{{function_node ...}}` prefix,
    the exception's module path and all after the first sentence are dropped.
    """
    lines = Path(log).read_text(errors="replace").splitlines()
    pattern = re.compile(r"^(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*(?:Error|Exception)): ?(.*)$")
    found = None
    for number, line in enumerate(lines):
        match = pattern.match(line)
        if match:
            found = number, match
    if found is None:
        return "no exception in the log"
    number, match = found
    text = f"{match.group(1)}: {match.group(2)}"
    for line in lines[number + 1 : number + 30]:
        if _open_brackets(text) <= 0:
            break
        text += " " + line.strip()
    text = re.sub(r"numpy=\s*array\(.*?\)>", "...>", text)
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    if ". " in text:  # the first sentence: TensorFlow appends graph node details
        text = text.split(". ", 1)[0] + "."
    return text if len(text) <= 220 else text[:217] + "..."


def _open_brackets(text):
    """How many brackets are still open: > 0 while an exception message goes on."""
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def _result_line(log):
    """The worker's RESULT dictionary, or None if it never got that far."""
    for line in Path(log).read_text(errors="replace").splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return None


def _load_weights(path):
    """The arrays a worker saved with `np.savez`, in the model's order."""
    with np.load(path) as saved:
        return [saved[f"arr_{i}"] for i in range(len(saved.files))]


def _max_abs_diff(a, b):
    """max |a - b| over all the weights of two models of the same architecture."""
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def _failure(runs, logs, expected_code):
    """None if every process exited with `expected_code`, else what went wrong, one line."""
    if all(run["exit_code"] == expected_code for run in runs):
        return None
    timed_out = [i for i, run in enumerate(runs) if run["exit_code"] is None]
    failing = [i for i, run in enumerate(runs) if run["exit_code"] not in (None, expected_code)]
    failing.sort(key=lambda i: runs[i]["seconds"])  # the first to die first
    errors = [(i, runs[i]["exit_code"], _key_error(logs[i])) for i in failing]
    parts = []
    if timed_out:
        parts.append(f"timed out after {runs[timed_out[0]]['seconds']} s: killed {timed_out}")
    if len(errors) == len(runs) > 1 and len({error for _, _, error in errors}) == 1:
        parts.append(f"every worker (exit {errors[0][1]}): {errors[0][2]}")
    else:
        parts += [f"worker {i} (exit {code}): {error}" for i, code, error in errors]
    return "; then ".join(parts)


def run_reference(name, work_dir, timeout, restart_after_epoch=0):
    """The same training in one process without a strategy: what the workers must match."""
    folder = _fresh_folder(work_dir / name)
    log = folder / "reference.log"
    weights = folder / "weights.npz"
    command = _worker_command(weights, "none", restart=restart_after_epoch)
    [run] = _run_together([command], [_worker_env(None)], [log], timeout)
    failure = _failure([run], [log], 0)
    row = {"name": name, "outcome": "ok", "seconds": run["seconds"]}
    if failure:
        row["outcome"] = "timed out" if run["exit_code"] is None else "failed"
        row["error"] = failure
        return row, None
    row["losses"] = _result_line(log)["losses"]
    return row, _load_weights(weights)


def _run_cluster(scenario, folder, label, interrupt, timeout):
    """Starts the scenario's workers once, as one cluster on fresh ports, and waits for them.

    Shared backup: one folder for all workers; per worker: `backup_worker<i>`. Files
    are prefixed with `label` ("run1", "run2") when a scenario runs twice.
    """
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(WORKERS)]}
    prefix = f"{label}_" if label else ""
    commands, envs, logs, weight_files = [], [], [], []
    for index in range(WORKERS):
        backup_dir = None
        if scenario.backup == "shared":
            backup_dir = folder / "backup"
        elif scenario.backup == "per_worker":
            backup_dir = folder / f"backup_worker{index}"
        logs.append(folder / f"{prefix}worker{index}.log")
        weight_files.append(folder / f"{prefix}weights{index}.npz")
        commands.append(
            _worker_command(
                weight_files[-1],
                "multi_worker",
                scenario.patches,
                backup_dir,
                interrupt=1 if interrupt else 0,
            )
        )
        task = {"type": "worker", "index": index}
        envs.append(_worker_env({"cluster": cluster, "task": task}))
    runs = _run_together(commands, envs, logs, timeout)
    return runs, logs, weight_files


def run_scenario(scenario, work_dir, timeout, references):
    """Runs one scenario's 2-worker cluster (twice when it is interrupted) and judges it."""
    folder = _fresh_folder(work_dir / scenario.name)
    row = {"name": scenario.name, "expected": scenario.expected}
    if scenario.interrupt:  # killed after epoch 1 (exit 3), then rerun to the end
        passes = [("run1", True, INTERRUPT_EXIT_CODE), ("run2", False, 0)]
    else:
        passes = [("", False, 0)]
    seconds = 0.0
    for label, interrupt, expected_code in passes:
        runs, logs, weight_files = _run_cluster(scenario, folder, label, interrupt, timeout)
        seconds += max(run["seconds"] for run in runs)
        row[f"{label or 'run'}_exit_codes"] = [run["exit_code"] for run in runs]
        failure = _failure(runs, logs, expected_code)
        if failure:
            timed_out = any(run["exit_code"] is None for run in runs)
            row["outcome"] = "timed out" if timed_out else "failed"
            row["error"] = f"{label}: {failure}" if label else failure
            row["seconds"] = round(seconds, 1)
            return row

    results = [_result_line(log) for log in logs]  # of the last run
    weights = [_load_weights(path) for path in weight_files]
    reference_name = "reference_restart" if scenario.interrupt else "reference"
    reference = references.get(reference_name)
    between_workers = max(_max_abs_diff(weights[0], w) for w in weights[1:])
    row.update(
        outcome="ok",
        seconds=round(seconds, 1),
        losses=[result["losses"] for result in results],
        epochs_begun=[result["epochs_begun"] for result in results],
        optimizer_steps_at_start=[result["optimizer_steps_at_start"] for result in results],
        optimizer_steps=[result["optimizer_steps"] for result in results],
        workers_identical=between_workers == 0.0,
        max_abs_diff_between_workers=between_workers,
        reference=reference_name,
    )
    if reference is not None:
        row["max_abs_diff_vs_reference"] = max(_max_abs_diff(reference, w) for w in weights)
    if scenario.interrupt:
        resumed = all(begun[:1] == [2] for begun in row["epochs_begun"])
        if not resumed:
            row.update(outcome="failed", error=f"run2 did not resume: {row['epochs_begun']}")
    return row


def _fresh_folder(path):
    """An empty folder: a rerun must not resume from an earlier run's backups."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _print_row(row):
    """One line: outcome, whether the workers ended equal, max |Δ| vs the reference, detail."""
    identical = "-"
    if "workers_identical" in row:
        identical = "yes" if row["workers_identical"] else "no"
    difference = "-"
    if "max_abs_diff_vs_reference" in row:
        difference = f"{row['max_abs_diff_vs_reference']:.1e}"
    if "error" in row:
        detail = row["error"]
    elif row.get("epochs_begun") and row["epochs_begun"][0][0] > 1:
        detail = (
            f"run1 interrupted after epoch 1 (exit {INTERRUPT_EXIT_CODE}); run2 resumed at "
            f"epoch {row['epochs_begun'][0][0]}, optimizer step "
            f"{row['optimizer_steps_at_start'][0]} -> {row['optimizer_steps'][0]}, vs "
            f"{row['reference']}"
        )
    elif "reference" in row:  # a cluster scenario: the workers' losses are equal when ok
        detail = f"losses {row['losses'][0]}, vs {row['reference']}"
    else:
        detail = f"losses {row['losses']}"
    print(
        f"{row['name']:26s} {row['outcome']:9s} {identical:>9s} {difference:>9s}  "
        f"{detail} ({row['seconds']} s)",
        flush=True,
    )


def main(argv=None):
    """Runs the references and the chosen scenarios; 1 if any ended other than as recorded."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    names = [s.name for s in SCENARIOS]
    parser.add_argument("--scenarios", default=",".join(names), help="comma-separated")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per run")
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="logs, weights and backups (each scenario's subfolder is emptied first); "
        "default: a new temporary folder",
    )
    # Worker mode (the launcher starts this script again with these).
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", choices=("multi_worker", "none"), help=argparse.SUPPRESS)
    parser.add_argument("--weights-out", help=argparse.SUPPRESS)
    parser.add_argument("--patches", default="", help=argparse.SUPPRESS)
    parser.add_argument("--backup-dir", help=argparse.SUPPRESS)
    parser.add_argument("--interrupt-after-epoch", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--restart-after-epoch", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.patches = [p for p in args.patches.split(",") if p]
        _worker(args)
        return 0

    chosen = args.scenarios.split(",")
    for name in chosen:
        if name not in names:
            parser.error(f"--scenarios: {name!r} is not one of {names}")
    scenarios = [s for s in SCENARIOS if s.name in chosen]
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="multi_worker_mirrored-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    versions = {p: metadata.version(p) for p in ("keras", "tensorflow")}
    print(
        f"keras {versions['keras']}, tensorflow {versions['tensorflow']}, Python "
        f"{platform.python_version()}, CPU; {WORKERS} workers on 127.0.0.1; logs in {work_dir}"
    )
    print(f"{'scenario':26s} {'outcome':9s} {'workers =':>9s} {'max|Δ|ref':>9s}  detail")
    start = time.perf_counter()

    references, rows = {}, []
    needed = ["reference"]
    if any(s.interrupt for s in scenarios):
        needed.append("reference_restart")
    for name in needed:
        restart = 1 if name == "reference_restart" else 0
        row, weights = run_reference(name, work_dir, args.timeout, restart)
        _print_row(row)
        rows.append(row)
        if weights is not None:
            references[name] = weights
    for scenario in scenarios:
        row = run_scenario(scenario, work_dir, args.timeout, references)
        row["as_recorded"] = row["outcome"] == scenario.expected
        _print_row(row)
        rows.append(row)

    unexpected = [r["name"] for r in rows if not r.get("as_recorded", r["outcome"] == "ok")]
    print(
        json.dumps(
            {
                "benchmark": "multi_worker_mirrored",
                **versions,
                "python": platform.python_version(),
                "work_dir": str(work_dir),
                "seconds": round(time.perf_counter() - start, 1),
                "not_as_recorded": unexpected,
                "scenarios": rows,
            }
        )
    )
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())

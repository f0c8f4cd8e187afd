"""`--distribution`: every training recipe on one device, several, or several hosts.

Keras' own engines do the work; this module picks one from the flags and the
backend, once per process (`configure`), and recipes build, compile and fit their
model inside its `scope()`; what follows training runs on process 0 alone,
undistributed (`Distribution.local`):

- JAX (`KERAS_BACKEND=jax`, the backend of TPUs and multi-host runs):
  `keras.distribution.DataParallel` over every device of every process, or
  `ModelParallel` on a (batch, model) mesh with the Transformer layout map of our
  backbones (`keras_nlpkit.models.transformer_layout_map`: attention heads, FFN
  columns and the token embedding's rows sharded over `model`). Hosts join through
  `keras.distribution.initialize` (`--coordinator`, `--num-processes`,
  `--process-id`, or Keras' `KERAS_DISTRIBUTION_*` variables); Keras then shards
  each `tf.data` stream per process.
- TensorFlow: `tf.distribute.MirroredStrategy` over the local GPUs (or logical CPU
  devices). Model parallelism and several hosts are refused: Keras 3 has no
  layouts on TensorFlow, and
  `MultiWorkerMirroredStrategy` under Keras 3 is an open upstream bug
  (keras-team/keras#20585; docs/DISTRIBUTED.md says what a probe found).

`--batch-size` is the global batch: R replicas take batch / R rows each, so one
command makes the same updates on any number of devices (tested to 1e-5). On JAX,
a batch that does not split evenly (an epoch's last) is skipped. Process 0 writes
the backup, the TensorBoard logs and the outputs; every process reads the backup to
resume, so `--out` must be a folder all hosts see.
"""

import contextlib
import dataclasses
import os

import keras

from keras_nlpkit.errors import UserInputError

MODES = ("auto", "none", "data", "model")
# Keras' variables for `keras.distribution.initialize`, read when the flags are absent.
ENVIRONMENT = {
    "coordinator": "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "num_processes": "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "process_id": "KERAS_DISTRIBUTION_PROCESS_ID",
}


@dataclasses.dataclass(frozen=True)
class Distribution:
    """How this process trains: the engine chosen by `configure`.

    Attributes:
        mode: "none", "data" or "model".
        replicas: how many slices each global batch is split into.
        processes: processes (hosts) taking part.
        process_index: this process's index; 0 writes the outputs.
        engine: the `keras.distribution.Distribution` (JAX) or the
            `tf.distribute.Strategy` (TensorFlow); None on one device.
    """

    mode: str = "none"
    replicas: int = 1
    processes: int = 1
    process_index: int = 0
    engine: object = None

    @property
    def is_chief(self):
        return self.process_index == 0

    @property
    def strategy(self):
        """The `tf.distribute.Strategy` training runs under, if any."""
        return None if self.engine is None or keras.backend.backend() == "jax" else self.engine

    def scope(self):
        """Where a recipe builds, compiles and fits its model: the engine's scope.

        Outside it the process computes alone, on its default device: what comes
        after training (saving, evaluating, exporting) must not wait for other
        processes, nor create variables laid out over their devices.
        """
        return self.engine.scope() if self.engine is not None else contextlib.nullcontext()

    def check_batch_size(self, rows, argument="--batch-size"):
        """Refuses, on JAX, a global batch that does not split over the replicas.

        JAX lays each batch out over the replicas and cannot split an uneven one
        (`training.fit` skips an epoch's shorter last batch); TensorFlow's strategies
        split unevenly. Recipes whose stream hides its batch size from the pipeline's
        graph (a generator, length buckets) call this themselves.
        """
        if keras.backend.backend() == "jax" and rows % self.replicas:
            raise UserInputError(
                f"{argument}: a global batch of {rows} rows does not split over "
                f"{self.replicas} replicas; choose a multiple of {self.replicas}. "
                f"Received: {rows}"
            )

    @contextlib.contextmanager
    def outside(self):
        """Leaves the engine's scope for a while, e.g. for process 0 to write a backup.

        Inside the scope, JAX lays every new variable out over all processes'
        devices and checks it with them (a collective): Keras' saving creates some
        (a throwaway optimizer), so a save by process 0 alone must happen outside.
        """
        before = keras.distribution.distribution() if self.strategy is None else None
        if before is not None:
            keras.distribution.set_distribution(None)
        try:
            yield
        finally:
            if before is not None:
                keras.distribution.set_distribution(before)

    def describe(self):
        if self.mode == "none":
            return "one device"
        hosts = f" on {self.processes} processes" if self.processes > 1 else ""
        return f"{self.mode} parallel over {self.replicas} replicas{hosts}"

    def local(self, model):
        """The trained model on this process alone; None on a process other than 0.

        What a recipe does after `fit` — save, evaluate, export — runs on process 0
        only, on a copy built without distribution: a distributed model's
        computations need every process (JAX), and the TFLite converter cannot trace
        mirrored variables (TensorFlow). The copy has the same config, weights and
        compile settings (not the optimizer's state: the backup has that).
        """
        if self.mode == "none" and self.processes == 1:
            return model
        weights = [keras.ops.convert_to_numpy(w) for w in model.weights]
        return _copy(model, weights) if self.is_chief else None

    def adopt(self, model):
        """A model built before training (e.g. loaded), rebuilt under this distribution.

        Its weights are then laid out as the distribution says (mirrored, or
        sharded by the layout map), with the same values.
        """
        if self.mode == "none":
            return model
        weights = [keras.ops.convert_to_numpy(w) for w in model.weights]
        with self.scope():
            return _copy(model, weights)


def _copy(model, weights):
    """`model` built again from its config, with `weights` and its compile settings."""
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    if not copy.built:
        copy.build_from_config(model.get_build_config())
    if model.compiled:
        copy.compile_from_config(model.get_compile_config())
    copy.set_weights(weights)
    return copy


_current = Distribution()


def current():
    """The distribution `configure` chose for this process (one device until then)."""
    return _current


def add_arguments(parser):
    """`--distribution` and the multi-host flags, on every `nlpkit train` recipe."""
    group = parser.add_argument_group("distribution (see docs/DISTRIBUTED.md)")
    group.add_argument(
        "--distribution",
        default="auto",
        help="auto (data parallel when there are several devices), none, data, or "
        "model (JAX: shard Transformer weights over a (batch, model) device mesh)",
    )
    group.add_argument(
        "--model-parallel",
        type=int,
        default=None,
        help="devices on the mesh's model axis (default: this host's devices)",
    )
    group.add_argument(
        "--coordinator",
        default=None,
        help="HOST:PORT of process 0, for several processes (JAX); or "
        "$KERAS_DISTRIBUTION_JOB_ADDRESSES",
    )
    group.add_argument(
        "--num-processes",
        type=int,
        default=None,
        help="processes taking part; or $KERAS_DISTRIBUTION_NUM_PROCESSES",
    )
    group.add_argument(
        "--process-id",
        type=int,
        default=None,
        help="this process's index, 0 to N-1; or $KERAS_DISTRIBUTION_PROCESS_ID",
    )


def configure_from_arguments(args):
    return configure(
        args.distribution,
        model_parallel=args.model_parallel,
        coordinator=args.coordinator,
        num_processes=args.num_processes,
        process_id=args.process_id,
    )


def configure(
    mode="auto", model_parallel=None, coordinator=None, num_processes=None, process_id=None
):
    """Chooses this process's engine (joining the other processes); the `Distribution`.

    Call it once, first: JAX's processes must join before any computation. Nothing
    is installed globally: recipes train inside `current().scope()`. Flags left None
    are read from Keras' `KERAS_DISTRIBUTION_*` variables.
    """
    global _current
    if mode not in MODES:
        raise UserInputError(f"--distribution must be one of {list(MODES)}. Received: {mode!r}")
    hosts = _hosts(coordinator, num_processes, process_id)
    backend = keras.backend.backend()
    if backend == "jax":
        _current = _configure_jax(mode, model_parallel, hosts)
    elif backend == "tensorflow":
        _current = _configure_tensorflow(mode, model_parallel, hosts)
    elif mode in ("data", "model") or hosts:
        raise UserInputError(
            f"--distribution {mode}: runs on the JAX or TensorFlow backend. "
            f"Received: KERAS_BACKEND={backend}"
        )
    return _current


def _hosts(coordinator, num_processes, process_id):
    """(coordinator, processes, index) when several processes take part, else None."""
    values = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}
    for name, variable in ENVIRONMENT.items():
        if values[name] is None and os.environ.get(variable):
            text = os.environ[variable]
            values[name] = text if name == "coordinator" else _whole(text, variable)
    given = {name for name, value in values.items() if value is not None}
    if not given:
        return None
    if given != set(values):
        missing = sorted(set(values) - given)
        raise UserInputError(
            "--coordinator, --num-processes and --process-id go together; missing: "
            f"{', '.join('--' + m.replace('_', '-') for m in missing)}. "
            f"Received: {', '.join(f'{k}={values[k]}' for k in sorted(given))}"
        )
    if values["num_processes"] < 1:
        raise UserInputError(f"--num-processes must be ≥ 1. Received: {values['num_processes']}")
    if not 0 <= values["process_id"] < values["num_processes"]:
        raise UserInputError(
            f"--process-id must be in [0, {values['num_processes'] - 1}]. "
            f"Received: {values['process_id']}"
        )
    return values["coordinator"], values["num_processes"], values["process_id"]


def _whole(text, variable):
    try:
        return int(text)
    except ValueError:
        raise UserInputError(f"{variable} must be a whole number. Received: {text!r}") from None


def _configure_jax(mode, model_parallel, hosts):
    import jax

    from keras_nlpkit.models import transformer_layout_map

    if hosts and hosts[1] > 1 and not jax.distributed.is_initialized():
        # CPU hosts exchange gradients through Gloo; GPUs and TPUs use their own links.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize(*hosts)
    devices = keras.distribution.list_devices()
    processes, index = jax.process_count(), jax.process_index()
    if mode == "auto":
        mode = "data" if len(devices) > 1 else "none"
    if mode == "none":
        if processes > 1:
            raise UserInputError(
                f"--distribution none: {processes} processes were started; use data or model"
            )
        return Distribution()
    if mode == "data":
        engine = keras.distribution.DataParallel(devices=devices)
        return Distribution("data", len(devices), processes, index, engine)
    local = jax.local_device_count()
    model_parallel = local if model_parallel is None else model_parallel
    if processes > 1 and model_parallel > local:
        raise UserInputError(
            f"--model-parallel: the model axis stays within one host's {local} devices "
            f"(the data axis spans the {processes} hosts). Received: {model_parallel}"
        )
    if model_parallel < 1 or len(devices) % model_parallel:
        raise UserInputError(
            f"--model-parallel must divide the {len(devices)} devices. Received: {model_parallel}"
        )
    mesh = keras.distribution.DeviceMesh(
        (len(devices) // model_parallel, model_parallel), ("batch", "model"), devices
    )
    engine = _ModelParallel(layout_map=transformer_layout_map(mesh))
    return Distribution("model", len(devices) // model_parallel, processes, index, engine)


class _ModelParallel(keras.distribution.ModelParallel):
    """Keras' `ModelParallel`, replicating a weight whose split sizes do not divide.

    JAX cannot split 19 rows over 2 devices; a vocabulary of 19 words (or heads
    that do not divide) then gets a replicated table instead of a failed run.
    """

    def get_variable_layout(self, variable):
        layout = super().get_variable_layout(variable)
        mesh = self.device_mesh
        sizes = dict(zip(mesh.axis_names, mesh.shape))
        if any(
            axis is not None and size % sizes[axis]
            for size, axis in zip(variable.shape, layout.axes)
        ):
            return keras.distribution.TensorLayout([None] * len(variable.shape), mesh)
        return layout


def _configure_tensorflow(mode, model_parallel, hosts):
    import tensorflow as tf

    if hosts and hosts[1] > 1:
        raise UserInputError(
            "--num-processes: several hosts train on the JAX backend (KERAS_BACKEND=jax); "
            "TensorFlow's MultiWorkerMirroredStrategy does not work with Keras 3 "
            f"(keras-team/keras#20585). Received: {hosts[1]}"
        )
    if mode == "model" or model_parallel is not None:
        raise UserInputError(
            "--distribution model: Keras 3 shards weights on the JAX backend only; rerun "
            "with KERAS_BACKEND=jax, or use --distribution data. "
            f"Received: --distribution {mode} on TensorFlow"
        )
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    if mode == "auto":
        mode = "data" if len(devices) > 1 else "none"
    if mode == "none":
        return Distribution()
    strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
    return Distribution("data", strategy.num_replicas_in_sync, engine=strategy)

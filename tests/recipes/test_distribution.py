"""`--distribution`: the same recipe on 1 device, 2 devices and 2 processes (CPU only).

Each run is a subprocess: the devices must exist before JAX or TensorFlow starts
(`XLA_FLAGS=--xla_force_host_platform_device_count=2`, TF's logical CPU devices).
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_nlpkit.errors import UserInputError
from tests.recipes.test_lm import SENTENCES

pytest.importorskip("jax", reason="jax is not installed (pip install -e '.[test]')")

# A process with `devices` TF logical CPU devices, running `nlpkit` on argv[1:].
TF_CLI = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * int(sys.argv[1]))
from keras_nlpkit.cli import main
sys.exit(main(sys.argv[2:]))
"""
LENGTH, BATCH = 10, 8


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Text whose windows fill whole batches: every run sees the same batches."""
    rng = np.random.default_rng(0)
    lines, tokens = [], 0
    while len(lines) < 300 or (tokens - 1) // LENGTH % BATCH:
        lines.append(SENTENCES[rng.integers(0, 4)])
        tokens += len(lines[-1].split()) + 1  # and its </s>
    path = tmp_path_factory.mktemp("distribution") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def nlpkit(backend, devices, *argv, env=None, check=True, **popen):
    """Runs `nlpkit argv` on `backend` with `devices` CPU devices; the CompletedProcess."""
    environment = dict(os.environ, KERAS_BACKEND=backend, **(env or {}))
    argv = [str(a) for a in argv]
    if backend == "jax":
        environment.update(
            JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}"
        )
        command = [sys.executable, "-m", "keras_nlpkit.cli", *argv]
    else:
        command = [sys.executable, "-c", TF_CLI, str(devices), *argv]
    if popen:
        return subprocess.Popen(command, env=environment, text=True, **popen)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def train_lm(backend, devices, corpus, out, *more, **kwargs):
    return nlpkit(
        backend, devices, "train", "lm", "--architecture", "lstm", "--corpus", corpus,
        "--out", out, "--units", "16", "--embedding-dim", "8", "--learning-rate", "0.01",
        "--epochs", "2", "--sequence-length", LENGTH, "--batch-size", BATCH, *more, **kwargs,
    )  # fmt: skip


def weights(folder):
    model = keras.saving.load_model(folder / "model.keras")
    return {w.path: np.asarray(w) for w in model.weights}


def assert_same_weights(a, b, tolerance=1e-5):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    worst = max(float(np.max(np.abs(wa[k] - wb[k]))) for k in wa)
    assert worst <= tolerance, worst


# On TensorFlow the one-device run is a MirroredStrategy of one replica: under a
# strategy, Keras' TF trainer draws one batch before training (a symbolic build),
# so a shuffled stream starts one permutation later than without a strategy.
@pytest.mark.parametrize(("backend", "one_device"), [("jax", "none"), ("tensorflow", "data")])
def test_two_devices_make_the_updates_of_one(backend, one_device, corpus, tmp_path):
    train_lm(backend, 1, corpus, tmp_path / "one", "--distribution", one_device)
    two = train_lm(backend, 2, corpus, tmp_path / "two")  # auto: data parallel over both
    assert "data parallel over 2 replicas" in two.stderr
    assert_same_weights(tmp_path / "one", tmp_path / "two")
    # The chief wrote the backup once and the logs; the run's history matches.
    history = [json.loads((tmp_path / f / "history.json").read_text()) for f in ("one", "two")]
    np.testing.assert_allclose(history[0]["history"]["loss"], history[1]["history"]["loss"], 1e-5)


@pytest.mark.large  # ~40 s: two stateful runs
def test_stateful_lstm_rows_stay_with_their_streams_on_jax(corpus, tmp_path):
    # JAX runs the global program: each row of the (batch, units) state carries its
    # stream whichever device computes it, so 2 devices equal 1.
    stateful = ("--state", "stateful")
    train_lm("jax", 1, corpus, tmp_path / "one", "--distribution", "none", *stateful)
    train_lm("jax", 2, corpus, tmp_path / "two", "--distribution", "data", *stateful)
    assert_same_weights(tmp_path / "one", tmp_path / "two")


def test_stateful_lstm_under_mirrored_strategy_is_refused(corpus, tmp_path):
    done = train_lm("tensorflow", 2, corpus, tmp_path / "m", "--state", "stateful", check=False)
    assert done.returncode == 2
    assert "--state stateful: under TensorFlow's MirroredStrategy" in done.stderr
    assert not (tmp_path / "m" / "model.keras").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"mode": "model"}, "--distribution model: Keras 3 shards weights on the JAX backend"),
        ({"mode": "pipeline"}, "--distribution must be one of"),
        ({"num_processes": 2}, "--coordinator, --num-processes and --process-id go together"),
        (
            {"coordinator": "127.0.0.1:1", "num_processes": 2, "process_id": 2},
            "--process-id must be in [0, 1]. Received: 2",
        ),
        (
            {"coordinator": "127.0.0.1:1", "num_processes": 2, "process_id": 0},
            "TensorFlow's MultiWorkerMirroredStrategy does not work with Keras 3",
        ),
    ],
)
def test_distribution_flags_are_checked(arguments, message):
    from keras_nlpkit.recipes import distribution

    with pytest.raises(UserInputError, match=re.escape(message)):
        distribution.configure(**arguments)  # on TensorFlow, this process's backend
    assert distribution.current().mode == "none"


def test_a_bad_distribution_flag_exits_2_from_the_cli(corpus, tmp_path):
    done = train_lm("tensorflow", 1, corpus, tmp_path / "x", "--distribution", "model", check=False)
    assert done.returncode == 2 and "--distribution model: Keras 3 shards" in done.stderr
    assert not (tmp_path / "x").exists()


def test_a_batch_that_does_not_split_over_the_replicas_is_refused(corpus, tmp_path):
    done = train_lm("jax", 2, corpus, tmp_path / "odd", "--batch-size", "7", check=False)
    assert done.returncode == 2
    assert "--batch-size: a global batch of 7 rows does not split over 2 replicas" in done.stderr


@pytest.mark.large  # ~40 s: two GPT runs
def test_model_parallel_gpt_trains_as_one_device(corpus, tmp_path):
    gpt = ("--architecture", "gpt", "--window", "16")
    train_lm("jax", 1, corpus, tmp_path / "one", "--distribution", "none", *gpt)
    two = train_lm("jax", 2, corpus, tmp_path / "two", "--distribution", "model", *gpt)
    assert "model parallel over 1 replicas" in two.stderr  # a (1, 2) mesh: all model axis
    # Sums split over the model axis add in another order: ~700 Adam steps at 0.01
    # carry float32 rounding to a few 1e-4 (data parallelism stays within 1e-5).
    assert_same_weights(tmp_path / "one", tmp_path / "two", tolerance=1e-3)


SHARDED_BERT = """
import json
import keras
import numpy as np
from keras_nlpkit.models import BertBackbone

def backbone():
    keras.utils.set_random_seed(0)
    return BertBackbone(vocabulary_size=64, num_layers=2, num_heads=4, hidden_dim=16,
                        intermediate_dim=32, max_sequence_length=12)

rng = np.random.default_rng(0)
inputs = {"token_ids": rng.integers(0, 64, (4, 12)).astype("int32"),
          "segment_ids": np.zeros((4, 12), "int32"),
          "padding_mask": np.ones((4, 12), "int32")}
plain = backbone()
expected = plain(inputs)
mesh = keras.distribution.DeviceMesh((1, 2), ("batch", "model"),
                                     keras.distribution.list_devices())
keras.distribution.set_distribution(keras.distribution.ModelParallel(
    layout_map=BertBackbone.get_layout_map(mesh), batch_dim_name="batch"))
sharded = backbone()
sharded.set_weights(plain.get_weights())
outputs = sharded(inputs)
print(json.dumps({
    "diff": max(float(np.max(np.abs(np.asarray(outputs[k]) - np.asarray(expected[k]))))
                for k in expected),
    "specs": {v.path: [str(a) for a in v.value.sharding.spec] for v in sharded.weights},
    "devices": {v.path: len(v.value.sharding.device_set) for v in sharded.weights},
}))
"""


def test_a_sharded_bert_backbone_computes_what_the_unsharded_one_does():
    done = subprocess.run(
        [sys.executable, "-c", SHARDED_BERT],
        env=dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
                 XLA_FLAGS="--xla_force_host_platform_device_count=2"),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["diff"] <= 1e-5
    specs = found["specs"]
    # Heads, FFN columns and vocabulary rows are split over "model"; norms are not.
    assert specs["transformer_layer_0/self_attention/query/kernel"] == ["None", "model", "None"]
    assert specs["transformer_layer_1/self_attention/attention_output/kernel"][0] == "model"
    assert specs["transformer_layer_0/feedforward_intermediate_dense/kernel"] == ["None", "model"]
    assert specs["transformer_layer_0/feedforward_output_dense/kernel"] == ["model", "None"]
    assert specs["embeddings/token_embedding/embeddings"] == ["model", "None"]
    assert all(a == "None" for a in specs["embeddings_layer_norm/gamma"])
    assert set(found["devices"].values()) == {2}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_processes(corpus, out, log_dir, *more):
    """Starts `nlpkit train lm` as processes 0 and 1 of one JAX run on 127.0.0.1."""
    hosts = ("--coordinator", f"127.0.0.1:{free_port()}", "--num-processes", "2")
    return [
        train_lm(
            "jax",
            1,
            corpus,
            out,
            *hosts,
            "--process-id",
            str(i),
            *more,
            stdout=open(log_dir / f"out{i}.txt", "w"),
            stderr=open(log_dir / f"err{i}.txt", "w"),
        )
        for i in range(2)
    ]


def test_two_processes_train_as_one(corpus, tmp_path):
    train_lm("jax", 1, corpus, tmp_path / "one", "--distribution", "none")
    processes = two_processes(corpus, tmp_path / "two", tmp_path)
    assert [p.wait(timeout=600) for p in processes] == [0, 0], (tmp_path / "err1.txt").read_text()
    assert "data parallel over 2 replicas on 2 processes" in (tmp_path / "err0.txt").read_text()
    assert_same_weights(tmp_path / "one", tmp_path / "two")
    # Process 1 writes nothing and prints no metrics; process 0 prints them.
    assert "train_tokens" not in (tmp_path / "out1.txt").read_text()
    assert "Epoch 1/2" in (tmp_path / "out0.txt").read_text()  # one progress bar
    assert "Epoch" not in (tmp_path / "out1.txt").read_text()
    assert '"train_tokens": ' in (tmp_path / "out0.txt").read_text()
    assert len(list((tmp_path / "two" / "logs" / "train").glob("events.*"))) == 1  # process 0's


@pytest.mark.large  # ~3 min on 2 cores: two runs of 12 epochs in 2 processes
def test_a_run_of_two_processes_resumes_after_one_is_killed(corpus, tmp_path):
    # Kill process 1 mid-run, once a backup exists (every 200 steps, 36 an epoch);
    # process 0 then fails or is killed.
    out, longer = tmp_path / "killed", ("--epochs", "12")
    processes = two_processes(corpus, out, tmp_path, *longer)
    metadata = out / "backup" / "training_metadata.json"
    while not metadata.exists() and all(p.poll() is None for p in processes):
        time.sleep(0.1)
    assert metadata.exists(), (tmp_path / "err0.txt").read_text()[-2000:]
    processes[1].send_signal(signal.SIGKILL)
    try:
        processes[0].wait(timeout=60)
    except subprocess.TimeoutExpired:
        processes[0].kill()
    assert processes[0].wait() != 0 and not (out / "model.keras").exists()
    backed_up = json.loads(metadata.read_text())

    processes = two_processes(corpus, out, tmp_path, *longer)  # rerun both: it resumes
    assert [p.wait(timeout=600) for p in processes] == [0, 0], (tmp_path / "err0.txt").read_text()
    history = json.loads((out / "history.json").read_text())["history"]
    assert 0 < backed_up["epoch"] and len(history["loss"]) == 12 - backed_up["epoch"]
    assert (out / "model.keras").is_file()


JAX_PREDICT = """
import sys
import keras
import numpy as np
import keras_nlpkit.layers  # registers our layers for loading
import keras_nlpkit.models
model = keras.saving.load_model(sys.argv[1])
ids = np.load(sys.argv[2])["token_ids"][:8]
np.save(sys.argv[3], np.asarray(model.predict(ids, verbose=0)))
"""


@pytest.mark.parametrize(
    "architecture",
    ["lstm", pytest.param("gpt", marks=pytest.mark.large)],  # GPT: ~1 min
)
def test_trained_on_jax_exported_on_tensorflow(architecture, corpus, tmp_path):
    out = tmp_path / architecture
    # The GPT reads batches of batch × sequence_length / window = 4 windows.
    done = train_lm("jax", 2, corpus, out, "--architecture", architecture, "--window", "20")
    command = done.stdout.split("KERAS_BACKEND=tensorflow nlpkit ")[1].split("\n")[0].split()
    assert command[0] == "export" and not (out / "export").exists()
    representative = out / "representative.npz"
    jax_outputs = tmp_path / "jax.npy"
    subprocess.run(
        [sys.executable, "-c", JAX_PREDICT, out / "model.keras", representative, jax_outputs],
        env=dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu"),
        check=True,
        timeout=300,
    )

    nlpkit("tensorflow", 1, *command)  # the command the JAX run printed
    report = json.loads((out / "export" / "report.json").read_text())
    for variant in ("float32", "int8"):
        assert report["variants"][variant]["flex_ops"] == []
        assert report["variants"][variant]["custom_ops"] == []
    assert report["variants"]["float32"]["max_abs_diff"] <= 1e-4  # TFLite vs Keras on TF
    streaming = {"lstm": ["step"], "gpt": ["prefill", "decode"]}[architecture]
    assert report["signatures"] == ["serving_default", *streaming]
    # Keras on TF computes what Keras on JAX did, from the same .keras file.
    model = keras.saving.load_model(out / "model.keras")
    ids = np.load(representative)["token_ids"][:8]
    np.testing.assert_allclose(model.predict(ids, verbose=0), np.load(jax_outputs), atol=1e-4)


def test_a_jax_run_on_two_devices_resumes_on_one_tensorflow_device(corpus, tmp_path):
    # The backup does not record backend or devices: rerunning the finished JAX run's
    # command on TF restores it, trains no further, and exports (what
    # query-completion and spelling tell their JAX users to do).
    out = tmp_path / "run"
    train_lm("jax", 2, corpus, out, "--distribution", "data")
    history = (out / "history.json").read_text()
    assert (out / "backup").is_dir() and not (out / "export").exists()
    train_lm("tensorflow", 1, corpus, out, "--distribution", "none")
    assert (out / "history.json").read_text() == history  # no epoch ran
    assert json.loads((out / "metrics.json").read_text())["int8_bytes"] > 0
    assert (out / "export" / "model_int8.tflite").is_file() and not (out / "backup").exists()

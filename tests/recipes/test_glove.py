"""`nlpkit train glove` / `evaluate glove`: outputs, resume, bad input."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.models import GloVe
from keras_nlpkit.models import WordVectors
from keras_nlpkit.recipes import glove as recipe
from keras_nlpkit.recipes import training
from tests.corpora import planted_corpus


def test_bad_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(UserInputError, match="empty"):
        recipe.count([empty], recipe.GloVeConfig())
    rare = tmp_path / "rare.txt"
    rare.write_text("every word here is seen once\n")
    with pytest.raises(UserInputError, match="min_count=5 leaves no vocabulary"):
        recipe.count([rare], recipe.GloVeConfig(min_count=5))
    binary = tmp_path / "binary.bin"
    binary.write_bytes(b"\x00\x01\x02 text")
    with pytest.raises(UserInputError, match="binary"):
        recipe.count([binary], recipe.GloVeConfig(min_count=1))
    with pytest.raises(UserInputError, match="no such file"):
        recipe.count([tmp_path / "missing.txt"], recipe.GloVeConfig())
    with pytest.raises(UserInputError, match=r"--dim must be in \[1, inf\). Received: 0"):
        recipe.GloVeConfig(dim=0).check()
    with pytest.raises(ValueError, match="dim=-3"):
        GloVe(10, dim=-3)
    with pytest.raises(UserInputError, match="--x-max"):
        recipe.GloVeConfig(x_max=float("nan")).check()


def test_cli_rejects_bad_arguments_with_exit_2(tmp_path):
    for argv in (
        ["train", "glove", "--corpus", str(tmp_path / "none.txt"), "--out", str(tmp_path / "o")],
        ["train", "glove", "--corpus", "x", "--out", "o", "--dim", "0"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "keras_nlpkit.cli", *argv], capture_output=True, text=True
        )
        assert result.returncode == 2, result.stderr
        assert "--corpus" in result.stderr or "--dim" in result.stderr
    assert not (tmp_path / "o").exists()


def test_cli_trains_and_evaluates(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(800))
    out = tmp_path / "run"
    args = [
        "train",
        "glove",
        "--corpus",
        str(corpus),
        "--out",
        str(out),
        "--dim",
        "8",
        "--min-count",
        "1",
        "--window",
        "4",
        "--epochs",
        "3",
        "--batch-size",
        "512",
        "--x-max",
        "10",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", *args], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads(result.stdout[result.stdout.index("{") :])
    assert metrics["epochs_run"] == 3 and metrics["pair_updates_per_second"] > 0
    for name in (
        "vectors.txt",
        "vocabulary.tsv",
        "embedding.keras",
        "model.keras",
        "projector/tensors.tsv",
        "metrics.json",
    ):
        assert (out / name).is_file(), name
    assert list((out / "logs").rglob("events.out.tfevents.*"))
    embedding = keras.saving.load_model(out / "embedding.keras")
    saved = WordVectors.load_text(out / "vectors.txt")
    np.testing.assert_array_equal(np.asarray(embedding(np.array([["cat"]])))[0, 0], saved["cat"])
    model = keras.saving.load_model(out / "model.keras")
    np.testing.assert_array_equal(model.word_vectors(), saved.matrix)

    pairs = tmp_path / "pairs.txt"
    pairs.write_text("cat dog 9\ncat apple 1\npear plum 8\nnope cat 3\n")
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(": planted\ncat dog pear plum\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_nlpkit.cli",
            "evaluate",
            "glove",
            "--vectors",
            str(out / "vectors.txt"),
            "--analogies",
            str(analogies),
            "--similarity",
            str(pairs),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    scores = json.loads(result.stdout)
    assert scores["similarity"]["pairs.txt"]["coverage"] == 0.75
    assert scores["analogy"]["asked"] == 1 and scores["vocabulary_size"] > 20

    bad = tmp_path / "bad.txt"
    bad.write_text("cat dog\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_nlpkit.cli",
            "evaluate",
            "glove",
            "--vectors",
            str(out / "vectors.txt"),
            "--similarity",
            str(bad),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--similarity: line 1" in result.stderr


def test_training_resumes_after_an_interruption(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(500))
    config = recipe.GloVeConfig(dim=8, min_count=1, window=4, epochs=4, batch_size=512, x_max=10.0)

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("killed")

    fit = training.fit
    monkeypatch.setattr(
        training, "fit", lambda *args, **kwargs: fit(*args, callbacks=[Crash()], **kwargs)
    )
    with pytest.raises(KeyboardInterrupt):
        recipe.train([corpus], tmp_path / "run", config, verbose=0, log=lambda *_: None)
    assert not (tmp_path / "run" / "vectors.txt").exists()
    monkeypatch.setattr(training, "fit", fit)
    metrics = recipe.train([corpus], tmp_path / "run", config, verbose=0, log=lambda *_: None)
    assert metrics["epochs_run"] == 2  # epochs 3 and 4; 1 and 2 came from the backup

"""`nlpkit train mimick`: outputs, the word split, resume, bad input."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.models import WordVectors
from keras_nlpkit.recipes import mimick as recipe
from keras_nlpkit.recipes import training

TINY = dict(max_characters=10, character_dim=4, hidden_dim=6, mlp_dim=6, batch_size=16)


def _table(folder, count=60):
    """vectors.txt + vocabulary.tsv: words of a–d whose vector is their letter counts."""
    rng = np.random.default_rng(0)
    words = sorted({"".join(rng.choice(list("abcd"), rng.integers(2, 7))) for _ in range(count)})
    matrix = np.array([[w.count(c) for c in "abcd"] for w in words], "float32")
    WordVectors(words, matrix).save_text(folder / "vectors.txt")
    (folder / "vocabulary.tsv").write_text("".join(f"{w}\t{i + 1}\n" for i, w in enumerate(words)))
    return words


def test_split_holds_out_before_the_count_filter(tmp_path):
    words = _table(tmp_path)
    vectors = WordVectors.load_text(tmp_path / "vectors.txt")
    counts = recipe.read_counts(tmp_path / "vocabulary.tsv")
    config = recipe.MimickConfig(dev_fraction=0.2, min_count=30).check()
    train, dev = recipe.split_words(vectors, counts, config)
    assert dev.size == round(0.2 * len(words)) and not set(train) & set(dev)
    assert all(counts[words[r]] >= 30 for r in train)
    # The dev words do not depend on --min-count.
    _, same_dev = recipe.split_words(vectors, counts, recipe.MimickConfig(dev_fraction=0.2))
    np.testing.assert_array_equal(dev, same_dev)


def test_dev_figures_on_known_vectors():
    rng = np.random.default_rng(3)
    target, others = rng.normal(size=(20, 5)), rng.normal(size=(30, 5))
    assert recipe.mean_cosine(2.0 * target, target) == pytest.approx(1.0)
    assert recipe.mean_cosine(-target, target) == pytest.approx(-1.0)
    assert recipe.similarity_agreement(3.0 * target, target, others) == pytest.approx(1.0)
    assert recipe.similarity_agreement(-target, target, others) == pytest.approx(-1.0)
    noise = target + rng.normal(scale=5.0, size=target.shape)
    assert abs(recipe.similarity_agreement(noise, target, others)) < 0.5


def test_cli_trains_a_model_that_completes_vectors(tmp_path, capsys):
    _table(tmp_path)
    out = tmp_path / "run"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", "train", "mimick"]
        + ["--vectors", str(tmp_path / "vectors.txt"), "--out", str(out), "--epochs", "2"]
        + ["--min-count", "3", *flags],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads(result.stdout[result.stdout.index("{") :])
    assert metrics["epochs_run"] == 2 and metrics["words_held_out"] > 0
    assert -1.0 <= metrics["dev_cosine"] <= 1.0 and -1.0 <= metrics["dev_similarity"] <= 1.0
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert list((out / "logs").rglob("events.out.tfevents.*"))
    assert not (out / "backup").exists()
    model = keras.saving.load_model(out / "model.keras")
    vectors = WordVectors.load_text(tmp_path / "vectors.txt")
    completed = model.complete(vectors, ["abcabc", vectors.words[0]])
    assert completed.words == vectors.words + ["abcabc"]
    assert completed.matrix.shape == (len(vectors) + 1, 4)
    # `nlpkit evaluate word-vectors --oov-model` scores every pair, the unseen words too.
    (tmp_path / "pairs.txt").write_text(f"{vectors.words[0]} abcabc 3\n{vectors.words[1]} dd 1\n")
    argv = ["evaluate", "word-vectors", "--vectors", str(tmp_path / "vectors.txt")]
    argv += ["--similarity", str(tmp_path / "pairs.txt")]
    found = {}
    for extra in ([], ["--oov-model", str(out)]):
        cli.main(argv + extra)
        found[bool(extra)] = json.loads(capsys.readouterr().out)
    assert found[False]["similarity"]["pairs.txt"]["coverage"] < 1.0
    assert found[True]["similarity"]["pairs.txt"]["coverage"] == 1.0
    assert found[True]["completed_words"] == len({"abcabc", "dd"} - set(vectors.words))
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv + ["--oov-model", str(tmp_path)])
    assert exit_.value.code == 2 and "--oov-model: not a finished" in capsys.readouterr().err


@pytest.mark.large  # two fits; resuming is training.fit's, tested with every recipe
def test_training_resumes_after_an_interruption(tmp_path, monkeypatch):
    _table(tmp_path)
    config = recipe.MimickConfig(epochs=3, **TINY)

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("killed")

    fit = training.fit
    monkeypatch.setattr(
        training, "fit", lambda *args, **kwargs: fit(*args, callbacks=[Crash()], **kwargs)
    )
    quiet = {"verbose": 0, "log": lambda *_: None}
    with pytest.raises(KeyboardInterrupt):
        recipe.train(tmp_path / "vectors.txt", tmp_path / "run", config, **quiet)
    assert not (tmp_path / "run" / "model.keras").exists()
    monkeypatch.setattr(training, "fit", fit)
    metrics = recipe.train(tmp_path / "vectors.txt", tmp_path / "run", config, **quiet)
    assert metrics["epochs_run"] == 1  # epoch 3; 1 and 2 came from the backup


def test_bad_inputs_are_named(tmp_path, capsys):
    _table(tmp_path)
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "vectors.txt").write_text("cat 1 2\ndog 3 4\n")
    with pytest.raises(UserInputError, match="--min-count 2 needs the words' counts"):
        recipe.train(alone / "vectors.txt", tmp_path / "o", recipe.MimickConfig(min_count=2))
    bad = tmp_path / "bad.tsv"
    bad.write_text("cat\tmany\n")
    with pytest.raises(UserInputError, match="--vocabulary: line 1"):
        recipe.read_counts(bad)
    with pytest.raises(UserInputError, match="leaves no word"):
        recipe.train(tmp_path / "vectors.txt", tmp_path / "o", recipe.MimickConfig(min_count=10**6))
    with pytest.raises(UserInputError, match="--loss must be one of"):
        recipe.MimickConfig(loss="l1").check()
    with pytest.raises(UserInputError, match=r"--dev-fraction must be in \[0, 0.5\]"):
        recipe.MimickConfig(dev_fraction=0.9).check()
    argv = ["train", "mimick", "--vectors", str(tmp_path / "missing.txt"), "--out"]
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, str(tmp_path / "o")])
    assert exit_.value.code == 2 and "--vectors" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

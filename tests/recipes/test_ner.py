"""`nlpkit train ner` / `evaluate ner` on tiny files made here: outputs, export, bad input."""

import json
import sys

import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.recipes import ner as recipe
from keras_nlpkit.text.conll import read_conll

PEOPLE = ["Peter", "Anna", "Ravi", "Mona", "Olaf"]
PLACES = ["Paris", "Oslo", "Lima", "Delhi", "Cairo"]
FILLER = ["the", "talks", "went", "well", "today", "again", "."]


def sentences(count, seed):
    """IOB1 sentences: `<person> said in <place> ...`, a two-word person now and then."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        words, tags = [], []
        words.append(str(rng.choice(PEOPLE)))
        tags.append("I-PER")
        if rng.random() < 0.3:
            words.append("Smith")
            tags.append("I-PER")
        words += ["said", "in", str(rng.choice(PLACES))]
        tags += ["O", "O", "I-LOC"]
        filler = list(rng.choice(FILLER, rng.integers(1, 4)))
        words += filler
        tags += ["O"] * len(filler)
        result.append((words, tags))
    return result


def write_conll(path, tagged, two_columns=False):
    lines = ["-DOCSTART- -X- O O", ""] if not two_columns else []
    for words, tags in tagged:
        for word, tag in zip(words, tags):
            lines.append(f"{word}\t{tag}" if two_columns else f"{word} NNP I-NP {tag}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_tagger_folder(out, metrics, max_abs_diff):
    """What every tagger recipe leaves in `out`: the files `evaluate ner` reads, no
    backup, TensorBoard logs, and a builtin-only export whose float32 file equals Keras."""
    for name in ("model.keras", "tags.json", "vocabulary.txt", "preprocessor.json"):
        assert (out / name).is_file(), name
    for name in ("history.json", "metrics.json", "representative.npz"):
        assert (out / name).is_file(), name
    assert not (out / "backup").exists()
    assert list((out / "logs").rglob("events.out.tfevents.*"))
    report = json.loads((out / "export" / "report.json").read_text())
    for variant in ("float32", "dynamic_int8"):
        entry = report["variants"][variant]
        assert entry["flex_ops"] == [] and entry["custom_ops"] == []
    assert report["variants"]["float32"]["max_abs_diff"] <= max_abs_diff
    manifest = json.loads((out / "export" / "manifest.json").read_text())
    assert {"tags.json", "vocabulary.txt", "preprocessor.json"} <= set(manifest["files"])
    assert manifest["settings"]["tags"] == metrics["tags"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ner_data")
    train = write_conll(root / "train.txt", sentences(160, seed=0))
    dev_sentences = sentences(40, seed=1)
    dev = write_conll(root / "dev.txt", dev_sentences)
    # The dev set as BIO, word<TAB>tag (WNUT-17's layout): it must score the same.
    bio = [(s.words, s.tags) for s in read_conll(dev)]
    dev_bio = write_conll(root / "dev.bio", bio, two_columns=True)
    words = sorted({w.lower() for s in sentences(160, 0) + dev_sentences for w in s[0]})
    words = [w for w in words if w not in ("olaf", "smith")]  # two unknown words
    rng = np.random.default_rng(2)
    (root / "vectors.txt").write_text(
        "".join(f"{w} {' '.join(f'{x:.4f}' for x in rng.normal(size=8))}\n" for w in words)
    )
    return {"train": train, "dev": dev, "dev_bio": dev_bio, "vectors": root / "vectors.txt"}


TINY = recipe.NERConfig(
    hidden=16, case_dim=4, dropout=0.1, epochs=12, batch_size=16, learning_rate=0.01
)


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("ner") / "run"
    metrics = recipe.train(
        files["train"],
        files["dev"],
        out,
        TINY,
        vectors=files["vectors"],
        verbose=0,
        log=lambda *_: None,
    )
    return out, metrics


def test_trains_exports_and_scores_through_keras_and_the_int8_file(trained):
    out, metrics = trained
    assert metrics["tags"] == ["O", "B-LOC", "B-PER", "I-PER"]
    assert metrics["epochs_run"] == 12 and len(metrics["dev_f1_by_epoch"]) == 12
    # The pattern is easy: the tagger must find (nearly) every entity.
    assert metrics["dev"]["f1"] >= 0.9, metrics["dev"]
    assert metrics["dev"]["gold"] == 80  # a person and a place a sentence
    assert metrics["dev_dynamic_int8"]["f1"] >= metrics["dev"]["f1"] - 0.05
    assert metrics["dev_f1_by_epoch"][-1] == metrics["dev"]["f1"]
    assert metrics["train_word_coverage"] < 1.0  # "Olaf" and "Smith" have no vector
    assert_tagger_folder(out, metrics, max_abs_diff=1e-5)
    report = json.loads((out / "export" / "report.json").read_text())
    for variant in ("float32", "dynamic_int8"):
        assert report["variants"][variant]["top1_agreement"] == 1.0


def test_evaluate_cli_prints_the_scores_for_either_layout(trained, files, capsys, monkeypatch):
    out, metrics = trained
    # In this process: `main` would close stderr after a command that ran LiteRT's
    # CompiledModel (the export in `trained`), to drop its exit logs.
    monkeypatch.delitem(sys.modules, "ai_edge_litert.compiled_model", raising=False)
    assert cli.main(["evaluate", "ner", "--model", str(out), "--data", str(files["dev"])]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["sentences"] == 40 and scores["tokens"] == sum(
        len(s.words) for s in read_conll(files["dev"])
    )
    for key in ("precision", "recall", "f1", "correct", "predicted", "gold", "per_type"):
        assert scores[key] == metrics["dev"][key], key
    assert set(scores["per_type"]) == {"LOC", "PER"}
    assert scores == recipe.evaluate(out, files["dev_bio"])  # IOB1 file = its BIO copy


def test_bad_files_exit_2_naming_the_argument(trained, files, tmp_path, capsys):
    out, _ = trained
    bad = tmp_path / "bad.txt"
    bad.write_text("Peter NNP I-NP I-PER\nsaid VBD O\n")
    wrong_columns = f"line 2 of {bad} has 3 columns, but the first data line (line 1) has 4"
    runs = [
        (
            ["evaluate", "ner", "--model", out, "--data", bad],
            f"--data: {wrong_columns}. Received: 'said VBD O'",
        ),
        (
            [
                *("train", "ner", "--train", bad, "--dev", files["dev"]),
                *("--vectors", files["vectors"], "--out", tmp_path / "never"),
            ],
            f"--train: {wrong_columns}",
        ),
        (
            ["evaluate", "ner", "--model", tmp_path, "--data", files["dev"]],
            "--model: not a training folder",
        ),
    ]
    for argv, message in runs:
        with pytest.raises(SystemExit) as exit_:
            cli.main(map(str, argv))
        assert exit_.value.code == 2, argv
        assert capsys.readouterr().err.startswith(f"nlpkit: error: {message}"), argv
    assert not (tmp_path / "never").exists()


def test_features_and_vectors_are_checked_before_anything_is_written(files, tmp_path):
    out = tmp_path / "run"
    for features in ("elmo", "both"):
        config = recipe.NERConfig(features=features)
        with pytest.raises(UserInputError, match=f"--elmo: --features {features} needs a"):
            recipe.train(files["train"], files["dev"], out, config, vectors=files["vectors"])
        with pytest.raises(UserInputError, match="--elmo: not a training folder"):
            recipe.train(
                files["train"], files["dev"], out, config, vectors=files["vectors"], elmo=tmp_path
            )
    with pytest.raises(UserInputError, match="--vectors: --features glove needs word vectors"):
        recipe.train(files["train"], files["dev"], out, recipe.NERConfig())
    with pytest.raises(UserInputError, match="--features must be one of"):
        recipe.NERConfig(features="bert").check()
    with pytest.raises(UserInputError, match="--vectors: no such file"):
        recipe.train(files["train"], files["dev"], out, vectors=tmp_path / "none.txt")
    assert not out.exists()


@pytest.mark.large  # a biLM runs under every training step and the export
def test_elmo_and_both_features_train_export_and_evaluate(files, tmp_path, capsys):
    import keras

    from keras_nlpkit.models import ELMoBiLM

    keras.utils.set_random_seed(0)
    bilm = ELMoBiLM(
        vocabulary_size=30, filters=[[1, 8], [2, 8]], units=16, projection_dim=8, max_characters=12
    )
    (tmp_path / "bilm").mkdir()
    bilm.save(tmp_path / "bilm" / "model.keras")
    (tmp_path / "bilm" / "recipe.json").write_text('{"recipe": "elmo"}')
    for features in ("elmo", "both"):
        out = tmp_path / features
        config = recipe.NERConfig(**{**vars(TINY), "features": features, "epochs": 8})
        metrics = recipe.train(
            files["train"],
            files["dev"],
            out,
            config,
            vectors=files["vectors"],
            elmo=tmp_path / "bilm",
            verbose=0,
            log=lambda *_: None,
        )
        # An untrained biLM's layers still carry each word's spelling and capitals: the
        # names are found far above chance, and beside the word vectors as well as alone.
        assert metrics["dev"]["f1"] >= (0.4 if features == "elmo" else 0.85), metrics["dev"]
        assert metrics["export"]["float32"]["max_abs_diff"] <= 1e-4
        assert metrics["dev_dynamic_int8"]["f1"] >= metrics["dev"]["f1"] - 0.05
        cli.main(["evaluate", "ner", "--model", str(out), "--data", str(files["dev"])])
        assert json.loads(capsys.readouterr().out)["f1"] == metrics["dev"]["f1"]
    with pytest.raises(UserInputError, match="--elmo: a `ner` run, not a `elmo` one"):
        recipe.train(
            files["train"],
            files["dev"],
            tmp_path / "x",
            config,
            vectors=files["vectors"],
            elmo=tmp_path / "elmo",  # a tagger's folder
        )

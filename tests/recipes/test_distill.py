"""`train distill` end to end on sentences made here, from a tiny BERT teacher made here."""

import json

import keras
import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.models import WordVectors
from keras_nlpkit.recipes import bert_finetune
from keras_nlpkit.recipes import distill
from keras_nlpkit.text.augmentation import MASK

ANIMALS = ("cat", "dog", "bird", "fox")
GOOD, BAD = ("great", "lovely", "fine"), ("awful", "dull", "poor")


def write_sst2(folder, seed=1):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for name, count in (("train.tsv", 160), ("dev.tsv", 30)):
        rows = ["label\tsentence"]
        for _ in range(count):
            label = int(rng.integers(2))
            word = rng.choice(GOOD if label else BAD)
            rows.append(f"{label}\tthe {rng.choice(ANIMALS)} was very {word}")
        (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def quiet(*_):
    pass


TEACHER = bert_finetune.BertFinetuneConfig(
    sequence_length=12,
    batch_size=16,
    epochs=2,
    learning_rate=1e-3,
    baseline_learning_rate=3e-2,
    vocabulary_size=60,
    dropout=0.0,
)
TINY = distill.DistillConfig(
    vocabulary_size=12,
    embedding_dim=4,
    hidden_dim=4,
    augment=2,
    epochs=2,
    batch_size=16,
    learning_rate=1e-2,
    teacher_batch_size=32,
    latency_rounds=1,
)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    root = tmp_path_factory.mktemp("distill")
    data = write_sst2(root / "sst2")
    bert_finetune.train("sst2", data, root / "teacher", TEACHER, verbose=0, log=quiet)
    words = sorted({*ANIMALS, *GOOD, *BAD, "the", "was", "very"})
    vectors = root / "vectors.txt"
    WordVectors(words, np.random.default_rng(0).normal(size=(len(words), 6))).save_text(vectors)
    return {"root": root, "data": data, "folder": root / "teacher", "vectors": vectors}


@pytest.mark.large
def test_distils_exports_and_measures_both_students(teacher, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "distill", "--teacher", str(teacher["folder"]), "--task", "sst2"]
    argv += ["--out", str(out), "--vectors", str(teacher["vectors"])]
    for field in ("vocabulary_size", "embedding_dim", "hidden_dim", "augment", "epochs"):
        argv += [f"--{field.replace('_', '-')}", str(getattr(TINY, field))]
    argv += ["--batch-size", "16", "--learning-rate", "0.01", "--latency-rounds", "1"]
    cli.main(argv)
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert "labels_only" in printed and "distilled" in printed
    assert metrics["train_examples"] == 160 and metrics["dev_examples"] == 30
    assert metrics["augmented_sentences"] > 0
    assert metrics["student"]["vocabulary"] == 3 + 12
    assert metrics["student"]["words_with_vectors"] == 12  # every kept word has a vector
    table = metrics["table"]
    assert sorted(table) == [
        "distilled",
        "distilled_dynamic_int8",
        "distilled_fused",
        "labels_only",
        "labels_only_dynamic_int8",
        "labels_only_fused",
        "teacher",
        "teacher_dynamic_int8",
    ]
    assert sorted(metrics["ratios_to_teacher"]) == sorted(
        set(table) - {"teacher", "teacher_dynamic_int8"}
    )
    for row in table.values():
        assert 0 <= row["dev_accuracy"] <= 1 and 0 <= row["dev_accuracy_on_device"] <= 1
        assert row["parameters"] > 0 and row["tflite_bytes"] > 0 and row["ms_per_sentence"] > 0
    assert table["distilled"]["variant"] == "int8"
    assert table["distilled_dynamic_int8"]["variant"] == "dynamic_int8"
    # Each file against the teacher's of the same variant.
    ratio = metrics["ratios_to_teacher"]["distilled_dynamic_int8"]["ms_per_sentence"]
    teacher_ms = table["teacher_dynamic_int8"]["ms_per_sentence"]
    assert ratio == round(table["distilled_dynamic_int8"]["ms_per_sentence"] / teacher_ms, 4)
    assert table["distilled_fused"]["variant"] == "dynamic_int8 (fused LSTM)"
    # The same architecture and seed: the two students differ in what they learnt from.
    assert table["labels_only"]["parameters"] == table["distilled"]["parameters"]
    # The sentiment is one word: the students learn it, through the int8 file too.
    assert table["labels_only"]["dev_accuracy"] >= 0.9
    assert table["distilled"]["dev_accuracy_on_device"] >= 0.8
    for name in ("labels_only", "distilled"):
        assert (out / name / "export" / "model_int8.tflite").is_file()
        assert (out / name / "export" / "model_dynamic_int8.tflite").is_file()
        # The saved student loads as it is, its training metric included.
        revived = keras.saving.load_model(out / name / "model.keras")
        assert revived.count_params() == table[name]["parameters"]
        assert (out / name / "export" / "tokenizer.json").is_file()
        assert (out / name / "export_fused" / "model_dynamic_int8.tflite").is_file()
        assert (out / name / "logs").is_dir() and not (out / name / "backup").exists()
    assert (out / "teacher_export" / "model_int8.tflite").is_file()
    augmented = (out / "augmented.txt").read_text().splitlines()
    assert any(MASK in line for line in augmented)
    logits = np.load(out / "teacher_logits.npz")
    assert logits["train"].shape == (160, 2) and logits["augmented"].shape == (len(augmented), 2)
    assert json.loads(str(logits["key"]))["augment"] == TINY.augment

    # A rerun finds both students trained and the teacher's logits cached.
    again = distill.train(
        "sst2",
        teacher["folder"],
        out,
        TINY,
        vectors=teacher["vectors"],
        verbose=0,
        log=quiet,
    )
    for name in ("labels_only", "distilled"):
        assert again["table"][name]["dev_accuracy"] == table[name]["dev_accuracy"]


@pytest.fixture
def unfinished_teacher(tmp_path):
    """A `bert-finetune --task sst2` folder whose run has not finished (no model yet)."""
    data = write_sst2(tmp_path / "sst2")
    folder = tmp_path / "teacher"
    folder.mkdir()
    run = {
        "recipe": "bert-finetune",
        "config": {},
        "inputs": {str(data / "dev.tsv"): "", str(data / "train.tsv"): ""},
    }
    (folder / "recipe.json").write_text(json.dumps(run), encoding="utf-8")
    return folder


def test_a_teacher_of_another_task_is_refused_naming_both(unfinished_teacher, tmp_path, capsys):
    with pytest.raises(UserInputError, match=r"fine-tuned for --task sst2, not for --task trec_qc"):
        distill.train("trec_qc", unfinished_teacher, tmp_path / "out", TINY, log=quiet)
    argv = ["train", "distill", "--teacher", str(unfinished_teacher), "--task", "trec_qc"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--teacher" in error and "--task sst2" in error and "--task trec_qc" in error
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_a_folder_that_is_not_a_finished_teacher_is_refused(unfinished_teacher, tmp_path):
    with pytest.raises(UserInputError, match="--teacher: not a training folder"):
        distill.train("sst2", tmp_path / "sst2", tmp_path / "out", TINY, log=quiet)
    with pytest.raises(UserInputError, match="--teacher: no model.keras"):
        distill.train("sst2", unfinished_teacher, tmp_path / "out", TINY, log=quiet)
    other = tmp_path / "other"
    other.mkdir()
    (other / "recipe.json").write_text(json.dumps({"recipe": "glove", "inputs": {}}))
    with pytest.raises(UserInputError, match="--teacher: a `glove` run, not a `bert-finetune`"):
        distill.train("sst2", other, tmp_path / "out", TINY, log=quiet)


def test_teacher_task_is_read_from_the_files_it_was_trained_on(tmp_path):
    assert distill.teacher_task(tmp_path, {"inputs": {"d/train.tsv": "", "d/dev.tsv": ""}}) == (
        "sst2"
    )
    assert distill.teacher_task(tmp_path, {"inputs": {"d/train.txt": ""}}) == "trec_qc"
    (tmp_path / "tags.json").write_text("[]")
    assert distill.teacher_task(tmp_path, {"inputs": {"d/eng.train": ""}}) == "ner"


def test_mask_pieces_become_the_teachers_mask_id():
    assert distill._join_mask([7, 10, 11, 12, 8, 10, 11, 12], [10, 11, 12], 4) == [7, 4, 8, 4]
    assert distill._join_mask([7, 10, 11, 8], [10, 11, 12], 4) == [7, 10, 11, 8]


def test_student_vocabulary_and_projected_table():
    sentences = ["b a a", "c a b", "[MASK] d"]
    vocabulary = distill.student_vocabulary(sentences, 3)
    assert vocabulary == ["<unk>", "<s>", "</s>", "a", "b", "c"]  # [mask] is never a word
    rng = np.random.default_rng(0)
    vectors = WordVectors(["a", "b", "z", "y"], rng.normal(size=(4, 5)))
    table, found = distill.embedding_table(vocabulary, vectors, 2, seed=0)
    assert table.shape == (6, 2) and found == 2
    assert np.all(table[0] == 0)  # <unk>, also what a masked word reads
    np.testing.assert_allclose(np.linalg.norm(table[[3, 4]], axis=1).mean(), 1.0, rtol=1e-5)
    with pytest.raises(UserInputError, match="--embedding-dim must be at most"):
        distill.embedding_table(vocabulary, vectors, 6, seed=0)

"""BERT recipes end to end on text made here: pretrain → fine-tune, outputs, bad input."""

import json

import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.recipes import bert_finetune
from keras_nlpkit.recipes import bert_pretrain
from keras_nlpkit.text.classification import read_trec
from keras_nlpkit.text.documents import read_documents

ANIMALS = ("cat", "dog", "bird", "fox")
GOOD, BAD = ("great", "lovely", "fine"), ("awful", "dull", "poor")


def story(rng):
    a, b = rng.choice(ANIMALS, 2, replace=False)
    return f"The {a} saw the {b}. Then the {b} ran home. The {a} slept."


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "stories.txt"
    path.write_text("\n".join(story(rng) for _ in range(300)) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def sst2(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "sst2"
    folder.mkdir()
    for name, count in (("train.tsv", 200), ("dev.tsv", 40)):
        rows = ["label\tsentence"]
        for _ in range(count):
            label = int(rng.integers(2))
            word = rng.choice(GOOD if label else BAD)
            rows.append(f"{label}\tthe {rng.choice(ANIMALS)} was {word}")
        (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_pretrain_then_finetune_writes_models_and_metrics(corpus, sst2, tmp_path):
    small = dict(
        vocabulary_size=60,
        vocabulary_lines=300,
        sequence_length=24,
        batch_size=8,
        epochs=1,
        steps_per_epoch=4,
        pairs_held_out=16,
    )
    metrics = bert_pretrain.train(
        [corpus],
        tmp_path / "pre",
        bert_pretrain.BertPretrainConfig(**small),
        verbose=0,
        log=lambda *_: None,
    )
    assert metrics["steps"] == 4  # 1 epoch of 4 steps, counted by the optimizer
    # NSP is scored on the 16 held-out pairs: a whole number of them is right.
    assert metrics["nsp_accuracy"] * 16 == pytest.approx(round(metrics["nsp_accuracy"] * 16))
    assert metrics["held_out_loss"] > 0 and metrics["mlm_accuracy"] < 1
    assert metrics["documents"] == 300 and metrics["train_pairs"] == 600 - 16
    for name in ("vocabulary.txt", "preprocessor.json", "backbone.keras", "model.keras"):
        assert (tmp_path / "pre" / name).is_file(), name

    config = bert_finetune.BertFinetuneConfig(
        sequence_length=16, batch_size=16, epochs=3, learning_rate=1e-3, baseline_learning_rate=3e-2
    )
    result = bert_finetune.train(
        "sst2",
        sst2,
        tmp_path / "fine",
        config,
        pretrained=tmp_path / "pre",
        verbose=0,
        log=lambda *_: None,
    )
    assert result["train_examples"] == 200 and result["dev_examples"] == 40
    # The sentiment is one word: the bag of embeddings learns it.
    assert result["bag_of_embeddings"]["dev_accuracy"] >= 0.9
    on_disk = json.loads((tmp_path / "fine" / "metrics.json").read_text())
    assert on_disk["bert"]["dev_accuracy"] == result["bert"]["dev_accuracy"]

    bad_vocabulary = tmp_path / "other.txt"
    bad_vocabulary.write_text("\n".join(["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]", "cat"]))
    with pytest.raises(
        UserInputError,
        match=r"--vocabulary: .*vocabulary_size=\d+.*vocabulary of 6 tokens",
    ):
        bert_finetune.train(
            "sst2",
            sst2,
            tmp_path / "bad",
            config,
            pretrained=tmp_path / "pre",
            vocabulary=bad_vocabulary,
            verbose=0,
            log=lambda *_: None,
        )


def test_trec_dev_split_is_stable_and_disjoint(tmp_path):
    lines = [f"{c}:x question number {i} ?" for i in range(300) for c in ("HUM", "LOC")]
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    train, dev = read_trec(tmp_path, 0.1)
    assert len(train) + len(dev) == 600 and 20 < len(dev) < 100
    assert not {q for q, _ in train} & {q for q, _ in dev}
    assert read_trec(tmp_path, 0.1) == (train, dev)


def test_cli_errors_name_the_argument(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(
            [
                "train",
                "bert-finetune",
                "--task",
                "sst2",
                "--data",
                str(tmp_path),
                "--out",
                str(tmp_path / "out"),
            ]
        )
    assert exit_info.value.code == 2
    assert "--data: no train.tsv there" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(
            [
                "train",
                "bert-pretrain",
                "--corpus",
                str(tmp_path / "none.txt"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
    assert "--corpus: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(
            [
                "train",
                "bert-pretrain",
                "--corpus",
                str(tmp_path / "none.txt"),
                "--out",
                str(tmp_path / "out"),
                "--size",
                "huge",
            ]
        )
    assert "--size must be one of" in capsys.readouterr().err
    folder = tmp_path / "sst2"
    folder.mkdir()
    (folder / "train.tsv").write_text("label\tsentence\n0\ta b\n0\tc d\n", encoding="utf-8")
    (folder / "dev.tsv").write_text("label\tsentence\n0\ta b\n1\tc d\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        cli.main(
            [
                "train",
                "bert-finetune",
                "--task",
                "sst2",
                "--data",
                str(folder),
                "--out",
                str(tmp_path / "out"),
            ]
        )
    assert "labels the training set lacks: ['1']" in capsys.readouterr().err


def test_documents_of_a_file_without_blank_lines_are_cut_and_sourced():
    sentence_a_line = "\n".join(f"Sentence number {i} is here." for i in range(70))
    story_a_line = "\n".join("One thing. Then another. And a third." for _ in range(5))
    documents, sources = read_documents([sentence_a_line, story_a_line])
    assert [len(d) for d in documents] == [32, 32, 6, 3, 3, 3, 3, 3]
    assert sources == [0, 0, 0, 1, 1, 1, 1, 1]
    assert documents[1][0] == "Sentence number 32 is here."

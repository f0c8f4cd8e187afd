"""`train bert-finetune --task ner` → `evaluate ner` on tiny files and a tiny BERT made here."""

import json
import sys

import keras
import pytest

from keras_nlpkit import cli
from keras_nlpkit.models import BertBackbone
from keras_nlpkit.models import BertPreprocessor
from keras_nlpkit.models import BertTokenClassifierPreprocessor
from keras_nlpkit.models.bert.bert_preprocessor import SPECIAL_TOKENS
from keras_nlpkit.recipes import bert_finetune_ner as recipe
from keras_nlpkit.recipes.bert_finetune import BertFinetuneConfig
from keras_nlpkit.text.conll import read_conll
from keras_nlpkit.tokenizers import learn_word_piece_vocabulary
from tests.recipes.test_ner import FILLER
from tests.recipes.test_ner import PEOPLE
from tests.recipes.test_ner import PLACES
from tests.recipes.test_ner import assert_tagger_folder
from tests.recipes.test_ner import sentences
from tests.recipes.test_ner import write_conll

SEQUENCE_LENGTH = 10  # 8 pieces a window: the longer sentences become two windows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Tiny CoNLL files and a tiny "pretrained" BERT folder (random weights) to start from."""
    root = tmp_path_factory.mktemp("bert_ner")
    train = write_conll(root / "train.txt", sentences(240, seed=0))
    dev = write_conll(root / "dev.txt", sentences(40, seed=1))
    bio = [(s.words, s.tags) for s in read_conll(dev)]
    dev_bio = write_conll(root / "dev.bio", bio, two_columns=True)
    # "Smith" and "Delhi" are not in the vocabulary: two pieces each.
    words = {w.lower() for w in PEOPLE + PLACES + FILLER + ["said", "in"]} - {"delhi"}
    vocabulary = SPECIAL_TOKENS + sorted(words) + ["smi", "##th", "del", "##hi"]
    pretrained = root / "pretrained"
    pretrained.mkdir()
    BertPreprocessor(vocabulary, SEQUENCE_LENGTH).save(pretrained)
    keras.utils.set_random_seed(0)
    backbone = BertBackbone(len(vocabulary), 1, 2, 32, 64, max_sequence_length=SEQUENCE_LENGTH)
    backbone.save(pretrained / "backbone.keras")
    return {"train": train, "dev": dev, "dev_bio": dev_bio, "pretrained": pretrained}


TINY = BertFinetuneConfig(
    sequence_length=SEQUENCE_LENGTH, batch_size=16, epochs=4, learning_rate=3e-3, dropout=0.0
)


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("bert_ner_run") / "run"
    metrics = recipe.train(
        files["train"],
        files["dev"],
        out,
        TINY,
        pretrained=files["pretrained"],
        verbose=0,
        log=lambda *_: None,
    )
    return out, metrics


def test_trains_exports_and_scores_the_same_through_keras_and_tflite(trained):
    out, metrics = trained
    assert metrics["tags"] == ["O", "B-LOC", "B-PER", "I-PER"]
    assert metrics["labelling"] == "first WordPiece of each word"
    assert metrics["epochs_run"] == 4 and len(metrics["dev_f1_by_epoch"]) == 4
    assert metrics["dev_f1_by_epoch"][-1] == metrics["dev"]["f1"]
    assert metrics["dev"]["gold"] == 80  # a person and a place a sentence, every one scored
    assert metrics["dev"]["f1"] >= 0.9, metrics["dev"]
    # Sentences over 8 pieces are two windows; their words are all tagged.
    assert metrics["dev_windows"] > metrics["dev_sentences"]
    assert metrics["dev_words_in_split_sentences"] > 0
    for variant in ("float32", "dynamic_int8"):
        assert metrics[f"dev_{variant}"]["gold"] == 80
    assert metrics["dev_float32"]["f1"] == metrics["dev"]["f1"]
    assert metrics["dev_dynamic_int8"]["f1"] >= metrics["dev"]["f1"] - 0.05
    assert_tagger_folder(out, metrics, max_abs_diff=1e-4)


def test_evaluate_ner_reads_the_bert_folder(trained, files, capsys, monkeypatch):
    out, metrics = trained
    # `main` closes stderr after a command that ran LiteRT's CompiledModel (the export).
    monkeypatch.delitem(sys.modules, "ai_edge_litert.compiled_model", raising=False)
    assert cli.main(["evaluate", "ner", "--model", str(out), "--data", str(files["dev"])]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["sentences"] == 40
    assert scores["tokens"] == sum(len(s.words) for s in read_conll(files["dev"]))
    for key in ("precision", "recall", "f1", "correct", "predicted", "gold", "per_type"):
        assert scores[key] == metrics["dev"][key], key
    assert set(scores["per_type"]) == {"LOC", "PER"}
    assert scores == recipe.evaluate(out, files["dev_bio"])  # IOB1 file = its BIO copy


def _fails_with(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(map(str, argv))
    assert exit_.value.code == 2, argv
    assert capsys.readouterr().err.startswith(f"nlpkit: error: {message}"), argv


def test_bad_input_exits_2_naming_the_argument(files, tmp_path, capsys):
    out = tmp_path / "never"
    ner = ["train", "bert-finetune", "--task", "ner", "--out", out]
    _fails_with([*ner, "--dev", files["dev"]], "--train: --task ner needs --train FILE", capsys)
    _fails_with([*ner, "--train", files["train"]], "--dev: --task ner needs", capsys)
    _fails_with(
        [*ner, "--data", tmp_path, "--train", files["train"], "--dev", files["dev"]],
        "--data: --task ner reads --train FILE and --dev FILE",
        capsys,
    )
    bad = tmp_path / "bad.txt"
    bad.write_text("Peter NNP I-NP I-PER\nsaid VBD O\n")
    _fails_with(
        [*ner, "--train", bad, "--dev", files["dev"], "--pretrained", files["pretrained"]],
        f"--train: line 2 of {bad} has 3 columns, but the first data line (line 1) has 4",
        capsys,
    )
    sst2 = ["train", "bert-finetune", "--task", "sst2", "--out", out]
    _fails_with([*sst2, "--train", files["train"]], "--train: only --task ner reads", capsys)
    _fails_with(sst2, "--data: --task sst2 needs --data", capsys)
    assert not out.exists()


def test_evaluate_refuses_a_sentence_task_folder(files, tmp_path, capsys):
    folder = tmp_path / "sst2_run"
    folder.mkdir()
    (folder / "recipe.json").write_text(json.dumps({"recipe": "bert-finetune", "config": {}}))
    _fails_with(
        ["evaluate", "ner", "--model", folder, "--data", files["dev"]],
        "--model: a `bert-finetune` run of a sentence task (no tags.json), not of --task ner",
        capsys,
    )


@pytest.mark.large  # ~40 s of CPU: a WordPiece vocabulary learnt on CoNLL-2003
def test_every_conll_dev_word_is_in_exactly_one_window(shared_data):
    folder = shared_data / "ner" / "conll2003"
    train = [" ".join(s.words) for s in read_conll(folder / "eng.train")]
    vocabulary = learn_word_piece_vocabulary(train, 8000, SPECIAL_TOKENS, lowercase=True)
    preprocessor = BertTokenClassifierPreprocessor(vocabulary, 64)
    dev = [s.words for s in read_conll(folder / "eng.testa")]
    windows = preprocessor.encode(dev)
    owners = [owner for window in windows.words for owner in window]
    assert owners == [(s, w) for s, words in enumerate(dev) for w in range(len(words))]
    assert windows.lengths.max() <= 64 and len(windows.lengths) > len(dev)
    assert windows.sample_weight.sum() == sum(map(len, dev)) == 51362

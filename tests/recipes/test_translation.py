"""The translation recipe end to end on a tiny made-up parallel corpus: train, translate,
evaluate (one JSON object), its files, and clear errors for bad data folders."""

import dataclasses
import gzip
import itertools
import json

import pytest

from keras_nlpkit import cli
from keras_nlpkit.ondevice import Translator
from keras_nlpkit.recipes import translation

WORDS = {"a": "ein", "red": "roter", "big": "großer", "dog": "Hund", "cat": "Kater"}
VERBS = {"runs": "rennt", "sleeps": "schläft", "eats": "isst"}


def _pairs():
    pairs = []
    for adjective, noun, verb in itertools.product(["red", "big"], ["dog", "cat"], VERBS):
        english = f"A {adjective} {noun} {verb}."
        german = f"Ein {WORDS[adjective]} {WORDS[noun]} {VERBS[verb]}."
        pairs.append((english, german))
    return pairs


def _write(folder, split, pairs, gzipped=False):
    for index, language in ((0, "en"), (1, "de")):
        text = "".join(pair[index] + "\n" for pair in pairs)
        if gzipped:
            with gzip.open(folder / f"{split}.{language}.gz", "wt", encoding="utf-8") as f:
                f.write(text)
        else:
            (folder / f"{split}.{language}").write_text(text, encoding="utf-8")


TINY = dict(
    vocabulary_size=40,
    source_length=12,
    target_length=12,
    hidden_dim=16,
    num_encoder_layers=1,
    num_decoder_layers=1,
    num_heads=2,
    intermediate_dim=32,
    batch_size=8,
    epochs=2,
    train_seconds=0,
    warmup_steps=2,
    dtype_policy="float32",
    beam_size=2,
)


def test_train_translate_and_evaluate_from_the_cli(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    pairs = _pairs()
    _write(data, "train", pairs * 4, gzipped=True)
    _write(data, "val", pairs[:4])
    out = tmp_path / "mt"
    flags = [f"--{name.replace('_', '-')}={value}" for name, value in TINY.items()]
    cli.main(["train", "translation", "--data", str(data), "--out", str(out), *flags])
    capsys.readouterr()
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("val_bleu_greedy", "val_bleu_beam2", "parameters", "train_seconds", "val_loss"):
        assert key in metrics, key
    assert metrics["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    settings = json.loads((out / "translation.json").read_text())
    assert {k: settings[k] for k in ("pad_id", "unk_id", "bos_id", "eos_id")} == {
        "pad_id": 0,
        "unk_id": 1,
        "bos_id": 2,
        "eos_id": 3,
    }
    assert settings["architecture"] == "transformer" and settings["target_length"] == 12
    for name in ("model.keras", "source.spm", "target.spm", "history.json"):
        assert (out / name).is_file(), name
    assert not (out / "backup").exists()
    report = json.loads((out / "export" / "report.json").read_text())
    assert set(report["variants"]) == {"float32", "float16", "dynamic_int8", "int8"}
    for entry in report["variants"].values():
        assert entry["flex_ops"] == [] and entry["custom_ops"] == []
    assert metrics["export"]["float32"]["max_abs_diff"] <= 1e-4

    sentences = ["A red dog runs.", "A big cat."]
    cli.main(["translate", "--model", str(out), "--beam", "2", *sentences])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # one line a sentence
    # The exported file, on the device (no TensorFlow), translates as Keras did.
    device = Translator(out)
    assert [device.translate(sentence, beam=2) for sentence in sentences] == lines

    cli.main(
        [
            "evaluate",
            "translation",
            "--model",
            str(out),
            "--source",
            str(data / "val.en"),
            "--reference",
            str(data / "val.de"),
            "--beam",
            "1",
            "--limit",
            "3",
        ]
    )
    scores = json.loads(capsys.readouterr().out)
    assert scores["sentences"] == 3 and scores["beam"] == 1
    assert 0 <= scores["bleu"] <= 100 and 0 <= scores["chrf"] <= 100
    assert scores["bleu_signature"] and scores["seconds"] >= 0


def test_bad_data_folders_are_refused_by_name(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "translation", "--data", str(data), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    assert "train.en nor train.en.gz" in capsys.readouterr().err
    pairs = _pairs()
    _write(data, "train", pairs)
    _write(data, "val", pairs[:3])
    (data / "val.de").write_text("Ein Hund.\n", encoding="utf-8")  # 1 line against 3
    with pytest.raises(SystemExit):
        cli.main(["train", "translation", "--data", str(data), "--out", str(tmp_path / "o")])
    assert "unaligned" in capsys.readouterr().err
    config = dataclasses.replace(translation.TranslationConfig(), architecture="lstm")
    with pytest.raises(ValueError, match="--architecture must be one of"):
        config.check()


def test_the_architecture_flag_builds_either_translator():
    from keras_nlpkit.models import RNNTranslator
    from keras_nlpkit.models import TransformerTranslator

    config = translation.TranslationConfig(**TINY)
    for architecture, cls in (("transformer", TransformerTranslator), ("rnn", RNNTranslator)):
        model = translation.build_model(
            dataclasses.replace(config, architecture=architecture), 30, 40
        )
        assert type(model) is cls
        assert model.dtype_policy.name == "float32"


def test_the_peak_learning_rate_is_the_architectures_unless_given():
    config = translation.TranslationConfig(**TINY)
    rates = {
        architecture: translation.peak_learning_rate(
            dataclasses.replace(config, architecture=architecture)
        )
        for architecture in ("transformer", "rnn")
    }
    assert rates == {"transformer": 1e-3, "rnn": 3e-3}
    given = dataclasses.replace(config, architecture="rnn", learning_rate=5e-4)
    assert translation.peak_learning_rate(given) == 5e-4
    with pytest.raises(ValueError, match="--learning-rate must be in"):
        dataclasses.replace(config, learning_rate=-1.0).check()

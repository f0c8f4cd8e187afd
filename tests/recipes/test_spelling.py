"""`nlpkit train spelling`: data, model, export, the on-device corrector, `correct`, `evaluate`."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_nlpkit.errors import TrainingError
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.metrics import accuracy_at_k
from keras_nlpkit.evaluation.spelling import evaluate
from keras_nlpkit.models.spelling.spelling_dataset import make_arrays
from keras_nlpkit.ondevice import SpellingCorrector
from keras_nlpkit.ondevice import osa_distances
from keras_nlpkit.recipes import spelling
from keras_nlpkit.text.misspellings import LETTERS
from keras_nlpkit.text.misspellings import read_frequencies
from tests.tiny_recipes import tiny_spelling_config

THREADS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


tiny_config = tiny_spelling_config


@pytest.fixture
def trained(spelling_run):
    return spelling_run


def test_evaluation_misspellings_are_excluded(tmp_path):
    dev = tmp_path / "dev.txt"
    dev.write_text("because: becuase\naccommodate: acommodate\n")
    config = tiny_config(exclude_pairs=str(dev))
    pairs, lexicon, info = spelling.training_pairs(config, log=lambda *a: None)
    assert not {"becuase", "acommodate"} & {w for w, _ in pairs}
    assert info["excluded_pairs"]["codespell"] >= 2
    assert "because" in lexicon and len(lexicon) >= config.lexicon_size


# --- model, export, on-device corrector ---------------------------------------------------
def test_trains_exports_builtin_only_and_writes_the_files(trained):
    for name in (
        "model.keras",
        "recipe.json",
        "lexicon.tsv",
        "heldout.tsv",
        "metrics.json",
        "export/model_float32.tflite",
        "export/model_dynamic_int8.tflite",
        "export/manifest.json",
        "export/lexicon.tsv",
        "export/known_words.tsv",
        "export/channel.json",
        "export/tokenizer.json",
        "export/report.json",
    ):
        assert (trained / name).is_file(), name
    manifest = json.loads((trained / "export" / "manifest.json").read_text())
    assert manifest["kind"] == "spelling" and set(manifest["variants"]) == {
        "float32",
        "dynamic_int8",
    }
    assert manifest["settings"]["decoding"]["prior_weight"] == 1.2
    assert (trained / "lexicon.tsv").read_bytes() == (
        trained / "export" / "lexicon.tsv"
    ).read_bytes()
    assert (trained / "backup").is_dir() or (trained / "logs").is_dir()
    report = json.loads((trained / "export" / "report.json").read_text())
    assert report["signatures"] == ["serving_default", "encode", "decode_step"]
    for variant in report["variants"].values():
        assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    assert report["variants"]["float32"]["max_abs_diff"] < 1e-4


def test_corrector_returns_only_lexicon_words(trained):
    corrector = SpellingCorrector(trained / "export", variant="float32")
    for word in ("speling", "teh", "Recieve", "xyzzyq", "a"):
        found = corrector.correct(word, k=5)
        assert 1 <= len(found) <= 5
        assert all(
            w.lower() in corrector.vocabulary or w.lower() in corrector.known for w, _ in found
        )
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True)
    assert corrector.correct("Recieve")[0][0][0].isupper()
    assert corrector.correct("123") == []


def keras_score(model, word, candidate, prior_weight, lexicon):
    """log P_model(candidate | word) + λ log P_freq(candidate), with the Keras model."""
    chars, decoder_inputs, targets = make_arrays([(word, candidate)], 12)
    logits = np.asarray(
        model(
            {
                "chars": chars[:, : len(word)],
                "decoder_inputs": decoder_inputs[:, : len(candidate) + 1],
            }
        )
    )
    logits = logits[0].astype(np.float64)
    logp = (
        logits
        - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - logits.max(-1, keepdims=True)
    )
    model_logp = sum(logp[t, targets[0, t]] for t in range(len(candidate) + 1))
    total = sum(lexicon.values())
    return model_logp + prior_weight * np.log(lexicon[candidate] / total)


def test_on_device_agrees_with_the_keras_model(trained):
    model = keras.saving.load_model(trained / "model.keras", compile=False)
    for corrector in (
        SpellingCorrector(trained, variant="float32", edit_distance=0),
        SpellingCorrector(trained, variant="float32"),
    ):
        for word in ("speling", "becuase", "teh", "wich"):
            found = corrector.correct(word, k=5)
            settings = corrector.settings
            weight = (
                settings.prior_weight if settings.edit_distance else (settings.search_prior_weight)
            )
            ours = [keras_score(model, word, w, weight, corrector.vocabulary) for w, _ in found]
            if settings.edit_distance:  # the reranker's channel, distance and input bonus
                ours = [
                    s
                    - settings.distance_weight * float(osa_distances(word, [w])[0])
                    + settings.input_bonus * (w == word)
                    + settings.channel_weight * corrector.channel.log_probs(word, [w])[0]
                    for s, (w, _) in zip(ours, found)
                ]
            # The TFLite scores are the Keras model's, and so is the order of the answers.
            np.testing.assert_allclose([s for _, s in found], ours, atol=1e-3)
            assert int(np.argmax(ours)) == 0


def test_reranker_keeps_lexicon_words_and_fixes_one_edit(trained):
    # The tiny model is too weak to be trusted on its own; a heavy distance penalty
    # makes the check about the candidates and the reranking, not the model.
    corrector = SpellingCorrector(trained, variant="float32", distance_weight=50.0)
    assert corrector.settings.edit_distance == 2 and corrector.settings.distance_weight == 50
    frequent = sorted(corrector.vocabulary, key=lambda w: -corrector.vocabulary[w])
    words = [w for w in frequent if len(w) >= 6][:5]
    for word in words:
        assert corrector.correct(word, k=5)[0][0] == word
        assert corrector.correct(word.capitalize(), k=1)[0][0] == word.capitalize()
        typo = word[:2] + word[3:]  # one deletion
        found = [w for w, _ in corrector.correct(typo, k=5)]
        known = typo in corrector.vocabulary or typo in corrector.known
        assert not known or found[0] == typo
        if not known:
            assert word in found and osa_distances(typo, found[:1])[0] == 1, (typo, found)
    assert osa_distances("abcd", ["abcd", "abdc", "abd", "xabcd", "dcba"]).tolist() == [
        0,
        1,
        1,
        1,
        3,
    ]


def test_channel_pairs_leave_out_evaluation_and_heldout_misspellings(tmp_path):
    dev = tmp_path / "dev.txt"
    dev.write_text("because: becuase\naccommodate: acommodate\n")
    (tmp_path / "heldout.tsv").write_text("abandonned\tabandoned\nspeling\tspelling\n")
    pairs = spelling.channel_pairs(tmp_path, tiny_config(exclude_pairs=str(dev)))
    wrongs = {w for w, _ in pairs}
    assert len(pairs) > 60_000
    assert not {"becuase", "acommodate", "abandonned"} & wrongs
    assert ("abandonned", "abandoned") not in pairs and ("abilty", "ability") in pairs


def test_export_writes_the_channel_and_the_known_words(trained):
    export = trained / "export"
    channel = json.loads((export / "channel.json").read_text())
    assert channel["pairs"] > 50_000 and channel["alphabet"] == LETTERS
    corrector = SpellingCorrector(trained, variant="float32")
    assert corrector.settings.channel_weight == 2.5 and corrector.settings.distance_weight == 0
    assert corrector.settings.prior_weight == 1.2
    assert 1000 < len(corrector.known) < 6000
    assert not set(corrector.known) & set(corrector.vocabulary)
    # A known word is kept when typed; a typo of one with no lexicon word near it
    # gets it back (the known words back off the lexicon); only then.
    frequency = read_frequencies()
    known = sorted(
        (w for w in corrector.known if len(w) >= 9 and not corrector._near(w, 8)[0]),
        key=lambda w: -frequency[w],
    )[:5]
    assert len(known) == 5
    backed_off = 0
    for word in known:
        assert corrector.correct(word, k=1)[0][0] == word
        typo = word[:4] + word[5:]
        if typo in corrector.known or corrector._shelves[0]["index"].lookup(typo):
            continue
        found = [w for w, _ in corrector.correct(typo, k=5)]
        assert word in found and all(w in corrector.known for w in found), (typo, found)
        backed_off += 1
    assert backed_off >= 3
    # With a lexicon word near, known words are not suggested.
    typo = "becuase"
    assert corrector._shelves[0]["index"].lookup(typo)
    assert all(w in corrector.vocabulary for w, _ in corrector.correct(typo, k=5))


# --- CLI -----------------------------------------------------------------------------------
def run_cli(args, capsys):
    from keras_nlpkit import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    return exit_info.value.code, capsys.readouterr()


@pytest.mark.parametrize("content", [None, b"", b"\x00\x01binary", b"\xff\xfe oops"])
def test_cli_bad_pairs_exit_2_naming_the_argument(trained, tmp_path, capsys, content):
    path = tmp_path / "pairs.txt"
    if content is not None:
        path.write_bytes(content)
    code, out = run_cli(
        ["evaluate", "spelling", "--model", str(trained), "--pairs", str(path)], capsys
    )
    assert code == 2 and "--pairs" in out.err and str(path) in out.err
    code, out = run_cli(
        ["train", "spelling", "--out", str(tmp_path / "o"), "--pairs", str(path)], capsys
    )
    assert code == 2 and "--pairs" in out.err and str(path) in out.err


def test_cli_not_a_spelling_model_exits_2(tmp_path, capsys):
    other = tmp_path / "query_model"
    other.mkdir()
    (other / "config.json").write_text("{}")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("the: teh\n")
    for args in (
        ["evaluate", "spelling", "--model", str(other), "--pairs", str(pairs)],
        ["correct", "--model", str(other), "teh"],
        ["correct", "--model", str(tmp_path / "missing"), "teh"],
    ):
        code, out = run_cli(args, capsys)
        assert code == 2 and "--model" in out.err and str(tmp_path) in out.err


def test_cli_correct_and_evaluate(trained, tmp_path, capsys):
    from keras_nlpkit import cli

    assert cli.main(["correct", "--model", str(trained), "--k", "2", "teh", "speling"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["word"] for line in lines] == ["teh", "speling"]
    assert all(1 <= len(line["suggestions"]) <= 2 for line in lines)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("the: teh\nbecause: becuase\nspeling\tspelling\n")
    assert (
        cli.main(
            ["evaluate", "spelling", "--model", str(trained), "--pairs", str(pairs), "--no-peers"]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)  # one JSON object, nothing else
    # The figures are those of the corrector's own answers on the same pairs.
    corrector = SpellingCorrector(trained)
    predicted = [
        [w for w, _ in corrector.correct(typo, k=5)] for typo in ("teh", "becuase", "speling")
    ]
    references = ["the", "because", "spelling"]
    assert result["pairs"] == 3 and result["distinct_correct_words"] == 3
    assert result["ours"]["accuracy@1"] == accuracy_at_k(predicted, references, 1)
    assert result["ours"]["accuracy@5"] == accuracy_at_k(predicted, references, 5)
    assert result["ours"]["latency"]["count"] == 3
    assert result["ours"]["variant"] == "dynamic_int8" and "symspell" not in result


def test_nan_loss_stops_with_a_clear_message(tmp_path):
    with pytest.raises(TrainingError, match="loss became NaN. Lower --learning-rate"):
        spelling.train(
            tmp_path / "nan",
            tiny_config(learning_rate=1e38, steps_per_epoch=5),
            log=lambda *a: None,
            verbose=0,
        )


def test_nonsense_settings_are_refused_before_any_work(tmp_path):
    for change, message in (
        ({"learning_rate": float("nan")}, "--learning-rate must be a finite"),
        ({"learning_rate": -1.0}, r"--learning-rate must be in \(0, inf\)"),
        ({"identity_fraction": 1.5}, r"--identity-fraction must be in \[0, 1\)"),
        ({"exclude_pairs": str(tmp_path / "missing.txt")}, "--exclude-pairs: no such file"),
    ):
        with pytest.raises(UserInputError, match=message):
            spelling.train(tmp_path / "out", tiny_config(**change), log=lambda *a: None, verbose=0)
    assert not (tmp_path / "out" / "model.keras").exists()


# --- large: real data, long runs -------------------------------------------------------------
@pytest.mark.large
def test_killed_training_resumes(tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "keras_nlpkit.cli",
        "train",
        "spelling",
        "--out",
        str(out),
        "--preset",
        "small",
        "--epochs",
        "3",
        "--steps-per-epoch",
        "20",
    ]
    env = {**os.environ, **THREADS}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 300
    while time.time() < deadline and not any((out / "backup").rglob("*.json")):
        time.sleep(0.5)  # the first epoch's backup is written
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "model.keras").exists()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    epochs = [
        int(line.split()[1].split("/")[0])
        for line in result.stdout.splitlines()
        if line.startswith("Epoch ") and line.rstrip().endswith("/3")
    ]
    assert epochs and epochs[0] > 1, epochs  # resumed from the backup, not from epoch 1
    assert (out / "export" / "model_dynamic_int8.tflite").is_file()


@pytest.mark.large
def test_accuracy_on_spell_testset1(shared_data, tmp_path):
    """The default recipe, trained from scratch, measured through the on-device runtime."""
    out = tmp_path / "spelling"
    pairs = shared_data / "spelling" / "spell-testset1.txt"
    config = spelling.SpellingConfig(exclude_pairs=str(pairs))
    spelling.train(out, config, log=lambda *a: None, verbose=0)
    result = evaluate(out, pairs, peers=False)
    # docs/RESULTS.md: 0.896 / 0.993 measured; the targets are 0.85 / 0.98.
    assert result["ours"]["accuracy@1"] >= 0.85
    assert result["ours"]["kept_correct_rate"] >= 0.98


def test_an_export_missing_or_damaging_a_side_file_is_refused_naming_it(trained, tmp_path):
    import shutil

    for name, damage in (("channel.json", "missing"), ("lexicon.tsv", "damaged")):
        copy = tmp_path / name / "export"
        shutil.copytree(trained / "export", copy)
        if damage == "missing":
            (copy / name).unlink()
        else:
            (copy / name).write_bytes(b"")
        with pytest.raises(UserInputError, match=f"--model: {name} is {damage}"):
            SpellingCorrector(copy)

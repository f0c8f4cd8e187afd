"""The spelling-correction recipe: data, model, export, on-device corrector, CLI."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_nlpkit.io_utils import UserInputError
from keras_nlpkit.recipes import spelling_correction as spelling

THREADS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}


def tiny_config(**overrides):
    config = spelling.SpellingConfig(
        embedding_dim=8, encoder_units=16, decoder_units=24, summary_dim=8,
        lexicon_size=2000, synthetic_pairs=2000, steps_per_epoch=15, epochs=1,
        batch_size=64, max_word_length=12,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("spelling")
    spelling.train(out, tiny_config(), log=lambda *a: None, verbose=0)
    return out


# --- data ----------------------------------------------------------------------------------
def test_pairs_in_both_formats(tmp_path):
    norvig = spelling.parse_pairs("access: acess accesing\nbeginning: begining\n")
    assert norvig == [("acess", "access"), ("accesing", "access"), ("begining", "beginning")]
    tabbed = spelling.parse_pairs("teh\tthe\n\n# comment\nrecieve\treceive\n")
    assert tabbed == [("teh", "the"), ("recieve", "receive")]
    with pytest.raises(UserInputError, match="--pairs.*line 2"):
        spelling.parse_pairs("teh\tthe\njust words here\n")


@pytest.mark.parametrize("content", [None, b"", b"\x00\x01binary", b"caf\xe9: cafe\n"])
def test_bad_pairs_files_name_the_argument(tmp_path, content):
    path = tmp_path / "pairs.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserInputError, match=f"--pairs.*{path}"):
        spelling.read_pairs(path)


def test_codespell_and_symspell_come_from_the_installed_packages():
    pairs = spelling.read_codespell()
    assert len(pairs) >= 64_980 and ("abandonned", "abandoned") in pairs
    frequencies = spelling.read_frequencies()
    assert len(frequencies) > 80_000 and next(iter(frequencies)) == "the"


def test_synthetic_errors():
    rng = random.Random(0)
    word = "necessary"
    for kind in spelling.ERROR_KINDS:
        wrongs = {spelling.corrupt(word, rng, kind) for _ in range(20)}
        assert wrongs - {word}, kind  # each kind can change the word
        assert all(spelling.is_word(w) for w in wrongs)
    assert all(len(spelling.corrupt(word, rng, "deletion")) == len(word) - 1 for _ in range(10))
    for _ in range(10):
        swapped = spelling.corrupt(word, rng, "transposition")
        assert sorted(swapped) == sorted(word)
    assert spelling.corrupt("letter", rng, "undouble") in {"leter", "lettr"[:0] + "leter"}
    assert set(spelling.NEIGHBOURS["s"]) == set("adewxz")
    frequencies = {"the": 1000, "spelling": 50, "necessary": 20, "a": 5000}
    pairs = spelling.synthetic_pairs(frequencies, 2000, 0.2, seed=1)
    identity = sum(w == r for w, r in pairs) / len(pairs)
    assert 0.12 < identity < 0.3
    assert {r for _, r in pairs} <= set(frequencies) - {"a"}  # one-letter words are skipped


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
    for name in ("model.keras", "spelling.json", "lexicon.txt", "metrics.json",
                 "export/model_float32.tflite", "export/model_dynamic_int8.tflite",
                 "export/spelling.json", "export/lexicon.txt", "export/report.json"):
        assert (trained / name).is_file(), name
    assert (trained / "backup").is_dir() or (trained / "logs").is_dir()
    report = json.loads((trained / "export" / "report.json").read_text())
    assert report["signatures"] == ["serving_default", "encode", "decode_step"]
    for variant in report["variants"].values():
        assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    assert report["variants"]["float32"]["max_abs_diff"] < 1e-4


def test_corrector_returns_only_lexicon_words(trained):
    from keras_nlpkit.correction import SpellingCorrector

    corrector = SpellingCorrector(trained / "export", variant="float32")
    for word in ("speling", "teh", "Recieve", "xyzzyq", "a"):
        found = corrector.correct(word, k=5)
        assert 1 <= len(found) <= 5
        assert all(w.lower() in corrector.vocabulary for w, _ in found)
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True)
    assert corrector.correct("Recieve")[0][0][0].isupper()
    assert corrector.correct("123") == []


def test_trie_look_ahead():
    from keras_nlpkit.correction import Trie

    trie = Trie({"car": 10, "cart": 5, "cat": 30}, {c: i + 4 for i, c in enumerate("acrt")})
    assert len(trie) == 3 and "cart" in trie and "ca" not in trie
    total = 45.0
    assert np.isclose(trie.best_logp[trie.find("ca")], np.log(30 / total))
    assert np.isclose(trie.best_logp[trie.find("car")], np.log(10 / total))
    assert trie.find("cx") is None


def keras_score(model, word, candidate, prior_weight, lexicon):
    """log P_model(candidate | word) + λ log P_freq(candidate), with the Keras model."""
    chars, decoder_inputs, targets = spelling.make_arrays([(word, candidate)], 12)
    logits = np.asarray(model({"chars": chars[:, :len(word)],
                               "decoder_inputs": decoder_inputs[:, :len(candidate) + 1]}))
    logits = logits[0].astype(np.float64)
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1,
                                                                          keepdims=True)) \
        - logits.max(-1, keepdims=True)
    model_logp = sum(logp[t, targets[0, t]] for t in range(len(candidate) + 1))
    total = sum(lexicon.values())
    return model_logp + prior_weight * np.log(lexicon[candidate] / total)


def test_on_device_agrees_with_the_keras_model(trained):
    import keras

    from keras_nlpkit.correction import SpellingCorrector
    from keras_nlpkit.correction import osa_distances

    spelling.spelling_model_class()
    model = keras.saving.load_model(trained / "model.keras", compile=False)
    for corrector in (SpellingCorrector(trained, variant="float32", edit_distance=0),
                      SpellingCorrector(trained, variant="float32")):
        for word in ("speling", "becuase", "teh", "wich"):
            found = corrector.correct(word, k=5)
            ours = [keras_score(model, word, w, corrector.prior_weight, corrector.vocabulary)
                    for w, _ in found]
            if corrector.edit_distance:  # the reranker's distance penalty and input bonus
                ours = [s - corrector.distance_weight * float(osa_distances(word, [w])[0])
                        + corrector.input_bonus * (w == word)
                        for s, (w, _) in zip(ours, found)]
            # The TFLite scores are the Keras model's, and so is the order of the answers.
            np.testing.assert_allclose([s for _, s in found], ours, atol=1e-3)
            assert int(np.argmax(ours)) == 0


def test_reranker_keeps_lexicon_words_and_fixes_one_edit(trained):
    from keras_nlpkit.correction import SpellingCorrector
    from keras_nlpkit.correction import osa_distances

    # The tiny model is too weak to be trusted on its own; a heavy distance penalty
    # makes the check about the candidates and the reranking, not the model.
    corrector = SpellingCorrector(trained, variant="float32", distance_weight=50.0)
    assert corrector.edit_distance == 2
    frequent = sorted(corrector.vocabulary, key=lambda w: -corrector.vocabulary[w])
    words = [w for w in frequent if len(w) >= 6][:5]
    for word in words:
        assert corrector.correct(word, k=5)[0][0] == word
        assert corrector.correct(word.capitalize(), k=1)[0][0] == word.capitalize()
        typo = word[:2] + word[3:]  # one deletion
        found = [w for w, _ in corrector.correct(typo, k=5)]
        assert typo not in corrector.vocabulary or found[0] == typo
        if typo not in corrector.vocabulary:
            assert word in found and osa_distances(typo, found[:1])[0] == 1, (typo, found)
    assert osa_distances("abcd", ["abcd", "abdc", "abd", "xabcd", "dcba"]).tolist() == \
        [0, 1, 1, 1, 3]


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
    code, out = run_cli(["evaluate", "spelling", "--model", str(trained), "--pairs",
                         str(path)], capsys)
    assert code == 2 and "--pairs" in out.err and str(path) in out.err
    code, out = run_cli(["train", "spelling", "--out", str(tmp_path / "o"), "--pairs",
                         str(path)], capsys)
    assert code == 2 and "--pairs" in out.err and str(path) in out.err


def test_cli_not_a_spelling_model_exits_2(tmp_path, capsys):
    other = tmp_path / "query_model"
    other.mkdir()
    (other / "config.json").write_text("{}")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("the: teh\n")
    for args in (["evaluate", "spelling", "--model", str(other), "--pairs", str(pairs)],
                 ["correct", "--model", str(other), "teh"],
                 ["correct", "--model", str(tmp_path / "missing"), "teh"]):
        code, out = run_cli(args, capsys)
        assert code == 2 and "--model" in out.err and str(tmp_path) in out.err


def test_cli_correct_and_evaluate(trained, tmp_path, capsys):
    from keras_nlpkit import cli

    assert cli.main(["correct", "--model", str(trained), "--k", "2", "teh", "speling"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["word"] for line in lines] == ["teh", "speling"]
    assert all(1 <= len(line["suggestions"]) <= 2 for line in lines)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("the: teh\nbecause: becuase\nspelling\tspeling\n")
    assert cli.main(["evaluate", "spelling", "--model", str(trained), "--pairs", str(pairs),
                     "--no-peers"]) == 0
    result = json.loads(capsys.readouterr().out)  # one JSON object, nothing else
    assert result["pairs"] == 3 and 0 <= result["ours"]["accuracy@1"] <= 1
    assert result["ours"]["latency"]["median_ms"] > 0


def test_nan_loss_stops_with_a_clear_message(tmp_path):
    with pytest.raises(Exception, match="NaN"):
        spelling.train(tmp_path / "nan", tiny_config(learning_rate=float("nan"), steps_per_epoch=5),
                       log=lambda *a: None, verbose=0)


# --- large: real data, long runs -------------------------------------------------------------
@pytest.mark.large
def test_killed_training_resumes(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "keras_nlpkit.cli", "train", "spelling", "--out", str(out),
               "--preset", "small", "--epochs", "3", "--steps-per-epoch", "20"]
    env = {**os.environ, **THREADS}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "backup").is_dir():
        time.sleep(1)
    time.sleep(5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "model.keras").exists()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "export" / "model_dynamic_int8.tflite").is_file()


@pytest.mark.large
def test_accuracy_on_spell_testset1(shared_data, tmp_path):
    """The default recipe, trained from scratch, measured through the on-device runtime."""
    out = tmp_path / "spelling"
    spelling.train(out, spelling.SpellingConfig(), log=lambda *a: None, verbose=0)
    result = spelling.evaluate(out, shared_data / "spelling" / "spell-testset1.txt")
    assert result["ours"]["accuracy@1"] >= ACCURACY_FLOOR
    assert result["ours"]["kept_correct_rate"] >= 0.9


ACCURACY_FLOOR = 0.6

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
        batch_size=64, max_word_length=12, known_words=6000,
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
        assert all(w.lower() in corrector.vocabulary or w.lower() in corrector.known
                   for w, _ in found)
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
            if corrector.edit_distance:  # the reranker's channel, distance and input bonus
                ours = [s - corrector.distance_weight * float(osa_distances(word, [w])[0])
                        + corrector.input_bonus * (w == word)
                        + corrector.channel_weight * corrector.channel.log_probs(word, [w])[0]
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
        known = typo in corrector.vocabulary or typo in corrector.known
        assert not known or found[0] == typo
        if not known:
            assert word in found and osa_distances(typo, found[:1])[0] == 1, (typo, found)
    assert osa_distances("abcd", ["abcd", "abdc", "abd", "xabcd", "dcba"]).tolist() == \
        [0, 1, 1, 1, 3]


# --- the noisy channel and the known words ----------------------------------------------------
def reference_channel_log_prob(channel, typo, word):
    """log P(typo | word): the channel's weighted OSA alignment, one cell at a time."""
    code = lambda ch: channel.symbols.get(ch, channel.other)  # noqa: E731
    n, m = len(word), len(typo)
    cost = [[np.inf] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            prev = code(word[i - 2]) if i > 1 else 0  # "^" before the first character
            if i:
                cost[i][j] = min(cost[i][j], cost[i - 1][j] + channel.del_cost[prev, code(word[i - 1])])
            if j:
                after = code(word[i - 1]) if i else 0
                cost[i][j] = min(cost[i][j], cost[i][j - 1] + channel.ins_cost[after, code(typo[j - 1])])
            if i and j:
                cost[i][j] = min(cost[i][j], cost[i - 1][j - 1]
                                 + channel.sub_cost[code(word[i - 1]), code(typo[j - 1])])
            if i > 1 and j > 1 and word[i - 1] == typo[j - 2] and word[i - 2] == typo[j - 1]:
                cost[i][j] = min(cost[i][j], cost[i - 2][j - 2]
                                 + channel.tra_cost[code(word[i - 2]), code(word[i - 1])])
    return -cost[n][m]


def test_edit_operations():
    from keras_nlpkit.correction import edit_operations
    from keras_nlpkit.correction import osa_distances

    assert edit_operations("becuase", "because") == [("tra", "a", "u")]
    assert edit_operations("proble", "problem") == [("del", "e", "m")]
    assert edit_operations("xabcd", "abcd") == [("ins", "^", "x")]
    assert edit_operations("abandonned", "abandoned") == [("ins", "n", "n")]
    assert edit_operations("seperate", "separate") == [("sub", "a", "e")]
    assert edit_operations("same", "same") == []
    rng = random.Random(0)
    for _ in range(300):
        typo = "".join(rng.choice("abc") for _ in range(rng.randint(0, 6)))
        word = "".join(rng.choice("abc") for _ in range(rng.randint(1, 6)))
        assert len(edit_operations(typo, word)) == osa_distances(typo, [word])[0], (typo, word)


def test_channel_model_counts_real_edits_and_scores_like_the_reference():
    from keras_nlpkit.correction import ChannelModel
    from keras_nlpkit.correction import osa_distances

    pairs = [("seperate", "separate"), ("definately", "definitely"), ("recieve", "receive"),
             ("occured", "occurred"), ("wierd", "weird"), ("grammer", "grammar")] * 5
    pairs += [("xyzzy", "abcdefgh")]  # too many edits: not counted
    channel = ChannelModel.from_pairs(pairs, spelling.LETTERS)
    assert channel.pairs == 30
    # A seen edit (e for a) is cheaper than an unseen one (x for a), and a word is
    # nothing away from itself.
    scores = channel.log_probs("seperate", ["separate", "sxparate", "seperate"])
    assert scores[0] > -3 and scores[1] < scores[0] - 3 and scores[2] == 0
    # Leaving out the second r of "occurred" was seen, the second c was not.
    assert channel.log_probs("occured", ["occurred"])[0] > \
        channel.log_probs("ocurred", ["occurred"])[0] + 2
    rng = random.Random(1)
    for _ in range(200):
        typo = "".join(rng.choice("aeirs'1") for _ in range(rng.randint(0, 7)))
        words = ["".join(rng.choice("aeirs'") for _ in range(rng.randint(1, 8)))
                 for _ in range(rng.randint(1, 5))]
        logp, distances = channel.log_probs_encoded(typo, *channel.encode_words(words),
                                                    with_distances=True)
        np.testing.assert_allclose(logp, [reference_channel_log_prob(channel, typo, w)
                                          for w in words], rtol=1e-9)
        assert distances.tolist() == osa_distances(typo, words).tolist()
    again = ChannelModel.from_json(json.loads(json.dumps(channel.to_json())))
    np.testing.assert_allclose(again.log_probs("wierd", ["weird", "wired"]),
                               channel.log_probs("wierd", ["weird", "wired"]))


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
    from keras_nlpkit.correction import SpellingCorrector

    export = trained / "export"
    channel = json.loads((export / "channel.json").read_text())
    assert channel["pairs"] > 50_000 and channel["alphabet"] == spelling.LETTERS
    corrector = SpellingCorrector(trained, variant="float32")
    assert corrector.channel is not None and corrector.channel_weight > 0
    assert corrector.distance_weight == 0 and corrector.prior_weight == 1.2
    assert 1000 < len(corrector.known) < 6000
    assert not set(corrector.known) & set(corrector.vocabulary)
    # A known word is kept when typed; a typo of one with no lexicon word near it
    # gets it back (the known words back off the lexicon); only then.
    frequency = spelling.read_frequencies()
    known = sorted((w for w in corrector.known if len(w) >= 9 and not corrector._near(w, 8)[0]),
                   key=lambda w: -frequency[w])[:5]
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


def test_exports_without_a_channel_keep_the_old_scoring(trained, tmp_path):
    import shutil

    from keras_nlpkit.correction import DISTANCE_WEIGHT
    from keras_nlpkit.correction import PRIOR_WEIGHT
    from keras_nlpkit.correction import SpellingCorrector

    old = tmp_path / "export"
    shutil.copytree(trained / "export", old)
    (old / "channel.json").unlink()
    (old / "known_words.txt").unlink()
    corrector = SpellingCorrector(old, variant="float32")
    assert corrector.channel is None and corrector.channel_weight == 0 and not corrector.known
    assert corrector.distance_weight == DISTANCE_WEIGHT and corrector.prior_weight == PRIOR_WEIGHT
    found = corrector.candidates("speling")
    assert found and all(parts[3] is None for _, _, parts in found)


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

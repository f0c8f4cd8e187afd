"""Query completion: data, the METRICS.md simulation, the peer, training → export → device."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit import completion
from keras_nlpkit.io_utils import TrainingError
from keras_nlpkit.io_utils import UserInputError
from keras_nlpkit.metrics import simulate_typing
from keras_nlpkit.recipes import query_completion as qc

# Queries made here: a small grammar with repeats, so an LM has something to learn.
_PLACES = ("new york", "boston", "san diego", "chicago", "paris")
_THINGS = ("hotels", "weather", "pizza", "flights to", "jobs in")
QUERIES = [
    f"{thing} {place}" for thing in _THINGS for place in _PLACES
] * 12 + [f"{place} {thing}" for place in _PLACES for thing in _THINGS[:3]] * 6

TINY = qc.QueryCompletionConfig(vocabulary_size=40, embedding_dim=8, units=16,
                                projection_dim=8, dropout=0.0, batch_size=32, epochs=6,
                                learning_rate=1e-2, dev_fraction=0.1)


def test_query_lines_in_every_format():
    assert completion.parse_query_line("20001:1:Obama  Family tree") == "obama family tree"
    assert completion.parse_query_line("3:miami white pages") == "miami white pages"
    assert completion.parse_query_line("time: 10:30 pm") == "time: 10:30 pm"
    assert completion.parse_query_line("  plain   query ") == "plain query"


def test_read_queries_skips_a_stray_latin1_line_and_refuses_bad_files(tmp_path, capsys):
    good = tmp_path / "q.txt"
    good.write_bytes(b"1:la ni\xf1a\n" + b"".join(b"%d:query %d\n" % (i, i) for i in range(200)))
    queries = completion.read_queries([good])
    assert len(queries) == 200 and queries[0] == "query 0"
    assert "skipped 1 non-UTF-8 line" in capsys.readouterr().err
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café\n".encode("latin-1") * 10)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01" * 50)
    for path, message in ((latin, "not UTF-8"), (empty, "the file is empty"), (binary, "binary"),
                          (tmp_path / "missing.txt", "no such file")):
        with pytest.raises(UserInputError, match=f"--corpus: {message}.*{path.name}"):
            completion.read_queries([path])


def test_split_keeps_repeats_together_and_is_stable():
    train, dev = completion.split_queries(QUERIES, 0.2)
    assert set(train).isdisjoint(dev) and len(train) + len(dev) == len(QUERIES)
    assert (train, dev) == completion.split_queries(list(QUERIES), 0.2)


def test_ksr_worked_example():
    # "new york city": 13 characters. "new" is suggested before any keystroke (1 tap);
    # "york" only after "yo" (2 characters + 1 tap); "city" never (4 characters,
    # no space after the last word). 8 keystrokes: KSR = 1 - 8/13.
    def suggest(previous, prefix):
        if not previous:
            return ["new", "news", "next"]
        if len(previous) == 1:
            return ["york", "yorker", "yo"] if prefix == "yo" else ["jersey", "mexico", "age"]
        return ["cat", "car", "cab"]

    result = simulate_typing(["new york city"], suggest, k=3)
    assert result["keystrokes"] == 8 and result["characters"] == 13
    assert result["ksr"] == round(1 - 8 / 13, 4)
    assert result["next_word_accuracy@1"] == round(1 / 3, 4)
    assert result["next_word_accuracy@3"] == round(1 / 3, 4)
    by_prefix = result["completion_accuracy@3_by_prefix"]
    assert by_prefix == {"0": round(1 / 3, 4), "1": 0.0, "2": 0.5, "3": 0.0}
    # A typed typo: the user types "yrok"; a word typed in full enters the context as typed.
    seen = []

    def never(previous, prefix):
        seen.append(previous)
        return []

    typed = simulate_typing(["new york"], never, typed_queries=["new yrok"])
    assert typed["keystrokes"] == len("new yrok") and ("new",) in seen
    with pytest.raises(ValueError, match="typed_queries"):
        simulate_typing(["new york"], never, typed_queries=["new"])


def test_stupid_backoff_scores():
    peer = completion.TrigramCompleter(["a b c", "a b d", "a b c", "b d"])
    scores = peer.scores(("a", "b"))
    index = peer.lexicon.index
    assert math.isclose(scores[index["c"]], math.log(2 / 3))  # trigram a b → c
    assert math.isclose(scores[index["d"]], math.log(1 / 3))
    scores = peer.scores(("x", "b"))  # no trigram: 0.4 · bigram b → d is 2/4
    assert math.isclose(scores[index["d"]], math.log(0.4 * 2 / 4))
    assert math.isclose(scores[index["a"]], math.log(0.16 * 3 / 11))  # unigram
    assert peer.suggest("a b ") == ["c", "d", "b"]
    assert peer.suggest("a b d") == ["d"]


def test_interpolated_ngram_probabilities(tmp_path):
    counts = completion.count_ngrams(["a b c", "a b d", "a b c", "b d"])
    assert counts[("<s>", "<s>", "a")] == 3 and counts[("b", "d")] == 2
    path = tmp_path / completion.NGRAM_FILE
    completion.write_ngrams(path, counts)
    assert completion.read_ngrams(path) == {g: c for g, c in counts.items() if len(g) > 1}
    lexicon = completion.Lexicon(["a", "b", "c", "d"], [3, 4, 2, 2])
    model = completion.InterpolatedNgram(lexicon, completion.read_ngrams(path))
    # Continuation unigram: distinct words before a, b, c, d are 1, 2, 1, 1.
    np.testing.assert_allclose(model.unigram, [0.2, 0.4, 0.2, 0.2], rtol=1e-3)
    # "x b": no trigram; b → c, d twice each: (2 − .75) / 4 + .75 · 2/4 · P(w).
    p_b = model.probabilities(("x", "b"))
    np.testing.assert_allclose(p_b, [0.075, 0.15, 0.3875, 0.3875], rtol=1e-3)
    # "a b" → c twice, d once: (c − .75) / 3 + .75 · 2/3 · P(w | b); sums to 1.
    p_ab = model.probabilities(("a", "b"))
    np.testing.assert_allclose(p_ab, [0.0375, 0.075, 1.25 / 3 + 0.5 * 0.3875,
                                      0.25 / 3 + 0.5 * 0.3875], rtol=1e-3)
    assert math.isclose(p_ab.sum(), 1.0, rel_tol=1e-9)
    # Unseen context: the unigram, untouched by the calls before.
    np.testing.assert_allclose(model.probabilities(("zz",)), model.unigram)
    np.testing.assert_allclose(model.unigram, [0.2, 0.4, 0.2, 0.2], rtol=1e-3)


def test_prefix_search_and_one_edit_variants():
    lexicon = completion.Lexicon(["york", "yorker", "you", "zoo", "ant"], [5, 1, 9, 2, 3])
    lo, hi = lexicon.range("yo")
    assert lexicon.words[lo:hi] == ["york", "yorker", "you"]
    assert lexicon.range("q")[0] == lexicon.range("q")[1]
    variants = completion.one_edit_variants("yrok")
    assert {"york", "yok", "yrokk", "yrol"} <= variants and "yrok" not in variants
    assert len(variants) == len(set(variants))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("qc")
    corpus = root / "queries.txt"
    corpus.write_text("\n".join(f"{i}:{q}" for i, q in enumerate(QUERIES)) + "\n")
    out = root / "model"
    metrics = qc.train([corpus], out, TINY, verbose=0, log=lambda *_: None,
                       export_variants=["none", "int8"])
    return corpus, out, metrics


def test_train_writes_model_logs_split_and_export(trained):
    _, out, metrics = trained
    for name in ("model.keras", "tokenizer.json", "config.json", "metrics.json",
                 "data/train.txt", "data/dev.txt", "export/model_float32.tflite",
                 "export/model_int8.tflite", "export/lexicon.tsv", "export/completion.json",
                 "export/ngrams.tsv.gz"):
        assert (out / name).is_file(), name
    assert any((out / "logs").rglob("*tfevents*"))
    report = json.loads((out / "export" / "report.json").read_text())
    assert report["signatures"] == ["serving_default", "step"]
    for variant in report["variants"].values():
        assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in report["variants"]["float32"]["ops"]
    assert metrics["dev_loss"] < math.log(TINY.vocabulary_size)


def test_on_device_suggestions_follow_the_keras_model(trained):
    import keras

    _, out, _ = trained
    model = keras.saving.load_model(out / "model.keras")
    completer = completion.QueryCompleter(out, variant="float32", ngram_weight=0.0)
    tokenizer = completer.tokenizer
    for previous in ((), ("hotels",), ("flights", "to")):
        ids = [1] + [tokenizer.token_id(w) for w in previous]
        logits = np.asarray(model(np.asarray([ids], "int32")))[0, -1]
        expected = logits - np.log(np.sum(np.exp(logits - logits.max()))) - logits.max()
        np.testing.assert_allclose(completer.next_word_logprobs(previous), expected, atol=1e-4)
        best_words = [tokenizer.vocabulary[i] for i in np.argsort(-logits)
                      if i > 2][:3]
        suggested = [w for w, _ in completer.suggest_words(previous, "", 3)]
        assert suggested == best_words
    # The grammar is learnt: after "flights to" come places; a prefix filters them.
    assert completer.suggest("flights to ")[0] in {"new", "boston", "san", "chicago", "paris"}
    assert completer.suggest("flights to bo") == ["boston"]
    int8 = completion.QueryCompleter(out, variant="int8")
    assert int8.suggest("flights to bo") == ["boston"]


def test_shipped_counts_are_mixed_into_the_network(trained):
    corpus, out, _ = trained
    settings = json.loads((out / "export" / "completion.json").read_text())
    weight = settings["ngram_weight"]
    assert weight == TINY.ngram_weight > 0
    network = completion.QueryCompleter(out, variant="float32", ngram_weight=0.0)
    mixed = completion.QueryCompleter(out, variant="float32")
    train = (out / "data" / "train.txt").read_text().split("\n")[:-1]
    counts = completion.InterpolatedNgram(network.lexicon, completion.count_ngrams(train))
    for previous in ((), ("flights", "to"), ("pizza", "unseen")):
        expected = np.log((1 - weight) * np.exp(network.scores(previous))
                          + weight * counts.probabilities(previous))
        np.testing.assert_allclose(mixed.scores(previous), expected, rtol=1e-6)
    assert mixed.suggest("flights to bo") == ["boston"]


def test_gpt_architecture_trains_exports_and_completes_on_device(tmp_path):
    import keras

    corpus = tmp_path / "queries.txt"
    corpus.write_text("\n".join(QUERIES) + "\n")
    config = qc.QueryCompletionConfig(**{**TINY.__dict__, "architecture": "gpt",
                                         "num_layers": 1, "num_heads": 2, "epochs": 4})
    out = tmp_path / "gpt"
    qc.train([corpus], out, config, verbose=0, log=lambda *_: None, export_variants=["none"])
    report = json.loads((out / "export" / "report.json").read_text())
    assert {"prefill", "decode"} <= set(report["signatures"])
    assert report["variants"]["float32"]["flex_ops"] == []
    model = keras.saving.load_model(out / "model.keras")
    completer = completion.QueryCompleter(out, variant="float32", ngram_weight=0.0)
    ids = [1] + [completer.tokenizer.token_id(w) for w in ("flights", "to")]
    logits = np.asarray(model(np.asarray([ids], "int32")))[0, -1]
    expected = logits - np.log(np.sum(np.exp(logits - logits.max()))) - logits.max()
    np.testing.assert_allclose(completer.next_word_logprobs(("flights", "to")), expected,
                               atol=1e-4)


def test_typo_tolerant_completion(trained):
    _, out, _ = trained

    class Corrector:  # stands in for the spelling model: a fixed repair table
        def correct(self, word, k=1):
            return [({"hotles": "hotels"}.get(word, word), 0.0)]

    plain = completion.QueryCompleter(out, variant="float32")
    tolerant = completion.QueryCompleter(out, variant="float32", corrector=Corrector())
    assert plain.suggest("flights to bsot") == []
    assert "boston" in tolerant.suggest("flights to bsot")  # transposed s/o, 1 edit
    assert tolerant.context_ids(["hotles"]) == plain.context_ids(["hotels"])


def test_evaluate_prints_the_metrics_as_json(trained, capsys):
    _, out, _ = trained
    code = cli.main(["evaluate", "query-completion", "--model", str(out),
                     "--queries", str(out / "data" / "dev.txt")])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for name in ("ours", "peer_trigram"):
        figures = result[name]
        assert 0.0 < figures["ksr"] < 1.0
        assert set(figures["completion_accuracy@3_by_prefix"]) == {"0", "1", "2", "3"}
        assert figures["latency"]["median_ms"] > 0
    assert 1.0 < result["ours"]["perplexity"] < TINY.vocabulary_size
    assert set(result["typo"]) == {"ours", "peer_trigram"}
    assert result["typo"]["ours"]["ksr"] < result["ours"]["ksr"]


def test_cli_complete(trained, capsys):
    _, out, _ = trained
    assert cli.main(["complete", "--model", str(out), "flights to bo", "pizza "]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == {"typed": "flights to bo", "suggestions": ["boston"]}
    assert len(lines[1]["suggestions"]) == 3


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "query-completion", "--model", "{spelling}", "--queries", "{dev}"],
     "spelling-correction model"),
    (["complete", "--model", "{tmp}", "abc"], "not a query-completion model folder"),
    (["evaluate", "query-completion", "--model", "{model}", "--queries", "{tmp}/none.txt"],
     "--queries: no such file"),
    (["train", "query-completion", "--corpus", "{tmp}/none.txt", "--out", "{tmp}/o"],
     "--corpus: no such file"),
    (["train", "query-completion", "--corpus", "{dev}", "--out", "{tmp}/o",
      "--architecture", "rnn"], "--architecture: choose lstm or gpt"),
])
def test_cli_bad_input_exits_2(trained, tmp_path, capsys, argv, message):
    _, out, _ = trained
    spelling = tmp_path / "spelling"
    spelling.mkdir()
    (spelling / "spelling.json").write_text("{}")
    names = {"spelling": spelling, "dev": out / "data" / "dev.txt", "tmp": tmp_path, "model": out}
    argv = [a.format(**names) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("nlpkit: error:") and message in error
    assert not (tmp_path / "o" / "model.keras").exists()


def test_nan_loss_stops_with_a_clear_message(tmp_path):
    corpus = tmp_path / "q.txt"
    corpus.write_text("\n".join(QUERIES))
    config = qc.QueryCompletionConfig(**{**TINY.__dict__, "learning_rate": 1e30, "epochs": 3})
    with pytest.raises(TrainingError, match="NaN.*--learning-rate"):
        qc.train([corpus], tmp_path / "out", config, verbose=0, log=lambda *_: None)
    assert not (tmp_path / "out" / "model.keras").exists()


@pytest.mark.large
def test_training_resumes_after_kill_9(tmp_path):
    """kill -9 mid-training, rerun the same command: it continues from the backup."""
    corpus = tmp_path / "q.txt"
    corpus.write_text("\n".join(QUERIES * 20))
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "keras_nlpkit.cli", "train", "query-completion",
            "--corpus", str(corpus), "--out", str(out), "--vocabulary-size", "40",
            "--units", "16", "--embedding-dim", "8", "--projection-dim", "8",
            "--epochs", "40", "--batch-size", "16"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    backup = out / "backup"
    deadline = time.time() + 240
    while time.time() < deadline and not (backup.is_dir() and any(backup.rglob("*.json"))):
        time.sleep(0.5)
    time.sleep(3)  # a few more epochs, then mid-epoch
    process.send_signal(signal.SIGKILL)
    first = process.communicate()[0]
    assert process.returncode == -signal.SIGKILL and not (out / "model.keras").exists()
    done = [int(line.split("/")[0].split()[-1]) for line in first.splitlines()
            if line.startswith("Epoch ") and "/40" in line]
    resumed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    epochs = [int(line.split("/")[0].split()[-1]) for line in resumed.stdout.splitlines()
              if line.startswith("Epoch ") and "/40" in line]
    assert epochs[0] > 1 and epochs[0] <= max(done) and epochs[-1] == 40
    assert (out / "export" / "model_int8.tflite").is_file()

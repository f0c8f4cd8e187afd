"""`nlpkit train query-completion`: training → export → the device, `evaluate`, `complete`."""

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
from keras_nlpkit.errors import TrainingError
from keras_nlpkit.evaluation.metrics import simulate_typing
from keras_nlpkit.export.exporter import write_manifest
from keras_nlpkit.ondevice import NgramTable
from keras_nlpkit.ondevice import QueryCompleter
from keras_nlpkit.ondevice.ngram_table import ngram_table_bytes
from keras_nlpkit.recipes import query_completion as qc
from keras_nlpkit.text.ngrams import count_ngrams
from keras_nlpkit.text.queries import read_queries
from tests.corpora import QUERIES
from tests.tiny_recipes import TINY_QUERY_COMPLETION

TINY = TINY_QUERY_COMPLETION


@pytest.fixture
def trained(query_completion_run):
    return query_completion_run


def test_train_writes_model_logs_split_and_export(trained):
    _, out, metrics = trained
    for name in (
        "model.keras",
        "tokenizer.json",
        "recipe.json",
        "metrics.json",
        "data/train.txt",
        "data/dev.txt",
        "export/model_float32.tflite",
        "export/model_int8.tflite",
        "export/completion.bin",
        "export/manifest.json",
    ):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "export" / "manifest.json").read_text())
    assert manifest["kind"] == "query-completion" and manifest["tokenizer"] == "tokenizer.json"
    assert set(manifest["variants"]) == {"float32", "int8"}
    assert {"completion.bin", "tokenizer.json"} <= set(manifest["files"])
    step = manifest["tensors"]["int8"]["step"]  # what a runtime checks before running it
    assert step["inputs"]["token"] == {"shape": [1], "dtype": "int32"}
    vocabulary = json.loads((out / "export" / "tokenizer.json").read_text())["vocabulary"]
    assert step["outputs"]["logits"] == {"shape": [1, len(vocabulary)], "dtype": "float32"}
    assert set(step["inputs"]) == {"token", "lstm_h", "lstm_c"}
    assert any((out / "logs").rglob("*tfevents*"))
    report = json.loads((out / "export" / "report.json").read_text())
    assert report["signatures"] == ["serving_default", "step"]
    for variant in report["variants"].values():
        assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    for variant in report["variants"].values():  # what an app streams with, in every client
        compiled = variant["clients"]["compiled_model"]
        assert compiled["ran"] == ["serving_default", "step"], compiled
    assert metrics["dev_loss"] < math.log(TINY.vocabulary_size)


def test_on_device_suggestions_follow_the_keras_model(trained):
    import keras

    _, out, _ = trained
    model = keras.saving.load_model(out / "model.keras")
    completer = QueryCompleter(out, variant="float32", ngram_weight=0.0)
    tokenizer = completer.tokenizer
    for previous in ((), ("hotels",), ("flights", "to")):
        ids = [1] + [tokenizer.token_id(w) for w in previous]
        logits = np.asarray(model(np.asarray([ids], "int32")))[0, -1]
        expected = logits - np.log(np.sum(np.exp(logits - logits.max()))) - logits.max()
        np.testing.assert_allclose(completer.next_word_logprobs(previous), expected, atol=1e-4)
        best_words = [tokenizer.vocabulary[i] for i in np.argsort(-logits) if i > 2][:3]
        suggested = [w for w, _ in completer.suggest_words(previous, "", 3)]
        assert suggested == best_words
    # The grammar is learnt: after "flights to" come places; a prefix filters them.
    assert completer.suggest("flights to ")[0] in {"new", "boston", "san", "chicago", "paris"}
    assert completer.suggest("flights to bo") == ["boston"]
    int8 = QueryCompleter(out, variant="int8")
    assert int8.suggest("flights to bo") == ["boston"]


def test_phrases_find_the_confident_next_word_without_scoring_the_lexicon(trained):
    from keras_nlpkit.ondevice.prefix_completer import PrefixCompleter

    _, out, _ = trained
    fast, full = QueryCompleter(out), QueryCompleter(out)
    for previous in ((), ("flights",), ("flights", "to"), ("new",), ("hotels", "in")):
        for confidence in (0.01, 0.05, 0.2, 0.6):
            expected = PrefixCompleter.confident_next(full, previous, confidence)
            assert fast.confident_next(previous, confidence) == expected, (previous, confidence)
    phrases = fast.suggest_phrases(("flights",), "", k=3, confidence=0.05)
    assert any(len(words) > 1 for words, _ in phrases), phrases


def test_shipped_counts_are_mixed_into_the_network(trained):
    corpus, out, _ = trained
    settings = json.loads((out / "export" / "manifest.json").read_text())["settings"]
    weight = settings["ngram_weight"]
    assert weight == TINY.ngram_weight > 0
    network = QueryCompleter(out, variant="float32", ngram_weight=0.0)
    mixed = QueryCompleter(out, variant="float32")
    train = (out / "data" / "train.txt").read_text().split("\n")[:-1]
    words = dict(zip(network.lexicon.words, network.lexicon.counts.astype(int)))
    counts = NgramTable(ngram_table_bytes(words, count_ngrams(train)))
    for previous in ((), ("flights", "to"), ("pizza", "unseen")):
        expected = np.log(
            (1 - weight) * np.exp(network.scores(previous))
            + weight * counts.probabilities(previous)
        )
        np.testing.assert_allclose(mixed.scores(previous), expected, rtol=1e-6)
    assert mixed.suggest("flights to bo") == ["boston"]


def test_gpt_architecture_trains_exports_and_completes_on_device(tmp_path):
    import keras

    corpus = tmp_path / "queries.txt"
    corpus.write_text("\n".join(QUERIES) + "\n")
    config = qc.QueryCompletionConfig(
        **{**TINY.__dict__, "architecture": "gpt", "num_layers": 1, "num_heads": 2, "epochs": 4}
    )
    out = tmp_path / "gpt"
    qc.train([corpus], out, config, verbose=0, log=lambda *_: None, export_variants=["float32"])
    report = json.loads((out / "export" / "report.json").read_text())
    assert {"prefill", "decode"} <= set(report["signatures"])
    assert report["variants"]["float32"]["flex_ops"] == []
    model = keras.saving.load_model(out / "model.keras")
    completer = QueryCompleter(out, variant="float32", ngram_weight=0.0)
    ids = [1] + [completer.tokenizer.token_id(w) for w in ("flights", "to")]
    logits = np.asarray(model(np.asarray([ids], "int32")))[0, -1]
    expected = logits - np.log(np.sum(np.exp(logits - logits.max()))) - logits.max()
    np.testing.assert_allclose(completer.next_word_logprobs(("flights", "to")), expected, atol=1e-4)


def test_typo_tolerant_completion(trained):
    _, out, _ = trained

    class Corrector:  # stands in for the spelling model: a fixed repair table
        def correct(self, word, k=1):
            return [({"hotles": "hotels"}.get(word, word), 0.0)]

    plain = QueryCompleter(out, variant="float32")
    tolerant = QueryCompleter(out, variant="float32", corrector=Corrector())
    assert plain.suggest("flights to bsot") == []
    assert "boston" in tolerant.suggest("flights to bsot")  # transposed s/o, 1 edit
    assert tolerant.context_ids(["hotles"]) == plain.context_ids(["hotels"])


def test_evaluate_prints_the_metrics_as_json(trained, capsys):
    _, out, _ = trained
    dev = out / "data" / "dev.txt"
    code = cli.main(["evaluate", "query-completion", "--model", str(out), "--queries", str(dev)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    # The same figures as the simulation run directly on the int8 completer.
    ours = QueryCompleter(out, variant="int8")
    queries = read_queries([dev])
    direct = simulate_typing(
        queries, lambda previous, prefix: [w for w, _ in ours.suggest_words(previous, prefix, 3)]
    )
    for name in (
        "ksr",
        "keystrokes",
        "characters",
        "next_word_accuracy@3",
        "completion_accuracy@3_by_prefix",
    ):
        assert result["ours"][name] == direct[name], name
    assert result["ours"]["latency"]["count"] == direct["latency"]["count"]
    assert result["peer_trigram"]["characters"] == direct["characters"]
    nll = -np.concatenate([ours.sequence_logprobs(q) for q in queries])
    assert result["ours"]["perplexity"] == round(float(np.exp(nll.mean())), 2)
    assert 1.0 < result["ours"]["perplexity"] < TINY.vocabulary_size
    assert set(result["typo"]) == {"ours", "peer_trigram"}
    assert result["typo"]["ours"]["ksr"] < result["ours"]["ksr"]


def test_cli_complete(trained, capsys):
    _, out, _ = trained
    assert cli.main(["complete", "--model", str(out), "flights to bo", "pizza "]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == {"typed": "flights to bo", "suggestions": ["boston"]}
    assert len(lines[1]["suggestions"]) == 3


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["evaluate", "query-completion", "--model", "{spelling}", "--queries", "{dev}"],
            "spelling-correction model",
        ),
        (["complete", "--model", "{tmp}", "abc"], "--model: not a model folder"),
        (
            ["evaluate", "query-completion", "--model", "{model}", "--queries", "{tmp}/none.txt"],
            "--queries: no such file",
        ),
        (
            ["train", "query-completion", "--corpus", "{tmp}/none.txt", "--out", "{tmp}/o"],
            "--corpus: no such file",
        ),
        (
            [
                "evaluate",
                "query-completion",
                "--model",
                "{model}",
                "--queries",
                "{dev}",
                "--phrases",
                "0",
            ],
            "--phrases must be in (0, 1]. Received: 0.0",
        ),
        (
            [
                "train",
                "query-completion",
                "--corpus",
                "{dev}",
                "--out",
                "{tmp}/o",
                "--architecture",
                "rnn",
            ],
            "--architecture must be one of ['lstm', 'gpt']. Received: 'rnn'",
        ),
    ],
)
def test_cli_bad_input_exits_2(trained, tmp_path, capsys, argv, message):
    _, out, _ = trained
    spelling = tmp_path / "spelling"
    spelling.mkdir()
    write_manifest(spelling, "spelling", {}, [], ["serving_default"], None)
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
    argv = [
        sys.executable,
        "-m",
        "keras_nlpkit.cli",
        "train",
        "query-completion",
        "--corpus",
        str(corpus),
        "--out",
        str(out),
        "--vocabulary-size",
        "40",
        "--units",
        "16",
        "--embedding-dim",
        "8",
        "--projection-dim",
        "8",
        "--epochs",
        "40",
        "--batch-size",
        "16",
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    backup = out / "backup"
    deadline = time.time() + 240
    while time.time() < deadline and not (backup.is_dir() and any(backup.rglob("*.json"))):
        time.sleep(0.5)
    time.sleep(3)  # a few more epochs, then mid-epoch
    process.send_signal(signal.SIGKILL)
    first = process.communicate()[0]
    assert process.returncode == -signal.SIGKILL and not (out / "model.keras").exists()
    done = [
        int(line.split("/")[0].split()[-1])
        for line in first.splitlines()
        if line.startswith("Epoch ") and "/40" in line
    ]
    resumed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    epochs = [
        int(line.split("/")[0].split()[-1])
        for line in resumed.stdout.splitlines()
        if line.startswith("Epoch ") and "/40" in line
    ]
    assert epochs[0] > 1 and epochs[0] <= max(done) and epochs[-1] == 40
    assert (out / "export" / "model_int8.tflite").is_file()

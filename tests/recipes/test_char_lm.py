"""`nlpkit train char-lm` and `generate`: train, save, reload, stream; bad input."""

import json

import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit.recipes import char_lm

# Text made here: a small grammar of sentences, enough for a few training windows.
TEXT = (
    "\n".join(
        f"the {a} {b} the {c}."
        for a in ("cat", "dog", "bird")
        for b in ("sees", "likes")
        for c in ("sun", "tree", "house", "river")
    )
    * 20
)

TINY = char_lm.CharLMConfig(
    sequence_length=24, embedding_dim=8, units=16, batch_size=16, epochs=2, min_char_count=1
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("char_lm")
    metrics = char_lm.train([TEXT], out, TINY, verbose=0)
    return out, metrics


def test_train_writes_a_reloadable_model(trained):
    out, metrics = trained
    for name in ("model.keras", "tokenizer.json", "recipe.json", "metrics.json"):
        assert (out / name).is_file(), name
    assert (out / "logs").is_dir() and any((out / "logs").rglob("*tfevents*"))
    assert metrics["reload_max_abs_diff"] == 0.0
    run = json.loads((out / "recipe.json").read_text())
    assert run["recipe"] == "char-lm" and run["config"]["units"] == 16
    assert metrics["validation_bits_per_character"] < np.log2(metrics["vocabulary_size"])


def test_streaming_step_equals_the_full_model(trained):
    out, _ = trained
    generator = char_lm.load(out)
    prompt = "the dog likes the "
    states = generator.lstm.get_initial_state(1)
    for char_id in generator.tokenizer.encode(prompt):
        logits, states = generator._step(char_id, states)
    ids = char_lm.encode(prompt, generator.vocabulary)[None]
    expected = np.asarray(generator.logits(generator.lstm(generator.embedding(ids))))[0, -1]
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    continuation = generator.generate(prompt, length=12)
    assert len(continuation) == 12 and set(continuation) <= set(generator.vocabulary)


def test_cli_generate(trained, capsys):
    out, _ = trained
    assert cli.main(["generate", "--model", str(out), "--length", "5", "the cat"]) == 0
    assert capsys.readouterr().out.startswith("the cat")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "binary file"),
        (b" \n\n \n", "the file is empty"),
        (b"a" * 9000 + b"\x00", "binary file"),  # a NUL past the first 8 KB
    ],
)
def test_cli_rejects_bad_corpus(tmp_path, capsys, content, message):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "char-lm", "--corpus", str(corpus), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and str(corpus) in err
    assert not (tmp_path / "o" / "model.keras").exists()


def test_cli_missing_file_and_bad_model_dir(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "char-lm", "--corpus", str(tmp_path / "nope.txt"), "--out", "x"])
    assert exit_info.value.code == 2 and "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["generate", "--model", str(tmp_path), "hi"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "not a `train char-lm` or `train gpt-pretrain`" in err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "char-lm", "--corpus", "a", "--out", "b", "--units", "0"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--units must be in [1, inf). Received: 0" in err

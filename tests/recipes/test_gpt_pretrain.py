"""GPT pretraining: invertible subword encoding, the perplexity arithmetic, train →
score → generate from the CLI, and a clear error for a mismatched vocabulary."""

import json
import math

import keras
import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM
from keras_nlpkit.recipes import gpt_pretrain as gp

# Text made here, in WikiText's tokenization.
ANIMALS = ("cat", "dog", "owl", "fox")
LINES = [
    f"the {a} sees the {b} , and the {b} runs ." for a in ANIMALS for b in ANIMALS if a != b
] * 8


def test_windowed_nll_scores_every_token_once_and_equals_full_context_when_it_fits():
    keras.utils.set_random_seed(0)
    model = GPTCausalLM(GPTBackbone(30, 1, 2, 16, 32, max_sequence_length=64))
    ids = np.random.default_rng(0).integers(0, 30, 41).astype("int32")
    logits = np.asarray(model(ids[None, :-1]))[0].astype("float64")
    log_z = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
    direct = float(np.sum(log_z - logits[np.arange(40), ids[1:]]))
    total, count = gp.sequence_nll(model, ids, length=64)
    assert count == 40
    np.testing.assert_allclose(total, direct, rtol=1e-5)
    total, count = gp.sequence_nll(model, ids, length=8)  # windows of 8, stride 4
    assert count == 40 and math.isfinite(total)
    # The first window sees all of its context either way: same NLL for its tokens.
    first, _ = gp.sequence_nll(model, ids[:8], length=8)
    np.testing.assert_allclose(
        first, float(np.sum((log_z - logits[np.arange(40), ids[1:]])[:7])), rtol=1e-5
    )


def test_train_score_and_generate_from_the_cli(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(LINES), encoding="utf-8")
    held_out = tmp_path / "valid.txt"
    held_out.write_text(" the owl sees the cat , and the cat runs . \n \n", encoding="utf-8")
    out = tmp_path / "gpt"
    cli.main(
        [
            "train",
            "gpt-pretrain",
            "--corpus",
            str(corpus),
            "--out",
            str(out),
            "--eval-text",
            str(held_out),
            "--vocabulary-size",
            "60",
            "--num-layers",
            "1",
            "--num-heads",
            "2",
            "--hidden-dim",
            "16",
            "--intermediate-dim",
            "32",
            "--sequence-length",
            "16",
            "--batch-size",
            "8",
            "--max-steps",
            "150",
            "--min-word-count",
            "1",
            "--warmup-steps",
            "5",
            "--learning-rate",
            "0.01",
        ]
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["eval_words"] == 11 + 2  # words + one end of line per line
    assert metrics["word_perplexity"] == pytest.approx(
        math.exp(metrics["eval_nll_nats"] / metrics["eval_words"]), rel=1e-3
    )
    assert metrics["eval_unknown_words"] == 0
    assert metrics["word_perplexity"] < metrics["vocabulary_size"] ** (
        metrics["eval_subword_tokens"] / metrics["eval_words"]
    )  # it learned something
    capsys.readouterr()
    cli.main(["generate", "--model", str(out), "--length", "6", "--sampler", "beam", "the owl"])
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("the owl ") and len(printed.split()) > 2

    vocabulary = (out / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    (out / "vocabulary.txt").write_text("\n".join(vocabulary[:-4]) + "\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="model vocabulary_size=.*tokenizer vocabulary_size="):
        gp.load(out)

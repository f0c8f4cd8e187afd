"""`nlpkit train lm` / `nlpkit evaluate lm` on text made here (tiny, seconds each)."""

import json

import numpy as np
import pytest

from keras_nlpkit.cli import main
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.recipes import lm

SENTENCES = [
    "the cat sat on the mat .",
    "the dog sat on the log .",
    "a cat saw a dog , and the dog ran .",
    "the bird sat on the tree and sang .",
]


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    rng = np.random.default_rng(0)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES[i] for i in rng.integers(0, 4, 3000)) + "\n")
    valid = folder / "valid.txt"  # WikiText-style already: read as it is
    valid.write_text("\n".join(SENTENCES[i] for i in rng.integers(0, 4, 60)) + "\n \n")
    return corpus, valid


def train(texts, out, architecture, *more):
    corpus, valid = texts
    arguments = ["train", "lm", "--architecture", architecture, "--corpus", corpus]
    arguments += ["--out", out, "--units", "16", "--embedding-dim", "8", "--eval-text", valid]
    assert main([str(a) for a in [*arguments, *more]]) == 0
    return json.loads((out / "metrics.json").read_text())


def test_kneser_ney_learns_the_text(texts, tmp_path):
    metrics = train(texts, tmp_path / "kn", "kn", "--order", "3")
    # 60 lines of 7-10 tokens and one blank line (its </s>), all words in the vocabulary.
    assert metrics["unknown_words"] == 0 and metrics["words"] > 400
    assert 1.0 < metrics["perplexity"] < 3.0  # four sentences: little left to guess


@pytest.mark.parametrize(
    ("architecture", "state", "output"),
    [("lstm", "stateful", "softmax"), ("rnn", "stateless", "softmax"),
     ("ffnn", "stateless", "softmax"), ("lstm", "stateful", "adaptive"),
     ("gpt", "stateless", "softmax")],
)  # fmt: skip
def test_a_network_trains_exports_and_scores_the_same_on_the_device(
    texts, tmp_path, architecture, state, output
):
    metrics = train(
        texts, tmp_path / architecture, architecture, "--state", state, "--output", output,
        "--learning-rate", "0.01", "--epochs", "3", "--sequence-length", "10", "--batch-size", "8",
        "--window", "16",
    )  # fmt: skip
    assert metrics["perplexity"] < 6.0  # uniform over the 19 ids is 19: it learnt the text
    # The int8 file, one step a token, scores the text as the Keras model does.
    assert abs(metrics["perplexity_on_device_int8"] / metrics["perplexity"] - 1) < 0.05
    export = json.loads((tmp_path / architecture / "export" / "manifest.json").read_text())
    assert {"step"} <= set(export["signatures"]) or {"prefill", "decode"} <= set(
        export["signatures"]
    )


def test_a_fixed_window_scores_every_token_once_with_half_a_window_before_it():
    spans = lm.windows(1000, 64)
    scored = np.concatenate([np.arange(first, end) for _, first, end in spans])
    np.testing.assert_array_equal(scored, np.arange(1, 1000))  # each once, in order
    for start, first, end in spans:
        assert end - 1 - start <= 64  # what the model reads fits its window
        assert start == 0 or first - start == 32


def test_stateful_batches_continue_each_other():
    """Truncated BPTT: row b of batch s + 1 is the text right after row b of batch s."""
    config = lm.LMConfig(state="stateful", sequence_length=5, batch_size=3)
    ids = np.arange(100, dtype=np.int32)
    batches = list(lm.training_data(ids, config).as_numpy_iterator())
    for (x, y), (x_next, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x_next[:, 0], x[:, -1] + 1)
        np.testing.assert_array_equal(y, x + 1)
    assert len(batches) == 6 and batches[0][0].shape == (3, 5)


def test_keras_streaming_equals_one_pass_over_the_whole_text(texts, tmp_path):
    """Scoring in chunks with the state carried equals one call over all the tokens."""
    import keras

    config = lm.LMConfig(architecture="lstm", units=8, embedding_dim=4)
    model = lm.build_model(config, 30)
    ids = np.random.default_rng(1).integers(0, 30, 700).astype(np.int32)
    inputs = np.concatenate([[WordTokenizer.end_id], ids[:-1]])[None]
    logits = keras.ops.convert_to_numpy(model(inputs))[0]
    expected = -lm.log_softmax(logits)[np.arange(len(ids)), ids].sum()
    assert lm.keras_nll(model, ids, config, chunk=256) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (
            ["--architecture", "gru"],
            "--architecture must be one of ['kn', 'ffnn', 'rnn', 'lstm', 'gpt']",
        ),
        (["--state", "sometimes"], "--state must be one of"),
        (["--eval-text", "missing.txt"], "--eval-text: no such file"),
        (["--order", "0"], "--order must be in [1, 9]"),
        (["--architecture", "ffnn", "--output", "adaptive"], "--output adaptive is for"),
        (["--architecture", "gpt", "--state", "stateful"], "--state stateful is for"),
    ],
)
def test_bad_input_is_one_clear_line(texts, tmp_path, capsys, more, message):
    corpus, _ = texts
    arguments = ["train", "lm", "--corpus", str(corpus), "--out", str(tmp_path / "out"), *more]
    with pytest.raises(SystemExit) as raised:
        main(arguments)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "model.keras").exists()

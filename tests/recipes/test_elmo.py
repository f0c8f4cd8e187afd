"""`nlpkit train elmo` on text made here: the streams, a tiny run, resume, bad input."""

import json

import keras
import numpy as np
import pytest

from keras_nlpkit.cli import main
from keras_nlpkit.models import ELMoEmbedding
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.recipes import elmo
from keras_nlpkit.recipes import training
from keras_nlpkit.text.wikitext import count_words
from keras_nlpkit.text.word_characters import character_ids

SENTENCES = [
    "The cat sat on the mat .",
    "the dog sat on the log .",
    "A cat saw a dog , and the dog ran .",
    "the bird sat on the tree and sang .",
]
TINY = ["--units", "16", "--projection-dim", "8", "--filters", "1:8,2:8", "--highway-layers",
        "1", "--max-characters", "12", "--learning-rate", "0.01"]  # fmt: skip


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("elmo")
    rng = np.random.default_rng(0)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES[i] for i in rng.integers(0, 4, 1500)) + "\n")
    valid = folder / "valid.txt"  # WikiText-style already; "zebra" is not in the corpus
    lines = [SENTENCES[i] for i in rng.integers(0, 4, 40)] + ["the zebra sat on the mat .", " "]
    valid.write_text("\n".join(lines) + "\n")
    return corpus, valid


def test_a_book_is_read_a_paragraph_a_line_and_sentences_a_line(tmp_path):
    book = tmp_path / "book.txt"
    book.write_text("It was a cold\nday, and he left.\n\nThe end.\n")
    news = tmp_path / "news.txt"
    news.write_text("Shares rose 1.5 pct.\nTrade-offs (again)!\n")
    assert elmo.corpus_lines([book, news]) == [
        "It was a cold day , and he left .",  # joined, in WikiText's tokenization, case kept
        "The end .",
        "Shares rose 1 @.@ 5 pct .",
        "Trade @-@ offs ( again ) !",
    ]


def test_targets_are_lower_cased_words_and_inputs_the_words_as_written():
    tokenizer = WordTokenizer(["<unk>", "<s>", "</s>", "the", "cat"])
    words, ids = elmo.words_and_ids(["The cat", "the Zebra"], tokenizer)
    assert words == ["The", "cat", "</s>", "the", "Zebra", "</s>"]
    assert ids.tolist() == [3, 4, 2, 3, 0, 2]  # "Zebra": the target <unk>, its bytes still read
    spelling, table = elmo.spellings(words, max_characters=8)
    assert spelling.tolist() == [0, 1, 2, 3, 4, 2]  # "The" and "the" are two spellings
    np.testing.assert_array_equal(table[spelling], character_ids(words, 8))


def test_batches_continue_each_stream_in_both_reading_orders():
    """Row b of batch s + 1 is the text after row b of batch s; the backward rows read the
    text reversed; every target is the next token in its reading order."""
    config = elmo.ELMoConfig(batch_size=3, sequence_length=4, max_characters=8)
    n = 70
    spelling = np.arange(n, dtype=np.int32)  # token i is spelt by row i
    ids = np.arange(n, dtype=np.int32) + 1000
    table = character_ids([f"w{i}" for i in range(n)], 8)
    batches = list(elmo.training_data(spelling, ids, table, config, bucket=16).as_numpy_iterator())
    assert len(batches) == (n - 1) // 3 // 4
    for direction, step in (("forward", 1), ("backward", -1)):
        positions = [
            np.array([[np.flatnonzero((table == row).all(-1))[0] for row in stream]
                      for stream in batch["spellings"][batch[f"{direction}_words"]]])
            for batch in batches
        ]  # fmt: skip
        for batch, token in zip(batches, positions):
            np.testing.assert_array_equal(batch[f"{direction}_targets"], token + step + 1000)
            assert len(batch["spellings"]) % 16 == 0  # padded to the bucket
        for token, following in zip(positions, positions[1:]):
            np.testing.assert_array_equal(following[:, 0], token[:, -1] + step)
    assert positions[0][0, 0] == n - 1  # the backward streams start at the end of the text


def train(texts, out, *more):
    corpus, valid = texts
    arguments = ["train", "elmo", "--corpus", corpus, "--out", out, "--eval-text", valid]
    assert main([str(a) for a in [*arguments, *TINY, *more]]) == 0
    return json.loads((out / "metrics.json").read_text())


def test_a_tiny_run_learns_both_directions_and_a_tagger_can_use_it(texts, tmp_path):
    out = tmp_path / "run"
    metrics = train(texts, out, "--epochs", "2", "--batch-size", "16", "--sequence-length", "10")
    lines = texts[1].read_text().splitlines()
    assert metrics["words"] == count_words(lines)  # WikiText's count: words + one a line
    assert metrics["unknown_words"] == 1  # zebra
    for direction in ("forward", "backward"):
        # 19 words are uniform at 19: it learnt the text; without the <unk> it does better.
        assert metrics[f"{direction}_perplexity"] < 4.0, metrics
        assert metrics[f"{direction}_perplexity_known_words"] < metrics[f"{direction}_perplexity"]
    assert {"model.keras", "tokenizer.json", "metrics.json", "history.json", "logs"} <= {
        p.name for p in out.iterdir()
    }
    assert not (out / "backup").exists()
    bilm = keras.saving.load_model(out / training.MODEL_FILE)
    assert not bilm.stateful and bilm.max_characters == 12
    layers = ELMoEmbedding(bilm)(character_ids([["The", "zebra", "ran"]], 12))
    assert [tuple(layer.shape) for layer in layers] == [(1, 3, 16)] * 3


@pytest.mark.large  # two fits of 300 steps; resuming is training.fit's, as in every recipe
def test_training_resumes_from_the_backup(texts, tmp_path, monkeypatch):
    config = elmo.ELMoConfig(
        units=8, projection_dim=4, filters="1:4", highway_layers=0, max_characters=10,
        batch_size=2, sequence_length=5, epochs=1,
    )  # fmt: skip
    corpus = texts[0].with_name("short.txt")
    corpus.write_text(texts[0].read_text()[:10_000])  # ~3,000 tokens: ~300 steps
    steps = len(elmo.training_data(*_stream(corpus, config), config))
    assert 210 < steps < 400  # a backup is written at step 200

    class Crash(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 205:
                raise KeyboardInterrupt("killed")

    fit = training.fit

    def crashing(*args, **kwargs):
        return fit(*args, **{**kwargs, "callbacks": [*kwargs["callbacks"], Crash()]})

    quiet = {"verbose": 0, "log": lambda *_: None}
    monkeypatch.setattr(training, "fit", crashing)
    with pytest.raises(KeyboardInterrupt):
        elmo.train([corpus], tmp_path / "run", config, **quiet)
    assert (tmp_path / "run" / "backup").is_dir()
    assert not (tmp_path / "run" / "model.keras").exists()
    monkeypatch.setattr(training, "fit", fit)
    metrics = elmo.train([corpus], tmp_path / "run", config, **quiet)
    # The restored optimizer had taken 200 steps; the epoch ran again after them.
    assert metrics["tokens_trained_per_direction"] == (200 + steps) * 2 * 5


def _stream(corpus, config):
    lines = elmo.corpus_lines([corpus])
    tokenizer = elmo.lm.build_vocabulary([line.lower() for line in lines], config)
    words, ids = elmo.words_and_ids(lines, tokenizer)
    spelling, table = elmo.spellings(words, config.max_characters)
    return spelling, ids, table


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["--filters", "1:32,2"], "--filters must be comma-separated width:count pairs"),
        (["--filters", "1:0"], "Received: '1:0'"),
        (["--units", "0"], "--units must be in [1, inf)"),
        (["--max-characters", "2"], "--max-characters must be in [3, 1000]"),
        (["--eval-text", "missing.txt"], "--eval-text: no such file"),
        (["--batch-size", "5000"], "--corpus: too short for 5000 streams"),
    ],
)
def test_bad_input_is_one_clear_line(texts, tmp_path, capsys, more, message):
    corpus, _ = texts
    arguments = ["train", "elmo", "--corpus", str(corpus), "--out", str(tmp_path / "out"), *more]
    with pytest.raises(SystemExit) as raised:
        main(arguments)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "model.keras").exists()

"""`nlpkit train word2vec` / `evaluate word-vectors`: outputs, gensim, resume, bad input."""

import json

import keras
import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.word_vectors import read_analogies
from keras_nlpkit.models import WordVectors
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes import word2vec as recipe
from tests.corpora import planted_corpus


def nlpkit(capsys, *argv):
    """`(exit status, stdout, stderr)` of one in-process `nlpkit` call."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exit_info:
        code = exit_info.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bad_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(UserInputError, match="--corpus: the file is empty"):
        recipe.read_corpus([empty], recipe.Word2VecConfig())
    lonely = tmp_path / "lonely.txt"
    lonely.write_text("cat\ndog\n" * 10)
    with pytest.raises(UserInputError, match="no two vocabulary words share a line"):
        recipe.read_corpus([lonely], recipe.Word2VecConfig(min_count=1))
    # Windows across wrapped lines: the file is one paragraph.
    paragraph = recipe.Word2VecConfig(min_count=1, window_breaks="paragraph")
    assert recipe.read_corpus([lonely], paragraph, verbose=False).ids.tolist() == [0, 1] * 10 + [-1]
    rare = tmp_path / "rare.txt"
    rare.write_text("every word here is seen once\n")
    with pytest.raises(UserInputError, match="min_count=5 leaves no vocabulary"):
        recipe.read_corpus([rare], recipe.Word2VecConfig())
    with pytest.raises(UserInputError, match=r"--window must be in \[1, inf\). Received: 0"):
        recipe.Word2VecConfig(window=0).check()
    with pytest.raises(UserInputError, match=r"--sample must be in \[0, 1\). Received: 1.0"):
        recipe.Word2VecConfig(sample=1.0).check()
    assert recipe.Word2VecConfig(architecture="cbow").starting_learning_rate == 0.05
    assert recipe.Word2VecConfig(learning_rate=0.01).starting_learning_rate == 0.01


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--window", "0"], "--window"),
        (["--negative", "-1"], "--negative"),
        (["--architecture", "foo"], "--architecture"),
        (["--window-breaks", "sentence"], "--window-breaks"),
    ],
)
def test_cli_rejects_bad_arguments_with_exit_2(tmp_path, capsys, flags, named):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(50))
    out = tmp_path / "out"
    code, _, err = nlpkit(capsys, "train", "word2vec", "--corpus", corpus, "--out", out, *flags)
    assert code == 2, err
    error = err.strip().splitlines()[-1]
    assert error.startswith("nlpkit: error: ") and named in error and flags[1] in error
    assert not out.exists()


def test_cli_trains_gensim_reads_the_vectors_and_evaluates(tmp_path, capsys):
    gensim = pytest.importorskip(
        "gensim", reason="gensim is a test extra (pip install -e '.[test]')"
    )
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(800))
    out = tmp_path / "run"
    code, out_text, err = nlpkit(
        capsys, "train", "word2vec", "--corpus", corpus, "--out", out, "--dim", "8",
        "--min-count", "1", "--epochs", "2", "--batch-size", "128", "--architecture", "cbow",
    )  # fmt: skip
    assert code == 0, err[-2000:]
    metrics = json.loads(out_text[out_text.index("{") :])
    assert metrics["epochs_run"] == 2 and metrics["words_per_second"] > 0
    assert metrics["architecture"] == "cbow" and metrics["vocabulary_size"] == 32
    for name in (
        "vectors.txt",
        "vocabulary.tsv",
        "embedding.keras",
        "model.keras",
        "projector/tensors.tsv",
        "metrics.json",
    ):
        assert (out / name).is_file(), name
    assert list((out / "logs").rglob("events.out.tfevents.*"))
    assert not (out / "backup").exists()

    model = keras.saving.load_model(out / "model.keras")
    loaded = gensim.models.KeyedVectors.load_word2vec_format(
        str(out / "vectors.txt"), binary=False, no_header=True
    )
    words = (out / "vocabulary.tsv").read_text().split("\n")[:-1]
    assert loaded.index_to_key == [line.split("\t")[0] for line in words]
    np.testing.assert_array_equal(loaded.vectors, model.word_vectors())
    embedding = keras.saving.load_model(out / "embedding.keras")
    cat = np.asarray(embedding(np.array([["cat"]])))[0, 0]
    np.testing.assert_array_equal(cat, loaded["cat"])

    pairs = tmp_path / "pairs.txt"
    pairs.write_text("cat dog 9\ncat apple 1\npear plum 8\nnope cat 3\n")
    analogies = tmp_path / "msr.csv"
    analogies.write_text(
        ",type,word1,word2,word3,target\n0,animal,cat,dog,pear,plum\n1,x,cat,dog,nope,pear\n"
    )
    scores = {}
    for command in ("word-vectors", "glove"):  # `evaluate glove` is the same command
        argv = ["evaluate", command, "--vectors", out / "vectors.txt", "--analogies", analogies]
        code, out_text, err = nlpkit(capsys, *argv, "--similarity", pairs)
        assert code == 0, err[-2000:]
        scores[command] = json.loads(out_text)
    assert scores["word-vectors"] == scores["glove"]
    assert scores["glove"]["similarity"]["pairs.txt"]["coverage"] == 0.75
    assert scores["glove"]["analogy"]["asked"] == 1 and scores["glove"]["analogy"]["questions"] == 2
    assert set(scores["glove"]["analogy"]["sections"]) == {"animal"}


def test_analogies_read_as_sections_or_csv(tmp_path):
    text = tmp_path / "questions-words.txt"
    text.write_text(": capital\nathens greece paris france\n: plural\ncat cats dog dogs\n")
    csv = tmp_path / "msr.csv"
    csv.write_text(",type,word1,word2,word3,target\n0,JJ_JJR,good,better,rough,rougher\n\n")
    assert read_analogies(text) == [
        ("capital", "athens", "greece", "paris", "france"),
        ("plural", "cat", "cats", "dog", "dogs"),
    ]
    assert read_analogies(csv) == [("JJ_JJR", "good", "better", "rough", "rougher")]
    bad = tmp_path / "bad.csv"
    bad.write_text(",type,word1,word2,word3,target\n0,JJ_JJR,good,better\n")
    with pytest.raises(UserInputError, match="--analogies: line 2 is not"):
        read_analogies(bad)


def test_training_resumes_after_an_interruption(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(500))
    config = recipe.Word2VecConfig(dim=8, min_count=1, epochs=4, batch_size=128)

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("killed")

    fit = training.fit
    monkeypatch.setattr(
        training, "fit", lambda *args, **kwargs: fit(*args, callbacks=[Crash()], **kwargs)
    )
    with pytest.raises(KeyboardInterrupt):
        recipe.train([corpus], tmp_path / "run", config, verbose=0, log=lambda *_: None)
    assert not (tmp_path / "run" / "vectors.txt").exists()
    # The rerun's stream starts at epoch 3's draws, not epoch 1's again.
    assert training.resumed_epoch(tmp_path / "run") == 2
    monkeypatch.setattr(training, "fit", fit)
    metrics = recipe.train([corpus], tmp_path / "run", config, verbose=0, log=lambda *_: None)
    assert metrics["epochs_run"] == 2  # epochs 3 and 4; 1 and 2 came from the backup
    assert WordVectors.load_text(tmp_path / "run" / "vectors.txt").dim == 8

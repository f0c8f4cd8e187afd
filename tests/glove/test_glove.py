import json
import subprocess
import sys
from collections import defaultdict

import keras
import numpy as np
import pytest

from keras_nlpkit.glove import GloVe
from keras_nlpkit.glove import GloVeAdagrad
from keras_nlpkit.glove import GloVeLoss
from keras_nlpkit.glove import WordVectors
from keras_nlpkit.glove import count_cooccurrences
from keras_nlpkit.glove import glove_dataset
from keras_nlpkit.glove import tokenize
from keras_nlpkit.io_utils import UserInputError
from keras_nlpkit.metrics import analogy_accuracy
from keras_nlpkit.metrics import spearman
from keras_nlpkit.metrics import word_similarity
from keras_nlpkit.recipes import glove as recipe

TEXT = """The cat sat on the mat, and the cat's hat fell.
A dog sat on the log; the dog barked at 3 cats!

the end of the line never reaches the next line
Le café, C\u00e6sar: the cat again
"""


def brute_force(lines, window, min_count):
    """Stanford's cooccur, word by word: OOV words dropped, no window across a line."""
    tokens = [tokenize(line) for line in lines]
    counts = defaultdict(int)
    for line in tokens:
        for word in line:
            counts[word] += 1
    vocab = {w for w, c in counts.items() if c >= min_count}
    matrix = defaultdict(float)
    for line in tokens:
        kept = [w for w in line if w in vocab]
        for right in range(len(kept)):
            for left in range(max(0, right - window), right):
                d = right - left
                matrix[kept[left], kept[right]] += 1.0 / d
                matrix[kept[right], kept[left]] += 1.0 / d
    return counts, matrix


def as_dict(counts):
    return {(counts.words[i], counts.words[j]): float(x)
            for i, j, x in zip(counts.rows, counts.cols, counts.values)}


@pytest.mark.parametrize("window,min_count", [(1, 1), (3, 1), (10, 2)])
def test_counts_equal_brute_force(tmp_path, window, min_count):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    counts = count_cooccurrences([path], window=window, min_count=min_count, verbose=False)
    word_counts, expected = brute_force(TEXT.splitlines(), window, min_count)
    assert counts.tokens == sum(word_counts.values())
    assert counts.words == sorted(counts.words, key=lambda w: -word_counts[w])[: len(counts.words)]
    assert list(counts.counts) == [word_counts[w] for w in counts.words]
    got = as_dict(counts)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6), key
    assert tokenize("Don't STOP-me, C\u00e6sar 42") == ["don't", "stop", "me", "c", "sar", "42"]


def test_latin1_lines_and_spills_give_the_same_counts(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{n}" for n in range(300)]
    lines = [" ".join(rng.choice(words, rng.integers(1, 30))) for _ in range(2000)]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "big.txt"
    path.write_bytes(text.encode() + "caf\xe9 w1 w2\n".encode("latin-1"))
    in_memory = count_cooccurrences([path], window=5, min_count=1, verbose=False)
    spilled = count_cooccurrences([path], window=5, min_count=1, memory_gb=2e-5,
                                  work_dir=tmp_path, verbose=False)
    assert "caf" in in_memory.words  # the Latin-1 line was read (é is not a token character)
    assert as_dict(in_memory).keys() == as_dict(spilled).keys()
    a, b = as_dict(in_memory), as_dict(spilled)
    assert max(abs(a[k] - b[k]) for k in a) < 1e-4
    _, expected = brute_force(text.splitlines() + ["caf\xe9 w1 w2"], 5, 1)
    assert len(a) == len(expected)


def test_bad_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(UserInputError, match="empty"):
        recipe.count([empty], recipe.GloVeConfig())
    rare = tmp_path / "rare.txt"
    rare.write_text("every word here is seen once\n")
    with pytest.raises(UserInputError, match="min_count=5 leaves no vocabulary"):
        recipe.count([rare], recipe.GloVeConfig(min_count=5))
    binary = tmp_path / "binary.bin"
    binary.write_bytes(b"\x00\x01\x02 text")
    with pytest.raises(UserInputError, match="binary"):
        recipe.count([binary], recipe.GloVeConfig(min_count=1))
    with pytest.raises(UserInputError, match="no such file"):
        recipe.count([tmp_path / "missing.txt"], recipe.GloVeConfig())
    with pytest.raises(UserInputError, match="--dim must be a positive integer. Received: 0"):
        recipe.GloVeConfig(dim=0).check()
    with pytest.raises(ValueError, match="dim=-3"):
        GloVe(10, dim=-3)
    with pytest.raises(UserInputError, match="--x-max"):
        recipe.GloVeConfig(x_max=float("nan")).check()


def test_cli_rejects_bad_arguments_with_exit_2(tmp_path):
    for argv in (["train", "glove", "--corpus", str(tmp_path / "none.txt"), "--out", str(tmp_path / "o")],
                 ["train", "glove", "--corpus", "x", "--out", "o", "--dim", "0"]):
        result = subprocess.run([sys.executable, "-m", "keras_nlpkit.cli", *argv],
                                capture_output=True, text=True)
        assert result.returncode == 2, result.stderr
        assert "--corpus" in result.stderr or "--dim" in result.stderr
    assert not (tmp_path / "o").exists()


def small_counts(tmp_path, text, **kwargs):
    path = tmp_path / "corpus.txt"
    path.write_text(text)
    return count_cooccurrences([path], verbose=False, **kwargs)


def test_closed_form_gradients_equal_autodiff(tmp_path):
    import tensorflow as tf

    counts = small_counts(tmp_path, TEXT * 3, window=4, min_count=1)
    model = GloVe(len(counts.words), dim=6)
    x, log_x, weight = next(iter(glove_dataset(counts, batch_size=64, x_max=2.0)))
    loss, _, grads = model.closed_form_gradients(x, log_x, weight)
    with tf.GradientTape() as tape:
        expected_loss = GloVeLoss()(log_x, model(x), sample_weight=weight)
    expected = tape.gradient(expected_loss, model._tables())
    assert float(loss) == pytest.approx(float(expected_loss), rel=1e-5)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(np.asarray(got), tf.convert_to_tensor(want).numpy(), atol=1e-6)


def planted_corpus(lines=3000, seed=0):
    """Words of one group share every context: cat/dog/cow and apple/pear/plum."""
    rng = np.random.default_rng(seed)
    animals, fruits = ["cat", "dog", "cow"], ["apple", "pear", "plum"]
    animal_contexts = ["the {} barked at the farmer", "a hungry {} slept in the barn",
                       "my {} ran across the field"]
    fruit_contexts = ["she ate a ripe {} for lunch", "the {} tree grew sweet juice",
                      "we picked a {} from the orchard"]
    out = []
    for _ in range(lines):
        if rng.random() < 0.5:
            out.append(rng.choice(animal_contexts).format(rng.choice(animals)))
        else:
            out.append(rng.choice(fruit_contexts).format(rng.choice(fruits)))
    return "\n".join(out) + "\n"


def test_fit_lowers_the_loss_and_recovers_planted_neighbours(tmp_path):
    keras.utils.set_random_seed(1)
    counts = small_counts(tmp_path, planted_corpus(), window=5, min_count=1)
    model = GloVe(len(counts.words), dim=16)
    model.compile(optimizer=GloVeAdagrad(0.1), loss=GloVeLoss())
    losses = model.fit(glove_dataset(counts, batch_size=256, x_max=10.0), epochs=30,
                       verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    vectors = WordVectors(counts.words, model.word_vectors())
    for word, group in [("cat", {"dog", "cow"}), ("pear", {"apple", "plum"})]:
        assert {w for w, _ in vectors.nearest(word, 2)} == group


def test_text_format_round_trips_through_gensim(tmp_path):
    gensim = pytest.importorskip("gensim", reason="gensim is a test extra (pip install -e '.[test]')")
    rng = np.random.default_rng(0)
    vectors = WordVectors(["the", "cat's", "42", "caf\xe9"], rng.standard_normal((4, 7)).astype("float32"))
    path = tmp_path / "vectors.txt"
    vectors.save_text(path)
    loaded = gensim.models.KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=True)
    assert loaded.index_to_key == vectors.words
    np.testing.assert_array_equal(loaded.vectors, vectors.matrix)
    again = WordVectors.load_text(path)
    np.testing.assert_array_equal(again.matrix, vectors.matrix)
    with pytest.raises(ValueError, match="spaces"):
        WordVectors(["two words"], np.zeros((1, 2))).save_text(tmp_path / "bad.txt")


def test_embedding_model_maps_words_to_vectors(tmp_path):
    vectors = WordVectors(["a", "b", "c"], np.arange(6, dtype="float32").reshape(3, 2))
    embedding = vectors.embedding()
    out = np.asarray(embedding(np.array([["b", "zzz", ""]])))
    np.testing.assert_array_equal(out[0, 0], [2, 3])
    np.testing.assert_array_equal(out[0, 1], vectors.matrix.mean(axis=0))  # unknown word
    np.testing.assert_array_equal(out[0, 2], [0, 0])  # padding
    assert not embedding.layers[-1].trainable
    assert vectors.embedding(trainable=True).layers[-1].trainable
    vectors.write_projector(tmp_path / "projector", max_words=2)
    assert (tmp_path / "projector" / "metadata.tsv").read_text() == "a\nb\n"
    assert len((tmp_path / "projector" / "tensors.tsv").read_text().splitlines()) == 2


def test_metrics_on_known_numbers():
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833)  # ties: mean ranks
    words = ["king", "queen", "man", "woman", "apple"]
    matrix = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1], [-1, -1, -1]], "float32")
    result = analogy_accuracy(words, matrix, [("royal", "man", "king", "woman", "queen"),
                                              ("royal", "woman", "queen", "man", "king"),
                                              ("royal", "man", "woman", "king", "apple"),
                                              ("other", "man", "unknown", "king", "queen")])
    assert result["asked"] == 3 and result["coverage"] == 0.75
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["sections"] == {"royal": pytest.approx(2 / 3)}
    sim = word_similarity(words, matrix, [("King", "queen", 5.0), ("man", "apple", 1.0),
                                          ("king", "man", 3.0), ("x", "y", 2.0)])
    assert sim["found"] == 3 and sim["coverage"] == 0.75
    assert sim["spearman"] == pytest.approx(0.5)  # rank differences 1, 1, 0: 1 - 6*2/(3*8)


def test_cli_trains_and_evaluates(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(800))
    out = tmp_path / "run"
    args = ["train", "glove", "--corpus", str(corpus), "--out", str(out), "--dim", "8",
            "--min-count", "1", "--window", "4", "--epochs", "3", "--batch-size", "512",
            "--x-max", "10"]
    result = subprocess.run([sys.executable, "-m", "keras_nlpkit.cli", *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads(result.stdout[result.stdout.index("{"):])
    assert metrics["epochs_run"] == 3 and metrics["pair_updates_per_second"] > 0
    for name in ("vectors.txt", "vocabulary.tsv", "embedding.keras", "model.keras",
                 "projector/tensors.tsv", "metrics.json"):
        assert (out / name).is_file(), name
    assert list((out / "logs").rglob("events.out.tfevents.*"))
    embedding = keras.saving.load_model(out / "embedding.keras")
    saved = WordVectors.load_text(out / "vectors.txt")
    np.testing.assert_array_equal(np.asarray(embedding(np.array([["cat"]])))[0, 0], saved["cat"])
    model = keras.saving.load_model(out / "model.keras")
    np.testing.assert_array_equal(model.word_vectors(), saved.matrix)

    pairs = tmp_path / "pairs.txt"
    pairs.write_text("cat dog 9\ncat apple 1\npear plum 8\nnope cat 3\n")
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(": planted\ncat dog pear plum\n")
    result = subprocess.run([sys.executable, "-m", "keras_nlpkit.cli", "evaluate", "glove",
                             "--vectors", str(out / "vectors.txt"), "--analogies", str(analogies),
                             "--similarity", str(pairs)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    scores = json.loads(result.stdout)
    assert scores["similarity"]["pairs.txt"]["coverage"] == 0.75
    assert scores["analogy"]["asked"] == 1 and scores["vocabulary_size"] > 20

    bad = tmp_path / "bad.txt"
    bad.write_text("cat dog\n")
    result = subprocess.run([sys.executable, "-m", "keras_nlpkit.cli", "evaluate", "glove",
                             "--vectors", str(out / "vectors.txt"), "--similarity", str(bad)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--similarity: line 1" in result.stderr


def test_training_resumes_after_an_interruption(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(500))
    config = recipe.GloVeConfig(dim=8, min_count=1, window=4, epochs=4, batch_size=512, x_max=10.0)

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt("killed")

    original = recipe.training_callbacks
    monkeypatch.setattr(recipe, "training_callbacks", lambda out: original(out) + [Crash()])
    with pytest.raises(KeyboardInterrupt):
        recipe.train([corpus], tmp_path / "run", config, verbose=0, log=lambda *_: None)
    assert not (tmp_path / "run" / "vectors.txt").exists()
    monkeypatch.setattr(recipe, "training_callbacks", original)
    metrics = recipe.train([corpus], tmp_path / "run", config, verbose=0, log=lambda *_: None)
    assert metrics["epochs_run"] == 2  # epochs 3 and 4; 1 and 2 came from the backup


JAX_SCRIPT = r"""
import json, sys, keras
from keras_nlpkit.glove import GloVe, GloVeAdagrad, GloVeLoss, WordVectors, count_cooccurrences, glove_dataset
assert keras.backend.backend() == "jax"
counts = count_cooccurrences([sys.argv[1]], window=5, min_count=1, verbose=False)
keras.utils.set_random_seed(1)
model = GloVe(len(counts.words), 16)
model.compile(optimizer=GloVeAdagrad(0.1), loss=GloVeLoss())
losses = model.fit(glove_dataset(counts, batch_size=256, x_max=10.0), epochs=30, verbose=0,
                   shuffle=False).history["loss"]
vectors = WordVectors(counts.words, model.word_vectors())
print(json.dumps({"first": losses[0], "last": losses[-1],
                  "cat": [w for w, _ in vectors.nearest("cat", 2)]}))
"""


def test_trains_on_jax_with_the_generic_step(tmp_path):
    pytest.importorskip("jax", reason="jax is not installed (pip install -e '.[test]')")
    import os

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus())
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(corpus)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["last"] < 0.2 * out["first"]
    assert set(out["cat"]) == {"dog", "cow"}

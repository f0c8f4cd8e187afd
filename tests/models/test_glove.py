"""The GloVe model: closed-form gradients, training, word vectors on disk and in Keras, JAX."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_nlpkit.models import GloVe
from keras_nlpkit.models import GloVeAdagrad
from keras_nlpkit.models import GloVeLoss
from keras_nlpkit.models import WordVectors
from keras_nlpkit.models import glove_dataset
from keras_nlpkit.text.cooccurrence import count_cooccurrences
from tests.corpora import planted_corpus
from tests.text.test_cooccurrence import TEXT


def small_counts(tmp_path, text, **kwargs):
    path = tmp_path / "corpus.txt"
    path.write_text(text)
    return count_cooccurrences([path], verbose=False, **kwargs)


def test_closed_form_gradients_equal_autodiff(tmp_path):
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


def test_fit_lowers_the_loss_and_recovers_planted_neighbours(tmp_path):
    keras.utils.set_random_seed(1)
    counts = small_counts(tmp_path, planted_corpus(), window=5, min_count=1)
    model = GloVe(len(counts.words), dim=16)
    model.compile(optimizer=GloVeAdagrad(0.1), loss=GloVeLoss())
    losses = model.fit(
        glove_dataset(counts, batch_size=256, x_max=10.0), epochs=30, verbose=0, shuffle=False
    ).history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    vectors = WordVectors(counts.words, model.word_vectors())
    for word, group in [("cat", {"dog", "cow"}), ("pear", {"apple", "plum"})]:
        assert {w for w, _ in vectors.nearest(word, 2)} == group


def test_text_format_round_trips_through_gensim(tmp_path):
    gensim = pytest.importorskip(
        "gensim", reason="gensim is a test extra (pip install -e '.[test]')"
    )
    rng = np.random.default_rng(0)
    vectors = WordVectors(
        ["the", "cat's", "42", "caf\xe9"], rng.standard_normal((4, 7)).astype("float32")
    )
    path = tmp_path / "vectors.txt"
    vectors.save_text(path)
    loaded = gensim.models.KeyedVectors.load_word2vec_format(
        str(path), binary=False, no_header=True
    )
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
    # Saved and loaded with the vectors as weights, not inside the config (which is JSON).
    embedding.save(tmp_path / "embedding.keras")
    loaded = keras.saving.load_model(tmp_path / "embedding.keras")
    np.testing.assert_array_equal(np.asarray(loaded(np.array([["b", "zzz", ""]]))), out)
    config = json.dumps(WordVectors(["a"], [[0.123456]]).embedding().get_config())
    assert "0.123456" not in config
    vectors.write_projector(tmp_path / "projector", max_words=2)
    assert (tmp_path / "projector" / "metadata.tsv").read_text() == "a\nb\n"
    assert len((tmp_path / "projector" / "tensors.tsv").read_text().splitlines()) == 2


JAX_SCRIPT = r"""
import json, sys, keras
from keras_nlpkit.models import GloVe, GloVeAdagrad, GloVeLoss, WordVectors, glove_dataset
from keras_nlpkit.text.cooccurrence import count_cooccurrences
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
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus())
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT, str(corpus)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["last"] < 0.2 * out["first"]
    assert set(out["cat"]) == {"dog", "cow"}

"""Word2Vec and its batches: updates by hand, word2vec.c's sampling, training, JAX."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_nlpkit.models import Word2Vec
from keras_nlpkit.models import WordVectors
from keras_nlpkit.models import word2vec_dataset
from keras_nlpkit.models.word2vec import keep_probabilities
from keras_nlpkit.models.word2vec import noise_distribution
from keras_nlpkit.models.word2vec.word2vec_dataset import noise_table
from keras_nlpkit.text.cooccurrence import token_ids
from tests.corpora import planted_corpus
from tests.layer_test_case import check_config_round_trips


def three_word_model(architecture="skipgram"):
    """Word 0's input vector u = (1, 0); output vectors v = (0, 1) of word 1, n = (1, 1) of 2."""
    model = Word2Vec(3, dim=2, architecture=architecture)
    model.word_embedding.embeddings.assign([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    model.context_embedding.embeddings.assign([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return model


# Word 0 is the context, word 1 the centre, word 2 a noise word.
ONE_PAIR = {"window": np.array([[0]], "int32"), "targets": np.array([[1, 2]], "int32")}


@pytest.mark.parametrize("step", ["closed-form SGD", "closed-form apply", "autodiff"])
def test_one_update_by_hand_on_three_words(step):
    # u.v = 0 and u.n = 1: loss = softplus(-0) + softplus(1) = log 2 + log(1 + e).
    # word2vec.c with alpha 0.1: g = (1 - σ(0)) 0.1 = 0.05 for the centre and
    # g = (0 - σ(1)) 0.1 = -0.0731059 for the noise word, so
    # v' = v + 0.05 u = (0.05, 1), n' = n - 0.0731059 u = (0.9268941, 1),
    # u' = u + 0.05 v - 0.0731059 n = (0.9268941, -0.0231059).
    model = three_word_model()
    if step == "autodiff":
        model.train_step = lambda data: keras.Model.train_step(model, data)
    # A clipping norm that never clips takes the step through `optimizer.apply`.
    clip = 1e9 if step == "closed-form apply" else None
    model.compile(optimizer=keras.optimizers.SGD(0.1, global_clipnorm=clip))
    loss = model.train_on_batch(ONE_PAIR)
    assert float(np.ravel(loss)[0]) == pytest.approx(np.log(2) + np.log1p(np.e), rel=1e-6)
    inputs = model.word_embedding.embeddings.numpy()
    outputs = model.context_embedding.embeddings.numpy()
    np.testing.assert_allclose(inputs[0], [0.9268941, -0.0231059], atol=1e-6)
    np.testing.assert_allclose(outputs[1], [0.05, 1.0], atol=1e-6)
    np.testing.assert_allclose(outputs[2], [0.9268941, 1.0], atol=1e-6)
    np.testing.assert_array_equal(inputs[1:], 0.0)  # words not in the batch keep their rows
    np.testing.assert_array_equal(outputs[0], 0.0)


def test_cbow_moves_each_context_word_by_the_whole_error_as_word2vec_c():
    # Context words 0 and 0 (twice): the mean is u, so the scores are those above, and
    # each slot gets neu1e = 0.05 v - 0.0731059 n (not half of it): u moves twice.
    model = three_word_model("cbow")
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.train_on_batch(
        {"window": np.array([[0, 0, -1]], "int32"), "targets": np.array([[1, 2]], "int32")}
    )
    np.testing.assert_allclose(
        model.word_embedding.embeddings.numpy()[0], [0.8537882, -0.0462118], atol=1e-6
    )
    np.testing.assert_allclose(
        model.context_embedding.embeddings.numpy()[1:], [[0.05, 1.0], [0.9268941, 1.0]], atol=1e-6
    )


def planted_ids(tmp_path, lines=2000):
    path = tmp_path / "corpus.txt"
    path.write_text(planted_corpus(lines))
    return token_ids([path], min_count=1, verbose=False)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_closed_form_gradients_equal_autodiff(tmp_path, architecture):
    corpus = planted_ids(tmp_path, 200)
    model = Word2Vec(len(corpus.words), dim=6, architecture=architecture)
    rng = np.random.default_rng(0)
    for table in model._tables():
        table.assign(rng.normal(0, 0.3, table.shape))
    batch = next(iter(word2vec_dataset(corpus.ids, corpus.counts, batch_size=64)))
    loss, grads = model.closed_form_gradients(batch)
    with tf.GradientTape() as tape:
        expected_loss = model.compute_loss(batch, y_pred=model(batch))
    expected = tape.gradient(expected_loss, model._tables())
    assert float(loss) == pytest.approx(float(expected_loss), rel=1e-5)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(
            tf.convert_to_tensor(got).numpy(), tf.convert_to_tensor(want).numpy(), atol=1e-5
        )


def test_subsampling_keeps_words_with_word2vec_c_probabilities():
    # sample 0.01 of 1111 tokens: threshold 11.11; keep = (sqrt(c / 11.11) + 1) 11.11 / c.
    keep = keep_probabilities([1000, 100, 10, 1], sample=0.01)
    np.testing.assert_allclose(keep, [0.1165140, 0.4444167, 1.0, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(keep_probabilities([1000, 1], sample=0), [1.0, 1.0])
    # The batches keep them too: word 0 is 1000 of 1111 tokens, on one line.
    rng = np.random.default_rng(0)
    ids = rng.permutation(np.repeat(np.arange(4), [1000, 100, 10, 1])).astype("int32")
    data = word2vec_dataset(ids, [1000, 100, 10, 1], sample=0.01, batch_size=8, negative=1)
    kept, epochs = np.zeros(4), 20
    for _ in range(epochs):
        for batch in data.as_numpy_iterator():
            kept += np.bincount(batch["targets"][:, 0][batch["targets"][:, 0] >= 0], minlength=4)
    # About 116.5 and 44.4 times an epoch; the s.d. of 20 epochs' mean: 2.3 and 1.1.
    assert kept[0] / epochs == pytest.approx(116.5, abs=8)
    assert kept[1] / epochs == pytest.approx(44.4, abs=4)


def test_noise_words_follow_the_unigram_to_the_three_quarters():
    counts = np.array([1000, 100, 10, 1])
    expected = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(noise_distribution(counts), expected)
    table = noise_table(counts)
    np.testing.assert_allclose(np.bincount(table, minlength=4) / table.size, expected, atol=1e-4)


def test_dynamic_windows_stop_at_line_breaks():
    # Two lines of distinct words: every context word is the centre's neighbour within
    # one radius b in [1, 3], on its own line; b is uniform.
    ids = np.concatenate([np.arange(50), [-1], np.arange(50, 100)]).astype("int32")
    data = word2vec_dataset(ids, np.ones(100, "int64"), window=3, sample=0, batch_size=10)
    radii = []
    for _ in range(10):
        for batch in data.as_numpy_iterator():
            for window, centre in zip(batch["window"], batch["targets"][:, 0]):
                if centre < 0:
                    continue  # the padding of an epoch's last batch of this width
                context = set(window[window >= 0].tolist())
                line = range(0, 50) if centre < 50 else range(50, 100)
                radius = max(abs(c - centre) for c in context)
                near = {c for c in range(centre - radius, centre + radius + 1) if c in line}
                assert context == near - {centre}, (centre, context)
                if 3 <= centre % 50 < 47:
                    radii.append(radius)
    assert len(radii) == 10 * 88
    assert np.bincount(radii, minlength=4)[1:] / len(radii) == pytest.approx([1 / 3] * 3, abs=0.06)


def test_a_resumed_stream_draws_the_epochs_an_uninterrupted_one_would():
    ids = np.arange(200, dtype="int32") % 40
    arguments = dict(window=3, sample=0, batch_size=16, seed=5)

    def epoch(data):
        return [(b["window"].tolist(), b["targets"].tolist()) for b in data.as_numpy_iterator()]

    uninterrupted = word2vec_dataset(ids, np.full(40, 5, "int64"), **arguments)
    first, second = epoch(uninterrupted), epoch(uninterrupted)
    assert first != second  # each epoch draws anew
    resumed = word2vec_dataset(ids, np.full(40, 5, "int64"), first_epoch=1, **arguments)
    assert epoch(resumed) == second
    with pytest.raises(ValueError, match="first_epoch=-1"):
        word2vec_dataset(ids, np.full(40, 5, "int64"), first_epoch=-1)


def test_noise_words_equal_to_the_centre_are_skipped():
    ids = np.array([0, 1, 0, 1, 0, 1] * 20, "int32")
    data = word2vec_dataset(ids, [60, 60], negative=4, sample=0, batch_size=16)
    for batch in data.as_numpy_iterator():
        targets = batch["targets"][batch["targets"][:, 0] >= 0]  # not the padding
        assert not (targets[:, 1:] == targets[:, :1]).any()
        assert (targets[:, 1:] == -1).any()  # half the draws hit the centre word


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_fit_recovers_planted_neighbours(tmp_path, architecture):
    keras.utils.set_random_seed(1)
    corpus = planted_ids(tmp_path)
    model = Word2Vec(len(corpus.words), dim=16, architecture=architecture)
    model.compile(optimizer=keras.optimizers.SGD(0.025))
    data = word2vec_dataset(corpus.ids, corpus.counts, batch_size=256, seed=1)
    losses = model.fit(data, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]
    vectors = WordVectors(corpus.words, model.word_vectors())
    for word, group in [("cat", {"dog", "cow"}), ("pear", {"apple", "plum"})]:
        assert {w for w, _ in vectors.nearest(word, 2)} == group


def test_config_round_trips_and_saves(tmp_path):
    model = Word2Vec(7, dim=3, architecture="cbow", name="w2v")
    check_config_round_trips(model)
    assert model.get_config()["architecture"] == "cbow"
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded, Word2Vec) and loaded.architecture == "cbow"
    np.testing.assert_array_equal(loaded.word_vectors(), model.word_vectors())
    batch = {"window": np.array([[0, 1, -1]], "int32"), "targets": np.array([[2, 3, -1]], "int32")}
    assert model(batch).shape == (1, 3)
    assert Word2Vec(7, dim=3)(batch).shape == (1, 3, 3)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="architecture='foo'"):
        Word2Vec(10, architecture="foo")
    with pytest.raises(ValueError, match="dim=0"):
        Word2Vec(10, dim=0)
    ids, counts = np.array([0, 1, -1], "int32"), [1, 1]
    with pytest.raises(ValueError, match="window=0"):
        word2vec_dataset(ids, counts, window=0)
    with pytest.raises(ValueError, match="negative=-1"):
        word2vec_dataset(ids, counts, negative=-1)
    with pytest.raises(ValueError, match="sample=1"):
        word2vec_dataset(ids, counts, sample=1)
    with pytest.raises(ValueError, match="no words"):
        word2vec_dataset(np.array([-1, -1], "int32"), counts)


JAX_SCRIPT = r"""
import json, sys, keras
from keras_nlpkit.models import Word2Vec, WordVectors, word2vec_dataset
from keras_nlpkit.text.cooccurrence import token_ids
assert keras.backend.backend() == "jax"
corpus = token_ids([sys.argv[1]], min_count=1, verbose=False)
keras.utils.set_random_seed(1)
model = Word2Vec(len(corpus.words), 16)
model.compile(optimizer=keras.optimizers.SGD(0.025))
losses = model.fit(word2vec_dataset(corpus.ids, corpus.counts, window=2, batch_size=256, seed=1),
                   epochs=5, verbose=0).history["loss"]
vectors = WordVectors(corpus.words, model.word_vectors())
print(json.dumps({"first": losses[0], "last": losses[-1],
                  "cat": [w for w, _ in vectors.nearest("cat", 2)]}))
"""


def test_trains_on_jax_with_the_generic_step(tmp_path):
    pytest.importorskip("jax", reason="jax is not installed (pip install -e '.[test]')")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(planted_corpus(2000))
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
    assert out["last"] < 0.8 * out["first"]
    assert set(out["cat"]) == {"dog", "cow"}

"""`Mimick`: learns a spelling → vector map, completes a `WordVectors`, saves and loads."""

import keras
import numpy as np
import pytest

from keras_nlpkit.models import Mimick
from keras_nlpkit.models import WordVectors
from tests.layer_test_case import check_config_round_trips

LETTERS = "abcde"


def _bag_of_letters(words):
    """A vector that the spelling alone decides: how often each of a–e occurs."""
    return np.array([[word.count(c) for c in LETTERS] for word in words], "float32")


def _words(count, seed):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(LETTERS), rng.integers(2, 7))) for _ in range(count)]


def test_learns_vectors_of_words_it_never_saw():
    keras.utils.set_random_seed(0)
    train, unseen = _words(300, seed=1), _words(60, seed=2)
    unseen = [w for w in unseen if w not in set(train)]
    model = Mimick(dim=len(LETTERS), max_characters=9, hidden_dim=16, mlp_dim=32)
    model.compile(keras.optimizers.Adam(0.02), loss=Mimick.loss("euclidean"), jit_compile=False)
    targets = _bag_of_letters(train)
    model.fit(model.character_ids(train), targets, epochs=15, batch_size=32, verbose=0)
    predicted = model.vectors_for(unseen)
    error = np.abs(predicted - _bag_of_letters(unseen)).mean()
    baseline = np.abs(targets.mean(0) - _bag_of_letters(unseen)).mean()  # the mean vector
    assert error < 0.25 * baseline, (error, baseline)


def test_complete_adds_only_the_missing_words():
    keras.utils.set_random_seed(1)
    vectors = WordVectors(["cat", "dog"], np.arange(8, dtype="float32").reshape(2, 4))
    model = Mimick(dim=4, hidden_dim=4, mlp_dim=4)
    completed = model.complete(vectors, ["Dog", "cats", "", "cats", "owl", "cat"])
    assert completed.words == ["cat", "dog", "cats", "owl"]  # "Dog" is held as "dog"
    np.testing.assert_array_equal(completed.matrix[:2], vectors.matrix)
    np.testing.assert_allclose(completed.matrix[2:], model.vectors_for(["cats", "owl"]), atol=1e-6)
    assert model.vectors_for([]).shape == (0, 4)
    with pytest.raises(ValueError, match="dim=4"):
        model.complete(WordVectors(["a"], np.zeros((1, 3))), ["b"])


def test_config_and_keras_file_round_trip(tmp_path):
    model = Mimick(dim=6, max_characters=12, character_dim=5, hidden_dim=7, mlp_dim=9)
    check_config_round_trips(model)
    model.save(tmp_path / "mimick.keras")
    loaded = keras.saving.load_model(tmp_path / "mimick.keras")
    assert type(loaded) is Mimick and loaded.max_characters == 12
    words = ["unseen", "wörds", "a"]
    np.testing.assert_array_equal(loaded.vectors_for(words), model.vectors_for(words))
    # Mixed precision: float32 weights, float16 vectors close to the float32 ones.
    sizes = dict(dim=6, max_characters=12, character_dim=5, hidden_dim=7, mlp_dim=9)
    mixed = Mimick(**sizes, dtype="mixed_float16")
    mixed.set_weights(model.get_weights())
    assert all(w.dtype == "float32" for w in mixed.weights)
    assert mixed(model.character_ids(words)).dtype == "float16"
    np.testing.assert_allclose(mixed.vectors_for(words), model.vectors_for(words), atol=2e-2)


def test_losses_are_the_squared_distance_and_the_cosine():
    y, p = np.array([[1.0, 0.0, 2.0]]), np.array([[0.0, 0.0, 4.0]])
    assert float(Mimick.loss("euclidean")(y, p)) == pytest.approx(5.0 / 3.0)  # 5 over 3 dims
    assert float(Mimick.loss("cosine")(y, p)) == pytest.approx(-2.0 / np.sqrt(5.0), rel=1e-6)
    with pytest.raises(ValueError, match="name='l1'"):
        Mimick.loss("l1")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"dim": 0}, "dim"),
        ({"dim": 4, "max_characters": 2}, "max_characters"),
        ({"dim": 4, "mlp_dim": -1}, "mlp_dim"),
        ({"dim": 4, "hidden_dim": 0}, "hidden_dim"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=f"{name}="):
        Mimick(**kwargs)

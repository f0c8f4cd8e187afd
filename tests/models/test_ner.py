"""`EntityTagger`, `WordVectorFeatures`, `EntityTaggerPreprocessor`: known numbers, a Keras
reference with copied weights, masks, the model checks, and the TFLite export."""

import keras
import numpy as np
import pytest

from keras_nlpkit.export import export
from keras_nlpkit.models import EntityTagger
from keras_nlpkit.models import EntityTaggerPreprocessor
from keras_nlpkit.models import WordVectorFeatures
from keras_nlpkit.models import WordVectors
from keras_nlpkit.models.ner.entity_tagger_preprocessor import CASE_IDS
from keras_nlpkit.models.ner.entity_tagger_preprocessor import case_class
from tests.layer_test_case import run_model_test

WORDS = ["the", "eu", "rejects", "german", "call", "peter", "blackburn", "."]
SENTENCES = [
    ["EU", "rejects", "German", "call", "to", "boycott", "."],
    ["Peter", "Blackburn"],
    ["The", "EU", "1996-08-22"],
]


def vectors(dim=6):
    return WordVectors(WORDS, np.random.default_rng(0).normal(size=(len(WORDS), dim)))


def tagger(dtype=None, num_tags=5):
    features = WordVectorFeatures(len(WORDS) + 2, 6, case_dim=3, dtype=dtype)
    return EntityTagger([features], num_tags=num_tags, hidden_dim=4, dropout=0.1)


@pytest.mark.parametrize(
    "word, expected",
    [
        ("the", "lower"),
        ("1st", "lower"),
        ("Paris", "title"),
        ("I", "title"),
        ("EU", "upper"),
        ("U.S.", "upper"),
        ("McDonald", "mixed"),
        ("iPhone", "mixed"),
        ("1996", "digits"),
        ("1996-08-22", "number"),
        ("6-4", "number"),
        (".", "punctuation"),
        (":)", "punctuation"),
        ("東京", "lower"),  # letters without case
    ],
)
def test_case_classes(word, expected):
    assert case_class(word) == expected


def test_preprocessor_ids_padding_and_round_trip(tmp_path):
    preprocessor = EntityTaggerPreprocessor(WORDS)
    x = preprocessor(SENTENCES)
    assert x["token_ids"].dtype == np.int32 and x["token_ids"].shape == (3, 7)
    # "eu" is word 1 → id 3; "to" and "boycott" are unknown (1); padding is 0.
    assert x["token_ids"][0].tolist() == [3, 4, 5, 6, 1, 1, 9]
    assert x["token_ids"][1].tolist() == [7, 8, 0, 0, 0, 0, 0]
    upper, lower, title = CASE_IDS["upper"], CASE_IDS["lower"], CASE_IDS["title"]
    assert x["case_ids"][2].tolist() == [title, upper, CASE_IDS["number"], 0, 0, 0, 0]
    assert x["case_ids"][0, :3].tolist() == [upper, lower, title]
    assert preprocessor(SENTENCES, length=2)["token_ids"].shape == (3, 2)
    assert preprocessor.coverage(SENTENCES) == 9 / 12
    assert preprocessor.vocabulary_size == len(WORDS) + 2
    cased = EntityTaggerPreprocessor(WORDS, lowercase=False)
    assert cased([["EU", "eu"]])["token_ids"].tolist() == [[1, 3]]

    preprocessor.save(tmp_path)
    loaded = EntityTaggerPreprocessor.load(tmp_path)
    assert loaded.vocabulary == WORDS and loaded.lowercase
    np.testing.assert_array_equal(loaded(SENTENCES)["token_ids"], x["token_ids"])
    with pytest.raises(ValueError, match="distinct words"):
        EntityTaggerPreprocessor(["a", "a"])


def test_word_vector_features_hold_the_frozen_vectors_and_a_trained_case():
    v = vectors()
    block = WordVectorFeatures.from_word_vectors(v, case_dim=3)
    table = block.word_vectors.embeddings.numpy()
    np.testing.assert_array_equal(table[0], 0.0)  # padding
    np.testing.assert_allclose(table[1], v.matrix.mean(0), rtol=1e-6)  # unknown: the mean
    np.testing.assert_array_equal(table[2:], v.matrix)
    assert [w.path for w in block.trainable_weights] == ["case_embedding/embeddings"]
    assert [w.path for w in block.non_trainable_weights] == ["word_vectors/embeddings"]
    y = np.asarray(block({"token_ids": np.array([[3, 1]]), "case_ids": np.array([[2, 1]])}))
    case = block.case_embedding.embeddings.numpy()
    np.testing.assert_array_equal(y[0, 0], np.concatenate([v["eu"], case[2]]))
    np.testing.assert_array_equal(y[0, 1, :6], table[1])
    assert len(WordVectorFeatures(10, 4, trainable_vectors=True).trainable_weights) == 2
    with pytest.raises(ValueError, match="case_dim=0"):
        WordVectorFeatures(10, 4, case_dim=0)


def test_tagger_equals_keras_layers_with_the_weights_copied():
    model = tagger()
    x = EntityTaggerPreprocessor(WORDS)(SENTENCES)
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    case_ids = keras.Input((None,), dtype="int32", name="case_ids")
    features = keras.layers.Concatenate()(
        [
            keras.layers.Embedding(len(WORDS) + 2, 6, mask_zero=True)(token_ids),
            keras.layers.Embedding(8, 3, mask_zero=True)(case_ids),
        ]
    )
    bilstm = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))(features)
    reference = keras.Model([token_ids, case_ids], keras.layers.Dense(5)(bilstm))
    reference.set_weights(model.get_weights())  # the same order: vectors, case, LSTMs, Dense
    expected = np.asarray(reference([x["token_ids"], x["case_ids"]]))
    np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)


def test_a_padded_batch_tags_each_sentence_as_alone():
    model = tagger()
    preprocessor = EntityTaggerPreprocessor(WORDS)
    batch = np.asarray(model(preprocessor(SENTENCES)))
    for row, words in enumerate(SENTENCES):
        alone = np.asarray(model(preprocessor([words])))[0]
        np.testing.assert_allclose(batch[row, : len(words)], alone, atol=1e-5)


def test_model_checks(tmp_path):
    x = EntityTaggerPreprocessor(WORDS)(SENTENCES)
    run_model_test(tagger, x, x, x["token_ids"] != 0, tmp_path)


def test_blocks_share_inputs_and_bad_arguments_are_named():
    first = WordVectorFeatures(10, 4, case_dim=2, name="first")
    second = WordVectorFeatures(10, 3, case_dim=2, name="second")
    model = EntityTagger([first, second], num_tags=3, hidden_dim=2)
    assert sorted(model.input) == ["case_ids", "token_ids"]
    assert model({"token_ids": np.array([[2, 3]]), "case_ids": np.array([[1, 2]])}).shape == (
        1,
        2,
        3,
    )
    assert model.get_layer("features").output.shape == (None, None, 11)
    with pytest.raises(ValueError, match="non-empty list"):
        EntityTagger([], num_tags=3)
    with pytest.raises(ValueError, match="num_tags=0"):
        EntityTagger([first], num_tags=0)
    with pytest.raises(ValueError, match="dropout=1.0"):
        EntityTagger([first], num_tags=3, dropout=1.0)
    with pytest.raises(ValueError, match="functional keras.Model with a dict"):
        EntityTagger([keras.layers.Dense(3)], num_tags=3)


def test_exports_to_builtin_tflite_with_parity(tmp_path):
    model = tagger()
    preprocessor = EntityTaggerPreprocessor(WORDS)
    samples = tmp_path / "samples.npz"
    np.savez(samples, **preprocessor([SENTENCES[0]] * 10))
    report = export(
        model,
        tmp_path / "export",
        quantize=["float32"],
        representative_data=samples,
        log=lambda *_: None,
    )
    variant = report["variants"]["float32"]
    assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    assert variant["signatures"] == ["serving_default"]
    assert variant["clients"]["compiled_model"]["ran"] == ["serving_default"]
    assert variant["max_abs_diff"] <= 1e-5 and variant["top1_agreement"] == 1.0
    assert report["saved_model"]["max_abs_diff"] <= 1e-5


def elmo_tagger(dtype=None):
    """A tagger over both blocks: word vectors + case, and a tiny frozen biLM's mix."""
    from keras_nlpkit.models import ELMoBiLM
    from keras_nlpkit.models import ELMoFeatures

    bilm = ELMoBiLM(
        vocabulary_size=12,
        filters=[[1, 4], [2, 4]],
        units=8,
        projection_dim=4,
        max_characters=8,
        dtype=dtype,
    )
    words = WordVectorFeatures(len(WORDS) + 2, 6, case_dim=3, dtype=dtype)
    return EntityTagger([words, ELMoFeatures(bilm, dtype=dtype)], num_tags=5, hidden_dim=4)


def test_model_checks_with_elmo_features(tmp_path):
    x = EntityTaggerPreprocessor(WORDS, max_characters=8)(SENTENCES)
    assert x["character_ids"].shape == (*x["token_ids"].shape, 8)
    # Padding is an all-zero character row: there is no other id to put there.
    run_model_test(elmo_tagger, x, x, x["token_ids"] != 0, tmp_path)

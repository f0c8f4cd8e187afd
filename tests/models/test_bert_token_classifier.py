"""BERT token classification: first-piece alignment, windows, the masked loss, word tags."""

import keras
import numpy as np
import pytest

from keras_nlpkit.models import BertBackbone
from keras_nlpkit.models import BertTokenClassifier
from keras_nlpkit.models import BertTokenClassifierPreprocessor
from keras_nlpkit.models.bert.bert_preprocessor import SPECIAL_TOKENS
from keras_nlpkit.models.bert.bert_token_classifier_preprocessor import split_words

# [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3, [MASK] 4, then the words from id 5.
VOCABULARY = SPECIAL_TOKENS + ["in", "paris", "new", "york", "##er", "##s", "met", "."]
IDS = {token: i for i, token in enumerate(VOCABULARY)}


def test_a_word_of_three_pieces_is_labelled_on_its_first_piece_only():
    preprocessor = BertTokenClassifierPreprocessor(VOCABULARY, sequence_length=10)
    windows = preprocessor.encode([["Yorkers", "met", "in", "Paris"]], [[1, 0, 0, 2]])
    pieces = ["[CLS]", "york", "##er", "##s", "met", "in", "paris", "[SEP]", "[PAD]", "[PAD]"]
    assert windows.inputs["token_ids"].tolist() == [[IDS[p] for p in pieces]]
    assert windows.labels.tolist() == [[0, 1, 0, 0, 0, 0, 2, 0, 0, 0]]
    assert windows.sample_weight.tolist() == [[0, 1, 0, 0, 1, 1, 1, 0, 0, 0]]
    assert windows.inputs["padding_mask"].tolist() == [[1] * 8 + [0] * 2]
    assert windows.inputs["segment_ids"].tolist() == [[0] * 10]
    assert windows.lengths.tolist() == [8]
    assert windows.first_pieces == [[1, 4, 5, 6]]
    assert windows.words == [[(0, 0), (0, 1), (0, 2), (0, 3)]]


def test_a_word_without_pieces_is_unknown_and_unlabelled_input_weighs_first_pieces():
    preprocessor = BertTokenClassifierPreprocessor(VOCABULARY, sequence_length=8)
    windows = preprocessor.encode([["\u200b", "zzz", "paris"]])  # no piece; unknown; known
    assert windows.inputs["token_ids"][0, :5].tolist() == [1, 3, 3, 6, 2]
    assert windows.labels.tolist() == [[0] * 8]
    assert windows.sample_weight[0].tolist() == [0, 1, 1, 1, 0, 0, 0, 0]


def test_split_words_balances_windows_and_never_exceeds_the_limit():
    assert split_words([1, 2, 3], 6) == [(0, 3)]
    assert split_words([1] * 10, 4) == [(0, 4), (4, 7), (7, 10)]
    assert split_words([3, 3, 3], 4) == [(0, 1), (1, 2), (2, 3)]
    assert split_words([9, 1], 4) == [(0, 1), (1, 2)]  # a word longer than a window
    assert split_words([], 4) == [(0, 0)]
    rng = np.random.default_rng(0)
    for _ in range(200):
        counts = list(rng.integers(1, 6, rng.integers(1, 40)))
        ranges = split_words(counts, 12)
        assert [w for a, b in ranges for w in range(a, b)] == list(range(len(counts)))
        assert all(sum(min(c, 12) for c in counts[a:b]) <= 12 for a, b in ranges)
        fewest, filled = 1, 0  # greedy filling to the limit makes the fewest windows
        for count in counts:
            fewest, filled = (
                (fewest + 1, count) if filled + count > 12 else (fewest, filled + count)
            )
        assert len(ranges) == fewest


def test_long_sentences_become_windows_that_tag_every_word():
    preprocessor = BertTokenClassifierPreprocessor(VOCABULARY, sequence_length=6)
    # 1 + 3 + 1 + 1 + 3 + 1 = 10 pieces, at most 4 a window: 3 windows of 4, 2 and 4.
    sentence = ["met", "Yorkers", "in", "Paris", "Yorkers", "."]
    windows = preprocessor.encode([sentence, ["met"]], [[1, 2, 3, 4, 5, 6], [7]])
    assert windows.words == [
        [(0, 0), (0, 1)],
        [(0, 2), (0, 3)],
        [(0, 4), (0, 5)],
        [(1, 0)],
    ]
    assert windows.inputs["token_ids"].tolist() == [
        [1, 11, 8, 9, 10, 2],
        [1, 5, 6, 2, 0, 0],
        [1, 8, 9, 10, 12, 2],
        [1, 11, 2, 0, 0, 0],
    ]
    assert windows.labels.tolist() == [
        [0, 1, 2, 0, 0, 0],
        [0, 3, 4, 0, 0, 0],
        [0, 5, 0, 0, 6, 0],
        [0, 7, 0, 0, 0, 0],
    ]
    # Logits whose argmax is the window's row number at first pieces, and a decoy
    # (tag 9) at every other position: the decoys must never be read.
    logits = np.zeros((4, 6, 10), "float32")
    logits[..., 9] = 5.0
    for row, positions in enumerate(windows.first_pieces):
        logits[row, positions, 9] = 0.0
        logits[row, positions, row] = 1.0
    words = preprocessor.word_tag_ids(windows, logits, [6, 1])
    assert [w.tolist() for w in words] == [[0, 0, 1, 1, 2, 2], [3]]
    # Unpadded rows, as on the device, give the same.
    unpadded = [logits[row, :n] for row, n in enumerate(windows.lengths)]
    again = preprocessor.word_tag_ids(windows, unpadded, [6, 1])
    assert [w.tolist() for w in again] == [[0, 0, 1, 1, 2, 2], [3]]


def test_the_masked_loss_counts_first_pieces_only():
    preprocessor = BertTokenClassifierPreprocessor(VOCABULARY, sequence_length=10)
    windows = preprocessor.encode(
        [["Yorkers", "met", "in", "Paris"], ["New", "Yorkers"]], [[1, 0, 0, 2], [1, 2]]
    )
    backbone = BertBackbone(len(VOCABULARY), 1, 2, 8, 16, dropout=0.0, max_sequence_length=10)
    model = BertTokenClassifier(backbone, num_classes=3, dropout=0.0)
    model.compile(
        "sgd",
        keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
    )
    x, weights = windows.inputs, windows.sample_weight
    loss = model.test_on_batch(x, windows.labels, sample_weight=weights)
    # Other labels at the weight-0 positions (later pieces, [CLS], [SEP], padding).
    scrambled = np.where(weights == 0, 2 - windows.labels, windows.labels)
    assert model.test_on_batch(x, scrambled, sample_weight=weights) == pytest.approx(loss)
    # The reference: the mean cross-entropy over the 6 words, at their first pieces.
    logits = np.asarray(model.predict_on_batch(x), np.float64)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    rows, columns = np.nonzero(weights)
    expected = -log_probs[rows, columns, windows.labels[rows, columns]].mean()
    assert len(rows) == 6 and loss == pytest.approx(expected, rel=1e-5)
    assert loss != pytest.approx(model.test_on_batch(x, scrambled, sample_weight=None))


def test_save_and_load_give_the_same_encoding(tmp_path):
    preprocessor = BertTokenClassifierPreprocessor(VOCABULARY, 12, lowercase=True)
    preprocessor.save(tmp_path)
    loaded = BertTokenClassifierPreprocessor.load(tmp_path)
    assert isinstance(loaded, BertTokenClassifierPreprocessor)
    assert loaded.get_config() == preprocessor.get_config()
    sentences = [["New", "Yorkers", "met"], ["in", "Paris", "."]]
    for a, b in zip(
        loaded.encode(sentences, [[1, 2, 0], [0, 1, 0]]),
        preprocessor.encode(sentences, [[1, 2, 0], [0, 1, 0]]),
    ):
        if isinstance(a, dict):
            assert all(np.array_equal(a[k], b[k]) for k in a)
        else:
            assert np.array_equal(np.asarray(a, object), np.asarray(b, object))

"""TransformerTranslator's decoding interface: teacher forcing equals step-by-step decoding,
the cached cross-attention equals recomputing it, beam width 1 equals greedy, and beam
scores are the length-normalised log-probabilities of what they return."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_nlpkit.models import TransformerTranslator
from keras_nlpkit.models.translation import beam_search
from keras_nlpkit.models.translation import greedy_search

BOS, EOS = 2, 3
SOURCE = np.array([[5, 6, 7, 8, 0, 0], [9, 10, 0, 0, 0, 0], [11, 12, 13, 14, 15, 16]], "int32")
TARGET = np.array([[BOS, 20, 21, 22, 0], [BOS, 23, 0, 0, 0], [BOS, 24, 25, 26, 27]], "int32")


def _model(seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    arguments = dict(
        max_source_length=8,
        max_target_length=10,
        hidden_dim=16,
        num_encoder_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        intermediate_dim=32,
        dropout=0.1,
    )
    arguments.update(overrides)
    return TransformerTranslator(30, 40, **arguments)


@pytest.mark.parametrize("normalize_first", [True, False])
def test_teacher_forcing_equals_step_by_step_decoding(normalize_first):
    model = _model(normalize_first=normalize_first)
    full = np.asarray(model({"source_ids": SOURCE, "target_ids": TARGET}))  # (3, 5, 40)
    encoder_state = model.encode(SOURCE)
    decoder_state = model.start_decoding(encoder_state, 10)
    shapes = {k: tuple(v.shape) for k, v in decoder_state.items()}
    assert shapes == {"self_attention_cache": (3, 4, 10, 2, 8)}
    assert tuple(encoder_state["cross_attention_cache"].shape) == (3, 4, 6, 2, 8)
    for position in range(TARGET.shape[1]):
        logits, decoder_state = model.decode_step(
            encoder_state, decoder_state, TARGET[:, position], position
        )
        assert (
            logits.dtype == "float32"
            and {k: tuple(v.shape) for k, v in decoder_state.items()} == shapes
        )
        np.testing.assert_allclose(np.asarray(logits), full[:, position], atol=1e-5)


def test_cached_cross_attention_equals_projecting_the_encoder_output_at_every_step():
    model = _model()
    encoded, source_mask = model._encode_sequence(ops.convert_to_tensor(SOURCE))
    encoder_state = model.encode(SOURCE)
    decoder_state = model.start_decoding(encoder_state, 10)
    cache = np.zeros((3, 4, 10, 2, 8), "float32")
    for position in range(TARGET.shape[1]):
        logits, decoder_state = model.decode_step(
            encoder_state, decoder_state, TARGET[:, position], position
        )
        # Recomputed: every step projects the encoder output into a fresh cross cache.
        x = model.target_embedding(TARGET[:, position : position + 1], start_index=position)
        caches = []
        for i, block in enumerate(model.decoder_layers):
            x, layer_cache, _ = block(
                x,
                encoded,
                encoder_padding_mask=source_mask,
                self_attention_cache=cache[:, 2 * i : 2 * i + 2],
                self_attention_cache_update_index=position,
                cross_attention_cache=np.zeros((3, 2, 6, 2, 8), "float32"),
                cross_attention_cache_update_index=0,
            )
            caches.append(np.asarray(layer_cache))
        cache = np.concatenate(caches, axis=1)
        recomputed = np.asarray(model._logits(x))[:, 0]
        np.testing.assert_allclose(np.asarray(logits), recomputed, atol=1e-5)


def test_source_padding_changes_nothing():
    model = _model()
    wider = np.pad(SOURCE, ((0, 0), (0, 2)))
    a = model({"source_ids": SOURCE, "target_ids": TARGET})
    b = model({"source_ids": wider, "target_ids": TARGET})
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


def _small_vocabulary_model():
    """Untrained, 8 target ids: eos is likely enough that some hypotheses end, some not."""
    keras.utils.set_random_seed(2)
    return TransformerTranslator(
        30,
        8,
        max_source_length=8,
        max_target_length=10,
        hidden_dim=16,
        num_encoder_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        intermediate_dim=32,
    )


def test_beam_width_one_equals_greedy_and_scores_are_normalised_log_probabilities():
    model = _small_vocabulary_model()
    source = np.array([[5, 6, 7, 0], [8, 9, 0, 0], [10, 11, 12, 13]], "int32")
    greedy = greedy_search(model, source, 10, BOS, EOS)
    assert beam_search(model, source, 1, 10, BOS, EOS) == greedy
    assert {len(ids) < 10 for ids in greedy} == {True, False}  # some end, one does not
    best, scores = beam_search(model, source, 4, 10, BOS, EOS, return_scores=True)
    for row, (ids, score) in enumerate(zip(best, scores)):
        # The score of what beam search returns: Σ log p(y_t) over its tokens and eos, / N.
        labels = [*ids, EOS] if len(ids) < 10 else ids  # eos counts when generated
        target = np.array([[BOS, *labels[:-1]]], "int32")
        logits = np.asarray(model({"source_ids": source[row : row + 1], "target_ids": target}))
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        total = sum(log_probs[0, t, label] for t, label in enumerate(labels))
        assert score == pytest.approx(total / len(labels), abs=1e-4)


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="num_heads=3"):
        TransformerTranslator(30, 40, hidden_dim=16, num_heads=3)
    with pytest.raises(ValueError, match="dropout=1.5"):
        TransformerTranslator(30, 40, dropout=1.5)
    model = _model()
    with pytest.raises(ValueError, match="max_length=11"):
        model.start_decoding(model.encode(SOURCE), 11)
    with pytest.raises(ValueError, match="num_beams=0"):
        beam_search(model, SOURCE, 0, 10)
    with pytest.raises(ValueError, match="source_ids"):
        model({"source": SOURCE, "target_ids": TARGET})

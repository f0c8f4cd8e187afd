import keras
import numpy as np
import pytest
from keras import ops

from keras_nlpkit.models import RNNTranslator

SOURCE_VOCABULARY = 23
TARGET_VOCABULARY = 29
BOS, EOS = 2, 3
SMALL = dict(embedding_dim=8, hidden_dim=12)
ATTENTIONS = ["additive", "general"]


def _ids(lengths, vocabulary, width, seed):
    """`(len(lengths), width)` int32 ids in [4, vocabulary), row i 0-padded after lengths[i]."""
    ids = np.random.default_rng(seed).integers(4, vocabulary, (len(lengths), width))
    real = np.arange(width)[None, :] < np.asarray(lengths)[:, None]
    return np.where(real, ids, 0).astype("int32")


def _perturb(model, scale=0.3, seed=0):
    """Random weights away from the initialisation (biases and the zero-started
    additive bias included), so that every term of the step matters."""
    rng = np.random.default_rng(seed)
    model.set_weights(
        [w + rng.normal(0.0, scale, w.shape).astype(w.dtype) for w in model.get_weights()]
    )


def _model(attention, **kwargs):
    model = RNNTranslator(
        SOURCE_VOCABULARY, TARGET_VOCABULARY, **{**SMALL, **kwargs}, attention=attention
    )
    _perturb(model)
    return model


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_teacher_forcing_equals_decode_step(attention):
    model = _model(attention)
    source = _ids([7, 4, 1], SOURCE_VOCABULARY, 7, seed=1)
    target = _ids([6, 3, 6], TARGET_VOCABULARY, 6, seed=2)
    target[:, 0] = BOS
    expected = ops.convert_to_numpy(model({"source_ids": source, "target_ids": target}))

    encoder_state = model.encode(source)
    decoder_state = model.start_decoding(encoder_state, max_length=6)
    shapes = {key: tuple(value.shape) for key, value in decoder_state.items()}
    for key, value in encoder_state.items():
        assert value.shape[0] == 3, key  # batch-major
    steps = []
    for position in range(target.shape[1]):
        logits, decoder_state = model.decode_step(
            encoder_state, decoder_state, target[:, position], np.int32(position)
        )
        assert {key: tuple(value.shape) for key, value in decoder_state.items()} == shapes
        assert keras.backend.standardize_dtype(logits.dtype) == "float32"
        steps.append(ops.convert_to_numpy(logits))
    np.testing.assert_allclose(np.stack(steps, axis=1), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_source_padding_changes_nothing(attention):
    """A sentence padded to another's length translates as it does alone."""
    model = _model(attention)
    source = _ids([3, 8], SOURCE_VOCABULARY, 8, seed=3)
    target = _ids([5, 5], TARGET_VOCABULARY, 5, seed=4)
    together = ops.convert_to_numpy(model({"source_ids": source, "target_ids": target}))
    alone = ops.convert_to_numpy(model({"source_ids": source[:1, :3], "target_ids": target[:1]}))
    np.testing.assert_allclose(together[:1], alone, atol=1e-5, rtol=0)
    # The encoder state too: the sequence-long values over the real positions.
    state = model.encode(source)
    for key, value in model.encode(source[:1, :3]).items():
        padded = ops.convert_to_numpy(state[key])[:1]
        if key in ("encoder_outputs", "attention_keys", "source_mask"):
            padded = padded[:, :3]
        np.testing.assert_allclose(padded, ops.convert_to_numpy(value), atol=1e-6, err_msg=key)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_attention_weights_are_zero_on_padding(attention):
    model = _model(attention)
    source = _ids([2, 5, 1], SOURCE_VOCABULARY, 5, seed=5)
    target = _ids([4, 4, 4], TARGET_VOCABULARY, 4, seed=6)
    _, weights = model({"source_ids": source, "target_ids": target}, return_attention_scores=True)
    weights = ops.convert_to_numpy(weights)  # (batch, T, S)
    assert weights.shape == (3, 4, 5)
    padding = np.broadcast_to((source == 0)[:, None, :], weights.shape)
    assert np.all(weights[padding] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    # The keys projected in advance give the attention layer's own numbers.
    state = model.encode(source)
    query = np.random.default_rng(7).normal(size=(3, 4, SMALL["hidden_dim"])).astype("float32")
    context, ours = model._attend(query, state)
    reference, theirs = model.attention_layer(
        [query, state["encoder_outputs"]],
        mask=[None, source != 0],
        return_attention_scores=True,
    )
    np.testing.assert_allclose(ops.convert_to_numpy(ours), ops.convert_to_numpy(theirs), atol=1e-6)
    np.testing.assert_allclose(
        ops.convert_to_numpy(context), ops.convert_to_numpy(reference), atol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(attention="foo"), "attention='foo'"),
        (dict(attention="dot"), "attention='dot'"),
        (dict(hidden_dim=0), "hidden_dim=0"),
        (dict(embedding_dim=2.5), "embedding_dim=2.5"),
        (dict(dropout=1.0), "dropout=1.0"),
        (dict(source_vocabulary_size=-1), "source_vocabulary_size=-1"),
        (dict(target_vocabulary_size=None), "target_vocabulary_size=None"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = dict(source_vocabulary_size=10, target_vocabulary_size=10, **SMALL)
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        RNNTranslator(**{**arguments, **kwargs})


def test_bad_inputs_are_refused():
    model = RNNTranslator(10, 12, **SMALL)
    source = np.array([[4, 5, 0]], "int32")
    with pytest.raises(ValueError, match="source_ids"):
        model({"source_ids": source})
    with pytest.raises(ValueError, match="target_ids containing 12"):
        model({"source_ids": source, "target_ids": np.array([[2, 12]], "int32")})
    with pytest.raises(ValueError, match="source_ids containing 10"):
        model.encode(np.array([[10]], "int32"))
    with pytest.raises(ValueError, match="max_length=0"):
        model.start_decoding(model.encode(source), max_length=0)


def test_mixed_precision_decode_step_returns_float32_logits():
    model = RNNTranslator(10, 12, **SMALL, dtype="mixed_float16")
    state = model.encode(np.array([[4, 5, 0]], "int32"))
    logits, decoder_state = model.decode_step(
        state, model.start_decoding(state, 4), np.array([BOS], "int32"), np.int32(0)
    )
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert keras.backend.standardize_dtype(decoder_state["h"].dtype) == "float16"


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_fit_lowers_the_loss_on_a_copy_task(attention):
    rng = np.random.default_rng(8)
    vocabulary, width, rows = 12, 6, 256
    lengths = rng.integers(2, width, rows)
    source = _ids(lengths, vocabulary, width, seed=9)
    target = np.zeros((rows, width + 1), "int32")
    labels = np.zeros((rows, width + 1), "int32")
    for row, length in enumerate(lengths):
        target[row, : length + 1] = [BOS, *source[row, :length]]
        labels[row, : length + 1] = [*source[row, :length], EOS]
    model = RNNTranslator(
        vocabulary, vocabulary, embedding_dim=16, hidden_dim=32, dropout=0.0, attention=attention
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    history = model.fit(
        {"source_ids": source, "target_ids": target}, labels, batch_size=32, epochs=4, verbose=0
    )
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.6 * losses[0], losses

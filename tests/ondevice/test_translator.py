"""`translation_search` and `Translator`: the searches, and the device translating as Keras.

The searches are checked first on a fake translator (a tiny random recurrent model in
`keras.ops`): a batch (as Keras decodes val) against one sentence at the device's
fixed rows, beam 1 against greedy, idle rows, the score; then end to end on exported
tiny translators with random weights.
"""

import numpy as np
import pytest
from keras import ops

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.models.translation import beam_search as keras_beam_search
from keras_nlpkit.models.translation import greedy_search as keras_greedy_search
from keras_nlpkit.models.translation.decoding_functions import DecodingFunctions
from keras_nlpkit.ondevice import Translator
from keras_nlpkit.ondevice.translation_search import beam_search
from keras_nlpkit.ondevice.translation_search import greedy_search
from keras_nlpkit.ondevice.translation_search import top_indices
from keras_nlpkit.ondevice.translator import fixed_rows
from tests.translation_exports import NUM_BEAMS
from tests.translation_exports import SENTENCES
from tests.translation_exports import SOURCE_LENGTH
from tests.translation_exports import TARGET_LENGTH
from tests.translation_exports import exported
from tests.translation_exports import sentence_piece_models

BOS, EOS = 2, 3


class FakeTranslator:
    """A random recurrent "translator" over a tiny vocabulary; eos grows likelier with
    the position, so hypotheses end at different lengths."""

    def __init__(self, vocabulary=9, units=6, seed=0):
        rng = np.random.default_rng(seed)
        self.source_table = rng.normal(size=(vocabulary, units)).astype("float32")
        self.target_table = rng.normal(size=(vocabulary, units)).astype("float32")
        self.recurrent = (rng.normal(size=(units, units)) / np.sqrt(units)).astype("float32")
        self.output = (2 * rng.normal(size=(units, vocabulary))).astype("float32")
        self.eos = np.eye(vocabulary, dtype="float32")[EOS]

    def encode(self, source_ids):
        ids = ops.convert_to_tensor(source_ids, "int32")
        return {"memory": ops.mean(ops.take(self.source_table, ids, axis=0), axis=1)}

    def start_decoding(self, encoder_state, max_length):
        return {"h": ops.zeros_like(encoder_state["memory"])}

    def decode_step(self, encoder_state, decoder_state, token_ids, position):
        x = ops.take(self.target_table, ops.convert_to_tensor(token_ids, "int32"), axis=0)
        h = ops.tanh(ops.matmul(decoder_state["h"], self.recurrent) + x + encoder_state["memory"])
        bonus = 0.35 * ops.cast(position, "float32") * self.eos
        return ops.matmul(h, self.output) + bonus, {"h": h}


def device_search(model, source_ids, num_rows, noise=None):
    """`(step, gather, start state)` for one sentence as the device searches it: the
    compiled Keras functions at a fixed `num_rows` rows, through `fixed_rows`;
    `noise` overwrites the rows from `noise` on (what an unused row holds must not
    matter)."""
    functions = DecodingFunctions.of(model)
    encoder = functions.repeat(functions.encode(np.asarray([source_ids], "int32")), num_rows)
    state = {k: ops.convert_to_numpy(v) for k, v in functions.start_decoding(encoder, 10).items()}
    rng = np.random.default_rng(5)

    def step(tokens, state, position):
        logits, new = functions.decode_step(encoder, state, tokens, position)
        new = {k: ops.convert_to_numpy(v).copy() for k, v in new.items()}
        if noise is not None:
            logits = logits.copy()
            logits[noise:] = 50 * rng.normal(size=logits[noise:].shape)
            for value in new.values():
                value[noise:] = rng.normal(size=value[noise:].shape)
        return logits, new

    return (*fixed_rows(step, num_rows, BOS), state)


def sources(count, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(4, 9, 4).tolist() for _ in range(count)]


@pytest.mark.parametrize("beam", [2, 3, 4])
def test_a_batch_searches_as_its_sentences_one_at_a_time(beam):
    """Keras searches val in batches, the device one sentence at fixed rows: the same."""
    model = FakeTranslator(seed=2)
    batch = sources(12, seed=2)
    keras_ids, keras_scores = keras_beam_search(
        model, np.asarray(batch), beam, 8, BOS, EOS, return_scores=True
    )
    lengths = set()
    for source, want, want_score in zip(batch, keras_ids, keras_scores):
        step, gather, state = device_search(model, source, num_rows=4)
        ids, scores = beam_search(step, gather, state, 1, beam, 8, BOS, EOS)
        assert ids == [want]
        assert scores[0] == pytest.approx(want_score, abs=1e-6)
        lengths.add(len(want))
    assert len(lengths) > 2  # the case exercises hypotheses of several lengths


def test_beam_one_equals_greedy():
    model = FakeTranslator(seed=1)
    batch = sources(12, seed=1)
    want = keras_greedy_search(model, np.asarray(batch), 8, BOS, EOS)
    assert [] in want and len(set(map(len, want))) > 2  # eos at once among them
    assert keras_beam_search(model, np.asarray(batch), 1, 8, BOS, EOS) == want
    for source, expected in zip(batch, want):
        step, gather, state = device_search(model, source, num_rows=3)
        assert greedy_search(step, state, 1, 8, BOS, EOS) == [expected]
        assert beam_search(step, gather, state, 1, 1, 8, BOS, EOS)[0] == [expected]


@pytest.mark.parametrize("beam", [1, 2, 3])
def test_unused_rows_do_not_change_the_result(beam):
    model = FakeTranslator(seed=2)
    for source in sources(8, seed=3):
        step, gather, state = device_search(model, source, 4)
        clean = beam_search(step, gather, state, 1, beam, 8, BOS, EOS)
        step, gather, state = device_search(model, source, 4, noise=beam)
        assert beam_search(step, gather, state, 1, beam, 8, BOS, EOS) == clean


def test_the_score_is_normalised_by_the_generated_length():
    """eos at once: log 0.4 = −0.92; "5 eos": log 0.6 + log 0.55 = −1.11 in all, but
    −0.55 a token, so it wins under Σ log p / N and would lose under the plain sum."""

    def logits(position):
        row = np.full(8, -50.0)
        if position == 0:
            row[EOS], row[5] = np.log(0.4), np.log(0.6)
        else:
            row[EOS], row[6] = np.log(0.55), np.log(0.45)
        return row

    def step(tokens, state, position):
        return np.asarray([logits(position)] * len(tokens), np.float32), state

    def gather(state, rows):
        return state

    ids, scores = beam_search(step, gather, {}, 1, 2, 5, BOS, EOS)
    assert ids == [[5]] and scores[0] == pytest.approx((np.log(0.6) + np.log(0.55)) / 2, abs=1e-5)
    assert greedy_search(step, {}, 1, 5, BOS, EOS) == [[5]]


def test_top_indices_breaks_ties_to_the_lower_index():
    scores = np.asarray([[0.0, 1.0, 1.0, 0.5, 1.0, 1.0]], np.float32)
    assert top_indices(scores, 3).tolist() == [[1, 2, 4]]
    assert top_indices(scores, 6).tolist() == [[1, 2, 4, 5, 3, 0]]


def test_bad_widths_are_named():
    step, gather, state = device_search(FakeTranslator(), [4, 5], 2)
    with pytest.raises(ValueError, match="num_beams=0"):
        beam_search(step, gather, state, 1, 0, 5, BOS, EOS)
    with pytest.raises(ValueError, match="max_length=0"):
        beam_search(step, gather, state, 1, 1, 0, BOS, EOS)


# --- end to end, on exported tiny translators -------------------------------------------
ARCHITECTURES = ["transformer", "rnn"]


def keras_translation(model, source_ids, beam):
    padded = np.zeros((1, SOURCE_LENGTH), np.int32)
    padded[0, : len(source_ids)] = source_ids
    if beam == 1:
        return keras_greedy_search(model, padded, TARGET_LENGTH, BOS, EOS)[0]
    return keras_beam_search(model, padded, beam, TARGET_LENGTH, BOS, EOS)[0]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_device_translates_as_keras(architecture):
    model, out, _ = exported(architecture)
    translator = Translator(out)
    assert translator.num_beams == NUM_BEAMS
    rng = np.random.default_rng(4)
    sentences = [translator.source_ids(s) for s in SENTENCES]
    sentences += [rng.integers(4, 40, n).tolist() for n in (1, 3, 6, SOURCE_LENGTH)]
    for source in sentences:
        for beam in range(1, NUM_BEAMS + 1):
            assert translator.translate_ids(source, beam) == keras_translation(
                model, source, beam
            ), (source, beam)


def test_text_in_text_out():
    model, out, _ = exported("transformer")
    translator = Translator(out)
    source_spm, _ = sentence_piece_models()
    assert translator.source_ids("") == [1]  # a sentence without pieces reads as unk
    assert len(translator.source_ids(" ".join(["park"] * 50))) == SOURCE_LENGTH
    for sentence in SENTENCES[:3]:
        ids = keras_translation(model, translator.source_ids(sentence), 2)
        text = translator.translate(sentence, beam=2)
        assert text == translator.target_tokenizer.decode([i for i in ids if i > EOS])
    assert translator.detokenize([0, 1, 2, 3]) == ""


def test_bad_input_is_named(tmp_path):
    _, out, _ = exported("transformer")
    translator = Translator(out)
    with pytest.raises(ValueError, match="beam=4"):
        translator.translate("a dog", beam=NUM_BEAMS + 1)
    with pytest.raises(ValueError, match="max_length=99"):
        translator.translate_ids([5], beam=1, max_length=99)
    with pytest.raises(ValueError, match="source_ids"):
        translator.translate_ids(list(range(4, 4 + SOURCE_LENGTH + 1)), beam=1)
    with pytest.raises(UserInputError, match="no such folder"):
        Translator(tmp_path / "missing")
    with pytest.raises(UserInputError, match="int8"):
        Translator(out, variant="int8")

"""BERT: keras-hub weight parity both ways, save/load, masking statistics, heads, bad input."""

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from keras_nlpkit.models import BertBackbone
from keras_nlpkit.models import BertClassifier
from keras_nlpkit.models import BertPreprocessor
from keras_nlpkit.models import BertPretrainer
from keras_nlpkit.models import BertQuestionAnswerer
from keras_nlpkit.models import BertTokenClassifier
from keras_nlpkit.models.bert.bert_preprocessor import SPECIAL_TOKENS
from keras_nlpkit.text.documents import next_sentence_pairs
from keras_nlpkit.tokenizers import learn_word_piece_vocabulary

SMALL = dict(
    vocabulary_size=120,
    num_layers=2,
    num_heads=2,
    hidden_dim=16,
    intermediate_dim=32,
    max_sequence_length=20,
)
WORDS = ["the", "cat", "dog", "sat", "on", "mat", "it", "slept", "ran", "."]
VOCABULARY = SPECIAL_TOKENS + WORDS


def bert_inputs(batch=3, length=12, vocabulary_size=120, seed=0):
    """Packed-looking inputs: [CLS] at 0, two segments, right padding of varied length."""
    rng = np.random.default_rng(seed)
    lengths = np.linspace(length, 4, batch).astype(int)
    positions = np.arange(length)[None]
    padding_mask = (positions < lengths[:, None]).astype("int32")
    token_ids = np.where(padding_mask, rng.integers(5, vocabulary_size, (batch, length)), 0)
    token_ids[:, 0] = 1
    segment_ids = ((positions >= (lengths // 2)[:, None]) & (padding_mask == 1)).astype("int32")
    return {
        "token_ids": token_ids.astype("int32"),
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
    }


def max_abs_diff(a, b):
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in a)


def random_hub_backbone():
    hub = keras_hub.models.BertBackbone(**SMALL)
    # Random biases and norms too, so that a weight copied to the wrong place shows.
    rng = np.random.default_rng(1)
    for weight in hub.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype("float32"))
    return hub


def test_from_keras_hub_and_back_give_the_same_outputs(tmp_path):
    hub = random_hub_backbone()
    x = bert_inputs()
    ours = BertBackbone.from_keras_hub(hub)
    assert max_abs_diff(hub(x), ours(x)) <= 1e-5
    assert BertBackbone(**SMALL)(x)["pooled_output"].shape == (3, 16)

    back = ours.to_keras_hub()  # ours → a fresh keras-hub model
    assert isinstance(back, keras_hub.models.BertBackbone)
    assert max_abs_diff(back(x), hub(x)) <= 1e-5

    mixed = BertBackbone(**SMALL, dtype="mixed_float16").to_keras_hub()
    assert mixed.dtype_policy.name == "mixed_float16"

    hub.save_to_preset(str(tmp_path / "preset"))  # via a local preset directory
    from_preset = BertBackbone.from_keras_hub(tmp_path / "preset")
    assert max_abs_diff(from_preset(x), hub(x)) <= 1e-5


def test_from_keras_hub_refuses_other_architectures(tmp_path):
    gpt2 = keras_hub.models.GPT2Backbone(
        vocabulary_size=50,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=8,
    )
    with pytest.raises(ValueError, match=r"model_or_preset_dir=GPT2Backbone"):
        BertBackbone.from_keras_hub(gpt2)
    gpt2.save_to_preset(str(tmp_path / "gpt2"))
    with pytest.raises(ValueError, match=r"model_or_preset_dir=.*gpt2.*GPT2Backbone"):
        BertBackbone.from_keras_hub(tmp_path / "gpt2")
    distil = keras_hub.models.DistilBertBackbone(
        vocabulary_size=50,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=8,
    )
    distil.save_to_preset(str(tmp_path / "distil"))
    with pytest.raises(ValueError, match=r"a keras_hub>DistilBertBackbone preset"):
        BertBackbone.from_keras_hub(tmp_path / "distil")
    with pytest.raises(ValueError, match=r"model_or_preset_dir=.*nowhere"):
        BertBackbone.from_keras_hub(tmp_path / "nowhere")


def test_sizes_and_config_round_trip():
    tiny = BertBackbone.from_size("tiny", vocabulary_size=1000, max_sequence_length=64)
    assert (tiny.num_layers, tiny.hidden_dim, tiny.num_heads, tiny.intermediate_dim) == (
        2,
        128,
        2,
        512,
    )
    assert BertBackbone.from_config(tiny.get_config()).get_config() == tiny.get_config()
    blocks = tiny.transformer_layers
    assert not blocks[0].normalize_first and blocks[0].layer_norm_epsilon == 1e-12
    with pytest.raises(ValueError, match="size='huge'"):
        BertBackbone.from_size("huge", 1000)


@pytest.mark.large
def test_base_has_about_110m_parameters():
    base = BertBackbone.from_size("base", vocabulary_size=30522)
    assert 105e6 < base.count_params() < 115e6


@pytest.mark.parametrize("task", ["pretrainer", "classifier", "tokens", "qa"])
def test_task_models_save_and_load_with_the_same_outputs(task, tmp_path):
    backbone = BertBackbone(**SMALL)
    model = {
        "pretrainer": lambda: BertPretrainer(backbone),
        "classifier": lambda: BertClassifier(backbone, num_classes=3),
        "tokens": lambda: BertTokenClassifier(backbone, num_classes=5),
        "qa": lambda: BertQuestionAnswerer(backbone),
    }[task]()
    x = bert_inputs()
    if task == "pretrainer":
        x["mask_positions"] = np.array([[1, 2], [3, 4], [1, 1]], "int32")
    before = model(x)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    after = loaded(x)
    if not isinstance(before, dict):
        before, after = {"out": before}, {"out": after}
    assert max_abs_diff(before, after) == 0.0
    assert type(loaded) is type(model)


def test_pretrainer_heads_and_one_training_step():
    backbone = BertBackbone(**SMALL)
    model = BertPretrainer(backbone)
    x = bert_inputs(batch=4)
    x["mask_positions"] = np.array([[1, 2, 0]] * 4, "int32")
    y = {"mlm": np.array([[7, 8, 0]] * 4), "nsp": np.array([1, 0, 1, 0])}
    out = model(x)
    assert out["mlm"].shape == (4, 3, 120) and out["nsp"].shape == (4, 2)
    # The MLM output is tied to the token embedding: changing it changes the logits.
    table = backbone.embeddings.token_embedding.embeddings
    table.assign(table.numpy() * 2)
    assert not np.allclose(model(x)["mlm"], out["mlm"])
    model.compile(
        keras.optimizers.Adam(1e-3),
        loss={
            "mlm": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
    )
    weights = {"mlm": np.array([[1, 1, 0]] * 4, "float32"), "nsp": np.ones(4, "float32")}
    history = model.fit(x, y, sample_weight=weights, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_masked_lm_statistics():
    preprocessor = BertPreprocessor(SPECIAL_TOKENS + [f"w{i}" for i in range(995)], 64)
    rng = np.random.default_rng(0)
    batch, length = 2000, 64
    token_ids = rng.integers(5, 1000, (batch, length)).astype("int32")
    token_ids[:, 0], token_ids[:, 40] = preprocessor.cls_id, preprocessor.sep_id
    token_ids[:, 50:] = preprocessor.pad_id
    tf.random.set_seed(7)
    generator = preprocessor.mask_generator(max_selections=length)
    masked = generator(tf.constant(token_ids))
    weights = np.asarray(masked["mask_weights"]) > 0
    positions = np.asarray(masked["mask_positions"])[weights]
    rows = np.nonzero(weights)[0]
    original = np.asarray(masked["mask_ids"])[weights]
    now = np.asarray(masked["token_ids"])[rows, positions]
    np.testing.assert_array_equal(original, token_ids[rows, positions])
    selectable = batch * (50 - 2)
    assert abs(len(positions) / selectable - 0.15) < 0.005
    assert not np.isin(positions, [0, 40]).any() and (positions < 50).all()
    as_mask = np.mean(now == preprocessor.mask_id)
    kept = np.mean(now == original)
    replaced = np.mean((now != original) & (now != preprocessor.mask_id))
    assert abs(as_mask - 0.8) < 0.015
    assert abs(kept - 0.1) < 0.01  # a random draw equal to the original counts here (0.1%)
    assert abs(replaced - 0.1) < 0.01
    changed = np.asarray(masked["token_ids"]) != token_ids
    changed[rows, positions] = False
    assert not changed.any()  # nothing but the chosen positions changes


def test_packing_cls_a_sep_b_sep():
    preprocessor = BertPreprocessor(VOCABULARY, sequence_length=12)
    x = {
        k: np.asarray(v)
        for k, v in preprocessor(
            tf.constant(["The cat sat.", "it ran"]),
            tf.constant(["It slept", "the dog sat on the mat . the cat ran ."]),
        ).items()
    }
    ids = {t: i for i, t in enumerate(VOCABULARY)}
    expected = [
        ids[t] for t in ["[CLS]", "the", "cat", "sat", ".", "[SEP]", "it", "slept", "[SEP]"]
    ]
    np.testing.assert_array_equal(x["token_ids"][0], expected + [0] * 3)
    np.testing.assert_array_equal(x["segment_ids"][0], [0] * 6 + [1] * 3 + [0] * 3)
    np.testing.assert_array_equal(x["padding_mask"][0], [1] * 9 + [0] * 3)
    assert x["token_ids"][1, -1] == ids["[SEP]"] and x["padding_mask"][1].all()  # truncated
    word_mask = np.asarray(preprocessor.word_mask(x["token_ids"]))
    assert word_mask[0].tolist() == [False] + [True] * 4 + [False] + [True] * 2 + [False] * 4


def test_word_piece_vocabulary_is_trained_on_text():
    rng = np.random.default_rng(0)
    lines = [
        " ".join(rng.choice(["unhappy", "happy", "unkind", "kindness", "the", "a"], 8))
        for _ in range(200)
    ]
    vocabulary = learn_word_piece_vocabulary(lines, 60, SPECIAL_TOKENS, lowercase=True)
    assert vocabulary[:5] == SPECIAL_TOKENS and len(vocabulary) <= 60
    assert "happy" in vocabulary and any(t.startswith("##") for t in vocabulary)
    preprocessor = BertPreprocessor(vocabulary, 16)
    ids = list(preprocessor.tokenize(tf.constant(["Unhappy kindness"]))[0])
    assert preprocessor.unk_id not in ids and len(ids) >= 2


def test_next_sentence_pairs_are_half_true():
    documents = [[f"d{d} s{i}" for i in range(20)] for d in range(50)]
    first, second, is_next = next_sentence_pairs(documents, seed=3)
    assert len(first) == len(second) == len(is_next) == 50 * 19
    assert abs(is_next.mean() - 0.5) < 0.05
    for a, b, label in zip(first, second, is_next):
        doc_a, i = a.split()
        doc_b, j = b.split()
        if label:
            assert doc_a == doc_b and int(j[1:]) == int(i[1:]) + 1
        else:
            assert doc_a != doc_b


def test_next_sentence_negatives_come_from_the_same_source():
    # Two sources of 10 documents: negatives stay inside their source, never the
    # true successor, and a one-document source draws from itself.
    documents = [[f"{src}{d} s{i}" for i in range(6)] for src in "ab" for d in range(10)]
    documents.append([f"c0 s{i}" for i in range(4)])
    sources = [0] * 10 + [1] * 10 + [2]
    first, second, is_next = next_sentence_pairs(documents, seed=0, sources=sources)
    negatives = [(a, b) for a, b, label in zip(first, second, is_next) if not label]
    assert len(negatives) > 30
    for a, b in negatives:
        assert a[0] == b[0]  # same source
        if a[0] != "c":
            assert a.split()[0] != b.split()[0]  # another document of it
        assert int(b.split()[1][1:]) != int(a.split()[1][1:]) + 1 or a.split()[0] != b.split()[0]
    with pytest.raises(ValueError, match="one id per document"):
        next_sentence_pairs(documents, sources=[0])


def test_span_softmax_covers_the_passage_only():
    model = BertQuestionAnswerer(BertBackbone(**SMALL))
    x = bert_inputs(batch=3, length=12)
    out = model(x)
    assert out["start_logits"].shape == (3, 12) and out["end_logits"].shape == (3, 12)
    segment, padding = x["segment_ids"] == 1, x["padding_mask"] == 1
    # Passage: segment 1, real, and not its closing [SEP] (the last real token).
    last = padding.sum(axis=1) - 1
    passage = segment & padding
    passage[np.arange(3), last] = False
    for name in ("start_logits", "end_logits"):
        probabilities = np.asarray(keras.ops.softmax(out[name], axis=-1))
        assert (probabilities[~passage] == 0).all()
        np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-6)
        assert (probabilities[passage] > 0).all()
    start, end = model.best_span(out)
    assert passage[np.arange(3), start].all() and passage[np.arange(3), end].all()
    assert (start <= end).all()


def test_bad_input_names_the_argument_and_value():
    backbone = BertBackbone(**SMALL)
    classifier = BertClassifier(backbone, num_classes=2)
    x = bert_inputs(length=12)
    with pytest.raises(ValueError, match=r"token_ids.*max_sequence_length=20.*length 25"):
        backbone(bert_inputs(length=25))
    with pytest.raises(ValueError, match=r"token_ids.*vocabulary_size=120.*containing 120"):
        classifier(dict(x, token_ids=np.where(x["padding_mask"], 120, 0)))
    with pytest.raises(ValueError, match=r"token_ids.*containing -1"):
        backbone(dict(x, token_ids=x["token_ids"] * 0 - 1))
    with pytest.raises(ValueError, match=r"segment_ids.*num_segments=2.*containing 2"):
        backbone(dict(x, segment_ids=x["segment_ids"] * 2))
    with pytest.raises(ValueError, match=r"segment_ids"):
        backbone({"token_ids": x["token_ids"], "padding_mask": x["padding_mask"]})
    with pytest.raises(ValueError, match=r"vocabulary_size=120.*vocabulary of 15 tokens"):
        BertPreprocessor(VOCABULARY, 12).check_backbone(backbone)
    with pytest.raises(ValueError, match=r"sequence_length=32"):
        BertPreprocessor(VOCABULARY + [f"x{i}" for i in range(105)], 32).check_backbone(backbone)
    with pytest.raises(ValueError, match=r"num_heads=3"):
        BertBackbone(**dict(SMALL, num_heads=3))
    with pytest.raises(ValueError, match=r"num_layers=0"):
        BertBackbone(**dict(SMALL, num_layers=0))
    with pytest.raises(ValueError, match=r"num_classes=0"):
        BertClassifier(backbone, num_classes=0)
    with pytest.raises(ValueError, match=r"missing \['\[MASK\]'\]"):
        BertPreprocessor(VOCABULARY[:4] + WORDS, 12)

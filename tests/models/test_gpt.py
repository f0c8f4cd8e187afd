"""GPT: round-trip, cached decoding, generate() against full recomputation, keras-hub
interop, bad input (export: tests/export)."""

import itertools
import re

import keras
import keras_hub
import numpy as np
import pytest

from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM
from keras_nlpkit.models.gpt import BeamSampler

VOCABULARY = 23
PROMPTS = [[3, 4, 5, 6], [7, 8], [9, 10, 11]]  # different lengths: right padding inside


def small_backbone(**kwargs):
    config = dict(
        vocabulary_size=VOCABULARY,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=16,
    )
    config.update(kwargs)
    return GPTBackbone(**config)


@pytest.fixture(scope="module")
def lm():
    keras.utils.set_random_seed(7)
    model = GPTCausalLM(small_backbone())
    # Sharper than an untrained model's near-uniform logits, so that ties cannot
    # hide a wrong token: scale the token embedding (the tied output projection).
    table = model.backbone.token_embedding.token_embedding.embeddings
    table.assign(np.asarray(table) * 40)
    return model


def full_log_probs(model, ids):
    """log P(next token) after each prefix of `ids`, recomputing the whole sequence."""
    logits = np.asarray(model(np.asarray([ids])))[0].astype("float64")
    logits -= logits.max(-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def test_gpt_round_trips_and_cache_matches_full_pass(tmp_path):
    backbone = GPTBackbone(
        50,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=12,
        activation="gelu_approximate",
    )
    model = GPTCausalLM(backbone, sampler=BeamSampler(num_beams=3, alpha=0.5))
    ids = np.random.default_rng(0).integers(1, 50, (2, 7))
    full = np.asarray(model(ids))
    assert GPTBackbone.from_config(backbone.get_config()).get_config() == backbone.get_config()
    model.save(tmp_path / "gpt.keras")
    reloaded = keras.saving.load_model(tmp_path / "gpt.keras")
    np.testing.assert_array_equal(np.asarray(reloaded(ids)), full)
    assert reloaded.backbone.activation == "gelu_approximate"
    assert reloaded.sampler.get_config() == model.sampler.get_config()
    assert isinstance(reloaded.sampler, BeamSampler)
    cache = model.build_cache(2)
    assert tuple(cache.shape) == (2, 4, 12, 2, 8)
    logits, _, cache = model.call_with_cache(ids[:, :3], cache, 0)
    steps = [np.asarray(logits)]
    for t in range(3, 7):
        logits, _, cache = model.call_with_cache(ids[:, t : t + 1], cache, t)
        steps.append(np.asarray(logits))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_approximate_gelu_changes_the_function_and_exact_stays_the_default():
    keras.utils.set_random_seed(1)
    exact = small_backbone()
    approximate = small_backbone(activation="gelu_approximate")
    approximate.set_weights(exact.get_weights())
    assert exact.activation == "gelu"
    x = {"token_ids": np.array([[1, 2, 3]]), "padding_mask": np.ones((1, 3), "int32")}
    difference = np.abs(np.asarray(exact(x)) - np.asarray(approximate(x))).max()
    assert 0 < difference < 1e-2


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_greedy_equals_argmax_of_full_recomputation(lm, run_eagerly):
    lm.compile(run_eagerly=run_eagerly)
    out = lm.generate(PROMPTS, max_length=12)
    lm.compile()
    for prompt, row in zip(PROMPTS, out):
        assert row[: len(prompt)] == prompt and len(row) == 12
        log_probs = full_log_probs(lm, row)
        assert row[len(prompt) :] == [
            int(np.argmax(log_probs[t - 1])) for t in range(len(prompt), 12)
        ]
    assert lm.generate(PROMPTS[0], max_length=12, strip_prompt=True) == out[0][4:]


def test_beam_1_top_k_1_and_tiny_top_p_equal_greedy(lm):
    greedy = lm.generate(PROMPTS, max_length=11, sampler="greedy")
    for sampler in (
        BeamSampler(num_beams=1),
        keras_hub.samplers.TopKSampler(k=1, seed=1),
        keras_hub.samplers.TopPSampler(p=1e-6, seed=1),
    ):
        assert lm.generate(PROMPTS, max_length=11, sampler=sampler) == greedy, sampler


def test_top_k_samples_lie_in_the_top_k_set_and_vary(lm):
    k = 3
    sampler = keras_hub.samplers.TopKSampler(k=k, seed=3, temperature=2.0)
    outs = [lm.generate(PROMPTS, max_length=14, sampler=sampler) for _ in range(3)]
    for out in outs:
        for prompt, row in zip(PROMPTS, out):
            log_probs = full_log_probs(lm, row)
            for t in range(len(prompt), len(row)):
                assert row[t] in np.argsort(-log_probs[t - 1])[:k]
    assert outs[0] != outs[1] or outs[1] != outs[2]  # it samples


def test_beam_search_is_exact_when_the_beam_holds_every_hypothesis(lm):
    # 3 new tokens over 23 ids: a beam of 23² keeps every prefix, so it must return
    # the most likely continuation of all 23³ (alpha=0: plain log-probability).
    prompt = [3, 4]
    sampler = BeamSampler(num_beams=VOCABULARY**2, alpha=0.0, return_all_beams=True)
    beams = lm.generate([prompt], max_length=5, sampler=sampler)[0]
    best, score = beams[0]
    candidates = np.array(
        [prompt + list(c) for c in itertools.product(range(VOCABULARY), repeat=3)]
    )
    logits = np.asarray(lm(candidates)).astype("float64")
    logits -= logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    totals = sum(
        log_probs[np.arange(len(candidates)), t - 1, candidates[:, t]] for t in range(2, 5)
    )
    assert best == list(candidates[np.argmax(totals)])
    np.testing.assert_allclose(score, totals.max(), rtol=1e-4)


def test_beam_scores_are_length_normalised_and_stop_tokens_end_beams(lm):
    greedy = lm.generate(PROMPTS[0], max_length=12)
    stop = greedy[6]  # the greedy path stops after 3 new tokens
    alpha = 0.7
    sampler = BeamSampler(num_beams=3, alpha=alpha, return_all_beams=True)
    beams = lm.generate([PROMPTS[0]], max_length=12, sampler=sampler, stop_token_ids=[stop])[0]
    scores = [score for _, score in beams]
    assert scores == sorted(scores, reverse=True)
    for ids, score in beams:
        new = ids[4:]
        assert stop not in new[:-1]  # nothing after a stop token
        log_probs = full_log_probs(lm, ids)
        total = sum(log_probs[t - 1, ids[t]] for t in range(4, len(ids)))
        np.testing.assert_allclose(score, total / len(new) ** alpha, rtol=1e-4)


def test_stop_tokens_stop_each_row(lm):
    greedy = lm.generate(PROMPTS, max_length=12)
    stop = greedy[0][5]  # second new token of row 0
    out = lm.generate(PROMPTS, max_length=12, stop_token_ids=[stop])
    for prompt, full, row in zip(PROMPTS, greedy, out):
        new = full[len(prompt) :]
        end = len(prompt) + (new.index(stop) + 1 if stop in new else len(new))
        assert row == full[:end]
    assert len(out[0]) <= 6  # it did stop
    ids = np.zeros((3, 6), "int32")
    mask = np.zeros((3, 6), "int32")
    for row, prompt in enumerate(PROMPTS):
        ids[row, : len(prompt)], mask[row, : len(prompt)] = prompt, 1
    result = lm.generate(
        {"token_ids": ids, "padding_mask": mask}, max_length=12, stop_token_ids=[stop]
    )
    assert result["token_ids"].shape == (3, 12)
    assert [list(r[m]) for r, m in zip(result["token_ids"], result["padding_mask"])] == out


def _randomise(model, seed):
    rng = np.random.default_rng(seed)
    for variable in model.weights:  # biases and norms too, so that every copy counts
        variable.assign(rng.normal(0, 0.2, variable.shape).astype("float32"))


def _hub_inputs():
    ids = np.random.default_rng(4).integers(0, 50, (3, 10)).astype("int32")
    mask = np.ones_like(ids)
    mask[1, 6:] = 0
    return {"token_ids": ids, "padding_mask": mask}


def test_from_and_to_keras_hub_give_the_same_outputs(tmp_path):
    hub = keras_hub.models.GPT2Backbone(
        vocabulary_size=50,
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=12,
        dropout=0.0,
    )
    _randomise(hub, 0)
    x = _hub_inputs()
    expected = np.asarray(hub(x))
    ours = GPTBackbone.from_keras_hub(hub)
    assert ours.activation == "gelu_approximate"
    np.testing.assert_allclose(np.asarray(ours(x)), expected, atol=1e-5)
    # The causal LM's logits too (keras-hub: the tied reverse embedding).
    hub_lm = keras_hub.models.GPT2CausalLM(hub, preprocessor=None)
    np.testing.assert_allclose(
        np.asarray(GPTCausalLM(ours)(x["token_ids"], x["padding_mask"])),
        np.asarray(hub_lm(x)),
        atol=1e-4,
    )
    np.testing.assert_allclose(
        np.asarray(GPTBackbone.from_keras_hub(hub_lm)(x)), expected, atol=1e-5
    )
    hub.save_to_preset(tmp_path / "preset")
    np.testing.assert_allclose(
        np.asarray(GPTBackbone.from_keras_hub(tmp_path / "preset")(x)), expected, atol=1e-5
    )
    _randomise(ours, 1)
    back = ours.to_keras_hub()
    assert isinstance(back, keras_hub.models.GPT2Backbone)
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(ours(x)), atol=1e-5)


def test_to_keras_hub_refuses_an_exact_gelu_backbone_unless_not_strict():
    ours = small_backbone()
    with pytest.raises(ValueError, match="activation='gelu'"):
        ours.to_keras_hub()
    with pytest.warns(UserWarning, match="differ"):
        hub = ours.to_keras_hub(strict=False)
    x = {"token_ids": np.array([[1, 2, 3]]), "padding_mask": np.ones((1, 3), "int32")}
    assert np.abs(np.asarray(hub(x)) - np.asarray(ours(x))).max() < 1e-2


def test_bad_input_gives_clear_errors(lm, tmp_path):
    limit = lm.backbone.max_sequence_length
    cases = [
        (lambda: lm.generate(PROMPTS, max_length=limit + 1), f"max_length={limit + 1}"),
        (lambda: lm.generate([list(range(1, 12))], max_length=8), "max_length=8"),
        (
            lambda: lm.generate([[1, VOCABULARY]], max_length=8),
            f"`inputs` must lie in [0, {VOCABULARY}) (vocabulary_size={VOCABULARY}). "
            f"Received: inputs containing {VOCABULARY}",
        ),
        (lambda: lm.generate([[1, -1]], max_length=8), "Received: inputs containing -1"),
        (
            lambda: lm.generate([[1, 2]], max_length=8, stop_token_ids=[99]),
            "Received: stop_token_ids containing 99",
        ),
        (lambda: lm.generate([[1], []], max_length=8), "empty prompt"),
        (
            lambda: lm.generate(
                {"token_ids": np.ones((1, 4), "int32"), "padding_mask": np.array([[0, 1, 1, 1]])},
                max_length=8,
            ),
            "right padding",
        ),
        (lambda: lm.generate([[1]], sampler="nucleus"), "sampler='nucleus'"),
        (
            lambda: lm.generate([[1]], sampler=keras_hub.samplers.ContrastiveSampler()),
            "ContrastiveSampler is not supported",
        ),
        (
            lambda: lm(np.full((1, 3), VOCABULARY + 5)),
            f"Received: token_ids containing {VOCABULARY + 5}",
        ),
        (lambda: lm(np.ones((1, limit + 4), "int32")), f"length {limit + 4}"),
        (lambda: small_backbone(activation="relu"), "activation='relu'"),
        (lambda: BeamSampler(num_beams=0), "num_beams=0"),
        (lambda: GPTBackbone.from_keras_hub(tmp_path / "nothing"), "model_or_preset_dir="),
    ]
    for make, expected in cases:
        with pytest.raises(ValueError, match=re.escape(expected)):
            make()


def test_from_keras_hub_refuses_other_architectures_and_mismatched_tokenizers(tmp_path):
    bert = keras_hub.models.BertBackbone(
        vocabulary_size=30,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=8,
    )
    with pytest.raises(ValueError, match="Received: model_or_preset_dir=BertBackbone"):
        GPTBackbone.from_keras_hub(bert)
    bert.save_to_preset(tmp_path / "bert")
    with pytest.raises(ValueError, match="BertBackbone \\(from the preset"):
        GPTBackbone.from_keras_hub(tmp_path / "bert")

    hub = keras_hub.models.GPT2Backbone(
        vocabulary_size=50,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=8,
    )
    hub.save_to_preset(tmp_path / "gpt2")
    vocabulary = {"<|endoftext|>": 0, **{c: i + 1 for i, c in enumerate(["a", "b", "ab"])}}
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=vocabulary, merges=["a b"])
    tokenizer.save_to_preset(tmp_path / "gpt2")
    with pytest.raises(
        ValueError,
        match=f"model vocabulary_size=50, tokenizer vocabulary_size={tokenizer.vocabulary_size()}",
    ):
        GPTBackbone.from_keras_hub(tmp_path / "gpt2")

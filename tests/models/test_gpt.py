"""GPT: save/load round-trip and cached decoding equal to the full pass (export: tests/export)."""

import keras
import numpy as np

from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM


def test_gpt_round_trips_and_cache_matches_full_pass(tmp_path):
    backbone = GPTBackbone(50, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=12)
    model = GPTCausalLM(backbone)
    ids = np.random.default_rng(0).integers(1, 50, (2, 7))
    full = np.asarray(model(ids))
    assert GPTBackbone.from_config(backbone.get_config()).get_config() == backbone.get_config()
    model.save(tmp_path / "gpt.keras")
    np.testing.assert_array_equal(np.asarray(keras.saving.load_model(tmp_path / "gpt.keras")(ids)),
                                  full)
    cache = model.build_cache(2)
    assert tuple(cache.shape) == (2, 4, 12, 2, 8)
    logits, _, cache = model.call_with_cache(ids[:, :3], cache, 0)
    steps = [np.asarray(logits)]
    for t in range(3, 7):
        logits, _, cache = model.call_with_cache(ids[:, t : t + 1], cache, t)
        steps.append(np.asarray(logits))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)

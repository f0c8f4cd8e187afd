"""A translator's export: `encode` and `decode_step`, builtin-only, static, in both clients,
equal to the Keras model's own `encode` / `decode_step`."""

import json
import subprocess
import sys

import numpy as np
import pytest
from keras import ops

from keras_nlpkit.export.translation import export_translation
from keras_nlpkit.export.translation import translation_signatures
from keras_nlpkit.export.translation import translator_signatures
from keras_nlpkit.ondevice import Translator
from keras_nlpkit.ondevice.model_folder import read_manifest
from tests.translation_exports import NUM_BEAMS
from tests.translation_exports import SETTINGS
from tests.translation_exports import SOURCE_LENGTH
from tests.translation_exports import TARGET_LENGTH
from tests.translation_exports import exported
from tests.translation_exports import sentence_piece_models
from tests.translation_exports import tiny_model

ARCHITECTURES = [
    "transformer",
    "rnn",
]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_file_is_builtin_static_and_runs_in_both_clients(architecture):
    _, out, report = exported(architecture)
    variant = report["variants"]["float32"]
    assert variant["flex_ops"] == [] and variant["custom_ops"] == []
    compiled = variant["clients"]["compiled_model"]
    assert compiled["loaded"] and compiled["error"] is None
    assert sorted(compiled["ran"]) == ["decode_step", "encode", "serving_default"]
    assert variant["top1_agreement"] == 1.0 and variant["max_abs_diff"] < 1e-4
    manifest = read_manifest(out)
    assert manifest["kind"] == "translation"
    assert manifest["settings"]["num_beams"] == NUM_BEAMS
    assert {"source.spm", "target.spm"} <= set(manifest["files"])
    tensors = manifest["tensors"]["float32"]
    for signature in ("encode", "decode_step"):
        for side in ("inputs", "outputs"):
            for name, tensor in tensors[signature][side].items():
                assert -1 not in tensor["shape"], (signature, name, tensor)
    step = tensors["decode_step"]["inputs"]
    assert step["token_ids"]["shape"] == [NUM_BEAMS] and step["position"]["shape"] == []
    assert tensors["encode"]["inputs"]["source_ids"]["shape"] == [1, SOURCE_LENGTH]
    assert tensors["decode_step"]["outputs"]["logits"]["shape"][0] == NUM_BEAMS


def test_a_constant_zero_start_state_is_left_to_the_runtime():
    """The Transformer's self-attention caches start as zeros on the device, not in the file;
    an RNN's first h/c depend on the source, so `encode` gives them."""
    _, out, _ = exported("transformer")
    tensors = read_manifest(out)["tensors"]["float32"]
    assert set(tensors["encode"]["outputs"]) == {"cross_attention_cache", "source_padding_mask"}
    cache = tensors["decode_step"]["inputs"]["self_attention_cache"]["shape"]
    assert cache[0] == NUM_BEAMS and cache[2] == TARGET_LENGTH
    signatures = translation_signatures(tiny_model("rnn"), SOURCE_LENGTH, TARGET_LENGTH, 2)
    outputs = signatures[1].fn(np.ones((1, SOURCE_LENGTH), np.int32))
    assert {"h", "c"} <= set(outputs) and "self_attention_cache" not in outputs


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_encode_and_decode_step_equal_the_keras_model(architecture):
    model, out, _ = exported(architecture)
    translator = Translator(out)
    rng = np.random.default_rng(3)
    for length in (1, 4, SOURCE_LENGTH):
        source = rng.integers(4, 40, length).tolist()
        padded = np.zeros((1, SOURCE_LENGTH), np.int32)
        padded[0, :length] = source
        encoder, decoder = translator.encode(source)
        keras_encoder = model.encode(np.repeat(padded, NUM_BEAMS, axis=0))
        keras_decoder = model.start_decoding(keras_encoder, TARGET_LENGTH)
        for name, value in keras_encoder.items():
            if name in encoder:
                np.testing.assert_allclose(encoder[name], ops.convert_to_numpy(value), atol=1e-5)
        tokens = np.full((NUM_BEAMS,), 2, np.int32)  # bos
        for position in range(TARGET_LENGTH):
            logits, decoder = translator.step(encoder, decoder, tokens, position)
            keras_logits, keras_decoder = model.decode_step(
                keras_encoder, keras_decoder, tokens, np.int32(position)
            )
            np.testing.assert_allclose(logits, ops.convert_to_numpy(keras_logits), atol=1e-4)
            for name, value in keras_decoder.items():
                np.testing.assert_allclose(decoder[name], ops.convert_to_numpy(value), atol=1e-4)
            tokens = rng.integers(4, 48, NUM_BEAMS).astype(np.int32)  # a different token a row


@pytest.mark.large
def test_dynamic_int8_stays_close_to_float32():
    model, out, report = exported("transformer", ("float32", "dynamic_int8"))
    variant = report["variants"]["dynamic_int8"]
    assert variant["flex_ops"] == [] and variant["clients"]["compiled_model"]["error"] is None
    assert variant["top1_agreement"] >= 0.9
    source = [5, 9, 12, 30]
    assert Translator(out, variant="dynamic_int8").translate_ids(source, beam=1) == Translator(
        out
    ).translate_ids(source, beam=1)


@pytest.mark.large  # a process of its own, TensorFlow's start and an export: ~20-40 s
def test_nlpkit_export_on_a_translation_folder(tmp_path):
    """`nlpkit export DIR` on a training folder: translation.json and the .spm files go along."""
    source_spm, target_spm = sentence_piece_models()
    model = tiny_model("transformer")
    model.save(tmp_path / "model.keras")
    (tmp_path / "source.spm").write_bytes(source_spm)
    (tmp_path / "target.spm").write_bytes(target_spm)
    settings = {**SETTINGS, "architecture": "transformer"}
    (tmp_path / "translation.json").write_text(json.dumps(settings))
    out = tmp_path / "export"
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", "export", str(tmp_path), "--out", str(out)]
        + ["--quantize", "float32", "--num-beams", "2"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    translator = Translator(tmp_path)  # the training folder holds its export as export/
    assert translator.num_beams == 2 and translator.source_length == SOURCE_LENGTH
    assert isinstance(translator.translate("a man runs", beam=2), str)
    assert read_manifest(out)["settings"]["architecture"] == "transformer"


def test_a_plain_export_of_a_transformer_translator_serves_the_signatures():
    names = [s.name for s in translator_signatures(tiny_model("transformer"))]
    assert names == ["serving_default", "encode", "decode_step"]


def test_bad_arguments_are_named(tmp_path):
    model = tiny_model("transformer")
    with pytest.raises(ValueError, match="num_beams"):
        translation_signatures(model, SOURCE_LENGTH, TARGET_LENGTH, num_beams=0)
    with pytest.raises(ValueError, match="source_length"):
        translation_signatures(model, "10", TARGET_LENGTH)
    source_spm, target_spm = sentence_piece_models()
    with pytest.raises(ValueError, match="eos_id"):
        export_translation(model, tmp_path / "x", {"pad_id": 0}, source_spm, target_spm)
    with pytest.raises(ValueError, match="source_spm"):
        export_translation(model, tmp_path / "x", SETTINGS, b"not a model", target_spm)
    with pytest.raises(ValueError, match="max_source_length"):
        translator_signatures(tiny_model("rnn"))

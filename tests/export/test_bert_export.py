"""A fine-tuned BERT classifier through the export tool: builtin ops only, parity with Keras."""

import keras
import numpy as np

from keras_nlpkit.export import export
from keras_nlpkit.models import BertBackbone
from keras_nlpkit.models import BertClassifier
from keras_nlpkit.ondevice import OnDeviceModel


def packed_pairs(count, length, vocabulary_size, seed):
    """Sentence pairs packed as [CLS] A [SEP] B [SEP] + padding; label: is A's first id even."""
    rng = np.random.default_rng(seed)
    token_ids = np.zeros((count, length), "int32")
    segment_ids = np.zeros((count, length), "int32")
    for row in range(count):
        a, b = rng.integers(2, length // 2 - 1, 2)
        ids = [1, *rng.integers(5, vocabulary_size, a), 2, *rng.integers(5, vocabulary_size, b), 2]
        token_ids[row, : len(ids)] = ids
        segment_ids[row, a + 2 : len(ids)] = 1
    inputs = {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": (token_ids != 0).astype("int32"),
    }
    return inputs, (token_ids[:, 1] % 2).astype("int32")


def test_fine_tuned_bert_classifier_exports_builtin_only_with_parity(tmp_path):
    backbone = BertBackbone(
        vocabulary_size=300,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=32,
    )
    model = BertClassifier(backbone, num_classes=2)
    x, y = packed_pairs(256, 24, 300, seed=0)
    model.compile(
        keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)

    held_out, _ = packed_pairs(40, 24, 300, seed=1)
    np.savez(tmp_path / "samples.npz", **held_out)
    report = export(
        model,
        tmp_path / "bert",
        quantize=["float32", "dynamic_int8", "int8"],
        representative_data=tmp_path / "samples.npz",
        log=lambda *_: None,
    )
    assert report["signatures"] == ["serving_default"]
    for label, variant in report["variants"].items():
        assert variant["flex_ops"] == [] and variant["custom_ops"] == [], label
        assert not {"ERF", "EINSUM", "WHILE"} & set(variant["ops"]), label
    assert report["saved_model"]["max_abs_diff"] <= 1e-5
    float32 = report["variants"]["float32"]
    assert float32["max_abs_diff"] <= 1e-4 and float32["top1_agreement"] == 1.0
    assert report["variants"]["dynamic_int8"]["top1_agreement"] >= 0.9
    assert report["variants"]["int8"]["top1_agreement"] >= 0.8

    # The on-device runtime on padded inputs equals Keras on the same padded inputs.
    device = OnDeviceModel(tmp_path / "bert", variant="float32")
    sample = {k: v[3:4] for k, v in held_out.items()}
    np.testing.assert_allclose(device.serve(**sample)["logits"], model(sample), atol=1e-4)

"""Small trained models and their exports, shared by the export tests (built once)."""

import keras
import numpy as np
import pytest

from keras_nlpkit.export import export
from keras_nlpkit.layers import GRU
from keras_nlpkit.layers import LSTM
from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM
from keras_nlpkit.tokenizers import CharacterTokenizer

# Text made here: sentences from a small grammar, with a held-out part for calibration.
WORDS = ("cat", "dog", "bird", "fox", "owl")
VERBS = ("sees", "likes", "chases", "finds")
PLACES = ("sun", "tree", "house", "river", "hill")
SENTENCES = [
    f"the {a} {v} the {p} and the {b}."
    for a in WORDS
    for v in VERBS
    for p in PLACES
    for b in WORDS
    if a != b
]
TOKENIZER = CharacterTokenizer(["<unk>"] + sorted(set("".join(SENTENCES))))


def training_windows(length=32):
    rng = np.random.default_rng(0)
    text = " ".join(rng.permutation(SENTENCES)[:300])
    ids = np.asarray(TOKENIZER.encode(text), np.int32)
    count = (len(ids) - 1) // length
    return ids[: count * length].reshape(count, length), ids[1 : count * length + 1].reshape(
        count, length
    )


def train(model, epochs):
    x, y = training_windows()
    model.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(x, y, batch_size=16, epochs=epochs, verbose=0)
    return model


def recurrent_lm(layer):
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(TOKENIZER.vocabulary_size, 16, name="embedding")(token_ids)
    x = layer(x)
    logits = keras.layers.Dense(TOKENIZER.vocabulary_size, name="logits")(x)
    return keras.Model(token_ids, logits)


@pytest.fixture(scope="session")
def representative_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "held_out.txt"
    path.write_text("\n".join(SENTENCES[-150:]), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def lstm_lm():
    keras.utils.set_random_seed(1)
    return train(recurrent_lm(LSTM(48, return_sequences=True, name="lstm")), epochs=4)


@pytest.fixture(scope="session")
def lstm_export(lstm_lm, representative_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("lstm") / "export"
    report = export(
        lstm_lm,
        out,
        representative_data=representative_file,
        tokenizer=TOKENIZER,
        log=lambda *_: None,
    )
    return out, report


@pytest.fixture(scope="session")
def gpt_lm():
    keras.utils.set_random_seed(2)
    backbone = GPTBackbone(
        TOKENIZER.vocabulary_size,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=64,
    )
    return train(GPTCausalLM(backbone), epochs=3)


@pytest.fixture(scope="session")
def gpt_export(gpt_lm, representative_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("gpt") / "export"
    report = export(
        gpt_lm,
        out,
        quantize=["float32", "dynamic_int8", "int8"],
        representative_data=representative_file,
        tokenizer=TOKENIZER,
        log=lambda *_: None,
    )
    return out, report


@pytest.fixture(scope="session")
def gru_lm():
    keras.utils.set_random_seed(3)
    return train(recurrent_lm(GRU(32, return_sequences=True, name="gru")), epochs=2)

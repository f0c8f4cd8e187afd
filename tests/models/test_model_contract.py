"""Every backbone and task model through `run_model_test` (see tests/layer_test_case.py)."""

import numpy as np
import pytest

from keras_nlpkit.models import BertBackbone
from keras_nlpkit.models import BertClassifier
from keras_nlpkit.models import BertPretrainer
from keras_nlpkit.models import BertQuestionAnswerer
from keras_nlpkit.models import BertTokenClassifier
from keras_nlpkit.models import FeedForwardLM
from keras_nlpkit.models import GPTBackbone
from keras_nlpkit.models import GPTCausalLM
from keras_nlpkit.models import LSTMClassifier
from keras_nlpkit.models import RNNTranslator
from keras_nlpkit.models import TransformerTranslator
from tests.layer_test_case import run_model_test

VOCABULARY = 60
BERT = dict(
    vocabulary_size=VOCABULARY,
    num_layers=1,
    num_heads=2,
    hidden_dim=16,
    intermediate_dim=32,
    max_sequence_length=10,
)
GPT = dict(
    vocabulary_size=VOCABULARY,
    num_layers=1,
    num_heads=2,
    hidden_dim=16,
    intermediate_dim=32,
    max_sequence_length=10,
)
# Two rows of 8: [CLS] A [SEP] B [SEP], then padding (the second row shorter).
PADDING_MASK = np.array([[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 0, 0, 0]], "int32")
SEGMENT_IDS = np.array([[0, 0, 0, 1, 1, 1, 1, 0], [0, 0, 0, 1, 1, 0, 0, 0]], "int32")
# GPT: a left-padded row too, where the causal mask alone would not hide the padding.
GPT_PADDING_MASK = np.array([[1, 1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1, 1, 1]], "int32")


def _token_ids(padding_mask, pad_id):
    ids = np.random.default_rng(3).integers(5, VOCABULARY, padding_mask.shape)
    return np.where(padding_mask == 1, ids, pad_id).astype("int32")


def _bert(task):
    def make(dtype):
        backbone = BertBackbone(**BERT, dtype=dtype)
        return {
            "backbone": lambda: backbone,
            "classifier": lambda: BertClassifier(backbone, num_classes=3),
            "token_classifier": lambda: BertTokenClassifier(backbone, num_classes=4),
            "question_answerer": lambda: BertQuestionAnswerer(backbone),
            "pretrainer": lambda: BertPretrainer(backbone),
        }[task]()

    def inputs(pad_id):
        x = {
            "token_ids": _token_ids(PADDING_MASK, pad_id),
            "segment_ids": SEGMENT_IDS,
            "padding_mask": PADDING_MASK,
        }
        if task == "pretrainer":
            x["mask_positions"] = np.array([[1, 4], [2, 3]], "int32")
        return x

    return make, inputs, None, PADDING_MASK


def _gpt(task):
    def make(dtype):
        backbone = GPTBackbone(**GPT, dtype=dtype)
        return backbone if task == "backbone" else GPTCausalLM(backbone)

    def inputs(pad_id):
        return {"token_ids": _token_ids(GPT_PADDING_MASK, pad_id), "padding_mask": GPT_PADDING_MASK}

    def call(model, x):
        if isinstance(model, GPTCausalLM):
            return model(x["token_ids"], padding_mask=x["padding_mask"])
        return model(x)

    return make, inputs, call, GPT_PADDING_MASK


def _feed_forward_lm():
    def make(dtype):
        return FeedForwardLM(
            VOCABULARY,
            context_size=4,
            embedding_dim=8,
            hidden_dim=16,
            direct_connections=True,
            dropout=0.1,
            dtype=dtype,
        )

    # No padding to mask: id 0 in a context is the start, a word the model reads.
    context = np.random.default_rng(3).integers(0, VOCABULARY, (2, 4)).astype("int32")
    return make, lambda pad_id: context, None, np.ones((2, 4), "int32")


# RNNTranslator: source padding is id 0 by definition (the encoder mask is read from
# it), so the padded variant changes the target's padding only, which the causal
# decoder never reads at a real position; test_rnn_translator.py checks the source.
RNN_SOURCE_PADDING_MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], "int32")


def _rnn_translator():
    def make(dtype):
        return RNNTranslator(VOCABULARY, VOCABULARY, embedding_dim=8, hidden_dim=16, dtype=dtype)

    def inputs(pad_id):
        return {
            "source_ids": _token_ids(RNN_SOURCE_PADDING_MASK, 0),
            "target_ids": _token_ids(PADDING_MASK, pad_id),
        }

    return make, inputs, None, PADDING_MASK


# TransformerTranslator: id 0 is padding on both sides. The padded variant has other ids
# in the target's padding (the causal decoder never reads them at a real position) and
# two more columns of source padding (masked in every attention).
def _transformer_translator():
    def make(dtype):
        return TransformerTranslator(
            VOCABULARY,
            VOCABULARY,
            max_source_length=10,
            max_target_length=10,
            hidden_dim=16,
            num_encoder_layers=1,
            num_decoder_layers=1,
            num_heads=2,
            intermediate_dim=32,
            dtype=dtype,
        )

    def inputs(pad_id):
        source = _token_ids(RNN_SOURCE_PADDING_MASK, 0)
        if pad_id:
            source = np.pad(source, ((0, 0), (0, 2)))
        return {"source_ids": source, "target_ids": _token_ids(PADDING_MASK, pad_id)}

    return make, inputs, None, PADDING_MASK


# LSTMClassifier (distillation's student): padding is `padding_mask`, not an id (its id 0
# is WordTokenizer's unknown word), so the padded variant puts other ids under the mask.
def _lstm_classifier(bidirectional):
    def make(dtype):
        return LSTMClassifier(
            VOCABULARY, 8, 6, 3, bidirectional=bidirectional, dropout=0.1, dtype=dtype
        )

    def inputs(pad_id):
        return {"token_ids": _token_ids(PADDING_MASK, pad_id), "padding_mask": PADDING_MASK}

    return make, inputs, None, PADDING_MASK


CASES = {
    "BertBackbone": lambda: _bert("backbone"),
    "BertClassifier": lambda: _bert("classifier"),
    "BertTokenClassifier": lambda: _bert("token_classifier"),
    "BertQuestionAnswerer": lambda: _bert("question_answerer"),
    "BertPretrainer": lambda: _bert("pretrainer"),
    "GPTBackbone": lambda: _gpt("backbone"),
    "GPTCausalLM": lambda: _gpt("causal_lm"),
    "FeedForwardLM": _feed_forward_lm,
    "RNNTranslator": _rnn_translator,
    "TransformerTranslator": _transformer_translator,
    "LSTMClassifier": lambda: _lstm_classifier(True),
    "LSTMClassifier-forward": lambda: _lstm_classifier(False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_model_config_save_load_masks_and_mixed_precision(name, tmp_path):
    make, inputs, call, padding_mask = CASES[name]()
    kwargs = {"call": call} if call else {}
    run_model_test(make, inputs(0), inputs(1), padding_mask == 1, tmp_path, **kwargs)

"""`BertPreprocessor`: BERT's input pipeline, `[CLS] A [SEP] B [SEP]` packing and masked-LM masking.

Tokenizing, packing and masking are keras-hub's (`WordPieceTokenizer`,
`MultiSegmentPacker`, `MaskedLMMaskGenerator`, on tensorflow-text); what this
module adds is the glue BERT needs around them: one object that knows the special
ids, checks a vocabulary against a backbone, and saves and loads itself. The
vocabulary is learnt by `keras_nlpkit.tokenizers.learn_word_piece_vocabulary`
(with `SPECIAL_TOKENS`), the next-sentence pairs made by
`keras_nlpkit.text.documents.next_sentence_pairs`.
"""

import json
from pathlib import Path

import keras_hub
import numpy as np
import tensorflow as tf

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text

PAD, CLS, SEP, UNK, MASK = "[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"
SPECIAL_TOKENS = [PAD, CLS, SEP, UNK, MASK]  # ids 0..4 in a vocabulary trained here


@nlpkit_export("keras_nlpkit.models.BertPreprocessor")
class BertPreprocessor:
    """Strings → BERT's `token_ids`, `segment_ids`, `padding_mask`, and masked-LM inputs.

    WordPiece tokenization (keras-hub's `WordPieceTokenizer`) and packing of one or
    two segments into `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`, truncated round
    robin and padded with `[PAD]` (id 0) to `sequence_length` (keras-hub's
    `MultiSegmentPacker`). Call it inside `tf.data` (the ops are TensorFlow's).

    Args:
        vocabulary: a list of tokens or the path of a file with one token a line;
            must hold `[PAD]` (first), `[CLS]`, `[SEP]`, `[UNK]`, `[MASK]`.
        sequence_length: positive int, the packed length.
        lowercase: lower-case the text first (must match the vocabulary's training).

    Call arguments:
        first: a string tensor `(batch,)`, the first segment.
        second: optional `(batch,)`, the second segment.

    Returns:
        `{"token_ids", "segment_ids", "padding_mask"}`, int32 `(batch, sequence_length)`.

    Example:
    ```python
    import keras_nlpkit

    vocabulary = keras_nlpkit.models.bert.bert_preprocessor.SPECIAL_TOKENS + [
        "the", "cat", "sat", "on", "mat", "it", "slept", "."]
    preprocessor = keras_nlpkit.models.BertPreprocessor(vocabulary, sequence_length=16)
    x = preprocessor(["The cat sat on the mat."], ["It slept."])
    # token_ids    [[1, 5, 6, 7, 8, 5, 9, 12, 2, 10, 11, 12, 2, 0, 0, 0]]
    # segment_ids  [[0, 0, 0, 0, 0, 0, 0, 0,  0, 1,  1,  1,  1, 0, 0, 0]]
    # padding_mask [[1, 1, 1, 1, 1, 1, 1, 1,  1, 1,  1,  1,  1, 0, 0, 0]]
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, vocabulary, sequence_length, lowercase=True):

        check_positive_int("sequence_length", sequence_length)
        if isinstance(vocabulary, (str, Path)):
            vocabulary = Path(vocabulary).read_text(encoding="utf-8").splitlines()
        vocabulary = list(vocabulary)
        missing = [t for t in SPECIAL_TOKENS if t not in vocabulary]
        if missing or vocabulary[:1] != [PAD]:
            raise ValueError(
                f"`vocabulary` must start with {PAD} and hold {SPECIAL_TOKENS}; missing "
                f"{missing}. Received: vocabulary starting {vocabulary[:5]}"
            )
        self.vocabulary = vocabulary
        self.sequence_length = sequence_length
        self.lowercase = lowercase
        self.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=vocabulary,
            lowercase=lowercase,
            strip_accents=lowercase,
            oov_token=UNK,
            dtype="int32",
        )
        ids = {token: vocabulary.index(token) for token in SPECIAL_TOKENS}
        self.pad_id, self.cls_id, self.sep_id = ids[PAD], ids[CLS], ids[SEP]
        self.unk_id, self.mask_id = ids[UNK], ids[MASK]
        self.packer = keras_hub.layers.MultiSegmentPacker(
            sequence_length,
            start_value=self.cls_id,
            end_value=self.sep_id,
            pad_value=self.pad_id,
        )

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    @property
    def special_token_ids(self):
        return [self.pad_id, self.cls_id, self.sep_id]

    def tokenize(self, texts):
        """WordPiece ids of each string: a ragged `(batch, None)` int32 tensor."""
        return self.tokenizer(texts)

    def pack(self, first_ids, second_ids=None):
        """Packs token ids (ragged `(batch, None)`) of one or two segments."""
        segments = (first_ids,) if second_ids is None else (first_ids, second_ids)
        token_ids, segment_ids = self.packer(segments)
        return {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": _cast_int32(token_ids != self.pad_id),
        }

    def __call__(self, first, second=None):
        first_ids = self.tokenize(first)
        second_ids = None if second is None else self.tokenize(second)
        return self.pack(first_ids, second_ids)

    def mask_generator(
        self, selection_rate=0.15, max_selections=None, mask_token_rate=0.8, random_token_rate=0.1
    ):
        """keras-hub's `MaskedLMMaskGenerator` for this vocabulary.

        Chooses `selection_rate` of the non-special tokens ([PAD], [CLS], [SEP] are
        never chosen); of those, `mask_token_rate` become [MASK], `random_token_rate`
        a random token, and the rest stay. At most `max_selections` per sequence
        (default: 15% of `sequence_length`, rounded up, plus one).
        """
        if max_selections is None:
            max_selections = int(np.ceil(selection_rate * self.sequence_length)) + 1
        return keras_hub.layers.MaskedLMMaskGenerator(
            vocabulary_size=self.vocabulary_size,
            mask_selection_rate=selection_rate,
            mask_token_id=self.mask_id,
            mask_selection_length=max_selections,
            unselectable_token_ids=self.special_token_ids,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
        )

    def masked_lm_inputs(self, features, generator):
        """Packed features → (inputs with `mask_positions`, original ids, weights)."""
        masked = generator(features["token_ids"])
        inputs = dict(
            features,
            token_ids=_cast_int32(masked["token_ids"]),
            mask_positions=_cast_int32(masked["mask_positions"]),
        )
        return inputs, _cast_int32(masked["mask_ids"]), masked["mask_weights"]

    def word_mask(self, token_ids):
        """`True` for real, non-special tokens (what a token classifier is scored on)."""
        keep = token_ids != self.pad_id
        for special in (self.cls_id, self.sep_id):
            keep = keep & (token_ids != special)
        return keep

    def check_backbone(self, backbone):
        """Raises a `ValueError` when the vocabulary does not fit `backbone`'s embedding."""
        if backbone.vocabulary_size != self.vocabulary_size:
            raise ValueError(
                "The tokenizer's vocabulary and the checkpoint's token embedding differ in "
                f"size: the backbone has vocabulary_size={backbone.vocabulary_size}. "
                f"Received: a vocabulary of {self.vocabulary_size} tokens"
            )
        if backbone.max_sequence_length < self.sequence_length:
            raise ValueError(
                f"The backbone holds {backbone.max_sequence_length} positions "
                f"(max_sequence_length). Received: sequence_length={self.sequence_length}"
            )

    def get_config(self):
        return {
            "vocabulary": self.vocabulary,
            "sequence_length": self.sequence_length,
            "lowercase": self.lowercase,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, directory):
        """Writes `vocabulary.txt` and `preprocessor.json` to `directory`."""
        directory = Path(directory)
        atomic_write_text(directory / "vocabulary.txt", "\n".join(self.vocabulary) + "\n")
        atomic_write_json(
            directory / "preprocessor.json",
            {"sequence_length": self.sequence_length, "lowercase": self.lowercase},
        )

    @classmethod
    def load(cls, directory, sequence_length=None):
        directory = Path(directory)
        config = json.loads((directory / "preprocessor.json").read_text())
        return cls(
            directory / "vocabulary.txt",
            sequence_length or config["sequence_length"],
            config["lowercase"],
        )


def _cast_int32(x):
    return tf.cast(x, tf.int32)

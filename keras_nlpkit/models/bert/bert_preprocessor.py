"""BERT's input pipeline: a WordPiece vocabulary, `[CLS] A [SEP] B [SEP]` packing,
masked-LM masking and next-sentence pairs.

Training the vocabulary, tokenizing, packing and masking are keras-hub's
(`compute_word_piece_vocabulary`, `WordPieceTokenizer`, `MultiSegmentPacker`,
`MaskedLMMaskGenerator`, on tensorflow-text); what this module adds is the glue
BERT needs around them: one object that knows the special ids, checks a
vocabulary against a backbone, saves and loads itself, and builds the
next-sentence-prediction pairs (`next_sentence_pairs`, ours).
"""

import json
import re
from pathlib import Path

import numpy as np

from keras_nlpkit.api_export import nlpkit_export

PAD, CLS, SEP, UNK, MASK = "[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"
SPECIAL_TOKENS = [PAD, CLS, SEP, UNK, MASK]  # ids 0..4 in a vocabulary trained here

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'`(\[]*[A-Z0-9])")


def train_word_piece_vocabulary(texts, vocabulary_size, lowercase=True):
    """A WordPiece vocabulary (list of tokens, specials first) learnt from `texts`.

    Args:
        texts: an iterable of strings (lines of text).
        vocabulary_size: positive int, the most tokens kept (specials included).
        lowercase: lower-case (and strip accents from) the text first, as in
            BERT's uncased models.

    Returns:
        The vocabulary: `[PAD] [CLS] [SEP] [UNK] [MASK]`, then the learnt pieces.
    """
    import keras_hub
    import tensorflow as tf

    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("`texts` holds no non-empty line to learn a vocabulary from. "
                         "Received: texts=[]")
    data = tf.data.Dataset.from_tensor_slices(texts).batch(1024)
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        data,
        vocabulary_size,
        lowercase=lowercase,
        strip_accents=lowercase,
        reserved_tokens=SPECIAL_TOKENS,
    )


def split_sentences(line):
    """The sentences of a line of prose: split after `.`, `!` or `?` before a capital."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(line)) if s]


def next_sentence_pairs(documents, seed=0, random_fraction=0.5, sources=None):
    """Sentence pairs for next-sentence prediction (ours; keras-hub has none).

    Every sentence that has a successor in its document gives one pair: with
    probability `1 - random_fraction` its true successor (label 1), otherwise a
    sentence drawn uniformly from another document of the same source when there
    is one, else from its own source (label 0); never the true successor.

    Drawing negatives from the same source matters when a corpus mixes styles (news
    and fiction, say): a negative from the other corpus is told apart by its style
    alone, and NSP accuracy then measures that instead of coherence.

    Args:
        documents: a list of documents, each a list of sentences (strings) in order.
        seed: seed of the draws.
        random_fraction: the share of random second sentences.
        sources: optional, a source id (e.g. the file's index) per document; by
            default all documents share one source.

    Returns:
        `(first, second, is_next)`: two lists of strings and an int array of labels.
    """
    rng = np.random.default_rng(seed)
    sources = np.zeros(len(documents), np.int64) if sources is None else np.asarray(sources)
    if len(sources) != len(documents):
        raise ValueError(f"`sources` needs one id per document ({len(documents)}). "
                         f"Received: {len(sources)}")
    sentences = [s for doc in documents for s in doc]
    owner = np.repeat(np.arange(len(documents)), [len(d) for d in documents])
    pools = {source: np.flatnonzero(sources[owner] == source) for source in set(sources.tolist())}
    first, second, labels = [], [], []
    index = 0
    for doc_id, doc in enumerate(documents):
        pool = pools[int(sources[doc_id])]
        other_documents = len(pool) > len(doc)
        for i in range(len(doc) - 1):
            first.append(doc[i])
            if rng.random() >= random_fraction:
                second.append(doc[i + 1])
                labels.append(1)
                continue
            true_next = index + i + 1
            while True:
                j = int(pool[rng.integers(len(pool))])
                if j != true_next and (owner[j] != doc_id or not other_documents):
                    break
            second.append(sentences[j])
            labels.append(0)
        index += len(doc)
    return first, second, np.asarray(labels, np.int32)


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
        import keras_hub

        from keras_nlpkit.checks import check_positive_int

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
            vocabulary=vocabulary, lowercase=lowercase, strip_accents=lowercase,
            oov_token=UNK, dtype="int32",
        )
        ids = {token: vocabulary.index(token) for token in SPECIAL_TOKENS}
        self.pad_id, self.cls_id, self.sep_id = ids[PAD], ids[CLS], ids[SEP]
        self.unk_id, self.mask_id = ids[UNK], ids[MASK]
        self.packer = keras_hub.layers.MultiSegmentPacker(
            sequence_length, start_value=self.cls_id, end_value=self.sep_id,
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

    def mask_generator(self, selection_rate=0.15, max_selections=None,
                       mask_token_rate=0.8, random_token_rate=0.1):
        """keras-hub's `MaskedLMMaskGenerator` for this vocabulary.

        Chooses `selection_rate` of the non-special tokens ([PAD], [CLS], [SEP] are
        never chosen); of those, `mask_token_rate` become [MASK], `random_token_rate`
        a random token, and the rest stay. At most `max_selections` per sequence
        (default: 15% of `sequence_length`, rounded up, plus one).
        """
        import keras_hub

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
        inputs = dict(features, token_ids=_cast_int32(masked["token_ids"]),
                      mask_positions=_cast_int32(masked["mask_positions"]))
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
        return {"vocabulary": self.vocabulary, "sequence_length": self.sequence_length,
                "lowercase": self.lowercase}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, directory):
        """Writes `vocabulary.txt` and `preprocessor.json` to `directory`."""
        from keras_nlpkit.io_utils import atomic_write_json
        from keras_nlpkit.io_utils import atomic_write_text

        directory = Path(directory)
        atomic_write_text(directory / "vocabulary.txt", "\n".join(self.vocabulary) + "\n")
        atomic_write_json(directory / "preprocessor.json",
                          {"sequence_length": self.sequence_length, "lowercase": self.lowercase})

    @classmethod
    def load(cls, directory, sequence_length=None):
        directory = Path(directory)
        config = json.loads((directory / "preprocessor.json").read_text())
        return cls(directory / "vocabulary.txt",
                   sequence_length or config["sequence_length"], config["lowercase"])


def _cast_int32(x):
    import tensorflow as tf

    return tf.cast(x, tf.int32)

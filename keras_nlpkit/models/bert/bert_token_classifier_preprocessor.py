"""`BertTokenClassifierPreprocessor`: sentences of words → BERT windows labelled on first pieces."""

from typing import NamedTuple

import numpy as np
import tensorflow as tf

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.bert.bert_preprocessor import BertPreprocessor

TOKENIZE_BATCH = 8192  # words handed to the TensorFlow tokenizer at once


class Windows(NamedTuple):
    """What `BertTokenClassifierPreprocessor.encode` returns.

    `inputs`: `{"token_ids", "segment_ids", "padding_mask"}`, int32 `(windows,
    sequence_length)`; `labels` int32 and `sample_weight` float32 of the same shape
    (the tag id and 1 at each word's first piece, 0 elsewhere); `lengths` the real
    length of each window ([CLS] and [SEP] included); `words[w]` the `(sentence,
    word)` of each labelled position of window `w`, in order, and `first_pieces[w]`
    those positions.
    """

    inputs: dict
    labels: np.ndarray
    sample_weight: np.ndarray
    lengths: np.ndarray
    words: list
    first_pieces: list


def _fill(counts, caps):
    """Consecutive ranges, each taking words while its pieces stay within `caps(...)`."""
    ranges, start, remaining = [], 0, sum(counts)
    while start < len(counts) or not ranges:
        cap = caps(remaining, len(ranges))
        end, filled = start, 0
        while end < len(counts) and (end == start or filled + counts[end] <= cap):
            filled += counts[end]
            end += 1
        ranges.append((start, end))
        remaining -= filled
        start = end
    return ranges


def split_words(piece_counts, limit):
    """`[(start, end), ...]`: consecutive word ranges of at most `limit` pieces each.

    One range when the sentence fits; otherwise as few ranges as fit, of about equal
    size: each is filled up to its share of the pieces left (a long sentence cut in
    two gives each half the same context, not a full window and a stub), or, where
    shares would need one range more, up to the smallest cap that needs none. A
    word longer than `limit` counts as `limit` (the encoder keeps its first `limit`
    pieces).

    `split_words([1] * 10, 4)` → `[(0, 4), (4, 7), (7, 10)]`.
    """
    counts = [min(c, limit) for c in piece_counts]
    fewest = len(_fill(counts, lambda remaining, done: limit))
    shares = _fill(
        counts, lambda remaining, done: min(limit, -(-remaining // max(fewest - done, 1)))
    )
    if len(shares) == fewest:
        return shares
    for cap in range(-(-sum(counts) // fewest), limit + 1):
        capped = _fill(counts, lambda remaining, done, cap=cap: cap)
        if len(capped) == fewest:
            return capped
    raise AssertionError("unreachable: the cap `limit` gives `fewest` ranges")


@nlpkit_export("keras_nlpkit.models.BertTokenClassifierPreprocessor")
class BertTokenClassifierPreprocessor(BertPreprocessor):
    """Sentences of words → `BertTokenClassifier` inputs with first-piece labels.

    Tagged data comes as words, BERT reads WordPieces: each word is tokenized alone
    (`BertPreprocessor`'s WordPiece tokenizer; a word with no piece, e.g. a control
    character, becomes [UNK]) and its tag goes on its first piece only. The other
    pieces, [CLS], [SEP] and padding get sample weight 0, so the loss and the
    prediction are one per word (Devlin et al.'s choice for CoNLL-2003), and a
    word's predicted tag is read at its first piece. A sentence longer than
    `sequence_length - 2` pieces is cut at word boundaries into windows of about
    equal size (`split_words`), each packed `[CLS] pieces [SEP]`: every word is in
    exactly one window, so every word is labelled and predicted (a word alone
    longer than a window keeps its first pieces). Pure Python and NumPy after the
    tokenizer, so an app computes the same ids before it runs the exported tagger.

    Args:
        vocabulary, sequence_length, lowercase: as `BertPreprocessor`.

    Example:
    ```python
    from keras_nlpkit.models import BertTokenClassifierPreprocessor
    from keras_nlpkit.models.bert.bert_preprocessor import SPECIAL_TOKENS

    vocabulary = SPECIAL_TOKENS + ["in", "paris", "new", "york", "##er", "##s"]
    preprocessor = BertTokenClassifierPreprocessor(vocabulary, sequence_length=8)
    windows = preprocessor.encode([["New", "Yorkers", "in", "Paris"]], [[1, 2, 0, 3]])
    windows.inputs["token_ids"].tolist()  # [[1, 7, 8, 9, 10, 5, 6, 2]]
    windows.labels.tolist()  # [[0, 1, 2, 0, 0, 0, 3, 0]]
    windows.sample_weight.tolist()  # [[0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]]
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), section 5.3
    """

    def word_pieces(self, sentences):
        """The WordPiece ids of each word: `[[[id, ...] a word] a sentence]`."""
        words = [word for sentence in sentences for word in sentence]
        pieces = []
        for start in range(0, len(words), TOKENIZE_BATCH):
            ids = self.tokenize(tf.constant(words[start : start + TOKENIZE_BATCH]))
            pieces += ids.to_list() if isinstance(ids, tf.RaggedTensor) else list(ids)
        pieces = [ids or [self.unk_id] for ids in pieces]
        result, start = [], 0
        for sentence in sentences:
            result.append(pieces[start : start + len(sentence)])
            start += len(sentence)
        return result

    def encode(self, sentences, tag_ids=None):
        """`Windows` of `sentences` (lists of words), labelled with `tag_ids` if given.

        `tag_ids`: one list of int tag ids a sentence, one a word (labels are 0 and
        unweighted without them).
        """
        limit = self.sequence_length - 2
        rows, words, first_pieces = [], [], []
        for number, pieces in enumerate(self.word_pieces(sentences)):
            for start, end in split_words([len(p) for p in pieces], limit):
                ids, owners, firsts = [self.cls_id], [], []
                for word in range(start, end):
                    firsts.append(len(ids))
                    owners.append((number, word))
                    ids += pieces[word][:limit]
                rows.append(ids + [self.sep_id])
                words.append(owners)
                first_pieces.append(firsts)
        shape = (len(rows), self.sequence_length)
        token_ids = np.full(shape, self.pad_id, np.int32)
        labels = np.zeros(shape, np.int32)
        sample_weight = np.zeros(shape, np.float32)
        lengths = np.array([len(ids) for ids in rows], np.int32)
        for row, ids in enumerate(rows):
            token_ids[row, : len(ids)] = ids
            positions = first_pieces[row]
            sample_weight[row, positions] = 1.0
            if tag_ids is not None:
                labels[row, positions] = [tag_ids[s][w] for s, w in words[row]]
        inputs = {
            "token_ids": token_ids,
            "segment_ids": np.zeros(shape, np.int32),
            "padding_mask": (np.arange(shape[1]) < lengths[:, None]).astype(np.int32),
        }
        return Windows(inputs, labels, sample_weight, lengths, words, first_pieces)

    @staticmethod
    def word_tag_ids(windows, logits, sentence_lengths):
        """Each word's tag id: the argmax of `logits` `(windows, seq, tags)` at its first
        piece (rows may be cut shorter than `sequence_length`, or be a list of
        unpadded rows). Returns one int array a sentence."""
        result = [np.zeros(n, np.int64) for n in sentence_lengths]
        for row, (owners, positions) in enumerate(zip(windows.words, windows.first_pieces)):
            best = np.asarray(logits[row])[positions].argmax(-1)
            for (sentence, word), tag in zip(owners, best):
                result[sentence][word] = tag
        return result

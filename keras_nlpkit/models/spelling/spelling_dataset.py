"""The spelling model's data: its character ids, and (misspelling, word) pairs as tf.data.

The ids are part of the exported model's contract (the corrector on the device
reads `pad_id`, `start_id` and `end_id` from the export's settings).
"""

import random

import numpy as np
import tensorflow as tf

from keras_nlpkit.text.misspellings import LETTERS

# The character vocabulary. CharacterTokenizer keeps id 0 for unknown characters;
# padding, start and end of word are control characters no word contains.
PAD, START, END = "\x00", "\x02", "\x03"
VOCABULARY = ["<unk>", PAD, START, END, *LETTERS]
PAD_ID, START_ID, END_ID = 1, 2, 3
CHAR_ID = {c: i for i, c in enumerate(VOCABULARY) if i > 0}


def encode_word(word):
    """The ids of a word's characters (0 for a character outside the vocabulary)."""
    return [CHAR_ID.get(c, 0) for c in word]


def make_arrays(pairs, max_length):
    """Padded int32 arrays: chars (n, T), decoder inputs and targets (n, T + 1)."""
    n = len(pairs)
    chars = np.full((n, max_length), PAD_ID, np.int32)
    decoder_inputs = np.full((n, max_length + 1), PAD_ID, np.int32)
    targets = np.full((n, max_length + 1), PAD_ID, np.int32)
    for row, (wrong, right) in enumerate(pairs):
        w, r = encode_word(wrong), encode_word(right)
        chars[row, : len(w)] = w
        decoder_inputs[row, : len(r) + 1] = [START_ID] + r
        targets[row, : len(r) + 1] = r + [END_ID]
    return chars, decoder_inputs, targets


def spelling_dataset(pairs, batch_size, max_length, shuffle, seed):
    """tf.data of ({chars, decoder_inputs}, targets), batches of similar lengths.

    Pairs are sorted by length into batches, each cut to its longest word, and the
    batch order is shuffled: far less padding than one global length.
    """
    rng = np.random.default_rng(seed)
    order = np.argsort([len(w) + len(r) + rng.random() for w, r in pairs], kind="stable")
    groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    chars, decoder_inputs, targets = make_arrays(pairs, max_length)

    def generate():
        batch_order = np.arange(len(groups))
        epoch = 0
        while True:
            if shuffle:
                np.random.default_rng(seed + epoch).shuffle(batch_order)
            for b in batch_order:
                rows = groups[b]
                t = max(len(pairs[i][0]) for i in rows)
                u = max(len(pairs[i][1]) for i in rows) + 1
                yield (
                    {"chars": chars[rows, :t], "decoder_inputs": decoder_inputs[rows, :u]},
                    targets[rows, :u],
                )
            epoch += 1
            if not shuffle:
                return

    spec = tf.TensorSpec((None, None), tf.int32)
    data = tf.data.Dataset.from_generator(
        generate, output_signature=({"chars": spec, "decoder_inputs": spec}, spec)
    )
    return data.prefetch(4), len(groups)


def split_pairs(pairs, fraction, seed):
    """(train, held out): the distinct pairs shuffled, `fraction` of them held out."""
    rng = random.Random(seed)
    pairs = list(dict.fromkeys(pairs))  # distinct, order kept
    rng.shuffle(pairs)
    count = max(1, int(len(pairs) * fraction))
    return pairs[count:], pairs[:count]

"""Spelling correction: a character seq2seq with attention, shipped as int8 TFLite.

    nlpkit train spelling --out DIR [--pairs FILE ...] [--preset small] [...]
    nlpkit evaluate spelling --model DIR --pairs FILE      # one JSON object on stdout
    nlpkit correct --model DIR word [word ...]

Training pairs (misspelling → correction) come from three places:

- real misspellings: `codespell`'s dictionary (`codespell_lib/data/dictionary.txt`,
  `wrong->right1, right2,`), read from the installed package;
- synthetic errors over words drawn by frequency from `symspellpy`'s
  `frequency_dictionary_en_82_765.txt`: keyboard-neighbour substitutions,
  deletions, insertions, transpositions, doubled and dropped letters and
  phonetic swaps (`ph`↔`f`, `ie`↔`ei`, `ance`↔`ence`, ...), plus identity pairs
  (a correct word maps to itself), which teach the model to leave good words alone;
- optional `--pairs` files (Norvig's `right: wrong wrong` or `wrong<TAB>right`).

Every pair whose misspelling occurs in an evaluation file (`exclude_pairs`, by
default `spell-testset1.txt` in the shared data) is dropped: 116 of its 270
misspellings are codespell entries, and keeping them would measure memory, not
correction. `metrics.json` records how many were dropped.

The model (`SpellingModel`) reads the misspelling with a bidirectional
`keras_nlpkit.layers.LSTM` encoder (a forward LSTM and one over the reversed
characters) and writes the correction with an LSTM decoder and Luong "general"
`DotProductAttention` over the encoder outputs. The decoder starts from a zero
state and reads, at each step, the previous character next to a summary of the
whole misspelling; so every LSTM runs from a zero state without a mask at batch 1,
which is exactly what TFLite's fused LSTM kernel computes, and the export has no
loop. It exports three signatures (see `SpellingModel.export_signatures`):
`serving_default` (teacher-forced logits, for parity checks), `encode` (once per
word) and `decode_step` (one character for a batch of beams).

On the device (`keras_nlpkit.correction.SpellingCorrector`, TF-free) the lexicon
words within Damerau distance 2 are reranked by
score(w) = log P_model(w | typo) + λ · log P_freq(w) + γ · log P_channel(typo | w),
P_channel being a noisy-channel edit model counted on codespell's real misspellings
(`channel.json`, written at export by `write_decoding_files`, less the evaluation and
held-out misspellings); the top `known_words` of the frequency list are accepted
as correct when typed (`known_words.txt`). When no word is that close, a beam search
restricted to the lexicon trie proposes words.
"""

import dataclasses
import json
import math
import random
import time
from pathlib import Path

import numpy as np

from keras_nlpkit.io_utils import UserInputError
from keras_nlpkit.io_utils import training_callbacks

try:
    from keras_nlpkit.io_utils import TrainingError
except ImportError:  # an io_utils without it
    TrainingError = RuntimeError
from keras_nlpkit.io_utils import atomic_write_json
from keras_nlpkit.io_utils import atomic_write_text
from keras_nlpkit.io_utils import read_text_files

# The character vocabulary. CharacterTokenizer keeps id 0 for unknown characters;
# padding, start and end of word are control characters no word contains.
PAD, START, END = "\x00", "\x02", "\x03"
LETTERS = "'abcdefghijklmnopqrstuvwxyz"
VOCABULARY = ["<unk>", PAD, START, END, *LETTERS]
PAD_ID, START_ID, END_ID = 1, 2, 3
CHAR_ID = {c: i for i, c in enumerate(VOCABULARY) if i > 0}

SHARED_DEV = Path(__file__).resolve().parents[1].parent / "shared/data/spelling/spell-testset1.txt"


@dataclasses.dataclass
class SpellingConfig:
    # Model. The decode step runs once per character for every beam on the phone,
    # so the decoder stays small (~0.1M multiply-adds per beam and character).
    embedding_dim: int = 24
    encoder_units: int = 96  # per direction
    decoder_units: int = 160
    summary_dim: int = 48
    # Data.
    lexicon_size: int = 50_000  # top symspell words (+ codespell corrections)
    # More symspell words the corrector accepts as correctly spelled when typed, and
    # suggests only when no lexicon word is within distance 2 (rare words make poor
    # guesses: they cost 0.8 points of held-out accuracy as ordinary candidates).
    known_words: int = 100_000  # of the frequency list, lexicon included (0: none)
    synthetic_pairs: int = 200_000
    identity_fraction: float = 0.15  # of the synthetic pairs: word → itself
    max_word_length: int = 20
    # Evaluation files whose misspellings must not be trained on ("" for none).
    exclude_pairs: str = str(SHARED_DEV)
    validation_fraction: float = 0.02
    # Training.
    batch_size: int = 128
    steps_per_epoch: int = 100  # an "epoch" is a checkpoint interval
    epochs: int = 24  # 2,400 steps: ~5 min at one thread (the measured run)
    learning_rate: float = 3e-3
    seed: int = 1337
    # Decoding (tuned on the held-out slice of the training pairs).
    beam_width: int = 6
    prior_weight: float = 0.15  # λ (best of 0, .15, .3, .5, .8 on held-out pairs)
    length_penalty: float = 0.0

    @classmethod
    def small(cls):
        """A demo that trains in a few minutes on 2 cores (accuracy well below default)."""
        return cls(encoder_units=64, decoder_units=96, summary_dim=32, embedding_dim=24,
                   synthetic_pairs=40_000, steps_per_epoch=100, epochs=4,
                   lexicon_size=30_000)


PRESETS = {"default": SpellingConfig, "small": SpellingConfig.small}


# --- data ----------------------------------------------------------------------------------
def codespell_dictionary_path():
    import codespell_lib

    return Path(codespell_lib.__file__).parent / "data" / "dictionary.txt"


def symspell_dictionary_path():
    import symspellpy

    return Path(symspellpy.__file__).parent / "frequency_dictionary_en_82_765.txt"


def is_word(text, max_length=64):
    return 0 < len(text) <= max_length and all(c in CHAR_ID for c in text) and text[0] != "'"


def read_frequencies(path=None):
    """`{word: count}` in the file's order (most frequent first)."""
    counts = {}
    with open(path or symspell_dictionary_path(), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                counts[parts[0]] = int(parts[1])
    return counts


def read_codespell(path=None):
    """(wrong, right) pairs of codespell's dictionary, one per listed correction."""
    pairs = []
    text = Path(path or codespell_dictionary_path()).read_text(encoding="utf-8")
    for line in text.splitlines():
        if "->" not in line:
            continue
        wrong, rights = line.split("->", 1)
        for right in rights.split(","):
            right = right.strip()
            if right:
                pairs.append((wrong.strip(), right))
    return pairs


def parse_pairs(text, source="--pairs"):
    """(wrong, right) pairs from Norvig's `right: wrong wrong` or `wrong<TAB>right` lines."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "\t" in line:
            wrong, right = (part.strip() for part in line.split("\t", 1))
            if wrong and right:
                pairs.append((wrong, right))
                continue
        elif ":" in line:
            right, wrongs = line.split(":", 1)
            if right.strip() and wrongs.split():
                pairs.extend((wrong, right.strip()) for wrong in wrongs.split())
                continue
        raise UserInputError(
            f"{source}: line {number} is neither `right: wrong wrong` nor "
            f"`wrong<TAB>right`. Received: {line[:80]!r}"
        )
    if not pairs:
        raise UserInputError(f"{source}: no pairs found. Received: {source}")
    return pairs


def read_pairs(path, argument="--pairs"):
    (text,) = read_text_files([path], argument=argument)
    return parse_pairs(text, source=f"{argument} {path}")


KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def keyboard_neighbours():
    """Letters adjacent on a QWERTY keyboard: left and right on the row, and the two
    keys touching it on the rows above and below (each row is shifted right)."""
    position = {c: (r, i) for r, row in enumerate(KEYBOARD_ROWS) for i, c in enumerate(row)}
    touching = {0: (-1, 1), 1: (-1, 0), -1: (0, 1)}  # row offset -> column offsets
    neighbours = {}
    for c, (r, i) in position.items():
        near = [d for d, (r2, i2) in position.items()
                if d != c and r2 - r in touching and i2 - i in touching[r2 - r]]
        neighbours[c] = "".join(sorted(near))
    return neighbours


NEIGHBOURS = keyboard_neighbours()
VOWELS = "aeiou"
# Sound-alike spellings, applied in either direction.
PHONETIC = (
    ("ph", "f"), ("ie", "ei"), ("ance", "ence"), ("ant", "ent"), ("able", "ible"),
    ("tion", "sion"), ("c", "k"), ("c", "s"), ("ck", "k"), ("er", "or"), ("er", "ar"),
    ("ou", "o"), ("ea", "ee"), ("y", "i"), ("ght", "t"), ("wh", "w"), ("sc", "s"),
    ("x", "cks"), ("qu", "kw"), ("ise", "ize"), ("al", "el"), ("ary", "ery"),
    ("ous", "us"), ("ei", "e"), ("ai", "a"), ("ch", "sh"), ("g", "j"), ("z", "s"),
)
ERROR_KINDS = ("substitution", "deletion", "insertion", "transposition", "double",
               "undouble", "phonetic", "vowel")


def corrupt(word, rng, kind=None):
    """One typing or spelling error of `kind` (random if None); the word if impossible."""
    kind = kind or rng.choice(ERROR_KINDS)
    n = len(word)
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    if not letters:
        return word
    i = rng.choice(letters)
    if kind == "substitution":
        near = NEIGHBOURS.get(word[i], "")
        return word[:i] + rng.choice(near) + word[i + 1:] if near else word
    if kind == "deletion":
        return word[:i] + word[i + 1:] if n > 1 else word
    if kind == "insertion":
        near = NEIGHBOURS.get(word[i], "") or "e"
        extra = rng.choice(near + word[i])  # a neighbour key, or the same key twice
        return word[:i + 1] + extra + word[i + 1:] if rng.random() < 0.5 else \
            word[:i] + extra + word[i:]
    if kind == "transposition":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:] if i + 1 < n else word
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "undouble":
        doubled = [j for j in range(n - 1) if word[j] == word[j + 1]]
        if not doubled:
            return word[:i] + word[i] + word[i:]
        j = rng.choice(doubled)
        return word[:j] + word[j + 1:]
    if kind == "vowel":
        vowels = [j for j, c in enumerate(word) if c in VOWELS]
        if not vowels:
            return word
        j = rng.choice(vowels)
        return word[:j] + rng.choice(VOWELS.replace(word[j], "")) + word[j + 1:]
    if kind == "phonetic":
        options = [(a, b) for a, b in PHONETIC if a in word] + \
                  [(b, a) for a, b in PHONETIC if b in word]
        if not options:
            return corrupt(word, rng, "vowel")
        a, b = rng.choice(options)
        starts = [j for j in range(n) if word.startswith(a, j)]
        j = rng.choice(starts)
        return word[:j] + b + word[j + len(a):]
    raise ValueError(f"`kind` must be one of {ERROR_KINDS}. Received: kind={kind!r}")


def synthetic_pairs(frequencies, count, identity_fraction, seed, max_length=20):
    """(misspelling, word) pairs over words drawn by frequency^0.5 (rarer words too).

    One error per word, a second one for a quarter of them (codespell's real
    errors are mostly one or two edits away); `identity_fraction` of the pairs
    leave the word unchanged.
    """
    rng = random.Random(seed)
    words = [w for w in frequencies if is_word(w, max_length) and len(w) > 1]
    weights = np.sqrt(np.asarray([frequencies[w] for w in words], dtype=np.float64))
    picks = np.random.default_rng(seed).choice(len(words), size=count, p=weights / weights.sum())
    pairs = []
    for index in picks:
        word = words[index]
        if rng.random() < identity_fraction:
            pairs.append((word, word))
            continue
        wrong = corrupt(word, rng)
        if rng.random() < 0.25:
            wrong = corrupt(wrong, rng)
        if wrong != word and is_word(wrong, max_length):
            pairs.append((wrong, word))
    return pairs


def build_lexicon(frequencies, size, extra_words=()):
    """The words the corrector may output, with counts: the top `size` by frequency,
    plus `extra_words` (codespell's corrections) at the smallest kept count."""
    lexicon = {}
    for word, count in frequencies.items():
        if len(lexicon) >= size:
            break
        if is_word(word):
            lexicon[word] = count
    floor = min(lexicon.values())
    for word in extra_words:
        if is_word(word) and word not in lexicon:
            lexicon[word] = frequencies.get(word, floor)
    return lexicon


def excluded_misspellings(config):
    if not config.exclude_pairs:
        return set(), None
    path = Path(config.exclude_pairs)
    if not path.is_file():
        return set(), None
    return {wrong.lower() for wrong, _ in read_pairs(path, "--exclude-pairs")}, str(path)


def training_pairs(config, pair_files=None, log=print):
    """All (wrong, right) pairs, the lexicon and a dict of counts describing the data."""
    frequencies = read_frequencies()
    codespell = [(w.lower(), r.lower()) for w, r in read_codespell()]
    codespell = [(w, r) for w, r in codespell
                 if w != r and is_word(w, config.max_word_length)
                 and is_word(r, config.max_word_length)]
    lexicon = build_lexicon(frequencies, config.lexicon_size, [r for _, r in codespell])
    user = []
    for path in pair_files or ():
        user += [(w.lower(), r.lower()) for w, r in read_pairs(path)]
    user = [(w, r) for w, r in user
            if is_word(w, config.max_word_length) and is_word(r, config.max_word_length)]
    synthetic = synthetic_pairs(lexicon, config.synthetic_pairs, config.identity_fraction,
                                config.seed, config.max_word_length)
    excluded, exclude_path = excluded_misspellings(config)
    kept, dropped = [], {"codespell": 0, "synthetic": 0, "user": 0}
    for name, pairs in (("codespell", codespell), ("synthetic", synthetic), ("user", user)):
        for wrong, right in pairs:
            if wrong in excluded and wrong != right:
                dropped[name] += 1
            else:
                kept.append((wrong, right))
    # Codespell's corrections are in the lexicon; user pairs may add words too.
    for _, right in user:
        lexicon.setdefault(right, min(lexicon.values()))
    info = {
        "codespell_pairs": len(codespell), "synthetic_pairs": len(synthetic),
        "user_pairs": len(user), "excluded_file": exclude_path,
        "excluded_misspellings": len(excluded), "excluded_pairs": dropped,
        "lexicon_words": len(lexicon),
    }
    log(f"Pairs: {len(codespell)} codespell, {len(synthetic)} synthetic, {len(user)} from "
        f"--pairs; dropped {sum(dropped.values())} whose misspelling is in {exclude_path}")
    return kept, lexicon, info


def encode_word(word):
    return [CHAR_ID.get(c, 0) for c in word]


def make_arrays(pairs, max_length):
    """Padded int32 arrays: chars (n, T), decoder inputs and targets (n, T + 1)."""
    n = len(pairs)
    chars = np.full((n, max_length), PAD_ID, np.int32)
    decoder_inputs = np.full((n, max_length + 1), PAD_ID, np.int32)
    targets = np.full((n, max_length + 1), PAD_ID, np.int32)
    for row, (wrong, right) in enumerate(pairs):
        w, r = encode_word(wrong), encode_word(right)
        chars[row, :len(w)] = w
        decoder_inputs[row, :len(r) + 1] = [START_ID] + r
        targets[row, :len(r) + 1] = r + [END_ID]
    return chars, decoder_inputs, targets


def batches(pairs, config, shuffle, seed):
    """tf.data of ({chars, decoder_inputs}, targets), batches of similar lengths.

    Pairs are sorted by length into batches, each cut to its longest word, and the
    batch order is shuffled: far less padding than one global length.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    order = np.argsort([len(w) + len(r) + rng.random() for w, r in pairs], kind="stable")
    groups = [order[i:i + config.batch_size] for i in range(0, len(order), config.batch_size)]
    length = config.max_word_length
    chars, decoder_inputs, targets = make_arrays(pairs, length)

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
                yield ({"chars": chars[rows, :t], "decoder_inputs": decoder_inputs[rows, :u]},
                       targets[rows, :u])
            epoch += 1
            if not shuffle:
                return

    spec = tf.TensorSpec((None, None), tf.int32)
    data = tf.data.Dataset.from_generator(
        generate, output_signature=({"chars": spec, "decoder_inputs": spec}, spec))
    return data.prefetch(4), len(groups)


# --- the model -----------------------------------------------------------------------------
def _register(cls):
    import keras

    return keras.saving.register_keras_serializable(package="keras_nlpkit.spelling")(cls)


def build_model(config):
    """A compiled `SpellingModel` (the class is defined on first use: Keras is imported
    lazily so that `keras_nlpkit.correction` and the CLI start fast)."""
    import keras

    model = spelling_model_class()(
        vocabulary_size=len(VOCABULARY), embedding_dim=config.embedding_dim,
        encoder_units=config.encoder_units, decoder_units=config.decoder_units,
        summary_dim=config.summary_dim, max_length=config.max_word_length)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    # Build with a tiny batch so that summary() and saving work before fit.
    model({"chars": np.full((1, 3), 5, np.int32),
           "decoder_inputs": np.full((1, 3), START_ID, np.int32)})
    return model


_MODEL_CLASS = None


def spelling_model_class():
    global _MODEL_CLASS
    if _MODEL_CLASS is None:
        _MODEL_CLASS = _define_model_class()
    return _MODEL_CLASS


def _define_model_class():
    import keras
    from keras import ops

    from keras_nlpkit.layers import LSTM
    from keras_nlpkit.layers import DotProductAttention

    def unrolled(lstm, x, mask=None):
        """`lstm(x, mask=mask)` as `step` calls over the static length of `x`."""
        h, c = lstm.get_initial_state(ops.shape(x)[0])
        outputs = []
        for t in range(x.shape[1]):
            y, (h_new, c_new) = lstm.step(x[:, t], [h, c])
            if mask is not None:  # a masked step keeps the state and repeats the output
                keep = ops.expand_dims(mask[:, t], -1)
                h_new, c_new = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
            h, c = h_new, c_new
            outputs.append(h)
        return ops.stack(outputs, axis=1)

    @_register
    class SpellingModel(keras.Model):
        """Bidirectional-LSTM encoder, LSTM decoder with Luong "general" attention.

        Call: `{"chars": (batch, T), "decoder_inputs": (batch, U)}` (ids, PAD_ID
        padding) → logits `(batch, U, vocab)`, teacher-forced.
        """

        def __init__(self, vocabulary_size, embedding_dim=32, encoder_units=128,
                     decoder_units=192, summary_dim=64, max_length=20, **kwargs):
            super().__init__(**kwargs)
            self.max_length = max_length
            self.vocabulary_size = vocabulary_size
            self.embedding_dim = embedding_dim
            self.encoder_units = encoder_units
            self.decoder_units = decoder_units
            self.summary_dim = summary_dim
            self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim,
                                                    name="embedding")
            self.forward_lstm = LSTM(encoder_units, return_sequences=True, name="forward_lstm")
            # Reads the reversed characters (reversed by us, not `go_backwards`, so
            # the outputs line up with the characters the same way in every path).
            self.backward_lstm = LSTM(encoder_units, return_sequences=True,
                                      name="backward_lstm")
            self.summary = keras.layers.Dense(summary_dim, activation="tanh", name="summary")
            self.decoder_lstm = LSTM(decoder_units, return_sequences=True, name="decoder_lstm")
            self.attention = DotProductAttention(score_mode="general", name="attention")
            self.combine = keras.layers.Dense(decoder_units, activation="tanh", name="combine")
            self.logits = keras.layers.Dense(vocabulary_size, name="logits")

        # --- the pieces the signatures share ---------------------------------------
        def encode(self, chars, mask=None):
            """chars (batch, T) → encoder outputs (batch, T, 2 * units), summary."""
            x = self.embedding(chars)
            forward = self.forward_lstm(x, mask=mask)
            reversed_mask = None if mask is None else ops.flip(mask, axis=1)
            backward = self.backward_lstm(ops.flip(x, axis=1), mask=reversed_mask)
            # With padding on the right and a mask, the forward output at T - 1
            # repeats the last real one and the reversed pass ends on character 0.
            summary = self.summary(ops.concatenate([forward[:, -1], backward[:, -1]], -1))
            outputs = ops.concatenate([forward, ops.flip(backward, axis=1)], axis=-1)
            return outputs, summary

        def decoder_input(self, tokens, summary):
            """Embedded previous characters next to the word summary, (batch, U, e + s)."""
            x = self.embedding(tokens)
            summary = ops.broadcast_to(ops.expand_dims(summary, 1),
                                       (ops.shape(x)[0], ops.shape(x)[1], self.summary_dim))
            return ops.concatenate([x, summary], axis=-1)

        def output_logits(self, decoder_outputs, encoder_outputs, mask=None):
            context = self.attention([decoder_outputs, encoder_outputs],
                                     mask=None if mask is None else [None, mask])
            hidden = self.combine(ops.concatenate([decoder_outputs, context], axis=-1))
            return self.logits(hidden)

        def call(self, inputs, training=False):
            chars, decoder_inputs = inputs["chars"], inputs["decoder_inputs"]
            mask = ops.not_equal(chars, PAD_ID)
            encoder_outputs, summary = self.encode(chars, mask)
            decoder_outputs = self.decoder_lstm(self.decoder_input(decoder_inputs, summary))
            return self.output_logits(decoder_outputs, encoder_outputs, mask)

        # --- export ------------------------------------------------------------------
        def export_signatures(self):
            """`serving_default`, `encode` and `decode_step` for `keras_nlpkit.export`.

            - `serving_default`: chars (1, max_length), decoder_inputs (1,
              max_length + 1), PAD_ID-padded → logits (1, max_length + 1, vocab):
              `call` itself, teacher-forced (the export report's parity check);
            - `encode`: chars (1, max_length), PAD_ID-padded → encoder_outputs
              (1, max_length, 2 units), summary (1, s); the outputs past the word's
              length are padding, which the caller cuts off;
            - `decode_step`: token (beams,), decoder_lstm_h/_c (beams, units),
              encoder_outputs (beams, T, 2 units) (T: the word's length),
              summary (beams, s) → logits (beams, vocab), decoder_lstm_h/_c.

            The LSTMs are unrolled over the fixed length with `step` and the mask,
            not run as TFLite's fused LSTM kernel: a masked LSTM would otherwise
            become a loop, and the fused kernel keeps its state in variable tensors
            that the interpreter cannot reset while another signature holding them
            is unallocated. With no state tensors, every call is independent.
            """
            import tensorflow as tf

            from keras_nlpkit.export.signatures import Signature

            def encode_unrolled(chars):
                mask = ops.not_equal(chars, PAD_ID)
                x = self.embedding(chars)
                forward = unrolled(self.forward_lstm, x, mask)
                backward = unrolled(self.backward_lstm, ops.flip(x, axis=1),
                                    ops.flip(mask, axis=1))
                summary = self.summary(ops.concatenate([forward[:, -1], backward[:, -1]], -1))
                encoder_outputs = ops.concatenate([forward, ops.flip(backward, axis=1)], -1)
                return encoder_outputs, summary, mask

            def serve(chars, decoder_inputs):
                encoder_outputs, summary, mask = encode_unrolled(chars)
                decoder_outputs = unrolled(self.decoder_lstm,
                                           self.decoder_input(decoder_inputs, summary))
                return {"logits": self.output_logits(decoder_outputs, encoder_outputs, mask)}

            def encode(chars):
                encoder_outputs, summary, _ = encode_unrolled(chars)
                return {"encoder_outputs": encoder_outputs, "summary": summary}

            def decode_step(token, decoder_lstm_h, decoder_lstm_c, encoder_outputs, summary):
                x = ops.concatenate([self.embedding(token), summary], axis=-1)
                h, (h, c) = self.decoder_lstm.step(x, [decoder_lstm_h, decoder_lstm_c])
                logits = self.output_logits(ops.expand_dims(h, 1), encoder_outputs)[:, 0]
                return {"logits": logits, "decoder_lstm_h": h, "decoder_lstm_c": c}

            ids = lambda name, n=None: tf.TensorSpec((1, n), tf.int32, name=name)  # noqa: E731
            width = 2 * self.encoder_units
            return [
                Signature("serving_default", serve, [ids("chars", self.max_length),
                                                     ids("decoder_inputs", self.max_length + 1)]),
                Signature("encode", encode, [ids("chars", self.max_length)]),
                Signature("decode_step", decode_step, [
                    tf.TensorSpec((None,), tf.int32, name="token"),
                    tf.TensorSpec((None, self.decoder_units), tf.float32, name="decoder_lstm_h"),
                    tf.TensorSpec((None, self.decoder_units), tf.float32, name="decoder_lstm_c"),
                    tf.TensorSpec((None, None, width), tf.float32, name="encoder_outputs"),
                    tf.TensorSpec((None, self.summary_dim), tf.float32, name="summary"),
                ]),
            ]

        def calibration_records(self, samples, reference):
            """(signature, inputs) for int8 calibration of `encode` and `decode_step`:
            what they see while decoding the samples' corrections, teacher-forced."""
            records = []
            for sample in samples:
                chars = sample["chars"]
                length = int(np.sum(chars[0] != PAD_ID))
                targets = sample["decoder_inputs"][0]
                targets = targets[targets != PAD_ID]
                if length == 0 or targets.size == 0:
                    continue
                records.append(("encode", {"chars": chars}))
                encoded = reference("encode", {"chars": chars})
                encoded["encoder_outputs"] = encoded["encoder_outputs"][:, :length]
                state = {name: np.zeros((1, self.decoder_units), np.float32)
                         for name in ("decoder_lstm_h", "decoder_lstm_c")}
                for token in targets:
                    inputs = {"token": np.asarray([token], np.int32), **state,
                              "encoder_outputs": encoded["encoder_outputs"],
                              "summary": encoded["summary"]}
                    records.append(("decode_step", inputs))
                    out = reference("decode_step", inputs)
                    state = {name: out[name] for name in state}
            return records

        def get_config(self):
            config = super().get_config()
            config.update(vocabulary_size=self.vocabulary_size,
                          embedding_dim=self.embedding_dim,
                          encoder_units=self.encoder_units,
                          decoder_units=self.decoder_units, summary_dim=self.summary_dim,
                          max_length=self.max_length)
            return config

    return SpellingModel


# --- training ------------------------------------------------------------------------------
def split_pairs(pairs, fraction, seed):
    rng = random.Random(seed)
    pairs = list(dict.fromkeys(pairs))  # distinct, order kept
    rng.shuffle(pairs)
    count = max(1, int(len(pairs) * fraction))
    return pairs[count:], pairs[:count]


def write_lexicon(path, lexicon):
    lines = [f"{word}\t{count}" for word, count in
             sorted(lexicon.items(), key=lambda item: (-item[1], item[0]))]
    atomic_write_text(path, "\n".join(lines) + "\n")


def train(out_dir, config=None, pair_files=None, log=print, verbose=2):
    """Trains, saves and exports a spelling model into `out_dir`; returns the metrics.

    `out_dir` receives `model.keras`, `spelling.json` (config and data counts),
    `lexicon.txt`, `heldout.tsv` (held-out pairs used for tuning), `backup/`
    (BackupAndRestore: rerun the same command to continue an interrupted run),
    `logs/` (TensorBoard), `metrics.json` and `export/` (TFLite + lexicon, what
    `keras_nlpkit.correction.SpellingCorrector` reads).
    """
    import keras

    config = config or SpellingConfig()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"--out: exists and is not a folder. Received: {out_dir}")
    for path in pair_files or ():
        read_text_files([path], argument="--pairs")  # fail early, before any work
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    pairs, lexicon, info = training_pairs(config, pair_files, log)
    train_pairs, heldout = split_pairs(pairs, config.validation_fraction, config.seed)
    info.update(train_pairs=len(train_pairs), heldout_pairs=len(heldout))
    atomic_write_json(out_dir / "spelling.json",
                      {"config": dataclasses.asdict(config), "data": info,
                       "vocabulary": VOCABULARY})
    write_lexicon(out_dir / "lexicon.txt", lexicon)
    atomic_write_text(out_dir / "heldout.tsv",
                      "".join(f"{w}\t{r}\n" for w, r in heldout))

    train_data, _ = batches(train_pairs, config, shuffle=True, seed=config.seed)
    validation_data, validation_steps = batches(heldout, config, shuffle=False, seed=0)
    model = build_model(config)
    callbacks = training_callbacks(out_dir)
    log(f"Training {model.count_params():,} parameters on {len(train_pairs):,} pairs "
        f"({config.epochs} x {config.steps_per_epoch} steps of {config.batch_size})")
    start = time.perf_counter()
    history = model.fit(
        train_data, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
        validation_data=validation_data, validation_steps=validation_steps,
        callbacks=callbacks, verbose=verbose,
    )
    seconds = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if any(not math.isfinite(v) for v in losses) or (model.stop_training and losses
                                                     and not math.isfinite(losses[-1])):
        raise TrainingError(
            "Training stopped: the loss became NaN. Lower --learning-rate and rerun "
            f"(the last good checkpoint is in {out_dir / 'backup'})."
        )
    from keras_nlpkit.io_utils import save_model_atomically

    save_model_atomically(model, out_dir / "model.keras")
    metrics = {
        "train_seconds": round(seconds, 1),
        "parameters": int(model.count_params()),
        "final_loss": round(losses[-1], 4) if losses else None,
        "validation_loss": round(history.history["val_loss"][-1], 4)
        if history.history.get("val_loss") else None,
        "validation_char_accuracy": round(history.history["val_accuracy"][-1], 4)
        if history.history.get("val_accuracy") else None,
        "data": info,
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    export_model(out_dir, model=model, config=config, log=log)
    return metrics


def representative_npz(path, pairs, max_length):
    chars, decoder_inputs, _ = make_arrays(pairs, max_length)
    np.savez(path, chars=chars, decoder_inputs=decoder_inputs)


# Full-integer int8 converts (builtins only) but its `encode`/`serving_default` fail in
# XNNPACK ("failed to create XNNPACK runtime") under the default interpreter, so the
# on-device default is dynamic-range int8 (int8 weights, float activations).
EXPORT_VARIANTS = ("none", "dynamic")
DEFAULT_VARIANT = "dynamic_int8"  # keras_nlpkit.correction.DEFAULT_VARIANT


def export_model(out_dir, model=None, config=None, log=print, quantize=EXPORT_VARIANTS):
    """Exports `out_dir/model.keras` to `out_dir/export` with the lexicon and decoding
    settings, calibrating int8 on held-out pairs."""
    import keras

    from keras_nlpkit.export import export
    from keras_nlpkit.tokenizers import CharacterTokenizer

    out_dir = Path(out_dir)
    info = load_info(out_dir)
    config = config or SpellingConfig(**info["config"])
    if model is None:
        spelling_model_class()
        model = keras.saving.load_model(out_dir / "model.keras", compile=False)
    heldout = [tuple(line.split("\t")) for line in
               (out_dir / "heldout.tsv").read_text(encoding="utf-8").splitlines() if line]
    samples = out_dir / "representative.npz"
    # One length for all rows of the .npz: the longest held-out word; the signatures
    # see the padding, but calibration_records strips it for encode/decode_step.
    representative_npz(samples, heldout[:300], config.max_word_length)
    export_dir = out_dir / "export"
    report = export(model, export_dir, quantize=quantize, representative_data=samples,
                    tokenizer=CharacterTokenizer(VOCABULARY), log=log)
    import shutil

    shutil.copy(out_dir / "lexicon.txt", export_dir / "lexicon.txt")
    write_decoding_files(out_dir, config, log=log)
    atomic_write_json(export_dir / "spelling.json", {
        "kind": "spelling",
        "vocabulary": VOCABULARY, "pad_id": PAD_ID, "start_id": START_ID, "end_id": END_ID,
        "max_word_length": config.max_word_length,
        "beam_width": config.beam_width, "prior_weight": config.prior_weight,
        "length_penalty": config.length_penalty,
    })
    return report


def channel_pairs(out_dir, config):
    """The real misspellings the channel model is counted on: codespell's pairs, less
    those whose misspelling is in an evaluation file or held out (`heldout.tsv`, for
    tuning the reranker), so that neither is measured on what it was counted on."""
    excluded, _ = excluded_misspellings(config)
    heldout = Path(out_dir) / "heldout.tsv"
    if heldout.is_file():
        excluded |= {line.split("\t")[0] for line in
                     heldout.read_text(encoding="utf-8").splitlines() if line}
    pairs = []
    for wrong, right in read_codespell():
        wrong, right = wrong.lower(), right.lower()
        if (wrong != right and wrong not in excluded and is_word(wrong, config.max_word_length)
                and is_word(right, config.max_word_length)):
            pairs.append((wrong, right))
    return pairs


def write_decoding_files(out_dir, config=None, log=print):
    """Writes what the reranker reads besides the model into `out_dir/export`:
    `channel.json` (`keras_nlpkit.correction.ChannelModel`, counted on
    `channel_pairs`) and `known_words.txt` (the `known_words` most frequent symspell
    words that are not in the lexicon). Needs no TensorFlow: an export made before
    these files existed gets them with `write_decoding_files(training_folder)`."""
    from keras_nlpkit.correction import ChannelModel
    from keras_nlpkit.correction import read_lexicon

    out_dir = Path(out_dir)
    config = config or SpellingConfig(**load_info(out_dir)["config"])
    export_dir = out_dir / "export"
    channel = ChannelModel.from_pairs(channel_pairs(out_dir, config), LETTERS)
    atomic_write_json(export_dir / "channel.json", channel.to_json())
    lexicon = read_lexicon(export_dir / "lexicon.txt")
    known = {}
    for word, count in list(read_frequencies().items())[: config.known_words]:
        if is_word(word, config.max_word_length) and word not in lexicon:
            known[word] = count
    write_lexicon(export_dir / "known_words.txt", known)
    log(f"Channel model: {channel.pairs:,} real misspellings; {len(known):,} known words "
        "besides the lexicon")
    return channel, known


def load_info(model_dir, argument="--model"):
    """`spelling.json` of a training folder; a clear error when it is not one."""
    model_dir = Path(model_dir)
    path = model_dir / "spelling.json"
    if not model_dir.is_dir():
        raise UserInputError(f"{argument}: no such folder. Received: {model_dir}")
    if not path.is_file():
        raise UserInputError(
            f"{argument}: not a spelling model (no spelling.json). Received: {model_dir}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UserInputError(f"{argument}: spelling.json is corrupt. Received: {path}") from None


# --- evaluation ----------------------------------------------------------------------------
def export_folder(model_dir, argument="--model"):
    """The export folder of a training folder (or an export folder itself)."""
    model_dir = Path(model_dir)
    load_info(model_dir, argument)
    export_dir = model_dir / "export" if (model_dir / "export").is_dir() else model_dir
    if not (export_dir / "lexicon.txt").is_file():
        raise UserInputError(
            f"{argument}: a spelling model without an export (no export/lexicon.txt). "
            f"Received: {model_dir}")
    return export_dir


def load_corrector(model_dir, variant=DEFAULT_VARIANT, num_threads=1, argument="--model"):
    from keras_nlpkit.correction import SpellingCorrector

    return SpellingCorrector(export_folder(model_dir, argument), variant=variant,
                             num_threads=num_threads)


def measure(correct, pairs, k=5):
    """Our figures for `correct(word) -> ranked words` on (wrong, right) pairs."""
    from keras_nlpkit import metrics as metrics_lib

    predictions, seconds = [], []
    for wrong, _ in pairs:
        start = time.perf_counter()
        predictions.append(list(correct(wrong))[:k])
        seconds.append(time.perf_counter() - start)
    rights = sorted({right.lower() for _, right in pairs})
    kept = [(list(correct(word)) or [None])[0] for word in rights]
    return {
        "accuracy@1": metrics_lib.accuracy_at_k(predictions, [r for _, r in pairs], 1),
        "accuracy@5": metrics_lib.accuracy_at_k(predictions, [r for _, r in pairs], 5),
        "kept_correct_rate": metrics_lib.kept_correct_rate(kept, rights),
        "latency": metrics_lib.latency_summary(seconds),
    }


def symspell_peer(max_edit_distance=2):
    """`correct(word) -> ranked words` with SymSpell and its own 82,765-word dictionary."""
    from symspellpy import SymSpell
    from symspellpy import Verbosity

    symspell = SymSpell(max_dictionary_edit_distance=max_edit_distance, prefix_length=7)
    symspell.load_dictionary(str(symspell_dictionary_path()), term_index=0, count_index=1)

    def correct(word):
        # CLOSEST is what SymSpell answers for a single correction; ALL (sorted by
        # distance, then count, as symspell sorts) fills the rest of the top 5.
        closest = [s.term for s in symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance,
                                                   include_unknown=True)]
        ranked = closest[:1]
        for s in symspell.lookup(word, Verbosity.ALL, max_edit_distance):
            if s.term not in ranked:
                ranked.append(s.term)
        return ranked

    return correct


def pyspellchecker_peer():
    from spellchecker import SpellChecker

    checker = SpellChecker()

    def correct(word):
        best = checker.correction(word)
        candidates = sorted(checker.candidates(word) or (),
                            key=lambda w: (-checker.word_usage_frequency(w), w))
        ranked = [best] if best else []
        ranked += [w for w in candidates if w != best]
        return ranked or [word]

    return correct


def evaluate(model_dir, pairs_file, variant=DEFAULT_VARIANT, peers=True, argument="--model"):
    """Metrics on `pairs_file` through the on-device runtime, with peers in the same run."""
    pairs = read_pairs(pairs_file, "--pairs")
    corrector = load_corrector(model_dir, variant, argument=argument)
    export_dir = export_folder(model_dir, argument)
    tflite = export_dir / f"model_{variant}.tflite"
    ours = measure(lambda w: [word for word, _ in corrector.correct(w, k=5)], pairs)
    ours.update(variant=variant, tflite_bytes=tflite.stat().st_size,
                lexicon_words=len(corrector.vocabulary))
    result = {"pairs_file": str(pairs_file), "pairs": len(pairs),
              "distinct_correct_words": len({r.lower() for _, r in pairs}), "ours": ours}
    if peers:
        result["symspell"] = measure(symspell_peer(), pairs)
        result["pyspellchecker"] = measure(pyspellchecker_peer(), pairs)
    return result


def correct_words(model_dir, words, k=5, variant=DEFAULT_VARIANT):
    corrector = load_corrector(model_dir, variant)
    return {word: corrector.correct(word, k=k) for word in words}


__all__ = ["SpellingConfig", "PRESETS", "train", "evaluate", "export_model", "correct_words",
           "parse_pairs", "read_pairs", "corrupt", "synthetic_pairs", "build_model",
           "symspell_peer", "pyspellchecker_peer", "measure", "channel_pairs",
           "write_decoding_files"]


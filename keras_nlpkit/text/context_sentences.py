"""Sentences of real text: the spelling corrector's context LM and its dev set.

Both sides read text the same way: a file is cut into paragraphs (its lines when it
has no blank line, as Brown and Reuters are stored; else the blank-line-separated
blocks of wrapped lines, as the Gutenberg books are), paragraphs into sentences
(`split_sentences`), sentences into the on-device corrector's words
(`sentence_corrector.word_spans`: letters with inner apostrophes, lower-cased).

`is_heldout` splits by a hash of a sentence's words, so the LM never counts a
sentence the dev set is made of, whichever files either reads, and identical
sentences fall on the same side.
"""

import collections
import zlib
from pathlib import Path

import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import read_text
from keras_nlpkit.ondevice.ngram_table import END
from keras_nlpkit.ondevice.ngram_table import START
from keras_nlpkit.ondevice.ngram_table import UNKNOWN
from keras_nlpkit.ondevice.sentence_corrector import word_spans
from keras_nlpkit.text.documents import split_sentences

HELDOUT_PERCENT = 2  # of the sentences: the dev set's side


def corpus_files(spec, argument="--context-corpus"):
    """The files of a comma-separated list of files and folders (a folder: its
    `*.txt` files, recursively, sorted)."""
    files = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        path = Path(part)
        if path.is_dir():
            found = sorted(path.rglob("*.txt"))
            if not found:
                raise UserInputError(
                    f"{argument}: the folder holds no *.txt file. Received: {path}"
                )
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise UserInputError(f"{argument}: no such file or folder. Received: {path}")
    if not files:
        raise UserInputError(f"{argument}: no files named. Received: {spec!r}")
    return files


def sentence_key(words):
    return " ".join(words)


def is_heldout(words):
    """Whether a sentence (its words) belongs to the dev side of the split."""
    return zlib.crc32(sentence_key(words).encode("utf-8")) % 100 < HELDOUT_PERCENT


def paragraphs(text):
    """A file's paragraphs: its lines if it has no blank line, else its blocks."""
    lines = text.splitlines()
    if all(line.strip() for line in lines):
        return lines
    blocks, current = [], []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(" ".join(current))
            current = []
    if current:
        blocks.append(" ".join(current))
    return blocks


def read_sentences(paths, argument="--context-corpus"):
    """`(sentence text, its lower-case words)` of every sentence of the files, in order."""
    for path in paths:
        for paragraph in paragraphs(read_text(path, argument)):
            for sentence in split_sentences(paragraph):
                words = [word for _, _, word in word_spans(sentence)]
                if words:
                    yield sentence, words


def context_lm_counts(sentences, min_count=2):
    """`(word_counts, ngram_counts)` of an `NgramTable` over lower-case word lists.

    Words seen fewer than `min_count` times become `<unk>` before counting (so the
    LM learns where rare words occur); bigrams and trigrams seen fewer than
    `min_count` times are dropped (they make most of the file, and add little).
    Counting is NumPy over one id stream: a Counter of tuples of 4M tokens needs GBs.

    Returns also the number of word types folded into `<unk>`.
    """
    unigrams = collections.Counter()
    sentences = [list(s) for s in sentences]
    for words in sentences:
        unigrams.update(words)
    vocabulary = sorted(w for w, c in unigrams.items() if c >= min_count)
    names = [START, END, UNKNOWN, *vocabulary]
    ids = {w: i for i, w in enumerate(names)}
    unknown = ids[UNKNOWN]
    stream = []
    for words in sentences:
        stream += [0, 0, *(ids.get(w, unknown) for w in words), 1, -1]  # -1: a boundary
    stream = np.asarray(stream, dtype=np.int64)
    size = len(names)
    ngram_counts = {}
    for order in (2, 3):
        rows = np.stack([stream[i : len(stream) - order + 1 + i] for i in range(order)], axis=1)
        # A real last word (not <s>), no boundary inside, and, for bigrams, not <s> <s>.
        keep = (rows >= 0).all(axis=1) & (rows[:, -1] != 0)
        if order == 2:
            keep &= ~((rows[:, 0] == 0) & (rows[:, 1] == 0))
        keys = np.zeros(int(keep.sum()), dtype=np.int64)
        for column in rows[keep].T:
            keys = keys * size + column
        found, counts = np.unique(keys, return_counts=True)
        frequent = counts >= min_count
        for key, count in zip(found[frequent].tolist(), counts[frequent].tolist()):
            gram = []
            for _ in range(order):
                key, i = divmod(key, size)
                gram.append(names[i])
            ngram_counts[tuple(reversed(gram))] = count
    word_counts = {w: unigrams[w] for w in vocabulary}
    folded = len(unigrams) - len(vocabulary)
    return word_counts, ngram_counts, folded

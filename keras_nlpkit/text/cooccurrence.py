"""Vocabulary and co-occurrence counting for GloVe, in bounded memory.

Two passes, as Stanford's `vocab_count` + `cooccur`, vectorised with NumPy:

1. Tokenise each line once, give every distinct word a provisional id, count
   words, and spool the id stream to a temporary file (4 bytes a token; a
   window break is the id -1: every line break, or with `breaks="paragraph"`
   only blank lines and the end of each file). The vocabulary is then the words
   with count >= min_count (at most max_size of them), by descending count.
2. Read the spool back in chunks. Out-of-vocabulary tokens are dropped before
   windowing (so they do not count towards distances) and windows never cross a
   window break. For each distance d = 1..window the pairs at that distance get
   weight 1/d; X is symmetric, so each unordered pair is counted once under the
   key (min, max) and mirrored at the end. Each chunk is reduced (sort + segment
   sum); reduced chunks that outgrow the memory budget are spilled to disk in
   hash partitions, and each partition is merged on its own at the end.

Peak memory is about `memory_bytes` plus the final matrix (12 bytes a non-zero
entry as int32 row, int32 column, float32 count).
"""

import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_nlpkit.files import read_line_blocks

TOKEN_PATTERN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_LINE_BREAK = -1
_DROPPED = -2
# Bytes of working memory per (token, distance) entry while a chunk is reduced:
# int64 key + float64 weight, their sorted copies and the argsort permutation.
_BYTES_PER_ENTRY = 40
BREAKS = ("line", "paragraph")


def tokenize(line):
    """Lower-cased `[a-z0-9]+(?:'[a-z]+)?` tokens of one line (the comparison's tokenizer)."""
    return TOKEN_PATTERN.findall(line.lower())


@dataclass
class Cooccurrences:
    """A symmetric co-occurrence matrix in coordinate form, over `words` (most frequent first).

    `rows[n], cols[n], values[n]` is X_ij for one non-zero (i, j); both (i, j)
    and (j, i) are present.
    """

    words: list
    counts: np.ndarray  # (vocab,) int64 occurrences of each word
    rows: np.ndarray  # (nnz,) int32
    cols: np.ndarray  # (nnz,) int32
    values: np.ndarray  # (nnz,) float32
    tokens: int  # corpus tokens read, in and out of the vocabulary
    seconds: dict  # wall time of each phase

    @property
    def nnz(self):
        return int(self.values.shape[0])


def _progress(message, verbose):
    if verbose:
        print(message, file=sys.stderr, flush=True)


def _spool_corpus(paths, spool, verbose, breaks="line"):
    """Pass 1: writes the provisional-id stream of `paths` to `spool`.

    Returns `(index, counts, tokens)`.
    """
    index = {}
    counts = np.zeros(0, dtype=np.int64)
    with open(spool, "wb") as out:
        for path in paths:
            _progress(f"glove: reading {path}", verbose)
            for lines in read_line_blocks(path, "--corpus", warn=verbose):
                ids = []
                for line in lines:
                    for word in TOKEN_PATTERN.findall(line.lower()):
                        i = index.get(word)
                        if i is None:
                            i = index[word] = len(index)
                        ids.append(i)
                    if breaks == "line" or not line.strip():
                        ids.append(_LINE_BREAK)
                block = np.asarray(ids, dtype=np.int32)
                block.tofile(out)
                if counts.shape[0] < len(index):
                    counts = np.concatenate(
                        [counts, np.zeros(len(index) - counts.shape[0], np.int64)]
                    )
                counts += np.bincount(block[block >= 0], minlength=len(index))
            np.asarray([_LINE_BREAK], dtype=np.int32).tofile(out)  # files never join
    return index, counts, int(counts.sum())


def _reduce(keys, weights):
    """Sums `weights` of equal `keys`; returns (sorted unique keys, sums)."""
    if keys.shape[0] == 0:  # a chunk without a pair (one word a line, say)
        return keys.astype(np.int64), weights.astype(np.float64)
    order = np.argsort(keys)
    keys = keys[order]
    weights = weights[order]
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[starts], np.add.reduceat(weights, starts)


def _chunk_pairs(stream, skip, window, vocab_size):
    """(key, weight) of each unordered pair in `stream` at distance <= window.

    `stream` holds final ids and line breaks (-1); its first `skip` entries were
    already the right-hand side of pairs in the previous chunk.
    """
    line = np.cumsum(stream == _LINE_BREAK)
    keys, weights = [], []
    for d in range(1, window + 1):
        if d >= stream.shape[0]:
            break
        a, b = stream[:-d], stream[d:]
        ok = (line[:-d] == line[d:]) & (a >= 0) & (b >= 0)
        ok[: max(0, skip - d)] = False
        a, b = a[ok], b[ok]
        low, high = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
        keys.append(low * vocab_size + high)
        # Counted once per unordered pair; a word paired with itself gets both directions.
        weights.append(np.where(low == high, 2.0 / d, 1.0 / d))
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    return np.concatenate(keys), np.concatenate(weights)


class _PartialSums:
    """Reduced (key, sum) parts, merged in memory while they fit, else spilled to disk."""

    def __init__(self, budget_bytes, work_dir, partitions):
        self.budget = budget_bytes
        self.work_dir = Path(work_dir)
        self.partitions = partitions
        self.parts = []
        self.spills = 0

    def _bytes(self):
        return sum(k.nbytes + w.nbytes for k, w in self.parts)

    def add(self, keys, weights):
        self.parts.append(_reduce(keys, weights))
        if self._bytes() > self.budget // 2:
            self.parts = [_reduce(*map(np.concatenate, zip(*self.parts)))]
            if self._bytes() > self.budget // 4:
                self._spill()

    def _spill(self):
        keys, sums = self.parts.pop()
        part = keys % self.partitions
        for p in range(self.partitions):
            chosen = part == p
            with open(self.work_dir / f"part{p}.keys", "ab") as f:
                keys[chosen].tofile(f)
            with open(self.work_dir / f"part{p}.sums", "ab") as f:
                sums[chosen].tofile(f)
        self.spills += 1

    def merged(self):
        """Yields the final (keys, sums), one partition at a time."""
        if self.spills == 0:
            if self.parts:
                yield _reduce(*map(np.concatenate, zip(*self.parts)))
            return
        if self.parts:
            self.parts = [_reduce(*map(np.concatenate, zip(*self.parts)))]
            self._spill()
        for p in range(self.partitions):
            keys = np.fromfile(self.work_dir / f"part{p}.keys", dtype=np.int64)
            sums = np.fromfile(self.work_dir / f"part{p}.sums", dtype=np.float64)
            yield _reduce(keys, sums)


def _vocabulary(index, counts, tokens, min_count, max_size):
    """The words kept (count >= min_count, most frequent first, ties by first sight).

    Returns `(order, words, remap)`: the provisional ids kept, their words, and the
    map from a provisional id (or -1, a line break) to the final id or `_DROPPED`.
    """
    order = np.lexsort((np.arange(counts.shape[0]), -counts))  # by count, then first seen
    order = order[counts[order] >= min_count][:max_size]
    if order.shape[0] == 0:
        raise ValueError(
            f"min_count={min_count} leaves no vocabulary: the most frequent word occurs "
            f"{int(counts.max()) if counts.size else 0} times in {tokens} tokens"
        )
    words_by_id = np.empty(len(index), dtype=object)
    words_by_id[list(index.values())] = list(index.keys())
    words = words_by_id[order].tolist()
    remap = np.full(len(index) + 1, _DROPPED, dtype=np.int32)  # slot -1: line breaks
    remap[order] = np.arange(len(words), dtype=np.int32)
    remap[-1] = _LINE_BREAK
    return order, words, remap


@dataclass
class TokenIds:
    """A corpus as vocabulary ids: `ids` holds the kept words in order, -1 at each break."""

    words: list  # the vocabulary, most frequent first
    counts: np.ndarray  # (vocab,) int64 occurrences of each word
    ids: np.ndarray  # (kept tokens + breaks,) int32
    tokens: int  # corpus tokens read, in and out of the vocabulary
    seconds: float  # wall time of the reading


def token_ids(paths, min_count=5, max_size=None, work_dir=None, verbose=True, breaks="line"):
    """The vocabulary of `paths` (as `count_cooccurrences` keeps it) and the corpus as its ids.

    Out-of-vocabulary tokens are left out, as word2vec.c and `count_cooccurrences`
    leave them out before windowing. Returns a `TokenIds`.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1. Received: min_count={min_count}")
    if max_size is not None and max_size < 1:
        raise ValueError(f"max_size must be >= 1 or None. Received: max_size={max_size}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="tokens-") as tmp:
        spool = Path(tmp) / "tokens.int32"
        index, counts, tokens = _spool_corpus(paths, spool, verbose, breaks)
        order, words, remap = _vocabulary(index, counts, tokens, min_count, max_size)
        ids = remap[np.fromfile(spool, dtype=np.int32)]
    ids = ids[ids != _DROPPED]
    return TokenIds(words, counts[order], ids, tokens, time.perf_counter() - start)


def count_cooccurrences(
    paths,
    window=10,
    min_count=5,
    max_size=None,
    memory_gb=4.0,
    work_dir=None,
    verbose=True,
    breaks="line",
):
    """Counts the vocabulary and the 1/d-weighted symmetric co-occurrences of `paths`.

    Args:
        paths: UTF-8 text files; each line is tokenised with `tokenize`.
        window: context words on each side.
        min_count: words seen fewer times are dropped (before windowing).
        max_size: keep at most this many words (the most frequent), or all.
        memory_gb: working-memory budget; chunks and partial sums are sized to
            stay under it, spilling to `work_dir` when they would not.
        work_dir: where the token spool and spills go (a temporary folder by default).
        breaks: where context windows stop: `"line"` (every line break, as
            Stanford's `cooccur` does: a document a line) or `"paragraph"` (blank
            lines, for text wrapped at a fixed width such as Project Gutenberg's,
            where a line break is not a boundary). Never across files.

    Returns:
        A `Cooccurrences`.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1. Received: window={window}")
    if min_count < 1:
        raise ValueError(f"min_count must be >= 1. Received: min_count={min_count}")
    if max_size is not None and max_size < 1:
        raise ValueError(f"max_size must be >= 1 or None. Received: max_size={max_size}")
    if breaks not in BREAKS:
        raise ValueError(f"breaks must be one of {BREAKS}. Received: breaks={breaks!r}")
    if not memory_gb > 0:
        raise ValueError(f"memory_gb must be > 0. Received: memory_gb={memory_gb}")
    budget = int(memory_gb * (1 << 30))
    seconds = {}
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="glove-counts-") as tmp:
        spool = Path(tmp) / "tokens.int32"
        start = time.perf_counter()
        index, counts, tokens = _spool_corpus(paths, spool, verbose, breaks)
        order, words, remap = _vocabulary(index, counts, tokens, min_count, max_size)
        vocab_size = len(words)
        seconds["vocabulary"] = time.perf_counter() - start
        _progress(
            f"glove: {tokens:,} tokens, {vocab_size:,} words with count >= {min_count}", verbose
        )

        start = time.perf_counter()
        stream = np.memmap(spool, dtype=np.int32, mode="r")
        chunk = max(10_000, budget // (4 * window * _BYTES_PER_ENTRY))
        partitions = max(1, -(-stream.shape[0] * window * 3 * 16 // budget))
        sums = _PartialSums(budget, tmp, partitions)
        carry = np.zeros(0, dtype=np.int32)
        for begin in range(0, stream.shape[0], chunk):
            ids = remap[stream[begin : begin + chunk]]
            ids = ids[ids != _DROPPED]
            sums.add(
                *_chunk_pairs(np.concatenate([carry, ids]), carry.shape[0], window, vocab_size)
            )
            carry = ids[-window:]
            _progress(
                f"glove: co-occurrences {min(begin + chunk, stream.shape[0]):,}"
                f"/{stream.shape[0]:,} stream entries",
                verbose,
            )
        rows = [np.zeros(0, np.int32)]
        cols = [np.zeros(0, np.int32)]
        values = [np.zeros(0, np.float32)]
        for keys, total in sums.merged():
            low, high = (keys // vocab_size).astype(np.int32), (keys % vocab_size).astype(np.int32)
            off = low != high
            rows += [low, high[off]]
            cols += [high, low[off]]
            values += [total.astype(np.float32), total[off].astype(np.float32)]
        del stream
        seconds["cooccurrence"] = time.perf_counter() - start
    result = Cooccurrences(
        words=words,
        counts=counts[order],
        rows=np.concatenate(rows),
        cols=np.concatenate(cols),
        values=np.concatenate(values),
        tokens=tokens,
        seconds=seconds,
    )
    _progress(
        f"glove: {result.nnz:,} non-zero co-occurrences ({sums.spills} spills to disk)", verbose
    )
    return result

"""`SortedWords`: a sorted word list kept as UTF-8 bytes and offsets, searched in place."""

import bisect

import numpy as np


class SortedWords:
    """The words of a lexicon in code-point order, as one UTF-8 buffer and its offsets.

    UTF-8 byte order is code-point order, so the bytes are binary-searched where
    they lie (a memory-mapped array file) and only the words looked at are decoded:
    loading costs nothing per word, which a list of 45k Python strings does not.

    Args:
        data: the words' UTF-8 bytes, concatenated in order (a uint8 array).
        offsets: `len(words) + 1` uint32 offsets into `data`.
    """

    def __init__(self, data, offsets):
        self._data = memoryview(np.ascontiguousarray(data, dtype=np.uint8))
        self._offsets = offsets
        self._keys = _ByteKeys(self)

    @classmethod
    def from_words(cls, words):
        """`(SortedWords, order)` of any words: `order[i]` is the input index of word i."""
        encoded = [w.encode("utf-8") for w in words]
        order = sorted(range(len(encoded)), key=encoded.__getitem__)
        data = b"".join(encoded[i] for i in order)
        offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
        np.cumsum([len(encoded[i]) for i in order], out=offsets[1:])
        return cls(np.frombuffer(data, dtype=np.uint8), offsets), np.asarray(order, dtype=np.int64)

    @property
    def data(self):
        return np.frombuffer(self._data, dtype=np.uint8)

    @property
    def offsets(self):
        return self._offsets

    def __len__(self):
        return len(self._offsets) - 1

    def raw(self, i):
        """Word i's UTF-8 bytes."""
        return bytes(self._data[int(self._offsets[i]) : int(self._offsets[i + 1])])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"word index out of range. Received: {i}")
        return self.raw(i).decode("utf-8")

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def index_of(self, word):
        """The index of `word`, or -1."""
        key = word.encode("utf-8")
        i = bisect.bisect_left(self._keys, key)
        return i if i < len(self) and self.raw(i) == key else -1

    def __contains__(self, word):
        return self.index_of(word) >= 0

    def range(self, prefix):
        """`(lo, hi)`: the words starting with `prefix` are words `lo..hi-1`."""
        if not prefix:
            return 0, len(self)
        key = prefix.encode("utf-8")
        lo = bisect.bisect_left(self._keys, key)
        # 0xff never occurs in UTF-8: every word starting with `key` sorts before key + 0xff.
        return lo, bisect.bisect_left(self._keys, key + b"\xff", lo)

    def longest_bytes(self):
        """The longest word's length in bytes: a bound on any word's length in characters."""
        return int(np.diff(self._offsets.astype(np.int64)).max(initial=0))


class _ByteKeys:
    """The words as bytes, for `bisect` (which needs only `len` and indexing)."""

    def __init__(self, words):
        self._words = words

    def __len__(self):
        return len(self._words)

    def __getitem__(self, i):
        return self._words.raw(i)

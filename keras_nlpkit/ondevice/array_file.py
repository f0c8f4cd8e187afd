"""The array file: named little-endian arrays in one file, read without parsing.

Count tables and lexicons ship in this format so that a phone maps them and
binary-searches them where they lie, instead of building dictionaries at load
(0.6 s and 170 MB for the query completer's counts as text). Layout:

    bytes 0..7    b"NLPKARR1"
    bytes 8..11   header length H, uint32 little-endian
    bytes 12..    H bytes of UTF-8 JSON:
                  {"arrays": {name: {"dtype": "<u4", "offset": o, "length": n}},
                   "meta": {...}}
    then          each array's n items at byte offset o (a multiple of 8)

dtypes are `|u1`, `<u2`, `<u4`, `<i4`, `<u8` and `<f8`: what a JavaScript typed
array reads on any little-endian device. `ondevice-js/src/array_file.ts` reads the
same files.
"""

import json
import mmap
from pathlib import Path

import numpy as np

from keras_nlpkit.errors import UserInputError

MAGIC = b"NLPKARR1"
DTYPES = ("|u1", "<u2", "<u4", "<i4", "<u8", "<f8")


def array_file_bytes(arrays, meta=None):
    """The bytes of an array file holding `arrays` (`{name: 1-D array}`) and `meta`."""
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    for name, a in arrays.items():
        if a.ndim != 1 or a.dtype.newbyteorder("<").str not in DTYPES:
            raise ValueError(
                f"array {name!r} must be 1-D of one of {DTYPES}. "
                f"Received: shape={a.shape}, dtype={a.dtype}"
            )

    def header(offsets):
        entries = {
            name: {
                "dtype": a.dtype.newbyteorder("<").str,
                "offset": offsets[name],
                "length": len(a),
            }
            for name, a in arrays.items()
        }
        return json.dumps({"arrays": entries, "meta": meta or {}}, sort_keys=True).encode()

    # Offsets depend on the header's length and the header on the offsets: pad the
    # header to a fixed point (offset digits only grow, so this converges in a few rounds).
    offsets = {name: 0 for name in arrays}
    while True:
        position = _aligned(len(MAGIC) + 4 + len(header(offsets)))
        placed = {}
        for name, a in arrays.items():
            placed[name] = position
            position = _aligned(position + a.nbytes)
        if placed == offsets:
            break
        offsets = placed
    text = header(offsets)
    out = bytearray(position)
    out[: len(MAGIC)] = MAGIC
    out[len(MAGIC) : len(MAGIC) + 4] = len(text).to_bytes(4, "little")
    out[len(MAGIC) + 4 : len(MAGIC) + 4 + len(text)] = text
    for name, a in arrays.items():
        out[offsets[name] : offsets[name] + a.nbytes] = a.astype(
            a.dtype.newbyteorder("<")
        ).tobytes()
    return bytes(out)


def _aligned(offset):
    return (offset + 7) // 8 * 8


def map_file(path):
    """A read-only memory map of `path` (bytes for an empty file, which cannot be mapped)."""
    with open(path, "rb") as f:
        if Path(path).stat().st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def read_array_file(buffer, source):
    """`(arrays, meta)` of an array file's bytes or memory map: numpy views, no copies.

    `source` names the file in errors: a file that is not one, or whose arrays run
    past its end, is refused with a `UserInputError`.
    """
    size = len(buffer)
    if size < len(MAGIC) + 4 or bytes(buffer[: len(MAGIC)]) != MAGIC:
        raise UserInputError(f"{source}: not a keras-nlpkit array file (no {MAGIC!r} header)")
    length = int.from_bytes(buffer[len(MAGIC) : len(MAGIC) + 4], "little")
    try:
        header = json.loads(bytes(buffer[len(MAGIC) + 4 : len(MAGIC) + 4 + length]))
        entries, meta = header["arrays"], header["meta"]
        arrays = {}
        for name, entry in entries.items():
            dtype = np.dtype(entry["dtype"]) if entry["dtype"] in DTYPES else None
            offset, count = int(entry["offset"]), int(entry["length"])
            if dtype is None or offset % 8 or offset + count * dtype.itemsize > size:
                raise ValueError(name)
            arrays[name] = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserInputError(f"{source}: the array file's header is damaged") from None
    return arrays, meta


def require(arrays, names, source):
    """`arrays[name]` for each name, or a `UserInputError` naming the first one missing."""
    missing = [name for name in names if name not in arrays]
    if missing:
        raise UserInputError(f"{source}: the array file has no {missing[0]!r} array")
    return [arrays[name] for name in names]

/**
 * The array file (named little-endian arrays, read in place), as
 * `keras_nlpkit/ondevice/array_file.py` writes it: `NLPKARR1`, a uint32 header
 * length, a JSON header `{"arrays": {name: {dtype, offset, length}}, "meta": {...}}`,
 * then each array at an 8-byte-aligned offset. Typed arrays view the bytes; nothing
 * is parsed per item.
 */
import {UserInputError} from './errors.js';

const MAGIC = 'NLPKARR1';

export type IntArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

const VIEWS: Record<string, (b: ArrayBuffer, offset: number, length: number) => IntArray> = {
  '|u1': (b, o, n) => new Uint8Array(b, o, n),
  '<u2': (b, o, n) => new Uint16Array(b, o, n),
  '<u4': (b, o, n) => new Uint32Array(b, o, n),
  '<i4': (b, o, n) => new Int32Array(b, o, n),
  '<f8': (b, o, n) => new Float64Array(b, o, n),
  // Keys past 2^32 (a lexicon over 65,535 words): exact as doubles below 2^53.
  '<u8': (b, o, n) => Float64Array.from(new BigUint64Array(b, o, n), Number),
};
const ITEM_BYTES: Record<string, number> = {'|u1': 1, '<u2': 2, '<u4': 4, '<i4': 4, '<f8': 8, '<u8': 8};

export interface ArrayFile {
  arrays: Map<string, IntArray>;
  meta: Record<string, unknown>;
}

/** The arrays and meta of an array file; `source` names it in errors. */
export function readArrayFile(data: Uint8Array, source: string): ArrayFile {
  if (data.length < 12 || new TextDecoder().decode(data.subarray(0, 8)) !== MAGIC) {
    throw new UserInputError(`${source}: not a keras-nlpkit array file (no b'${MAGIC}' header)`);
  }
  // Typed arrays need aligned offsets in their buffer: copy once if the bytes sit unaligned.
  const bytes = data.byteOffset % 8 === 0 ? data : data.slice();
  const damaged = () => new UserInputError(`${source}: the array file's header is damaged`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(8, true);
  let header: {arrays: Record<string, {dtype: string; offset: number; length: number}>; meta: Record<string, unknown>};
  try {
    header = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(bytes.subarray(12, 12 + length)));
  } catch {
    throw damaged();
  }
  if (typeof header?.arrays !== 'object' || typeof header?.meta !== 'object' || header.meta === null) throw damaged();
  const arrays = new Map<string, IntArray>();
  for (const [name, entry] of Object.entries(header.arrays)) {
    const view = VIEWS[entry?.dtype];
    const {offset, length: count} = entry ?? {};
    if (!view || !Number.isInteger(offset) || !Number.isInteger(count) || offset % 8) throw damaged();
    if (offset + count * ITEM_BYTES[entry.dtype] > bytes.length) throw damaged();
    arrays.set(name, view(bytes.buffer as ArrayBuffer, bytes.byteOffset + offset, count));
  }
  return {arrays, meta: header.meta};
}

/** `arrays.get(name)` for each name, or an error naming the first one missing. */
export function requireArrays(file: ArrayFile, names: readonly string[], source: string): IntArray[] {
  return names.map((name) => {
    const a = file.arrays.get(name);
    if (a === undefined) throw new UserInputError(`${source}: the array file has no '${name}' array`);
    return a;
  });
}

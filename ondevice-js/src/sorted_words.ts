/**
 * A sorted word list kept as UTF-8 bytes and offsets, searched in place, as
 * `keras_nlpkit/ondevice/sorted_words.py`: UTF-8 byte order is code-point order
 * (Python's string order), and only the words looked at are decoded.
 */
const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export class SortedWords {
  constructor(
    private readonly data: Uint8Array,
    private readonly offsets: Uint32Array | Uint16Array,
  ) {}

  get length(): number {
    return this.offsets.length - 1;
  }

  raw(i: number): Uint8Array {
    return this.data.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  get(i: number): string {
    return decoder.decode(this.raw(i));
  }

  private lowerBound(key: Uint8Array, lo: number): number {
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.raw(mid), key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The index of `word`, or -1. */
  indexOf(word: string): number {
    const key = encoder.encode(word);
    const i = this.lowerBound(key, 0);
    return i < this.length && compareBytes(this.raw(i), key) === 0 ? i : -1;
  }

  /** `[lo, hi)`: the words starting with `prefix`. */
  range(prefix: string): [number, number] {
    if (!prefix) return [0, this.length];
    const key = encoder.encode(prefix);
    const lo = this.lowerBound(key, 0);
    const past = new Uint8Array(key.length + 1);
    past.set(key);
    past[key.length] = 0xff; // never in UTF-8: after every word starting with `key`
    return [lo, this.lowerBound(past, lo)];
  }

  /** The longest word in bytes: a bound on any word's length in code points. */
  longestBytes(): number {
    let longest = 0;
    for (let i = 0; i < this.length; i++) longest = Math.max(longest, this.offsets[i + 1] - this.offsets[i]);
    return longest;
  }
}

/**
 * `lexicon.tsv` (UTF-8 `word<TAB>count` lines) and prefix search over it, as
 * `keras_nlpkit/ondevice/lexicon.py`: words sorted by Unicode code point (Python's
 * string order, not JavaScript's UTF-16 one), a prefix's words found by two binary
 * searches.
 */
import {UserInputError} from './errors.js';

export const LEXICON_FILE = 'lexicon.tsv';

/** Python's `str` order: by code point. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const surrogateX = x >= 0xd800 && x <= 0xdfff;
      const surrogateY = y >= 0xd800 && y <= 0xdfff;
      if (surrogateX !== surrogateY) return surrogateX ? 1 : -1; // astral > any BMP unit
      return x - y;
    }
  }
  return a.length - b.length;
}

/** The code-point length of a string (Python's `len`). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** `[word, count]` pairs in file order, from the bytes of a lexicon file. */
export function parseLexicon(data: Uint8Array, source: string): [string, number][] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(data);
  } catch {
    throw new UserInputError(`${source}: not UTF-8 text`);
  }
  const entries = new Map<string, number>();
  const lines = text.split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === '') lines.pop(); // the final newline
  lines.forEach((line, i) => {
    const tab = line.lastIndexOf('\t');
    const word = tab < 0 ? '' : line.slice(0, tab);
    const count = tab < 0 ? '' : line.slice(tab + 1);
    if (!word || !/^[0-9]+$/.test(count)) {
      throw new UserInputError(
        `${source}: line ${i + 1} is not \`word<TAB>count\`. Received: ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    entries.set(word, Number(count));
  });
  if (entries.size === 0) throw new UserInputError(`${source}: the lexicon is empty`);
  return [...entries];
}

function lowerBound(words: string[], key: string, lo: number): number {
  let hi = words.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareCodePoints(words[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Lexicon {
  readonly words: string[];
  readonly counts: Float64Array;
  readonly index: Map<string, number>;
  readonly longest: number;

  constructor(entries: [string, number][]) {
    const order = entries.map((_, i) => i).sort((a, b) => compareCodePoints(entries[a][0], entries[b][0]));
    this.words = order.map((i) => entries[i][0]);
    this.counts = Float64Array.from(order, (i) => entries[i][1]);
    this.index = new Map(this.words.map((word, i) => [word, i]));
    this.longest = this.words.reduce((m, w) => Math.max(m, codePointLength(w)), 0);
  }

  get size(): number {
    return this.words.length;
  }

  /** `[lo, hi)`: the words starting with `prefix` are `words.slice(lo, hi)`. */
  range(prefix: string): [number, number] {
    if (!prefix) return [0, this.words.length];
    const lo = lowerBound(this.words, prefix, 0);
    return [lo, lowerBound(this.words, prefix + '\u{10ffff}', lo)];
  }
}

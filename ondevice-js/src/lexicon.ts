/**
 * `lexicon.tsv` (UTF-8 `word<TAB>count` lines), as `keras_nlpkit/ondevice/lexicon.py`
 * reads it. The query completer's sorted lexicon is `SortedWords`, in `completion.bin`.
 */
import {UserInputError} from './errors.js';

export const LEXICON_FILE = 'lexicon.tsv';

/** Python's `str` order: by code point (UTF-16 order would put U+1F600 before U+FF21). */
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

/** Python's tuple order over string tuples (a tuple before any longer one it starts). */
export function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareCodePoints(a[i], b[i]);
    if (c !== 0) return c;
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

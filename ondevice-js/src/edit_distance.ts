/**
 * Edit distances between words, as `keras_nlpkit/ondevice/edit_distance.py`:
 * Damerau-Levenshtein in its optimal-string-alignment form, over code points, and
 * SymSpell's delete keys. Python vectorises over many words; here one word at a time
 * gives the same integers.
 */

/** The code points of a string, as Python indexes it. */
export function codePoints(text: string): number[] {
  return Array.from(text, (ch) => ch.codePointAt(0)!);
}

/** `text` and every string made from it by deleting up to `maxDistance` code points. */
export function deletes(text: string, maxDistance: number): Set<string> {
  const found = new Set([text]);
  let frontier = new Set([text]);
  for (let d = 0; d < maxDistance; d++) {
    const next = new Set<string>();
    for (const x of frontier) {
      const chars = Array.from(x);
      for (let i = 0; i < chars.length; i++) next.add([...chars.slice(0, i), ...chars.slice(i + 1)].join(''));
    }
    for (const x of next) found.add(x);
    frontier = next;
  }
  return found;
}

/** The OSA distance between two code-point arrays. */
export function osaDistance(word: readonly number[], candidate: readonly number[]): number {
  const n = word.length;
  const m = candidate.length;
  let before: number[] | null = null;
  let previous = Array.from({length: m + 1}, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const current = new Array<number>(m + 1);
    current[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = candidate[j - 1] === word[i - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (before !== null && j > 1 && candidate[j - 2] === word[i - 1] && candidate[j - 1] === word[i - 2]) {
        d = Math.min(d, before[j - 2] + 1);
      }
      current[j] = d;
    }
    before = previous;
    previous = current;
  }
  return previous[m];
}

/**
 * SymSpell-style candidates, as `DeletesIndex` in `keras_nlpkit/ondevice/deletes_index.py`:
 * every word's first `prefixLength` code points, with up to `maxDistance` of them
 * deleted, point to the word; a query gathers the words under its own deletes.
 */
import {codePoints, deletes} from './edit_distance.js';

export class DeletesIndex {
  private readonly index = new Map<string, number[]>();
  readonly codes: number[][];

  constructor(
    readonly words: readonly string[],
    readonly maxDistance = 2,
    readonly prefixLength = 7,
  ) {
    const byPrefix = new Map<string, number[]>();
    words.forEach((word, i) => {
      const prefix = Array.from(word).slice(0, prefixLength).join('');
      if (!byPrefix.has(prefix)) byPrefix.set(prefix, []);
      byPrefix.get(prefix)!.push(i);
    });
    for (const [prefix, ids] of byPrefix) {
      for (const key of deletes(prefix, maxDistance)) {
        if (!this.index.has(key)) this.index.set(key, []);
        this.index.get(key)!.push(...ids);
      }
    }
    this.codes = words.map(codePoints);
  }

  /** The ids of the words sharing a delete with `word`, of a length within the
   * distance, ascending (the order every runtime ranks ties in). */
  reachable(word: string): number[] {
    const found = new Set<number>();
    const prefix = Array.from(word).slice(0, this.prefixLength).join('');
    for (const key of deletes(prefix, this.maxDistance)) for (const id of this.index.get(key) ?? []) found.add(id);
    const length = codePoints(word).length;
    return [...found]
      .sort((a, b) => a - b)
      .filter((id) => Math.abs(this.codes[id].length - length) <= this.maxDistance);
  }
}

/**
 * The lexicon as a character trie, as `LexiconTrie` in
 * `keras_nlpkit/ondevice/lexicon_trie.py`: nodes numbered as they are created while
 * the words are inserted in file order, children in the order first seen, so a
 * beam search over it visits candidates in the same order in every runtime.
 */
export class LexiconTrie {
  readonly childChars: number[][] = [[]];
  readonly childNodes: number[][] = [[]];
  readonly words: (string | null)[] = [null];
  readonly wordLogp: number[] = [-Infinity];
  readonly bestLogp: Float64Array;

  /** `lexicon` in file order; `charIds` the model's characters (other words are left out). */
  constructor(lexicon: readonly [string, number][], charIds: Map<string, number>) {
    let total = 0;
    for (const [, count] of lexicon) total += count;
    total = total || 1;
    const children: Map<number, number>[] = [new Map()];
    for (const [word, count] of lexicon) {
      const chars = Array.from(word);
      if (chars.length === 0 || chars.some((c) => !charIds.has(c))) continue;
      let node = 0;
      for (const c of chars) {
        const id = charIds.get(c)!;
        let child = children[node].get(id);
        if (child === undefined) {
          child = children.length;
          children[node].set(id, child);
          children.push(new Map());
          this.wordLogp.push(-Infinity);
          this.words.push(null);
        }
        node = child;
      }
      this.wordLogp[node] = Math.max(this.wordLogp[node], Math.log(Math.max(count, 1) / total));
      this.words[node] = word;
    }
    this.childChars = children.map((c) => [...c.keys()]);
    this.childNodes = children.map((c) => [...c.values()]);
    // Children always have larger ids than their parent: one backward sweep.
    this.bestLogp = Float64Array.from(this.wordLogp);
    for (let node = children.length - 1; node >= 0; node--) {
      for (const child of this.childNodes[node]) this.bestLogp[node] = Math.max(this.bestLogp[node], this.bestLogp[child]);
    }
  }
}

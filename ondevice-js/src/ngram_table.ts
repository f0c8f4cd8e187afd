/**
 * The trigram count model as sorted arrays, as `keras_nlpkit/ondevice/ngram_table.py`
 * (the file layout and the formula are documented there and in docs/ONDEVICE.md):
 * interpolated absolute discounting down to Kneser-Ney's continuation unigram, over
 * the lexicon, `</s>` and `<unk>`. Contexts and followers are binary-searched in the
 * file's own arrays.
 */
import {type IntArray, readArrayFile, requireArrays} from './array_file.js';
import {UserInputError} from './errors.js';
import {SortedWords} from './sorted_words.js';

const ARRAYS = [
  'word_data',
  'word_offsets',
  'word_counts',
  'continuation',
  'bigram_starts',
  'bigram_words',
  'bigram_counts',
  'trigram_contexts',
  'trigram_starts',
  'trigram_words',
  'trigram_counts',
] as const;

interface Level {
  starts: IntArray;
  words: IntArray;
  counts: IntArray;
}

function lowerBound(a: IntArray, key: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class NgramTable {
  readonly words: SortedWords;
  readonly counts: IntArray;
  readonly unigram: Float64Array;
  readonly startId: number;
  readonly endId: number;
  readonly unknownId: number;
  readonly size: number;
  private readonly discount: number;
  private readonly levels: [Level, Level];
  private readonly trigramContexts: IntArray;
  private readonly extras: Map<string, IntArray>;

  constructor(data: Uint8Array, source = 'the n-gram table') {
    const file = readArrayFile(data, source);
    const {meta} = file;
    if (meta.format !== 'ngram-table' || meta.format_version !== 1) {
      throw new UserInputError(
        `${source}: not an n-gram table of format version 1. Received: format=${JSON.stringify(meta.format)}, format_version=${JSON.stringify(meta.format_version)}`,
      );
    }
    const [data_, offsets, counts, continuation, ...rest] = requireArrays(file, ARRAYS, source);
    this.words = new SortedWords(data_ as Uint8Array, offsets as Uint32Array);
    this.counts = counts;
    this.discount = Number(meta.discount);
    const n = this.words.length;
    [this.startId, this.endId, this.unknownId, this.size] = [n, n + 1, n + 2, n + 3];
    if (continuation.length !== this.size || counts.length !== n || rest[0].length !== n + 4) {
      throw new UserInputError(`${source}: the arrays' lengths disagree with the lexicon's`);
    }
    const floor = Number(meta.floor);
    const unigram = Float64Array.from(continuation, (c) => c + floor);
    unigram[this.startId] = 0; // `<s>` is never predicted
    let total = 0;
    for (const p of unigram) total += p;
    this.unigram = unigram.map((p) => p / total);
    this.levels = [
      {starts: rest[0], words: rest[1], counts: rest[2]},
      {starts: rest[4], words: rest[5], counts: rest[6]},
    ];
    this.trigramContexts = rest[3];
    this.extras = file.arrays;
  }

  /** An optional array of the file (e.g. `model_ids`), or undefined. */
  extra(name: string): IntArray | undefined {
    return this.extras.get(name);
  }

  /** A word's id: its lexicon index, `endId` for `</s>`, else -1. */
  indexOf(word: string): number {
    return word === '</s>' ? this.endId : this.words.indexOf(word);
  }

  /** For the bigram then the trigram context: [lo, hi) of its followers, or null. */
  private followers(previousWords: readonly string[]): ([number, number] | null)[] {
    const ids = [this.startId, this.startId];
    for (const word of previousWords.slice(-2)) {
      const i = this.words.indexOf(word);
      ids.push(i >= 0 ? i : this.unknownId);
    }
    const [u, v] = ids.slice(-2);
    const bigrams = this.levels[0].starts;
    const found: ([number, number] | null)[] = [bigrams[v + 1] > bigrams[v] ? [bigrams[v], bigrams[v + 1]] : null];
    const key = u * this.size + v;
    const contexts = this.trigramContexts;
    const at = lowerBound(contexts, key);
    const starts = this.levels[1].starts;
    found.push(at < contexts.length && contexts[at] === key ? [starts[at], starts[at + 1]] : null);
    return found;
  }

  /** For each context seen (the bigram's, then the trigram's): its followers' range,
   * the level's arrays, c(c·) and the back-off weight D·|followers| / c(c·). */
  private seen(previousWords: readonly string[]): {lo: number; hi: number; words: IntArray; counts: IntArray; total: number; backoff: number}[] {
    const found = [];
    for (const [order, range] of this.followers(previousWords).entries()) {
      if (range === null) continue;
      const {words, counts} = this.levels[order];
      const [lo, hi] = range;
      let total = 0;
      for (let j = lo; j < hi; j++) total += counts[j];
      found.push({lo, hi, words, counts, total, backoff: (this.discount * (hi - lo)) / total});
    }
    return found;
  }

  /** P(id | previous words) for every id (`<s>`'s is 0). */
  distribution(previousWords: readonly string[]): Float64Array {
    const p = Float64Array.from(this.unigram);
    for (const {lo, hi, words, counts, total, backoff} of this.seen(previousWords)) {
      for (let i = 0; i < p.length; i++) p[i] *= backoff;
      for (let j = lo; j < hi; j++) p[words[j]] += (counts[j] - this.discount) / total;
    }
    return p;
  }

  /** P(w | the last two previous words) for each lexicon word, in sorted order. */
  probabilities(previousWords: readonly string[]): Float64Array {
    return this.distribution(previousWords).subarray(0, this.startId);
  }

  /** log P(`word` | previous words); a word outside the lexicon gets `<unk>`'s. */
  logprob(previousWords: readonly string[], word: string): number {
    let i = this.indexOf(word);
    if (i < 0) i = this.unknownId;
    let p = this.unigram[i];
    for (const {lo, hi, words, counts, total, backoff} of this.seen(previousWords)) {
      p *= backoff;
      const at = lowerBound(words, i, lo, hi);
      if (at < hi && words[at] === i) p += (counts[at] - this.discount) / total;
    }
    return Math.log(p);
  }
}

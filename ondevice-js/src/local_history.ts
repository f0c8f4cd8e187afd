/**
 * The user's own queries, learnt on the device, as `keras_nlpkit/ondevice/local_history.py`
 * (which documents the rule): n-gram counts with a half-life, capped in size, mixed
 * into the completer by Witten-Bell's weight. The same JSON file format, so a history
 * moves between the two runtimes; this class keeps it in memory and gives and takes
 * the file's text (`toText`, `fromText`): the app stores it (a file, IndexedDB), and
 * nothing here sends it anywhere.
 */

import {compareCodePoints, compareTuples} from './lexicon.js';

const FORMAT = 'nlpkit-local-history';
const START = '<s>';
const END = '</s>';

export interface LocalHistoryOptions {
  halfLife?: number;
  maxGrams?: number;
  maxBytes?: number;
  beta?: number;
  backoffBeta?: number;
}

export class LocalHistory {
  /** Bumped by every change: completers cache by it. */
  version = 0;
  readonly halfLife: number;
  readonly maxGrams: number;
  readonly maxBytes: number;
  readonly beta: number;
  readonly backoffBeta: number;
  private clock = 0;
  // Context words joined by ' ' (its words kept too) → word → weight scaled by 2^(clock / halfLife).
  private followers = new Map<string, {context: string[]; row: Map<string, number>}>();

  constructor(options: LocalHistoryOptions = {}) {
    this.halfLife = options.halfLife ?? 500;
    this.maxGrams = options.maxGrams ?? 20000;
    this.maxBytes = options.maxBytes ?? 2_000_000;
    this.beta = options.beta ?? 1.0;
    this.backoffBeta = options.backoffBeta ?? 30.0;
  }

  // Entries in `followers`: asked at every keystroke, so kept.
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Remember a query the user accepted or submitted. */
  learn(query: string): void {
    const words = query.toLowerCase().split(/\s+/).filter((w) => w.length > 0);
    if (!words.length) return;
    this.clock += 1;
    const scale = 2 ** (this.clock / this.halfLife);
    const padded = [START, START, ...words, END];
    for (let i = 2; i < padded.length; i++) {
      for (const order of [1, 2]) {
        const context = padded.slice(i - order, i);
        const key = context.join(' ');
        if (!this.followers.has(key)) this.followers.set(key, {context, row: new Map()});
        const row = this.followers.get(key)!.row;
        if (!row.has(padded[i])) this.count++;
        row.set(padded[i], (row.get(padded[i]) ?? 0) + scale);
      }
    }
    if (scale > 1e100) this.rescale();
    this.cap();
    this.version++;
  }

  /** `[μ, Map(word → P_user(word | h))]` for the longest context h the user has used. */
  mixture(previousWords: readonly string[]): [number, Map<string, number>] {
    const context = [START, START, ...previousWords].slice(-2);
    const shared = context[0] === START && context[1] === START;
    const unit = 2 ** (this.clock / this.halfLife);
    for (const [h, beta] of [
      [context, shared ? this.backoffBeta : this.beta],
      [context.slice(1), this.backoffBeta],
    ] as [string[], number][]) {
      const entry = this.followers.get(h.join(' '));
      if (entry && entry.row.size) {
        let total = 0;
        for (const c of entry.row.values()) total += c;
        const mu = total / (total + beta * entry.row.size * unit);
        return [mu, new Map([...entry.row].map(([w, c]) => [w, c / total]))];
      }
    }
    return [0, new Map()];
  }

  /** Forget everything (the app deletes what it stored). */
  clear(): void {
    this.followers.clear();
    this.count = 0;
    this.clock = 0;
    this.version++;
  }

  /** The file's text (the app writes it, then renames it over the old one). */
  toText(): string {
    const grams: (string | number)[][] = [];
    for (const {context, row} of this.followers.values()) {
      for (const [word, weight] of row) grams.push([...context, word, weight]);
    }
    return JSON.stringify({format: FORMAT, format_version: 1, clock: this.clock, grams});
  }

  /** A history from a file's text; a damaged or oversized one gives an empty history
   * and a warning (`onWarning`, console.warn by default), never an error. */
  static fromText(
    text: string,
    options: LocalHistoryOptions = {},
    onWarning: (message: string) => void = console.warn,
  ): LocalHistory {
    const history = new LocalHistory(options);
    try {
      if (new TextEncoder().encode(text).length > history.maxBytes) {
        throw new Error(`larger than max_bytes=${history.maxBytes}`);
      }
      const data = JSON.parse(text);
      if (data?.format !== FORMAT || data?.format_version !== 1) {
        throw new Error('not a local history file of format version 1');
      }
      const clock = Number(data.clock);
      if (!Number.isFinite(clock) || clock < 0) throw new Error(`bad clock ${data.clock}`);
      for (const entry of data.grams) {
        const weight = entry[entry.length - 1];
        const word = entry[entry.length - 2];
        const context = entry.slice(0, -2);
        if (entry.length < 3 || context.length > 2 || typeof word !== 'string' || !(weight > 0)) {
          throw new Error(`bad entry ${JSON.stringify(entry)}`);
        }
        const key = context.join(' ');
        if (!history.followers.has(key)) history.followers.set(key, {context, row: new Map()});
        history.followers.get(key)!.row.set(word, Number(weight));
      }
      history.clock = clock;
      for (const {row} of history.followers.values()) history.count += row.size;
    } catch (error) {
      history.followers.clear();
      onWarning(`the local history is unreadable (${(error as Error).message}); starting afresh`);
      return history;
    }
    history.cap();
    return history;
  }

  private rescale(): void {
    const unit = 2 ** (this.clock / this.halfLife);
    for (const {row} of this.followers.values()) for (const [w, c] of row) row.set(w, c / unit);
    this.clock = 0;
  }

  /** Past `maxGrams` entries, drops the lightest down to 90% of it (ties: by context, then word). */
  private cap(): void {
    if (this.size <= this.maxGrams) return;
    const excess = this.size - Math.floor(0.9 * this.maxGrams);
    const entries: [number, string[], string, string][] = [];
    for (const [key, {context, row}] of this.followers) for (const [w, c] of row) entries.push([c, context, w, key]);
    entries.sort((a, b) => a[0] - b[0] || compareTuples(a[1], b[1]) || compareCodePoints(a[2], b[2]));
    for (const [, , word, key] of entries.slice(0, excess)) {
      const entry = this.followers.get(key)!;
      entry.row.delete(word);
      this.count--;
      if (!entry.row.size) this.followers.delete(key);
    }
  }
}

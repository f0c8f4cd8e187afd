/**
 * `channel.json`: how people misspell, log P(typo | word) over single-character
 * edits, as `ChannelModel` in `keras_nlpkit/ondevice/channel_model.py` computes it
 * (docs/ONDEVICE.md, "Spelling correction"): costs -log((edits + α) / (context + α·A)),
 * summed over the cheapest weighted OSA alignment. The table is filled in the
 * same order of operations as the Python one, so both give the same floats.
 */
import {UserInputError} from './errors.js';

export const CHANNEL_FILE = 'channel.json';
const START = '^';
const TABLES = ['sub', 'del', 'ins', 'tra', 'unigram', 'bigram'] as const;

type Matrix = Float64Array[];

export class ChannelModel {
  readonly symbols: Map<string, number>;
  readonly other: number;
  private readonly subCost: Matrix;
  private readonly insCost: Matrix;
  private readonly delCost: Matrix;
  private readonly traCost: Matrix;

  private constructor(alphabet: string, counts: Record<string, number[] | number[][]>, alpha: number) {
    const symbols = Array.from(START + alphabet);
    this.symbols = new Map(symbols.map((c, i) => [c, i]));
    this.other = symbols.length;
    const size = symbols.length + 1;
    const unigram = counts.unigram as number[];
    const cost = (edits: number, context: number) => -Math.log((edits + alpha) / (context + alpha * size));
    const table = (name: string, context: (x: number, y: number) => number): Matrix =>
      (counts[name] as number[][]).map((row, x) => Float64Array.from(row, (e, y) => cost(e, context(x, y))));
    const bigram = counts.bigram as number[][];
    this.subCost = table('sub', (x) => unigram[x]);
    this.subCost.forEach((row, x) => (row[x] = 0.0));
    this.insCost = table('ins', (p) => unigram[p]);
    this.delCost = table('del', (p, x) => bigram[p][x]);
    this.traCost = table('tra', (x, y) => bigram[x][y]);
  }

  /** A channel model from the bytes of `channel.json`; `source` names it in errors. */
  static parse(data: Uint8Array, source: string): ChannelModel {
    let value: {alphabet?: unknown; alpha?: unknown; counts?: Record<string, unknown>};
    try {
      value = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(data));
    } catch (error) {
      throw new UserInputError(`${source}: not a channel model (${(error as Error).message})`);
    }
    const alphabet = value?.alphabet;
    const size = typeof alphabet === 'string' ? Array.from(alphabet).length + 2 : -1;
    const square = (m: unknown) =>
      Array.isArray(m) && m.length === size && m.every((r) => Array.isArray(r) && r.length === size);
    const problem =
      typeof alphabet !== 'string'
        ? 'no alphabet'
        : TABLES.find((name) =>
            name === 'unigram'
              ? !(Array.isArray(value.counts?.[name]) && (value.counts[name] as unknown[]).length === size)
              : !square(value.counts?.[name]),
          );
    if (problem !== undefined) {
      throw new UserInputError(`${source}: not a channel model (${problem} for ${size} symbols)`);
    }
    const alpha = value.alpha === undefined ? 0.5 : Number(value.alpha);
    return new ChannelModel(alphabet as string, value.counts as Record<string, number[][]>, alpha);
  }

  codes(text: string): number[] {
    return Array.from(text, (ch) => this.symbols.get(ch) ?? this.other);
  }

  /** `[log P(typo | word), OSA distance]` of one word (both from one alignment table). */
  logProbAndDistance(typo: readonly number[], word: readonly number[]): [number, number] {
    const width = word.length;
    const shifted = [0, ...word]; // shifted[j] = w[j - 1]; "^" (0) before the first
    // deleted[j]: every one of w[:j] left out, with the channel's costs and unit costs.
    const deleted = new Float64Array(width + 1);
    for (let j = 1; j <= width; j++) deleted[j] = deleted[j - 1] + this.delCost[shifted[j - 1]][word[j - 1]];
    const unitDeleted = Float64Array.from({length: width + 1}, (_, j) => j);
    // Row r = j + 1 is w[:j]; row 0 is +inf.
    let table = new Float64Array(width + 2);
    let unit = new Float64Array(width + 2);
    table[0] = unit[0] = Infinity;
    table.set(deleted, 1);
    unit.set(unitDeleted, 1);
    let before: Float64Array | null = null;
    let unitBefore: Float64Array | null = null;
    const base = new Float64Array(width + 1);
    const unitBase = new Float64Array(width + 1);
    for (let i = 0; i < typo.length; i++) {
      const y = typo[i];
      for (let j = 0; j <= width; j++) {
        const x = shifted[j];
        base[j] = Math.min(table[j] + this.subCost[x][y], table[j + 1] + this.insCost[x][y]);
        unitBase[j] = Math.min(unit[j] + (x === y ? 0 : 1), unit[j + 1] + 1);
      }
      if (i > 0) {
        for (let j = 0; j + 1 < width; j++) {
          if (word[j] === y && word[j + 1] === typo[i - 1]) {
            base[j + 2] = Math.min(base[j + 2], before![j + 1] + this.traCost[word[j]][word[j + 1]]);
            unitBase[j + 2] = Math.min(unitBase[j + 2], unitBefore![j + 1] + 1);
          }
        }
      }
      // Leaving out w[j - 1] is a running minimum of base - deleted, then + deleted.
      const next = new Float64Array(width + 2);
      const unitNext = new Float64Array(width + 2);
      next[0] = unitNext[0] = Infinity;
      let low = Infinity;
      let unitLow = Infinity;
      for (let j = 0; j <= width; j++) {
        low = Math.min(low, base[j] - deleted[j]);
        unitLow = Math.min(unitLow, unitBase[j] - unitDeleted[j]);
        next[j + 1] = low + deleted[j];
        unitNext[j + 1] = unitLow + unitDeleted[j];
      }
      before = table;
      unitBefore = unit;
      table = next;
      unit = unitNext;
    }
    return [-table[width + 1], Math.round(unit[width + 1])];
  }
}

/**
 * Spelling correction in context, decision for decision the same as `SentenceCorrector`
 * in `keras_nlpkit/ondevice/sentence_corrector.py` (its docstring and docs/ONDEVICE.md,
 * "Spelling in context", give the rules):
 *
 *     score(w_1..w_n) = Σ local(w_i) + λ · Σ log P(w_i | w_{i-2} w_{i-1}) + λ · log P(</s> | …)
 *
 * `local` is 0 for a typed word that is a word, −confusion_cost for another member of
 * its confusion set, a misspelling's candidate score minus its best one, and
 * −keep_cost for a non-word the LM knows; a beam over LM states (the last two words)
 * decodes the lattice left to right.
 *
 * Every score is a float64 sum, as in Python (no float32 enters it). Ties go as
 * Python's dicts and stable sorts send them: a state keeps its first arrival unless a
 * later path beats it strictly, equal beams keep their order, and the first of the
 * best final states wins.
 */
import type {NgramTable} from './ngram_table.js';

export const CONTEXT_LM_FILE = 'context_lm.bin';
const END = '</s>';
// Python's `[^\W\d_]`: letters, and numbers that are not decimal digits.
const WORD = /[\p{L}\p{Nl}\p{No}]+(?:['’][\p{L}\p{Nl}\p{No}]+)*/gu;

/** The export's `settings.context` (`sentence_corrector.DEFAULTS` in Python) less
 * `prior_share`, which the word corrector applies to its candidates. */
export interface SentenceSettings {
  lm_weight: number;
  confusion_cost: number;
  max_candidates: number;
  beam_width: number;
  oov_penalty: number;
  keep_cost: number;
}

/** A lattice position: `[word, local score]`, the typed word (or best candidate) first. */
export type Option = [string, number];

/** One word of a sentence. `start` and `end` count code points, as Python's do. */
export interface Decision {
  start: number;
  end: number;
  typed: string;
  output: string;
  changed: boolean;
  options: Option[];
}

/** A misspelling's candidates, best first (empty: the typed word is kept). */
export type Candidates = (word: string) => Promise<[string, number][]>;

/** The form a word is looked up in: lower-case, typographic apostrophes plain. */
export function normalise(word: string): string {
  return word.toLowerCase().replaceAll('’', "'");
}

/** `[start, end, normalised word]` of the words of `text`, in code points. */
export function wordSpans(text: string): [number, number, string][] {
  const spans: [number, number, string][] = [];
  let unit = 0;
  let point = 0; // the code point at UTF-16 offset `unit`
  for (const match of text.matchAll(WORD)) {
    point += Array.from(text.slice(unit, match.index)).length;
    const length = Array.from(match[0]).length;
    spans.push([point, point + length, normalise(match[0])]);
    unit = match.index + match[0].length;
    point += length;
  }
  return spans;
}

// Python's str.isupper: a cased character, and none lower-case or title-case.
function isUpper(text: string): boolean {
  return /\p{Uppercase}/u.test(text) && !/[\p{Lowercase}\p{Lt}]/u.test(text);
}

/** `word` in the case of `typed` (lower, Title or UPPER). */
export function shapedLike(word: string, typed: string): string {
  if (normalise(typed) === word) return typed;
  const [first, ...rest] = Array.from(typed);
  if (rest.length && isUpper(typed)) return word.toUpperCase();
  if (first !== undefined && isUpper(first)) {
    const [head, ...tail] = Array.from(word);
    return (head ?? '').toUpperCase() + tail.join('');
  }
  return word;
}

/** `text` with each decision's span replaced by its `output` (decisions in order). */
export function applied(text: string, decisions: readonly Pick<Decision, 'start' | 'end' | 'output'>[]): string {
  const points = Array.from(text);
  const pieces: string[] = [];
  let at = 0;
  for (const {start, end, output} of decisions) {
    pieces.push(points.slice(at, start).join(''), output);
    at = end;
  }
  return pieces.join('') + points.slice(at).join('');
}

interface Beam {
  state: string[]; // the last two words
  score: number;
  path: string[];
}

export class SentenceCorrector {
  readonly lmWeight: number;
  readonly confusionCost: number;
  readonly maxCandidates: number;
  readonly beamWidth: number;
  readonly oovPenalty: number;
  readonly keepCost: number;

  /**
   * @param candidates the word corrector's answers for a lower-case non-word.
   * @param isWord whether a lower-case typed word is spelled right (kept unless a
   *   member of its confusion set wins in context).
   * @param lm the context LM, or null: each word alone (a non-word gets its best
   *   candidate, a word is kept).
   * @param confusions word → the other words of its sets (`confusionIndex`).
   */
  constructor(
    private readonly candidates: Candidates,
    private readonly isWord: (word: string) => boolean,
    readonly lm: NgramTable | null,
    settings: SentenceSettings,
    readonly confusions: Map<string, string[]>,
  ) {
    for (const name of ['max_candidates', 'beam_width'] as const) {
      const value = settings[name];
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`\`${name}\` must be a whole number ≥ 1. Received: ${name}=${value}`);
    }
    for (const name of ['lm_weight', 'confusion_cost', 'oov_penalty', 'keep_cost'] as const) {
      const value = settings[name];
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`\`${name}\` must be finite and ≥ 0. Received: ${name}=${value}`);
    }
    this.lmWeight = settings.lm_weight;
    this.confusionCost = settings.confusion_cost;
    this.maxCandidates = settings.max_candidates;
    this.beamWidth = settings.beam_width;
    this.oovPenalty = settings.oov_penalty;
    this.keepCost = settings.keep_cost;
  }

  /** `text` with its words corrected; everything between words is kept. */
  async correct(text: string): Promise<string> {
    return applied(text, await this.decisions(text));
  }

  /** One decision a word of `text`, in order. */
  async decisions(text: string): Promise<Decision[]> {
    const spans = wordSpans(text);
    const options: Option[][] = [];
    for (const [, , word] of spans) options.push(await this.options(word)); // one model at a time
    const chosen = this.decode(options);
    const points = Array.from(text);
    return spans.map(([start, end, word], i) => {
      const typed = points.slice(start, end).join('');
      return {start, end, typed, output: shapedLike(chosen[i], typed), changed: chosen[i] !== word, options: options[i]};
    });
  }

  /** The lattice's options for a typed lower-case word, the typed word's first. */
  async options(word: string): Promise<Option[]> {
    if (this.isWord(word)) {
      const others = this.lm !== null ? (this.confusions.get(word) ?? []) : [];
      return [[word, 0], ...others.map((other): Option => [other, -this.confusionCost])];
    }
    const found = (await this.candidates(word)).slice(0, this.maxCandidates);
    if (!found.length) return [[word, 0]];
    const top = found[0][1];
    const options = found.map(([w, score]): Option => [w, score - top]);
    // A word the corrector lacks but the LM's real text has ("dlrs") may be meant.
    if (this.lm !== null && this.lm.indexOf(word) >= 0 && !options.some(([w]) => w === word)) {
      options.push([word, -this.keepCost]);
    }
    return options;
  }

  /** The best word of each position's options: a beam over trigram LM states. */
  decode(options: readonly Option[][]): string[] {
    const lm = this.lm;
    if (lm === null || !options.length) return options.map((opts) => opts[0][0]);
    const cache = new Map<string, number>();
    const logprob = (state: string[], word: string): number => {
      const key = [...state, word].join('\0');
      let value = cache.get(key);
      if (value === undefined) {
        value = lm.logprob(state, word);
        if (word !== END && lm.indexOf(word) < 0) value -= this.oovPenalty;
        cache.set(key, value);
      }
      return value;
    };
    // Keyed by state; a Map keeps first-insertion order, as Python's dict does.
    let beams = new Map<string, Beam>([['', {state: [], score: 0, path: []}]]);
    for (const opts of options) {
      const grown = new Map<string, Beam>();
      for (const {state, score, path} of beams.values()) {
        for (const [word, local] of opts) {
          const total = score + local + this.lmWeight * logprob(state, word);
          const next = [...state, word].slice(-2);
          const key = next.join('\0');
          const held = grown.get(key);
          if (held === undefined || total > held.score) grown.set(key, {state: next, score: total, path: [...path, word]});
        }
      }
      const ranked = [...grown].sort((a, b) => b[1].score - a[1].score); // stable
      beams = new Map(ranked.slice(0, this.beamWidth));
    }
    let best: Beam | undefined;
    let bestScore = -Infinity;
    for (const beam of beams.values()) {
      const final = beam.score + this.lmWeight * logprob(beam.state, END);
      if (best === undefined || final > bestScore) [best, bestScore] = [beam, final];
    }
    return best!.path;
  }
}

/**
 * Query completion on LiteRT.js, suggestion for suggestion the same as
 * `QueryCompleter` in `keras_nlpkit/ondevice/query_completer.py` (docs/ONDEVICE.md
 * gives the rules both follow):
 *
 * 1. the words before the one being typed go through the model's streaming
 *    signature from `<s>`, one call a word, from a cached state;
 * 2. the next-word distribution is spread over the lexicon (an out-of-vocabulary
 *    word shares P(<unk>) by its count) and mixed with the shipped counts;
 * 3. the strip is the k best lexicon words starting with the typed characters:
 *    higher score first, equal scores in lexicon (code-point) order.
 *
 * With a spelling corrector (typo-tolerant completion), previous words the model
 * does not know are repaired first, and the typed characters also match lexicon
 * words whose beginning is one edit away, at a fixed log-probability penalty.
 */
import {UserInputError} from './errors.js';
import {codePointLength, compareCodePoints, compareTuples} from './lexicon.js';
import type {LocalHistory} from './local_history.js';
import {findExportFolder, readListedFile} from './model_folder.js';
import {NgramTable} from './ngram_table.js';
import {OnDeviceModel, type State} from './on_device_model.js';
import type {SpellingCorrector} from './spelling_corrector.js';
import {WordTokenizer} from './word_tokenizer.js';

export const KIND = 'query-completion';
/** The lexicon, the counts and each word's model id, as sorted arrays (`NgramTable`). */
export const COMPLETION_FILE = 'completion.bin';
/** Past this many previous words, earlier ones are not read (docs/ONDEVICE.md). */
export const MAX_PREVIOUS_WORDS = 64;

/** Lower-case words separated by single spaces (METRICS.md's query form). */
export function normalizeQuery(text: string): string {
  return splitWords(text.toLowerCase()).join(' ');
}

function splitWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Strings one edit from `prefix` (deletions, transpositions, substitutions and
 * insertions of a-z), `prefix` itself left out. */
export function oneEditVariants(prefix: string): Set<string> {
  const chars = Array.from(prefix);
  const variants = new Set<string>();
  for (let i = 0; i <= chars.length; i++) {
    const a = chars.slice(0, i).join('');
    const b = chars.slice(i);
    const rest = b.slice(1).join('');
    if (b.length) variants.add(a + rest);
    if (b.length > 1) variants.add(a + b[1] + b[0] + b.slice(2).join(''));
    for (const c of LETTERS) {
      if (b.length) variants.add(a + c + rest);
      variants.add(a + c + b.join(''));
    }
  }
  variants.delete(prefix);
  return variants;
}

/** log(exp(a) + exp(b)), as NumPy's `logaddexp`. */
function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** A phrase needs this probability for each word past its first (Python's default). */
export const DEFAULT_CONFIDENCE = 0.7;

/** Indices of the k best scores in [lo, hi), best first; equal scores by index. */
export function topInRange(scores: Float64Array, lo: number, hi: number, k: number): number[] {
  const best: number[] = [];
  for (let i = lo; i < hi; i++) {
    const s = scores[i];
    if (best.length === k && !(s > scores[best[k - 1]])) continue;
    let j = best.length < k ? best.length : k - 1;
    while (j > 0 && s > scores[best[j - 1]]) j--;
    if (best.length < k) best.splice(j, 0, i);
    else {
      best.splice(k - 1, 1);
      best.splice(j, 0, i);
    }
  }
  return best;
}

interface Entry {
  state: State;
  logprobs: Float64Array;
  scores: Float64Array | null;
}

export interface QueryCompleterOptions {
  variant?: string;
  /** For typo-tolerant completion. */
  corrector?: SpellingCorrector;
  /** Subtracted from a word matched one edit away (default: the export's setting). */
  typoPenalty?: number;
  /** The shortest prefix matched one edit away. */
  minFuzzyPrefix?: number;
  ngramWeight?: number;
  cacheSize?: number;
  /** The user's own queries, mixed in (its words outside the lexicon are suggested too). */
  history?: LocalHistory;
  argument?: string;
}

export class QueryCompleter {
  private readonly cache = new Map<string, Entry>(); // previous words (joined) → entry
  private readonly oov: Uint8Array;
  private readonly oovShare: Float64Array;
  private readonly tokenIds: Int32Array;
  private readonly corrections = new Map<string, string>();
  corrector: SpellingCorrector | null = null;
  history: LocalHistory | null = null;
  private personal: {key: string; scores: Float64Array; extra: [string, number][]} | null = null;
  typoPenalty: number | null = null;
  minFuzzyPrefix = 2;

  private readonly longest: number;

  private constructor(
    readonly table: NgramTable,
    readonly model: OnDeviceModel,
    readonly tokenizer: WordTokenizer,
    readonly ngramWeight: number,
    private readonly cacheSize: number,
    argument: string,
  ) {
    const modelIds = table.extra('model_ids');
    if (modelIds === undefined) {
      throw new UserInputError(`${argument}: ${COMPLETION_FILE} has no 'model_ids' array`);
    }
    this.tokenIds = Int32Array.from(modelIds);
    this.oov = Uint8Array.from(this.tokenIds, (id) => (id === WordTokenizer.unknownId ? 1 : 0));
    let oovTotal = 0;
    table.counts.forEach((c, i) => (oovTotal += this.oov[i] ? c : 0));
    this.oovShare = Float64Array.from(table.counts, (c, i) =>
      this.oov[i] ? Math.log(Math.max(c, 1e-9) / Math.max(oovTotal, 1.0)) : 0.0,
    );
    this.longest = table.words.longestBytes();
  }

  /** Reads a folder written by `nlpkit train query-completion` (or its `export/`). */
  static async load(modelDir: string, options: QueryCompleterOptions = {}): Promise<QueryCompleter> {
    const argument = options.argument ?? '--model';
    const folder = await findExportFolder(modelDir, KIND, argument);
    const settings = folder.manifest.settings as {ngram_weight: number};
    if (folder.manifest.files?.[COMPLETION_FILE] === undefined) {
      throw new UserInputError(
        `${argument}: this export predates ${COMPLETION_FILE} (keras-nlpkit 0.4); the Python runtime still reads it, or export it again. Received: ${modelDir}`,
      );
    }
    const table = new NgramTable(await readListedFile(folder, COMPLETION_FILE), `${argument}: ${COMPLETION_FILE}`);
    const model = await OnDeviceModel.load(folder, options.variant ?? 'int8');
    const tokenizerFile = folder.manifest.tokenizer;
    if (!tokenizerFile) throw new UserInputError(`${argument}: the model has no tokenizer. Received: ${modelDir}`);
    const tokenizer = WordTokenizer.parse(await readListedFile(folder, tokenizerFile), `${argument}: ${tokenizerFile}`);
    const ngramWeight = Number(options.ngramWeight ?? settings.ngram_weight);
    const completer = new QueryCompleter(table, model, tokenizer, ngramWeight, options.cacheSize ?? 32, argument);
    completer.history = options.history ?? null;
    if (options.corrector) {
      completer.corrector = options.corrector;
      completer.typoPenalty = Number(options.typoPenalty ?? (settings as {typo_penalty?: number}).typo_penalty);
      completer.minFuzzyPrefix = options.minFuzzyPrefix ?? 2;
    }
    return completer;
  }

  /** The previous words the model reads: the last `MAX_PREVIOUS_WORDS` (fewer for a
   * model of a fixed length, a KV cache), so a keystroke's work is bounded. */
  private bounded(previousWords: string[]): string[] {
    const limit = Math.min(MAX_PREVIOUS_WORDS, this.model.maxLength ? this.model.maxLength - 2 : Infinity);
    return previousWords.length > limit ? previousWords.slice(-limit) : previousWords;
  }

  private remember(key: string, entry: Entry): Entry {
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  private async context(previousWords: string[]): Promise<Entry> {
    const key = (n: number) => previousWords.slice(0, n).join(' ');
    let known = previousWords.length;
    while (known >= 0 && !this.cache.has(key(known))) known--;
    let entry: Entry;
    if (known < 0) {
      const {logprobs, state} = await this.model.start([WordTokenizer.startId]);
      entry = this.remember('', {state, logprobs, scores: null});
      known = 0;
    } else {
      entry = this.remember(key(known), this.cache.get(key(known))!);
    }
    for (let length = known + 1; length <= previousWords.length; length++) {
      const token = await this.contextId(previousWords[length - 1]);
      const {logprobs, state} = await this.model.advance(token, entry.state);
      entry = this.remember(key(length), {state, logprobs, scores: null});
    }
    return entry;
  }

  /** A previous word's model id; with a corrector, an unknown word is repaired first. */
  private async contextId(word: string): Promise<number> {
    const token = this.tokenizer.tokenId(word);
    if (token !== WordTokenizer.unknownId || this.corrector === null) return token;
    if (!this.corrections.has(word)) {
      const best = await this.corrector.correct(word, 1);
      this.corrections.set(word, best.length ? best[0][0] : word);
    }
    return this.tokenizer.tokenId(this.corrections.get(word)!);
  }

  /** log P(next word = each lexicon word | previous words), cached per context. */
  async scores(previousWords: string[]): Promise<Float64Array> {
    const words = this.bounded(previousWords);
    const entry = await this.context(words);
    if (entry.scores === null) {
      // Plain loops over typed arrays: this runs over the whole lexicon once a context.
      const lp = entry.logprobs;
      const unknown = lp[WordTokenizer.unknownId];
      const {tokenIds, oov, oovShare} = this;
      const scores = new Float64Array(tokenIds.length);
      for (let i = 0; i < scores.length; i++) {
        scores[i] = oov[i] ? unknown + oovShare[i] : lp[tokenIds[i]];
      }
      if (this.ngramWeight > 0) {
        const counts = this.table.probabilities(words);
        const w = this.ngramWeight;
        for (let i = 0; i < scores.length; i++) {
          scores[i] = Math.log(Math.max((1.0 - w) * Math.exp(scores[i]) + w * counts[i], 1e-30));
        }
      }
      entry.scores = scores;
    }
    if (this.history === null || this.history.size === 0) return entry.scores;
    return this.personalized(words, entry.scores).scores;
  }

  /** The user's history mixed in, cached per context and history version (as Python's
   * `_personalized`): log((1 − μ)P + μP_user) for the user's words, log(1 − μ) added to
   * the others, and the user's words outside the lexicon at log(μ · P_user). */
  private personalized(words: string[], scores: Float64Array): {scores: Float64Array; extra: [string, number][]} {
    const key = `${this.history!.version}\u0000${words.join(' ')}`;
    if (this.personal?.key !== key) {
      const [mu, personal] = this.history!.mixture(words);
      let mixed = scores;
      const extra: [string, number][] = [];
      if (mu > 0) {
        const shift = Math.log1p(-mu);
        mixed = scores.map((s) => s + shift);
        for (const [word, p] of personal) {
          const i = this.table.words.indexOf(word);
          const own = Math.log(mu * p);
          if (i >= 0) mixed[i] = logAddExp(mixed[i], own);
          else if (word !== '</s>') extra.push([word, own]);
        }
      }
      this.personal = {key, scores: mixed, extra};
    }
    return this.personal;
  }

  /** `[word, score]` pairs, best first: the k best words starting with `prefix`. */
  async suggestWords(previousWords: string[], prefix: string, k = 3): Promise<[string, number][]> {
    const scores = await this.scores(previousWords);
    const strip = codePointLength(prefix) > this.longest + 1 ? [] : this.lexiconStrip(scores, prefix, k);
    if (this.history === null || this.history.size === 0) return strip;
    const extra = this.personalized(this.bounded(previousWords), scores).extra.filter(([w]) => w.startsWith(prefix));
    if (!extra.length) return strip;
    return [...strip, ...extra].sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0])).slice(0, k);
  }

  /** The k best lexicon words starting with `prefix` (or one edit from it, typo-tolerant). */
  private lexiconStrip(scores: Float64Array, prefix: string, k: number): [string, number][] {
    const [lo, hi] = this.table.words.range(prefix);
    const best = new Map(topInRange(scores, lo, hi, k).map((i) => [i, scores[i]]));
    if (this.typoPenalty !== null && codePointLength(prefix) >= this.minFuzzyPrefix) {
      for (const variant of oneEditVariants(prefix)) {
        const [from, to] = this.table.words.range(variant);
        for (const i of from < to ? topInRange(scores, from, to, k) : []) {
          const score = scores[i] - this.typoPenalty;
          if (score > (best.get(i) ?? -Infinity)) best.set(i, score);
        }
      }
    }
    return [...best]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, k)
      .map(([i, score]) => [this.table.words.get(i), score]);
  }

  /** Entries of one to `maxWords` words, best first, as Python's `suggest_phrases`:
   * the heads are `suggestWords`' k; an entry grows by the most probable next word
   * while that word's score is at least log(`confidence`); the k best entries by
   * summed log-score, equal scores by spelling. */
  async suggestPhrases(
    previousWords: string[],
    prefix: string,
    k = 3,
    maxWords = 3,
    confidence = DEFAULT_CONFIDENCE,
  ): Promise<[string[], number][]> {
    const found: [string[], number][] = (await this.suggestWords(previousWords, prefix, k)).map(([w, s]) => [[w], s]);
    let frontier = [...found];
    for (let depth = 1; depth < maxWords; depth++) {
      const grown: [string[], number][] = [];
      for (const [words, score] of frontier) {
        const scores = await this.scores([...previousWords, ...words]);
        const [best] = topInRange(scores, 0, scores.length, 1);
        if (scores[best] >= Math.log(confidence)) grown.push([[...words, this.table.words.get(best)], score + scores[best]]);
      }
      found.push(...grown);
      frontier = grown;
    }
    return found.sort((a, b) => b[1] - a[1] || compareTuples(a[0], b[0])).slice(0, k);
  }

  /** Suggestions for the text typed so far (a trailing space: the next word); with
   * `maxWords` > 1, phrases too (`suggestPhrases`), as strings with spaces. */
  async suggest(text: string, k = 3, maxWords = 1): Promise<string[]> {
    const words = splitWords(normalizeQuery(text));
    const last = text.slice(-1);
    const [previous, prefix] =
      /\s/.test(last) || words.length === 0 ? [words, ''] : [words.slice(0, -1), words[words.length - 1]];
    if (maxWords > 1) {
      return (await this.suggestPhrases(previous, prefix, k, maxWords)).map(([entry]) => entry.join(' '));
    }
    return (await this.suggestWords(previous, prefix, k)).map(([word]) => word);
  }
}

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
 * Typo-tolerant completion (`--spelling-model`) needs the spelling corrector, which
 * this package does not have yet: asking for it is an error, not a silent fallback.
 */
import {UserInputError} from './errors.js';
import {InterpolatedNgram, NGRAM_FILE, parseNgrams} from './interpolated_ngram.js';
import {codePointLength, Lexicon, LEXICON_FILE, parseLexicon} from './lexicon.js';
import {findExportFolder, readListedFile} from './model_folder.js';
import {OnDeviceModel, type State} from './on_device_model.js';
import {WordTokenizer} from './word_tokenizer.js';

export const KIND = 'query-completion';

/** Lower-case words separated by single spaces (METRICS.md's query form). */
export function normalizeQuery(text: string): string {
  return splitWords(text.toLowerCase()).join(' ');
}

function splitWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

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
  ngramWeight?: number;
  cacheSize?: number;
  argument?: string;
}

export class QueryCompleter {
  private readonly cache = new Map<string, Entry>(); // previous words (joined) → entry
  private readonly oov: Uint8Array;
  private readonly oovShare: Float64Array;
  private readonly tokenIds: Int32Array;

  private constructor(
    readonly lexicon: Lexicon,
    readonly model: OnDeviceModel,
    readonly tokenizer: WordTokenizer,
    readonly ngram: InterpolatedNgram | null,
    readonly ngramWeight: number,
    private readonly cacheSize: number,
  ) {
    this.tokenIds = Int32Array.from(lexicon.words, (w) => tokenizer.tokenId(w));
    this.oov = Uint8Array.from(this.tokenIds, (id) => (id === WordTokenizer.unknownId ? 1 : 0));
    let oovTotal = 0;
    lexicon.counts.forEach((c, i) => (oovTotal += this.oov[i] ? c : 0));
    this.oovShare = lexicon.counts.map((c, i) =>
      this.oov[i] ? Math.log(Math.max(c, 1e-9) / Math.max(oovTotal, 1.0)) : 0.0,
    );
  }

  /** Reads a folder written by `nlpkit train query-completion` (or its `export/`). */
  static async load(modelDir: string, options: QueryCompleterOptions = {}): Promise<QueryCompleter> {
    const argument = options.argument ?? '--model';
    const folder = findExportFolder(modelDir, KIND, argument);
    const settings = folder.manifest.settings as {ngram_weight: number};
    const lexicon = new Lexicon(parseLexicon(readListedFile(folder, LEXICON_FILE), `${argument}: ${LEXICON_FILE}`));
    const model = await OnDeviceModel.load(folder, options.variant ?? 'int8');
    const tokenizerFile = folder.manifest.tokenizer;
    if (!tokenizerFile) throw new UserInputError(`${argument}: the model has no tokenizer. Received: ${modelDir}`);
    const tokenizer = WordTokenizer.parse(readListedFile(folder, tokenizerFile), `${argument}: ${tokenizerFile}`);
    const ngramWeight = Number(options.ngramWeight ?? settings.ngram_weight);
    let ngram: InterpolatedNgram | null = null;
    if (ngramWeight > 0) {
      const counts = parseNgrams(readListedFile(folder, NGRAM_FILE), `${argument}: ${NGRAM_FILE}`);
      ngram = new InterpolatedNgram(lexicon, counts);
    }
    return new QueryCompleter(lexicon, model, tokenizer, ngram, ngramWeight, options.cacheSize ?? 256);
  }

  /** The previous words a model with a fixed length (a KV cache) can read: the last ones. */
  private bounded(previousWords: string[]): string[] {
    const limit = this.model.maxLength;
    return limit && previousWords.length > limit - 2 ? previousWords.slice(-(limit - 2)) : previousWords;
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
      const token = this.tokenizer.tokenId(previousWords[length - 1]);
      const {logprobs, state} = await this.model.advance(token, entry.state);
      entry = this.remember(key(length), {state, logprobs, scores: null});
    }
    return entry;
  }

  /** log P(next word = each lexicon word | previous words), cached per context. */
  async scores(previousWords: string[]): Promise<Float64Array> {
    const words = this.bounded(previousWords);
    const entry = await this.context(words);
    if (entry.scores === null) {
      const lp = entry.logprobs;
      const unknown = lp[WordTokenizer.unknownId];
      let scores = Float64Array.from(this.tokenIds, (id, i) => (this.oov[i] ? unknown + this.oovShare[i] : lp[id]));
      if (this.ngram !== null) {
        const counts = this.ngram.probabilities(words);
        const w = this.ngramWeight;
        scores = scores.map((s, i) => Math.log(Math.max((1.0 - w) * Math.exp(s) + w * counts[i], 1e-30)));
      }
      entry.scores = scores;
    }
    return entry.scores;
  }

  /** `[word, score]` pairs, best first: the k best words starting with `prefix`. */
  async suggestWords(previousWords: string[], prefix: string, k = 3): Promise<[string, number][]> {
    if (codePointLength(prefix) > this.lexicon.longest + 1) return [];
    const scores = await this.scores(previousWords);
    const [lo, hi] = this.lexicon.range(prefix);
    return topInRange(scores, lo, hi, k).map((i) => [this.lexicon.words[i], scores[i]]);
  }

  /** Suggestions for the text typed so far (a trailing space: the next word). */
  async suggest(text: string, k = 3): Promise<string[]> {
    const words = splitWords(normalizeQuery(text));
    const last = text.slice(-1);
    const [previous, prefix] =
      /\s/.test(last) || words.length === 0 ? [words, ''] : [words.slice(0, -1), words[words.length - 1]];
    return (await this.suggestWords(previous, prefix, k)).map(([word]) => word);
  }
}

/**
 * Single-word spelling correction on LiteRT.js, correction for correction the same
 * as `SpellingCorrector` in `keras_nlpkit/ondevice/spelling_corrector.py`
 * (docs/ONDEVICE.md, "Spelling correction", gives the rules both follow):
 *
 * 1. candidates: the lexicon words within the edit distance (a deletes index, ranked
 *    by λ·log P_freq + γ·log P_channel − μ·distance), and the typed word itself when
 *    it is a word; when none is that close, a beam search over the lexicon trie;
 * 2. each candidate is scored teacher-forced by the seq2seq model (`encode` once,
 *    `decode_step` once a distinct prefix), plus the frequency and channel terms;
 * 3. best first, equal scores in candidate order.
 *
 * Sentences (`correctSentence`, `nlpkit-ondevice correct --context`): a
 * `SentenceCorrector` rescores each word's candidates, and its real-word confusions,
 * with the export's word trigram LM (`context_lm.bin`, written when the model was
 * trained with `--context-corpus`), as `correct_sentence` does in Python.
 */
import {ChannelModel, CHANNEL_FILE} from './channel_model.js';
import {confusionIndex, CONFUSION_SETS_KEY, parseConfusionSets} from './confusion_sets.js';
import {correctorSettings, type CorrectorSettings} from './corrector_settings.js';
import {DeletesIndex} from './deletes_index.js';
import {codePoints, osaDistance} from './edit_distance.js';
import {UserInputError} from './errors.js';
import {LEXICON_FILE, parseLexicon} from './lexicon.js';
import {LexiconTrie} from './lexicon_trie.js';
import {compileModel} from './litert.js';
import {findExportFolder, readListedFile, type ExportFolder} from './model_folder.js';
import {NgramTable} from './ngram_table.js';
import {logSoftmax} from './on_device_model.js';
import {checkDeclaredTensors, Signature} from './signature.js';
import {readVocabulary} from './tokenizer_file.js';
import {CONTEXT_LM_FILE, SentenceCorrector, type Decision, type SentenceSettings} from './sentence_corrector.js';

export const KIND = 'spelling';
export const KNOWN_WORDS_FILE = 'known_words.tsv';

/** Words to search, with what ranking them needs (the lexicon, or the known words). */
interface Shelf {
  words: string[];
  logp: Float64Array;
  codes: number[][]; // channel symbols of each word
  index: DeletesIndex | null;
}

type Encoded = Record<string, Float32Array | Int32Array>;

/** Overrides of the export's context settings (`settings.context` of its manifest). */
export type ContextSettings = Partial<SentenceSettings & {prior_share: number}>;
const CONTEXT_KEYS = ['lm_weight', 'confusion_cost', 'prior_share', 'max_candidates', 'beam_width', 'oov_penalty', 'keep_cost'] as const;

export interface SpellingCorrectorOptions {
  variant?: string;
  argument?: string;
}

export class SpellingCorrector {
  private readonly shelves: Shelf[] = [];
  private readonly wordLogp = new Map<string, number>();
  private readonly knownLogp = new Map<string, number>();
  private readonly trie: LexiconTrie;
  private readonly longest: number;
  private readonly units: number;
  private readonly maxLength: number;
  private contextTable?: Promise<NgramTable>;
  private sentences?: Promise<SentenceCorrector>;

  private constructor(
    readonly settings: CorrectorSettings,
    readonly vocabulary: Map<string, number>,
    known: [string, number][],
    private readonly charIds: Map<string, number>,
    private readonly ids: {pad: number; start: number; end: number},
    readonly channel: ChannelModel,
    private readonly encoder: Signature,
    private readonly decoder: Signature,
    private readonly folder: ExportFolder,
  ) {
    const lexicon = [...vocabulary];
    this.trie = new LexiconTrie(lexicon, charIds);
    const spellable = (w: string) => Array.from(w).every((c) => charIds.has(c));
    let total = 0;
    for (const [, count] of lexicon) total += count;
    total = total || 1;
    const logp = (n: number) => Math.log(Math.max(n, 1) / total);
    const inTrie = new Set(this.trie.words.filter((w) => w !== null));
    const words = lexicon.map(([w]) => w).filter((w) => inTrie.has(w));
    for (const w of words) this.wordLogp.set(w, logp(vocabulary.get(w)!));
    for (const [w, n] of known) {
      if (!this.wordLogp.has(w) && spellable(w)) this.knownLogp.set(w, logp(n));
    }
    this.shelves.push(this.shelf(words, this.wordLogp));
    if (this.knownLogp.size) this.shelves.push(this.shelf([...this.knownLogp.keys()], this.knownLogp));
    this.longest = Math.max(0, ...[...words, ...this.knownLogp.keys()].map((w) => codePoints(w).length));
    this.units = decoder.shapes.get('decoder_lstm_h')![1];
    this.maxLength = encoder.shapes.get('chars')![1];
  }

  /** Reads a folder written by `nlpkit train spelling` (or its `export/`). */
  static async load(modelDir: string, options: SpellingCorrectorOptions = {}): Promise<SpellingCorrector> {
    const argument = options.argument ?? '--model';
    const folder = await findExportFolder(modelDir, KIND, argument);
    const stored = folder.manifest.settings as {decoding: Record<string, unknown>; pad_id: number; start_id: number; end_id: number};
    let settings = correctorSettings(stored.decoding ?? {}, `${argument}: manifest.json`);
    if (!settings.edit_distance) settings = {...settings, channel_weight: 0}; // the beam search alone
    const variant = options.variant ?? 'dynamic_int8';
    const file = folder.manifest.variants?.[variant];
    if (file === undefined) {
      throw new UserInputError(
        `${argument}: no ${variant} model in the export (it has ${Object.keys(folder.manifest.variants ?? {}).sort().join(', ') || 'none'}). Received: ${folder.directory}`,
      );
    }
    const content = await readListedFile(folder, file);
    const compiled = await compileModel(content, `${argument}: ${file}`);
    checkDeclaredTensors(compiled, folder.manifest, variant, `${argument}: ${file}`);
    const signatures = compiled.signatures;
    const missing = ['encode', 'decode_step'].filter((name) => !(name in signatures));
    if (missing.length) {
      throw new UserInputError(`${argument}: ${file} lacks the signatures ${JSON.stringify(missing)}. Received: ${folder.directory}`);
    }
    const tokenizerFile = folder.manifest.tokenizer ?? 'tokenizer.json';
    const vocabulary = parseCharacters(await readListedFile(folder, tokenizerFile), `${argument}: ${tokenizerFile}`);
    const charIds = new Map<string, number>();
    vocabulary.forEach((c, i) => i > 0 && charIds.set(c, i));
    const channel = ChannelModel.parse(await readListedFile(folder, CHANNEL_FILE), `${argument}: ${CHANNEL_FILE}`);
    const lexicon = new Map(parseLexicon(await readListedFile(folder, LEXICON_FILE), `${argument}: ${LEXICON_FILE}`));
    const known =
      KNOWN_WORDS_FILE in folder.manifest.files
        ? parseLexicon(await readListedFile(folder, KNOWN_WORDS_FILE), `${argument}: ${KNOWN_WORDS_FILE}`)
        : [];
    return new SpellingCorrector(
      settings,
      lexicon,
      known,
      charIds,
      {pad: stored.pad_id, start: stored.start_id, end: stored.end_id},
      channel,
      new Signature(signatures.encode, 'encode', file, content),
      new Signature(signatures.decode_step, 'decode_step', file, content),
      folder,
    );
  }

  private shelf(words: string[], logp: Map<string, number>): Shelf {
    return {
      words,
      logp: Float64Array.from(words, (w) => logp.get(w)!),
      codes: words.map((w) => this.channel.codes(w)),
      index: this.settings.edit_distance ? new DeletesIndex(words, this.settings.edit_distance) : null,
    };
  }

  /** Up to k words for `word`, best first: `[word, score]` pairs. The input is
   * lower-cased; the answers follow its case (Title, UPPER). */
  async correct(word: string, k = 5): Promise<[string, number][]> {
    const text = word.trim();
    const lowered = text.toLowerCase();
    if (!Array.from(lowered).some((c) => this.charIds.has(c))) return [];
    let results = (await this.candidates(lowered, k)).slice(0, k);
    const first = Array.from(text)[0];
    if (first !== first.toLowerCase() && first === first.toUpperCase()) {
      const upper = codePoints(text).length > 1 && text === text.toUpperCase() && text !== text.toLowerCase();
      const shape = upper
        ? (w: string) => w.toUpperCase()
        : (w: string) => {
            const [head, ...rest] = Array.from(w);
            return head.toUpperCase() + rest.join('').toLowerCase();
          };
      results = results.map(([w, s]) => [shape(w), s]);
    }
    return results;
  }

  /** Whether a lower-case word is a lexicon or known word (typed, it is kept). */
  isWord(word: string): boolean {
    return this.wordLogp.has(word) || this.knownLogp.has(word);
  }

  /** The export's word trigram LM (`context_lm.bin`), read once. A folder trained
   * without `--context-corpus` has none: the error names the file, as Python's. */
  async contextLm(): Promise<NgramTable> {
    const {argument, directory, manifest} = this.folder;
    if (!(CONTEXT_LM_FILE in manifest.files)) {
      throw new UserInputError(
        `${argument}: this export has no ${CONTEXT_LM_FILE} (the word LM that sentence correction needs); train or re-export it with ` +
          `\`nlpkit train spelling --context-corpus FILE[,FILE...]\`. Received: ${directory}`,
      );
    }
    this.contextTable ??= readListedFile(this.folder, CONTEXT_LM_FILE).then((data) => new NgramTable(data, `${argument}: ${CONTEXT_LM_FILE}`));
    return this.contextTable;
  }

  /** A `SentenceCorrector` over this corrector's candidates, with the context LM, the
   * manifest's context settings (`overrides` replace some) and confusion sets. Python's
   * `sentence_corrector(context=False)`, the word-by-word baseline, has no counterpart. */
  async sentenceCorrector(overrides: ContextSettings = {}): Promise<SentenceCorrector> {
    const lm = await this.contextLm();
    const {argument, directory, manifest} = this.folder;
    const source = `${argument}: manifest.json`;
    const stored = (manifest.settings.context ?? {}) as Record<string, unknown>;
    if (!(CONFUSION_SETS_KEY in stored)) {
      // Python falls back to its own sets here; this runtime keeps no copy of them.
      throw new UserInputError(
        `${source}: settings.context has no ${CONFUSION_SETS_KEY} (exports written before they were stored lack them); re-export it with ` +
          `\`nlpkit train spelling --context-corpus FILE[,FILE...]\`. Received: ${directory}`,
      );
    }
    const merged = {...stored, ...overrides} as Record<string, unknown>;
    for (const key of CONTEXT_KEYS) {
      if (typeof merged[key] !== 'number') throw new UserInputError(`${source}: settings.context.${key} must be a number. Received: ${JSON.stringify(merged[key])}`);
    }
    const settings = merged as unknown as SentenceSettings & {prior_share: number};
    const sets = parseConfusionSets(stored[CONFUSION_SETS_KEY], source);
    // The LM knows frequency too: `prior_share` of the unigram prior may go.
    const priorShare = settings.prior_share;
    const priorWeight = this.settings.edit_distance ? this.settings.prior_weight : 0;
    const k = settings.max_candidates;
    const candidates = async (word: string): Promise<[string, number][]> => {
      if (!Array.from(word).every((c) => this.charIds.has(c))) return []; // left as typed
      return (await this.candidates(word, k))
        .slice(0, k)
        .map(([w, score]) => [w, score - priorShare * priorWeight * (this.wordLogp.get(w) ?? this.knownLogp.get(w)!)]);
    };
    return new SentenceCorrector(candidates, (word) => this.isWord(word), lm, settings, confusionIndex(sets));
  }

  /** `text` with its words corrected in context (`SentenceCorrector`). */
  async correctSentence(text: string): Promise<string> {
    return (await this.inContext()).correct(text);
  }

  /** Per-word decisions of `correctSentence` (`SentenceCorrector.decisions`). */
  async sentenceDecisions(text: string): Promise<Decision[]> {
    return (await this.inContext()).decisions(text);
  }

  private inContext(): Promise<SentenceCorrector> {
    this.sentences ??= this.sentenceCorrector();
    return this.sentences;
  }

  /** Every candidate for a lower-case word, best first: `[word, score]`. */
  async candidates(typed: string, k = 5): Promise<[string, number][]> {
    const settings = this.settings;
    const word = Array.from(typed).slice(0, this.longest + settings.edit_distance + 1).join('');
    const isWord = this.shelves[0].index !== null && (this.wordLogp.has(word) || this.knownLogp.has(word));
    const [extra, distance, channel] = this.near(word, settings.max_candidates - (isWord ? 1 : 0));
    let found = new Map<string, number>();
    let encoded: Encoded;
    if (extra.length || isWord) encoded = await this.encode(word);
    else [found, encoded] = await this.search(word, k);
    if (isWord) {
      extra.push(word);
      distance.set(word, 0);
      channel.set(word, 0.0);
    }
    if (extra.length) {
      const logps = await this.teacherForced(encoded, extra);
      extra.forEach((w, i) => found.set(w, logps[i]));
    }
    const typo = codePoints(word);
    const typoSymbols = this.channel.codes(word);
    for (const w of found.keys()) {
      if (settings.edit_distance && !distance.has(w)) distance.set(w, osaDistance(typo, codePoints(w)));
      if (settings.channel_weight && !channel.has(w)) {
        channel.set(w, this.channel.logProbAndDistance(typoSymbols, this.channel.codes(w))[0]);
      }
    }
    const priorWeight = settings.edit_distance ? settings.prior_weight : settings.search_prior_weight;
    const scored: [string, number][] = [];
    for (const [w, modelLogp] of found) {
      const prior = this.wordLogp.get(w) ?? this.knownLogp.get(w)!;
      let score = this.score(modelLogp, codePoints(w).length + 1, prior, priorWeight);
      if (settings.edit_distance) {
        score -= settings.distance_weight * distance.get(w)!;
        if (w === word) score += settings.input_bonus;
      }
      if (settings.channel_weight) score += settings.channel_weight * channel.get(w)!;
      scored.push([w, score]);
    }
    return scored.map((item, i) => [item, i] as const).sort((a, b) => b[0][1] - a[0][1] || a[1] - b[1]).map(([item]) => item);
  }

  /** The `count` best words within the edit distance of `word`, itself left out, best
   * first, with their distances and log P_channel: lexicon words, or known words when
   * no lexicon word is that close. */
  private near(word: string, count: number): [string[], Map<string, number>, Map<string, number>] {
    let found: [string[], Map<string, number>, Map<string, number>] = [[], new Map(), new Map()];
    if (this.shelves[0].index === null || count <= 0) return found;
    for (const shelf of this.shelves) {
      found = this.nearIn(shelf, word, count);
      if (found[0].length) break;
    }
    return found;
  }

  private nearIn(shelf: Shelf, word: string, count: number): [string[], Map<string, number>, Map<string, number>] {
    const settings = this.settings;
    const ids = shelf.index!.reachable(word);
    if (!settings.channel_weight) {
      const typo = codePoints(word);
      const near = ids
        .map((i) => [i, osaDistance(typo, shelf.index!.codes[i])] as const)
        .filter(([i, d]) => d <= settings.edit_distance && shelf.words[i] !== word)
        .map((item, position) => [...item, position] as const)
        .sort((a, b) => a[1] - b[1] || shelf.logp[b[0]] - shelf.logp[a[0]] || a[2] - b[2])
        .slice(0, count);
      return [near.map(([i]) => shelf.words[i]), new Map(near.map(([i, d]) => [shelf.words[i], d])), new Map()];
    }
    const typo = this.channel.codes(word);
    const kept: {id: number; logp: number; distance: number; rank: number; position: number}[] = [];
    for (const id of ids) {
      const [logp, distance] = this.channel.logProbAndDistance(typo, shelf.codes[id]);
      if (distance > settings.edit_distance) continue;
      const rank = settings.prior_weight * shelf.logp[id] + settings.channel_weight * logp - settings.distance_weight * distance;
      kept.push({id, logp, distance, rank, position: kept.length});
    }
    kept.sort((a, b) => b.rank - a.rank || a.position - b.position);
    const best = kept.slice(0, count + 1).filter(({id}) => shelf.words[id] !== word).slice(0, count);
    return [
      best.map(({id}) => shelf.words[id]),
      new Map(best.map(({id, distance}) => [shelf.words[id], distance])),
      new Map(best.map(({id, logp}) => [shelf.words[id], logp])),
    ];
  }

  /** What `decode_step` reads about one word: the encoding and the padded characters. */
  private async encode(word: string): Promise<Encoded> {
    const ids = Array.from(word)
      .filter((c) => this.charIds.has(c))
      .map((c) => this.charIds.get(c)!)
      .slice(0, this.maxLength);
    const chars = new Int32Array(this.maxLength).fill(this.ids.pad);
    chars.set(ids);
    const out = await this.encoder.run({chars});
    return {encoder_outputs: out.get('encoder_outputs') as Float32Array, summary: out.get('summary') as Float32Array, chars};
  }

  /** `decode_step` once a row: `[logits, h, c]` of each row. */
  private async step(tokens: number[], h: Float32Array[], c: Float32Array[], encoded: Encoded) {
    const rows: [Float32Array, Float32Array, Float32Array][] = [];
    for (let i = 0; i < tokens.length; i++) {
      const out = await this.decoder.run({
        token: Int32Array.of(tokens[i]),
        decoder_lstm_h: h[i],
        decoder_lstm_c: c[i],
        ...encoded,
      });
      const get = (name: string) => out.get(name) as Float32Array; // the model's outputs are float32
      rows.push([get('logits'), get('decoder_lstm_h'), get('decoder_lstm_c')]);
    }
    return rows;
  }

  /** log P_model(w | typo) of each word; words sharing a prefix share its rows. */
  private async teacherForced(encoded: Encoded, words: string[]): Promise<Float64Array> {
    const end = this.ids.end;
    const spelt = words.map((w) => [...Array.from(w, (ch) => this.charIds.get(ch)!), end]);
    const totals = new Float64Array(words.length);
    let members = [words.map((_, i) => i)];
    let tokens = [this.ids.start];
    let h: Float32Array[] = [new Float32Array(this.units)];
    let c: Float32Array[] = [new Float32Array(this.units)];
    for (let step = 0; members.length; step++) {
      const rows = await this.step(tokens, h, c, encoded);
      const next: number[][] = [];
      const nextTokens: number[] = [];
      const nextH: Float32Array[] = [];
      const nextC: Float32Array[] = [];
      members.forEach((ids, row) => {
        const [logits, rowH, rowC] = rows[row];
        const normaliser = logNormaliser(logits);
        const groups = new Map<number, number[]>();
        for (const i of ids) {
          const char = spelt[i][step];
          totals[i] += logits[char] - normaliser;
          if (char !== end) {
            if (!groups.has(char)) groups.set(char, []);
            groups.get(char)!.push(i);
          }
        }
        for (const [char, group] of groups) {
          next.push(group);
          nextTokens.push(char);
          nextH.push(rowH);
          nextC.push(rowC);
        }
      });
      [members, tokens, h, c] = [next, nextTokens, nextH, nextC];
    }
    return totals;
  }

  /** The beam search over the lexicon trie: `[{word: log P_model}, encoded]`. */
  private async search(word: string, k: number): Promise<[Map<string, number>, Encoded]> {
    const trie = this.trie;
    const {beam_width: width, search_prior_weight: priorWeight, length_penalty: lengthPenalty} = this.settings;
    const encoded = await this.encode(word);
    let h: Float32Array[] = [new Float32Array(this.units)];
    let c: Float32Array[] = [new Float32Array(this.units)];
    let tokens = [this.ids.start];
    let beams: [number, number][] = [[0, 0.0]]; // [trie node, log P_model of its characters]
    const finished: [number, number, number][] = []; // [score, node, log P_model]
    const maxSteps = Math.min(codePoints(word).length, this.longest) + 6;
    for (let step = 1; step <= maxSteps; step++) {
      const rows = await this.step(tokens, h, c, encoded);
      const live: {row: number; node: number; char: number; total: number; rank: number}[] = [];
      beams.forEach(([node, total], row) => {
        const logprobs = logSoftmax(rows[row][0]);
        if (trie.words[node] !== null) {
          const modelScore = total + logprobs[this.ids.end];
          finished.push([this.score(modelScore, step, trie.wordLogp[node], priorWeight), node, modelScore]);
        }
        trie.childNodes[node].forEach((child, j) => {
          const char = trie.childChars[node][j];
          const childTotal = total + logprobs[char];
          const rank = this.score(childTotal, step, trie.bestLogp[child], priorWeight);
          live.push({row, node: child, char, total: childTotal, rank});
        });
      });
      if (!live.length) break;
      if (finished.length >= k) {
        const kth = finished.map(([score]) => score).sort((a, b) => b - a)[k - 1];
        if (kth >= Math.max(...live.map((b) => b.rank)) && lengthPenalty === 0) break;
      }
      const keep = live
        .map((b, position) => [b, position] as const)
        .sort((a, b) => b[0].rank - a[0].rank || a[1] - b[1])
        .slice(0, width)
        .map(([b]) => b);
      beams = keep.map((b) => [b.node, b.total]);
      tokens = keep.map((b) => b.char);
      h = keep.map((b) => rows[b.row][1]);
      c = keep.map((b) => rows[b.row][2]);
    }
    return [new Map(finished.map(([, node, logp]) => [trie.words[node]!, logp])), encoded];
  }

  private score(modelLogp: number, length: number, priorLogp: number, priorWeight: number): number {
    const lengthPenalty = this.settings.length_penalty;
    if (lengthPenalty) modelLogp = modelLogp / length ** lengthPenalty;
    return modelLogp + priorWeight * priorLogp;
  }
}

/** log Σ exp(logits), in float64, as the Python runtime normalises a row. */
function logNormaliser(logits: Float32Array): number {
  let top = -Infinity;
  for (const x of logits) top = Math.max(top, x);
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - top);
  return top + Math.log(sum);
}

/** The characters of a `tokenizer.json` of kind "characters" (index 0: unknown). */
function parseCharacters(data: Uint8Array, source: string): string[] {
  const vocabulary = readVocabulary(data, source, 'characters');
  if (vocabulary.length < 2) throw new UserInputError(`${source}: the vocabulary holds no character`);
  return vocabulary;
}

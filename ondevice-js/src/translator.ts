/**
 * Sentence translation on LiteRT.js, translation for translation the same as
 * `Translator` in `keras_nlpkit/ondevice/translator.py`, call by call (its module
 * docstring and docs/ONDEVICE.md give the contract):
 *
 * 1. `source.spm` turns the sentence into piece ids, cut to `source_length` (`[unk_id]`
 *    when there are none) and padded with `pad_id`, batch 1;
 * 2. `encode` runs once; each output is repeated `num_beams` times along axis 0. The
 *    outputs named like a `decode_step` output start the decoder state, whose other
 *    tensors start as zeros (a Transformer's self-attention caches);
 * 3. `decode_step` runs at its fixed batch `num_beams` (`fixedRows`), driven by the
 *    search of `translation_search.ts`: greedy for beam 1, else beam search scored
 *    Σ log p / N;
 * 4. `target.spm` turns the answer, special ids left out, into text.
 */
import {type TypedArray} from '@litertjs/core';
import {UserInputError} from './errors.js';
import {compileModel} from './litert.js';
import {findExportFolder, readListedFile, type ExportFolder} from './model_folder.js';
import {SentencePieceModel} from './sentence_piece.js';
import {checkDeclaredTensors, Signature} from './signature.js';
import {beamSearch, greedySearch, type Gather, type Step} from './translation_search.js';

const KIND = 'translation';
const SOURCE_SPM_FILE = 'source.spm';
const TARGET_SPM_FILE = 'target.spm';
const ENCODE = 'encode';
const DECODE_STEP = 'decode_step';
const SOURCE_IDS = 'source_ids';
const TOKEN_IDS = 'token_ids';
const POSITION = 'position';
const LOGITS = 'logits';
const SETTINGS = ['pad_id', 'unk_id', 'bos_id', 'eos_id', 'target_length'] as const;
const TYPED_ARRAYS = {float32: Float32Array, int32: Int32Array, uint8: Uint8Array} as const;

export interface TranslatorOptions {
  /** `float32` (the default, as in Python), `float16`, `dynamic_int8` or `int8`. */
  variant?: string;
  /** How error messages name the folder (the CLI's `--model`). */
  argument?: string;
}

/**
 * `{step, gather}` for a search over a `step` whose batch is fixed at `numRows` (the
 * export's `num_beams`), as `fixed_rows` in translator.py: fewer rows are padded up
 * to it (tokens with `fillToken`, gathered rows with row 0) and the padding rows'
 * logits are dropped, so what those rows compute never reaches the search.
 */
export function fixedRows<S extends Map<string, TypedArray>>(
  step: Step<S>,
  numRows: number,
  fillToken: number,
): {step: Step<S>; gather: Gather<S>} {
  return {
    step: async (tokens, state, position) => {
      const padded = new Int32Array(numRows).fill(fillToken);
      padded.set(tokens);
      const result = await step(padded, state, position);
      const vocabulary = result.logits.length / numRows;
      return {logits: result.logits.subarray(0, tokens.length * vocabulary), state: result.state};
    },
    gather: (state, rows) => {
      const gathered = new Map<string, TypedArray>();
      for (const [name, data] of state) {
        const size = data.length / numRows;
        const out = new (data.constructor as new (length: number) => TypedArray)(data.length);
        for (let row = 0; row < numRows; row++) {
          const from = row < rows.length ? rows[row] : 0;
          out.set(data.subarray(from * size, (from + 1) * size), row * size);
        }
        gathered.set(name, out);
      }
      return gathered as S;
    },
  };
}

function sorted(names: Iterable<string>): string[] {
  return Array.from(names).sort();
}

export class Translator {
  readonly sourceLength: number;
  /** The batch `decode_step` runs at: the widest beam. */
  readonly numBeams: number;
  private readonly decoderNames: string[];
  private readonly encoderNames: string[];
  private readonly zeroState = new Map<string, TypedArray>();

  private constructor(
    readonly directory: string,
    readonly settings: {pad_id: number; unk_id: number; bos_id: number; eos_id: number; target_length: number},
    readonly sourceTokenizer: SentencePieceModel,
    readonly targetTokenizer: SentencePieceModel,
    private readonly encoder: Signature,
    private readonly decoder: Signature,
    file: string,
    argument: string,
  ) {
    this.sourceLength = encoder.shapes.get(SOURCE_IDS)![1];
    this.numBeams = decoder.shapes.get(TOKEN_IDS)![0];
    this.decoderNames = sorted(decoder.outputs.keys()).filter((name) => name !== LOGITS);
    const fixed = new Set([TOKEN_IDS, POSITION, ...this.decoderNames]);
    this.encoderNames = sorted(decoder.shapes.keys()).filter((name) => !fixed.has(name));
    const unknown = this.encoderNames.filter((name) => !encoder.outputs.has(name));
    if (unknown.length) {
      throw new UserInputError(
        `${argument}: ${file}'s decode_step reads ${JSON.stringify(unknown)}, which encode does not give. Received: ${directory}`,
      );
    }
    for (const name of this.decoderNames) {
      if (encoder.outputs.has(name)) continue;
      const shape = decoder.shapes.get(name)!;
      const dtype = decoder.dtypes.get(name) as keyof typeof TYPED_ARRAYS;
      this.zeroState.set(name, new TYPED_ARRAYS[dtype](shape.reduce((a, b) => a * b, 1)));
    }
  }

  /** Loads a translation export folder (or a training folder holding it as `export/`). */
  static async load(modelDir: string, options: TranslatorOptions = {}): Promise<Translator> {
    const argument = options.argument ?? '--model';
    const folder = await findExportFolder(modelDir, KIND, argument);
    const stored = folder.manifest.settings ?? {};
    for (const key of SETTINGS) {
      if (typeof stored[key] !== 'number' || !Number.isInteger(stored[key])) {
        throw new UserInputError(
          `${argument}: manifest.json's settings lack a translation setting (${key}: ${JSON.stringify(stored[key])}). ` +
            `Received: ${folder.directory}`,
        );
      }
    }
    const settings = Object.fromEntries(SETTINGS.map((key) => [key, stored[key]])) as Translator['settings'];
    const source = await Translator.tokenizer(folder, SOURCE_SPM_FILE);
    const target = await Translator.tokenizer(folder, TARGET_SPM_FILE);
    const variant = options.variant ?? 'float32';
    const file = folder.manifest.variants?.[variant];
    if (file === undefined) {
      throw new UserInputError(
        `${argument}: no ${variant} model in the export (it has ` +
          `${Object.keys(folder.manifest.variants ?? {}).sort().join(', ') || 'none'}). Received: ${folder.directory}`,
      );
    }
    const content = await readListedFile(folder, file);
    const compiled = await compileModel(content, `${argument}: ${file}`);
    checkDeclaredTensors(compiled, folder.manifest, variant, `${argument}: ${file}`);
    const missing = [ENCODE, DECODE_STEP].filter((name) => !(name in compiled.signatures));
    if (missing.length) {
      throw new UserInputError(`${argument}: ${file} lacks the signatures ${JSON.stringify(missing)}. Received: ${folder.directory}`);
    }
    const signature = (name: string) => new Signature(compiled.signatures[name], name, file, content);
    return new Translator(folder.directory, settings, source, target, signature(ENCODE), signature(DECODE_STEP), file, argument);
  }

  private static async tokenizer(folder: ExportFolder, name: string): Promise<SentencePieceModel> {
    return SentencePieceModel.fromBytes(await readListedFile(folder, name), `${folder.argument}: ${name}`);
  }

  // --- text ---------------------------------------------------------------------

  /** The sentence's source pieces as ids, cut to `sourceLength`; `[unk_id]` for a
   * sentence without pieces (as the Keras-side translator reads it). */
  sourceIds(sentence: string): number[] {
    const ids = this.sourceTokenizer.encode(String(sentence)).slice(0, this.sourceLength);
    return ids.length ? ids : [this.settings.unk_id];
  }

  /** Target ids → text; the special ids (pad, unk, bos, eos) are left out. */
  detokenize(ids: readonly number[]): string {
    const {pad_id, unk_id, bos_id, eos_id} = this.settings;
    const special = new Set([pad_id, unk_id, bos_id, eos_id]);
    return this.targetTokenizer.decode(ids.filter((id) => !special.has(id)));
  }

  /** The translation of one sentence: beam search of width `beam` (`numBeams` by
   * default), greedy when `beam` is 1. */
  async translate(sentence: string, beam?: number): Promise<string> {
    return this.detokenize(await this.translateIds(this.sourceIds(sentence), beam));
  }

  /** The translation's target ids, without `eos_id` (greedy when `beam` is 1). */
  async translateIds(sourceIds: readonly number[], beam = this.numBeams, maxLength = this.settings.target_length): Promise<number[]> {
    if (!Number.isInteger(beam) || beam < 1 || beam > this.numBeams) {
      throw new RangeError(`\`beam\` must be from 1 to ${this.numBeams} (the export's num_beams). Received: beam=${beam}`);
    }
    const longest = this.settings.target_length;
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > longest) {
      throw new RangeError(
        `\`maxLength\` must be from 1 to ${longest} (the export's target_length). Received: maxLength=${maxLength}`,
      );
    }
    const {encoder, decoder} = await this.encode(sourceIds);
    const {step, gather} = fixedRows<Map<string, TypedArray>>(
      (tokens, state, position) => this.step(encoder, state, tokens, position),
      this.numBeams,
      this.settings.bos_id,
    );
    const {bos_id, eos_id} = this.settings;
    if (beam === 1) return (await greedySearch(step, decoder, 1, maxLength, bos_id, eos_id))[0];
    return (await beamSearch(step, gather, decoder, 1, beam, maxLength, bos_id, eos_id)).ids[0];
  }

  // --- the model ------------------------------------------------------------------

  /** `{encoder, decoder}`: the encoder state and the decoder's start state of one
   * source, each at batch `numBeams`. */
  async encode(sourceIds: readonly number[]): Promise<{encoder: Map<string, TypedArray>; decoder: Map<string, TypedArray>}> {
    if (sourceIds.length > this.sourceLength) {
      throw new RangeError(
        `\`sourceIds\` holds at most ${this.sourceLength} ids (the export's source_length). Received: ${sourceIds.length} ids`,
      );
    }
    const padded = new Int32Array(this.sourceLength).fill(this.settings.pad_id);
    padded.set(sourceIds);
    const tiled = new Map<string, TypedArray>();
    for (const [name, data] of await this.encoder.run({[SOURCE_IDS]: padded})) {
      const out = new (data.constructor as new (length: number) => TypedArray)(data.length * this.numBeams);
      for (let row = 0; row < this.numBeams; row++) out.set(data, row * data.length);
      tiled.set(name, out);
    }
    const decoder = new Map<string, TypedArray>();
    for (const name of this.decoderNames) {
      const value = tiled.get(name) ?? this.zeroState.get(name)!.slice();
      decoder.set(name, value);
    }
    const encoder = new Map(this.encoderNames.map((name) => [name, tiled.get(name)!]));
    return {encoder, decoder};
  }

  /** One `decode_step` call: `{logits (numBeams × vocabulary), state}`. */
  async step(
    encoder: Map<string, TypedArray>,
    decoder: Map<string, TypedArray>,
    tokenIds: Int32Array,
    position: number,
  ): Promise<{logits: Float32Array; state: Map<string, TypedArray>}> {
    const inputs: Record<string, TypedArray> = Object.fromEntries([...encoder, ...decoder]);
    inputs[TOKEN_IDS] = tokenIds;
    inputs[POSITION] = Int32Array.of(position);
    const out = await this.decoder.run(inputs);
    const logits = out.get(LOGITS) as Float32Array;
    out.delete(LOGITS);
    return {logits, state: out};
  }
}

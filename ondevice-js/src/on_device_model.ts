/**
 * An exported language model run in LiteRT.js, as `OnDeviceModel` in
 * `keras_nlpkit/ondevice/on_device_model.py` runs it in the Interpreter: the host
 * drives the streaming signature one token at a time, carrying the state.
 *
 * - `step` (recurrent and feed-forward models): `token (1,)` and one input per state
 *   → `logits (1, vocab)` and the new states under the same names; each state starts
 *   as zeros of its declared dtype (float32 recurrent states, a feed-forward LM's
 *   int32 window of ids);
 * - `decode` (Transformer models): `token (1,)`, `cache`, `position ()` → `logits`,
 *   `cache`; a prompt is read one `decode` call a token from a zero cache, which
 *   gives what `prefill` gives (the prompt signatures take any length, which
 *   LiteRT.js cannot run).
 *
 * Inputs are passed by name: the order of a signature's inputs differs between
 * runtimes, the names do not.
 */
import {type CompiledModel, type TypedArray} from '@litertjs/core';
import {UserInputError} from './errors.js';
import {compileModel} from './litert.js';
import {readListedFile, type ExportFolder} from './model_folder.js';
import {checkDeclaredTensors, Signature} from './signature.js';

/** The host-carried state by input name: float32 recurrent states, a feed-forward LM's
 * int32 window of ids (each of its input's declared dtype), a KV cache and its position. */
export type State = Map<string, {data: TypedArray; shape: number[]}>;

/** The typed array LiteRT.js reads and writes for each tensor dtype. */
const TYPED_ARRAYS = {float32: Float32Array, int32: Int32Array, uint8: Uint8Array} as const;

export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const log = Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - max - log;
  return out;
}

export class OnDeviceModel {
  readonly streaming: 'step' | 'decode';
  readonly maxLength: number | null;
  private readonly signature: Signature;
  private readonly stateShapes = new Map<string, number[]>();

  private constructor(
    readonly compiled: CompiledModel,
    readonly file: string,
    content: Uint8Array,
  ) {
    const signatures = compiled.signatures;
    const name = 'step' in signatures ? 'step' : 'decode' in signatures ? 'decode' : null;
    if (name === null) {
      throw new UserInputError(`${file} has no streaming signature (step or decode)`);
    }
    this.streaming = name;
    this.signature = new Signature(signatures[name], name, file, content);
    for (const [input, shape] of this.signature.shapes) {
      if (input !== 'token' && input !== 'position') this.stateShapes.set(input, shape);
    }
    this.maxLength = name === 'decode' ? this.stateShapes.get('cache')![2] : null;
  }

  /** Loads one variant (`model_<variant>.tflite`) of an export folder. */
  static async load(folder: ExportFolder, variant = 'int8'): Promise<OnDeviceModel> {
    const file = folder.manifest.variants?.[variant];
    if (file === undefined) {
      throw new UserInputError(
        `${folder.argument}: no ${variant} model in the export (it has ` +
          `${Object.keys(folder.manifest.variants ?? {}).sort().join(', ') || 'none'}). Received: ${folder.directory}`,
      );
    }
    const content = await readListedFile(folder, file);
    const compiled = await compileModel(content, `${folder.argument}: ${file}`);
    checkDeclaredTensors(compiled, folder.manifest, variant, `${folder.argument}: ${file}`);
    return new OnDeviceModel(compiled, file, content);
  }

  private zeroState(): State {
    const state: State = new Map();
    for (const [name, shape] of this.stateShapes) {
      const size = shape.reduce((a, b) => a * b, 1);
      const dtype = this.signature.dtypes.get(name) as keyof typeof TYPED_ARRAYS;
      state.set(name, {data: new TYPED_ARRAYS[dtype](size), shape});
    }
    if (this.streaming === 'decode') state.set('position', {data: new Float32Array([0]), shape: []});
    return state;
  }

  /** `{logprobs (vocab,), state}` after one more token. */
  async advance(token: number, state: State): Promise<{logprobs: Float64Array; state: State}> {
    const inputs: Record<string, TypedArray> = {token: Int32Array.of(token)};
    const position = state.get('position')?.data[0] ?? 0;
    if (this.streaming === 'decode') {
      if (position >= this.maxLength!) {
        throw new Error(`The sequence reached the model's maximum length ${this.maxLength}`);
      }
      inputs.position = Int32Array.of(position);
    }
    for (const [name, value] of state) {
      if (name !== 'position') inputs[name] = value.data;
    }
    const outputs = await this.signature.run(inputs);
    const next: State = new Map();
    for (const [name, data] of outputs) {
      if (name !== 'logits') next.set(name, {data, shape: this.stateShapes.get(name)!}); // its own dtype
    }
    if (this.streaming === 'decode') next.set('position', {data: new Float32Array([position + 1]), shape: []});
    return {logprobs: logSoftmax(outputs.get('logits')!), state: next};
  }

  /** `{logprobs, state}` after a prompt, read one token at a time from a zero state. */
  async start(promptIds: readonly number[]): Promise<{logprobs: Float64Array; state: State}> {
    if (promptIds.length === 0) throw new Error('`promptIds` must hold at least one token');
    let result: {logprobs: Float64Array; state: State} = {logprobs: new Float64Array(0), state: this.zeroState()};
    for (const token of promptIds) result = await this.advance(token, result.state);
    return result;
  }
}

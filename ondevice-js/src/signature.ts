/**
 * One signature of a compiled `.tflite`, called with named typed arrays: the
 * host-side glue every runner needs (tensors made and freed, inputs by name, since
 * their order differs between runtimes, and outputs under every name the file's
 * SignatureDef gives them: `signature_defs.ts` says why LiteRT.js's names fall short).
 */
import {Tensor, type CompiledModel, type SignatureRunner, type TypedArray} from '@litertjs/core';
import {UserInputError} from './errors.js';
import type {Manifest} from './model_folder.js';
import {signatureOutputs} from './signature_defs.js';

/** Refuses a file whose signature inputs differ from what its manifest declares (a
 * file swapped in from another export or version); manifests before 0.3 declare none. */
export function checkDeclaredTensors(compiled: CompiledModel, manifest: Manifest, variant: string, source: string): void {
  const declared = manifest.tensors?.[variant] ?? {};
  for (const [signature, tensors] of Object.entries(declared)) {
    const details = compiled.signatures[signature]?.getInputDetails() ?? [];
    for (const [name, tensor] of Object.entries(tensors.inputs)) {
      const found = details.find((d) => d.name === name);
      const shape = found ? Array.from(found.shape) : null;
      if (JSON.stringify(shape) !== JSON.stringify(tensor.shape)) {
        throw new UserInputError(
          `${source}: ${signature}'s input ${name} is ${JSON.stringify(shape)}, the manifest declares ` +
            `${JSON.stringify(tensor.shape)}: the file and the manifest are of different exports`,
        );
      }
    }
  }
}

export class Signature {
  /** Input name → shape, in LiteRT.js's order of the inputs. */
  readonly shapes = new Map<string, number[]>();
  readonly dtypes = new Map<string, string>();
  /** Every output name of the file's SignatureDef → its tensor index (two names may
   * share one). */
  readonly outputs: ReadonlyMap<string, number>;
  // LiteRT.js's outputs (in its order) → their tensor indices.
  private readonly runnerOutputs: number[];

  /** `model`: the `.tflite` bytes `runner` was compiled from (its SignatureDefs). */
  constructor(
    private readonly runner: SignatureRunner,
    readonly name: string,
    file: string,
    model: Uint8Array,
  ) {
    for (const detail of runner.getInputDetails()) {
      const shape = Array.from(detail.shape);
      if (shape.includes(-1)) {
        throw new UserInputError(
          `${file}: ${name}'s input ${detail.name} is declared [${shape}], and LiteRT.js runs ` +
            'only static shapes: export it again with keras-nlpkit ≥ 0.3',
        );
      }
      this.shapes.set(detail.name, shape);
      this.dtypes.set(detail.name, detail.dtype);
    }
    this.outputs = signatureOutputs(model, name);
    const reported = runner.getOutputDetails().map((detail) => this.outputs.get(detail.name));
    const lost = [...this.outputs.values()].some((tensor) => !reported.includes(tensor));
    if (reported.includes(undefined) || lost) {
      throw new UserInputError(
        `${file}: LiteRT.js's outputs of ${name} (${runner.getOutputDetails().map((d) => d.name)}) are not ` +
          `those of its SignatureDef (${[...this.outputs.keys()]}): the file is damaged or of another LiteRT`,
      );
    }
    this.runnerOutputs = reported as number[];
  }

  /** Runs on `inputs` (each of its declared shape); copies of the outputs under every
   * name of `outputs`, each of its own dtype (a tensor's memory goes with it). */
  async run(inputs: Record<string, TypedArray>): Promise<Map<string, TypedArray>> {
    const tensors: Tensor[] = [];
    try {
      for (const [name, shape] of this.shapes) {
        if (!(name in inputs)) throw new Error(`${this.name}: run() lacks the input ${name}`);
        tensors.push(new Tensor(inputs[name], shape));
      }
      // By position, not by name: a record of LiteRT.js's names keeps one of two
      // outputs reported under one name (and leaks the other's memory).
      const outputs = await this.runner.run(tensors);
      try {
        const byTensor = new Map(outputs.map((tensor, i) => [this.runnerOutputs[i], tensor.toTypedArray().slice()]));
        return new Map([...this.outputs].map(([name, tensor]) => [name, byTensor.get(tensor)!]));
      } finally {
        for (const tensor of outputs) tensor.delete();
      }
    } finally {
      for (const tensor of tensors) tensor.delete();
    }
  }
}

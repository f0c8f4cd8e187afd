/**
 * One signature of a compiled `.tflite`, called with named typed arrays: the
 * host-side glue every runner needs (tensors made and freed, inputs by name, since
 * their order differs between runtimes).
 */
import {Tensor, type CompiledModel, type SignatureRunner, type TypedArray} from '@litertjs/core';
import {UserInputError} from './errors.js';
import type {Manifest} from './model_folder.js';

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
  readonly shapes = new Map<string, number[]>();
  readonly dtypes = new Map<string, string>();

  constructor(
    private readonly runner: SignatureRunner,
    readonly name: string,
    file: string,
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
  }

  /** Runs on `inputs` (each of its declared shape); copies of the outputs by name, each
   * of its own dtype (a tensor's memory goes with it). */
  async run(inputs: Record<string, TypedArray>): Promise<Map<string, TypedArray>> {
    const tensors: Record<string, Tensor> = {};
    for (const [name, data] of Object.entries(inputs)) tensors[name] = new Tensor(data, this.shapes.get(name)!);
    try {
      const outputs = await this.runner.run(tensors);
      const result = new Map<string, TypedArray>();
      for (const [name, tensor] of Object.entries(outputs)) {
        result.set(name, tensor.toTypedArray().slice());
        tensor.delete();
      }
      return result;
    } finally {
      for (const tensor of Object.values(tensors)) tensor.delete();
    }
  }
}

/**
 * A signature's output names → their tensor indices, read from the `.tflite`'s own
 * SignatureDefs (a FlatBuffer: Model field 7 signature_defs; SignatureDef fields 1
 * outputs and 2 signature_key; TensorMap fields 0 name and 1 tensor_index).
 *
 * Why: LiteRT.js names a signature's outputs by tensor, so two outputs that are one
 * tensor (an RNN translator's `encode` returns `c` as `initial_c` too) are reported
 * under one name twice; only the file says what the other name is.
 */
export function signatureOutputs(model: Uint8Array, key: string): Map<string, number> {
  const view = new DataView(model.buffer, model.byteOffset, model.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  const deref = (at: number) => at + u32(at);
  const field = (table: number, index: number): number | null => {
    const vtable = table - view.getInt32(table, true);
    const slot = 4 + 2 * index;
    const offset = slot < view.getUint16(vtable, true) ? view.getUint16(vtable + slot, true) : 0;
    return offset === 0 ? null : table + offset;
  };
  const tables = (at: number | null): number[] => {
    if (at === null) return [];
    const vector = deref(at);
    return Array.from({length: u32(vector)}, (_, i) => deref(vector + 4 + 4 * i));
  };
  const text = (at: number | null): string => {
    if (at === null) return '';
    const start = deref(at);
    return new TextDecoder().decode(model.subarray(start + 4, start + 4 + u32(start)));
  };
  const outputs = new Map<string, number>();
  for (const signature of tables(field(u32(0), 7))) {
    if (text(field(signature, 2)) !== key) continue;
    for (const tensor of tables(field(signature, 1))) {
      const index = field(tensor, 1);
      outputs.set(text(field(tensor, 0)), index === null ? 0 : u32(index)); // null: FlatBuffers omit a default 0
    }
  }
  return outputs;
}

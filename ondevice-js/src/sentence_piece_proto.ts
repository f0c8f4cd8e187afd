/**
 * The fields of a serialized SentencePiece `ModelProto` (a `.spm` file) that encoding
 * and decoding read, and the ones whose presence must stop us (see `sentence_piece.ts`).
 * A minimal protobuf reader rather than a protobuf library: four small messages, read once.
 */
import {UserInputError} from './errors.js';

/** `ModelProto.SentencePiece.Type`. */
export const PieceType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

/** `TrainerSpec.ModelType`. */
export const ModelType = {unigram: 1, bpe: 2, word: 3, char: 4} as const;

/** The proto's names of the values above, for messages. */
export const PIECE_TYPE_NAMES = ['', 'NORMAL', 'UNKNOWN', 'CONTROL', 'USER_DEFINED', 'UNUSED', 'BYTE'];
export const MODEL_TYPE_NAMES = ['', 'UNIGRAM', 'BPE', 'WORD', 'CHAR'];

export interface Piece {
  text: string;
  /** A float32 in the file: kept exact, scores are summed in float32 as SentencePiece does. */
  score: number;
  type: number;
}

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface TrainerSpec {
  modelType: number;
  treatWhitespaceAsSuffix: boolean;
  byteFallback: boolean;
  /** What decoding writes for the unknown piece (the proto's default: " ⁇ "). */
  unknownSurface: string;
}

export interface ModelProto {
  pieces: Piece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
  denormalizerSpec: NormalizerSpec;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Reads one message's fields in order; `fail` turns malformed bytes into a `UserInputError`. */
class ProtoReader {
  private position = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly fail: (why: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  /** `[field number, wire type]` of the next field. */
  tag(): [number, number] {
    const key = this.varint();
    return [Math.floor(key / 8), key % 8];
  }

  /** As a double: exact below 2^53, which every field read here is (others are only skipped). */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.position >= this.bytes.length) this.fail('a varint runs past the end');
      const byte = this.bytes[this.position++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return this.fail('a varint is longer than 10 bytes');
  }

  float32(): number {
    this.need(4);
    const value = this.view.getFloat32(this.position, true);
    this.position += 4;
    return value;
  }

  lengthDelimited(): Uint8Array {
    const length = this.varint();
    this.need(length);
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }

  string(): string {
    try {
      return new TextDecoder('utf-8', {fatal: true}).decode(this.lengthDelimited());
    } catch (error) {
      if (error instanceof UserInputError) throw error;
      return this.fail('a string is not UTF-8');
    }
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_FIXED64) this.advance(8);
    else if (wireType === WIRE_LENGTH_DELIMITED) this.lengthDelimited();
    else if (wireType === WIRE_FIXED32) this.advance(4);
    else this.fail(`unsupported wire type ${wireType}`);
  }

  /** Checks that a field read here came with the wire type its schema gives. */
  expect(wireType: number, expected: number, field: string): void {
    if (wireType !== expected) this.fail(`field ${field} has wire type ${wireType}, not ${expected}`);
  }

  private advance(count: number): void {
    this.need(count);
    this.position += count;
  }

  private need(count: number): void {
    if (this.position + count > this.bytes.length) this.fail('a field runs past the end');
  }
}

function defaultNormalizerSpec(): NormalizerSpec {
  return {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
}

/** The model in `bytes`; `source` (the file name) is named in every error. */
export function parseModelProto(bytes: Uint8Array, source: string): ModelProto {
  const fail = (why: string): never => {
    throw new UserInputError(`${source}: not a SentencePiece model (${why}). Received: ${bytes.length} bytes`);
  };
  const model: ModelProto = {
    pieces: [],
    trainerSpec: {modelType: ModelType.unigram, treatWhitespaceAsSuffix: false, byteFallback: false, unknownSurface: ' \u2047 '},
    normalizerSpec: defaultNormalizerSpec(),
    denormalizerSpec: defaultNormalizerSpec(),
  };
  const reader = new ProtoReader(bytes, fail);
  while (!reader.done) {
    const [field, wireType] = reader.tag();
    // Embedded messages seen twice merge, as protobuf's parser merges them.
    if (field === 1) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'pieces');
      model.pieces.push(parsePiece(new ProtoReader(reader.lengthDelimited(), fail)));
    } else if (field === 2) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'trainer_spec');
      parseTrainerSpec(new ProtoReader(reader.lengthDelimited(), fail), model.trainerSpec);
    } else if (field === 3) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'normalizer_spec');
      parseNormalizerSpec(new ProtoReader(reader.lengthDelimited(), fail), model.normalizerSpec);
    } else if (field === 5) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'denormalizer_spec');
      parseNormalizerSpec(new ProtoReader(reader.lengthDelimited(), fail), model.denormalizerSpec);
    } else {
      reader.skip(wireType);
    }
  }
  return model;
}

function parsePiece(reader: ProtoReader): Piece {
  const piece: Piece = {text: '', score: 0, type: PieceType.normal};
  while (!reader.done) {
    const [field, wireType] = reader.tag();
    if (field === 1) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'piece');
      piece.text = reader.string();
    } else if (field === 2) {
      reader.expect(wireType, WIRE_FIXED32, 'score');
      piece.score = reader.float32();
    } else if (field === 3) {
      reader.expect(wireType, WIRE_VARINT, 'type');
      piece.type = reader.varint();
    } else {
      reader.skip(wireType);
    }
  }
  return piece;
}

function parseTrainerSpec(reader: ProtoReader, spec: TrainerSpec): void {
  while (!reader.done) {
    const [field, wireType] = reader.tag();
    if (field === 3) {
      reader.expect(wireType, WIRE_VARINT, 'model_type');
      spec.modelType = reader.varint();
    } else if (field === 24) {
      reader.expect(wireType, WIRE_VARINT, 'treat_whitespace_as_suffix');
      spec.treatWhitespaceAsSuffix = reader.varint() !== 0;
    } else if (field === 35) {
      reader.expect(wireType, WIRE_VARINT, 'byte_fallback');
      spec.byteFallback = reader.varint() !== 0;
    } else if (field === 44) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'unk_surface');
      spec.unknownSurface = reader.string();
    } else {
      reader.skip(wireType);
    }
  }
}

function parseNormalizerSpec(reader: ProtoReader, spec: NormalizerSpec): void {
  while (!reader.done) {
    const [field, wireType] = reader.tag();
    if (field === 1) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'name');
      spec.name = reader.string();
    } else if (field === 2) {
      reader.expect(wireType, WIRE_LENGTH_DELIMITED, 'precompiled_charsmap');
      spec.precompiledCharsmap = reader.lengthDelimited();
    } else if (field === 3) {
      reader.expect(wireType, WIRE_VARINT, 'add_dummy_prefix');
      spec.addDummyPrefix = reader.varint() !== 0;
    } else if (field === 4) {
      reader.expect(wireType, WIRE_VARINT, 'remove_extra_whitespaces');
      spec.removeExtraWhitespaces = reader.varint() !== 0;
    } else if (field === 5) {
      reader.expect(wireType, WIRE_VARINT, 'escape_whitespaces');
      spec.escapeWhitespaces = reader.varint() !== 0;
    } else {
      reader.skip(wireType);
    }
  }
}

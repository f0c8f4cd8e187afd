/**
 * A SentencePiece unigram model (`source.spm` / `target.spm` of a translation export)
 * that encodes and decodes exactly as Python's `sentencepiece` (`EncodeAsIds`,
 * `DecodeIds`), so both runtimes feed the translator the same ids.
 *
 * Written here rather than taken from npm: the JS SentencePiece packages there
 * (`sentencepiece-js` and its forks `@agnai/…`, `@sctg/…`) each have a single release
 * and depend on `app-root-path`, a Node-only package; this is a small piece of code
 * that the parity tests pin to the C++ library.
 *
 * Supports: unigram models; the model's own normalization rules (its precompiled
 * charsmap: nmt_nfkc, nfkc, … or none); add_dummy_prefix, remove_extra_whitespaces and
 * escape_whitespaces; unused pieces; unknown characters as the unknown id with the
 * library's penalty (lowest piece score - 10), a run of them as one id; the library's
 * float32 Viterbi with its tie-breaking (the path reaching a position first, i.e.
 * through the earliest-starting last piece, keeps it); decoding with control ids
 * dropped and the unknown id as the model's unk_surface (an id out of the vocabulary
 * is a `RangeError`, as Python's is an `IndexError`).
 *
 * Refuses, with a `UserInputError` naming the file and the value, rather than encoding
 * wrongly: BPE, word and char models; byte_fallback; treat_whitespace_as_suffix;
 * user-defined and byte pieces; a denormalizer charsmap; no or several unknown pieces;
 * empty or repeated pieces. tests/ondevice/test_sentence_piece_parity.py checks the
 * parity with Python on learnt models.
 */
import {UserInputError} from './errors.js';
import {SentencePieceNormalizer} from './sentence_piece_normalizer.js';
import {
  MODEL_TYPE_NAMES,
  ModelType,
  parseModelProto,
  PIECE_TYPE_NAMES,
  PieceType,
  type ModelProto,
  type Piece,
} from './sentence_piece_proto.js';

/** As the C++ library's kUnkPenalty: an unknown character costs this below the least likely piece. */
const UNKNOWN_PENALTY = 10;
const SPACE_SYMBOL = '\u2581';

/** A node of the pieces' trie, keyed by code point; `id` is -1 where no piece ends. */
interface TrieNode {
  children: Map<number, TrieNode>;
  id: number;
}

export class SentencePieceModel {
  readonly vocabularySize: number;
  private readonly pieces: Piece[];
  /** The normal pieces, keyed by code point: unknown, control and unused ones are never matched. */
  private readonly root: TrieNode = {children: new Map(), id: -1};
  private readonly unknownId: number;
  private readonly unknownScore: number;

  private constructor(
    private readonly model: ModelProto,
    private readonly normalizer: SentencePieceNormalizer,
  ) {
    this.pieces = model.pieces;
    this.vocabularySize = this.pieces.length;
    this.unknownId = this.pieces.findIndex((p) => p.type === PieceType.unknown);
    let lowestScore = Infinity;
    this.pieces.forEach((piece, id) => {
      if (piece.type !== PieceType.normal) return;
      lowestScore = Math.min(lowestScore, piece.score);
      this.insert(piece.text, id);
    });
    this.unknownScore = Math.fround(lowestScore - UNKNOWN_PENALTY);
  }

  /** The model serialized in `bytes` (a `.spm` file); `source`, the file name, is named in errors. */
  static fromBytes(bytes: Uint8Array, source: string): SentencePieceModel {
    const model = parseModelProto(bytes, source);
    refuseUnsupported(model, source);
    return new SentencePieceModel(model, new SentencePieceNormalizer(model.normalizerSpec, source));
  }

  /** The piece ids of `text`, without bos/eos: Python sentencepiece's `EncodeAsIds`. */
  encode(text: string): number[] {
    const characters = Array.from(this.normalizer.normalize(text), (c) => c.codePointAt(0)!);
    const length = characters.length;
    if (length === 0) return [];
    // For each end position, the best path ending there: its score, last piece and start.
    const bestScore = new Float64Array(length + 1);
    const lastPiece = new Int32Array(length + 1);
    const lastStart = new Int32Array(length + 1).fill(-1);
    const offer = (start: number, end: number, id: number, score: number) => {
      // Float32 sums as the library's; only a strictly better path replaces one, so of
      // equal paths the one offered first (its last piece starting earliest) stays.
      const candidate = Math.fround(bestScore[start] + score);
      if (lastStart[end] === -1 || candidate > bestScore[end]) {
        bestScore[end] = candidate;
        lastStart[end] = start;
        lastPiece[end] = id;
      }
    };
    for (let start = 0; start < length; start++) {
      let coversOneCharacter = false;
      let node: TrieNode | undefined = this.root;
      for (let end = start + 1; end <= length; end++) {
        node = node.children.get(characters[end - 1]);
        if (node === undefined) break;
        if (node.id < 0) continue;
        offer(start, end, node.id, this.pieces[node.id].score);
        if (end === start + 1) coversOneCharacter = true;
      }
      if (!coversOneCharacter) offer(start, start + 1, this.unknownId, this.unknownScore);
    }
    const ids: number[] = [];
    for (let end = length; end > 0; end = lastStart[end]) ids.push(lastPiece[end]);
    ids.reverse();
    // The library merges a run of unknown pieces into one.
    return ids.filter((id, i) => !(id === this.unknownId && i > 0 && ids[i - 1] === this.unknownId));
  }

  /** The text of `ids`: Python sentencepiece's `DecodeIds` (control ids give nothing). */
  decode(ids: number[]): string {
    const {addDummyPrefix, removeExtraWhitespaces} = this.model.normalizerSpec;
    let text = '';
    // The dummy prefix's '▁' goes from the first piece (every leading piece's, when
    // extra whitespaces are removed), as the library strips it.
    let atStart = true;
    let strippedPrefix = false;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.pieces.length) {
        throw new RangeError(`piece id is out of range: ${id} (the vocabulary has ${this.pieces.length} pieces)`);
      }
      if (strippedPrefix || text !== '') atStart = false;
      strippedPrefix = false;
      const piece = this.pieces[id];
      if (piece.type === PieceType.control) continue;
      if (piece.type === PieceType.unknown) {
        text += this.model.trainerSpec.unknownSurface;
        continue;
      }
      let surface = piece.text;
      if (atStart && (addDummyPrefix || removeExtraWhitespaces) && surface.startsWith(SPACE_SYMBOL)) {
        surface = surface.slice(SPACE_SYMBOL.length);
        strippedPrefix = !removeExtraWhitespaces;
      }
      text += surface.replaceAll(SPACE_SYMBOL, ' ');
    }
    return text;
  }

  private insert(piece: string, id: number): void {
    let node = this.root;
    for (const character of piece) {
      const codePoint = character.codePointAt(0)!;
      let child = node.children.get(codePoint);
      if (child === undefined) {
        child = {children: new Map(), id: -1};
        node.children.set(codePoint, child);
      }
      node = child;
    }
    node.id = id;
  }
}

const SUPPORTED_PIECE_TYPES = new Set<number>([PieceType.normal, PieceType.unknown, PieceType.control, PieceType.unused]);

/** Throws on what this module cannot encode exactly as the library does. */
function refuseUnsupported(model: ModelProto, source: string): void {
  const refuse = (what: string, received: string): never => {
    throw new UserInputError(`${source}: ${what} is not supported by the TypeScript SentencePiece. Received: ${received}`);
  };
  const {trainerSpec, pieces} = model;
  if (trainerSpec.modelType !== ModelType.unigram) {
    refuse('a model other than unigram', `model_type=${MODEL_TYPE_NAMES[trainerSpec.modelType] ?? trainerSpec.modelType}`);
  }
  if (trainerSpec.byteFallback) refuse('byte fallback', 'byte_fallback=true');
  if (trainerSpec.treatWhitespaceAsSuffix) refuse('whitespace as a suffix', 'treat_whitespace_as_suffix=true');
  if (model.denormalizerSpec.precompiledCharsmap.length > 0) {
    refuse('a denormalizer', `denormalizer_spec.name=${JSON.stringify(model.denormalizerSpec.name)}`);
  }
  if (pieces.length === 0) refuse('a model without pieces', 'pieces=[]');
  const seen = new Set<string>();
  pieces.forEach((piece, id) => {
    if (!SUPPORTED_PIECE_TYPES.has(piece.type)) {
      refuse('a piece of this type', `piece ${id} ${JSON.stringify(piece.text)} of type ${PIECE_TYPE_NAMES[piece.type] ?? piece.type}`);
    }
    if (piece.text === '') refuse('an empty piece', `piece ${id}`);
    if (seen.has(piece.text)) refuse('a repeated piece', `piece ${id} ${JSON.stringify(piece.text)}`);
    seen.add(piece.text);
  });
  const unknownPieces = pieces.filter((p) => p.type === PieceType.unknown).length;
  if (unknownPieces !== 1) refuse('a model without exactly one unknown piece', `${unknownPieces} unknown pieces`);
}

/**
 * SentencePiece's text normalizer, driven by the model's own `precompiled_charsmap`
 * (what `nmt_nfkc`, `nfkc`, … compile to): a darts-clone double-array trie over UTF-8
 * bytes whose leaves point at NUL-terminated replacement strings. Reading the rules
 * from the file, rather than calling `String.prototype.normalize('NFKC')`, gives the
 * exact bytes the C++ library gives: the charsmap is not plain NFKC (nmt_nfkc maps
 * tabs and other spaces to ' ', drops control characters, and composes only the
 * sequences it lists).
 */
import {UserInputError} from './errors.js';
import type {NormalizerSpec} from './sentence_piece_proto.js';

const SPACE = 0x20;
/** U+2581 '▁', which stands for a space in pieces. */
const SPACE_SYMBOL = [0xe2, 0x96, 0x81];
const REPLACEMENT_CHARACTER = Uint8Array.of(0xef, 0xbf, 0xbd);
const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder();
/** The library reads at most this many matches of the trie at one position. */
const MAX_TRIE_RESULTS = 32;

export class SentencePieceNormalizer {
  /** The double array's units, or null when the model has no charsmap (identity). */
  private readonly units: Uint32Array | null = null;
  /** The replacement strings, each ended by a NUL; a trie value is an offset in here. */
  private readonly replacements: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly spec: NormalizerSpec,
    source: string,
  ) {
    const charsmap = spec.precompiledCharsmap;
    if (charsmap.length === 0) return;
    const view = new DataView(charsmap.buffer, charsmap.byteOffset, charsmap.byteLength);
    const trieSize = charsmap.length > 4 ? view.getUint32(0, true) : 0;
    if (charsmap.length <= 4 || trieSize + 4 > charsmap.length || trieSize % 4 !== 0) {
      throw new UserInputError(
        `${source}: the normalizer's precompiled_charsmap is damaged. Received: ${charsmap.length} bytes, trie of ${trieSize}`,
      );
    }
    this.units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.replacements = charsmap.subarray(4 + trieSize);
  }

  /** `text` normalized, with '▁' for spaces and the dummy prefix: what the pieces are matched on. */
  normalize(text: string): string {
    const input = UTF8_ENCODER.encode(text);
    const output: number[] = [];
    const {addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces} = this.spec;
    let position = 0;
    if (removeExtraWhitespaces) {
      while (position < input.length) {
        const [replacement, consumed] = this.normalizePrefix(input, position);
        if (replacement.length !== 1 || replacement[0] !== SPACE) break;
        position += consumed;
      }
    }
    if (position === input.length) return '';
    const appendSpace = () => {
      if (escapeWhitespaces) output.push(...SPACE_SYMBOL);
      else output.push(SPACE);
    };
    if (addDummyPrefix) appendSpace();
    // Each replacement's leading spaces go when the last one ended with a space.
    let previousEndsWithSpace = removeExtraWhitespaces;
    while (position < input.length) {
      const [replacement, consumed] = this.normalizePrefix(input, position);
      let start = 0;
      while (previousEndsWithSpace && start < replacement.length && replacement[start] === SPACE) start++;
      if (start < replacement.length) {
        for (let i = start; i < replacement.length; i++) {
          if (escapeWhitespaces && replacement[i] === SPACE) appendSpace();
          else output.push(replacement[i]);
        }
        previousEndsWithSpace = replacement[replacement.length - 1] === SPACE;
      }
      position += consumed;
      if (!removeExtraWhitespaces) previousEndsWithSpace = false;
    }
    if (removeExtraWhitespaces) {
      const space = escapeWhitespaces ? SPACE_SYMBOL : [SPACE];
      while (output.length >= space.length && space.every((b, i) => output[output.length - space.length + i] === b)) {
        output.length -= space.length;
      }
    }
    return UTF8_DECODER.decode(Uint8Array.from(output));
  }

  /** `[replacement bytes, input bytes consumed]` at `position`: the longest rule, else one character. */
  private normalizePrefix(input: Uint8Array, position: number): [Uint8Array, number] {
    const match = this.longestRule(input, position);
    if (match !== null) return match;
    const length = utf8CharacterLength(input, position);
    if (length === 0) return [REPLACEMENT_CHARACTER, 1];
    return [input.subarray(position, position + length), length];
  }

  /** darts-clone's common-prefix search, keeping the longest of the first matches. */
  private longestRule(input: Uint8Array, position: number): [Uint8Array, number] | null {
    const units = this.units;
    if (units === null || units.length === 0) return null;
    let best: [Uint8Array, number] | null = null;
    let matches = 0;
    let node = offsetOf(units[0]);
    for (let i = position; i < input.length && matches < MAX_TRIE_RESULTS; i++) {
      const label = input[i];
      node ^= label;
      if (node >= units.length) break;
      const unit = units[node];
      if (labelOf(unit) !== label) break;
      node ^= offsetOf(unit);
      if (hasLeaf(unit)) {
        if (node >= units.length) break;
        matches++;
        best = [this.replacementAt(valueOf(units[node])), i + 1 - position];
      }
    }
    return best;
  }

  private replacementAt(offset: number): Uint8Array {
    let end = offset;
    while (end < this.replacements.length && this.replacements[end] !== 0) end++;
    return this.replacements.subarray(offset, end);
  }
}

// A darts-clone unit: bits 0-7 label, 8 has-leaf, 9 offset scale, 10-31 offset;
// a leaf unit holds its value in bits 0-30 and sets bit 31 (so no label equals it).
function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}
function labelOf(unit: number): number {
  return (unit & 0x800000ff) >>> 0;
}
function hasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1;
}
function valueOf(unit: number): number {
  return unit & 0x7fffffff;
}

/** The length of the well-formed UTF-8 character at `position`, or 0 where it is malformed. */
function utf8CharacterLength(bytes: Uint8Array, position: number): number {
  const lead = bytes[position];
  const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
  if (length === 0 || position + length > bytes.length) return 0;
  for (let i = 1; i < length; i++) if ((bytes[position + i] & 0xc0) !== 0x80) return 0;
  return length;
}

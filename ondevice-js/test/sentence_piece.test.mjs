// Known cases of the unigram SentencePiece on hand-written models (no charsmap: the
// identity normalizer); the parity with Python's sentencepiece on learnt models, the
// nmt_nfkc charsmap included, is tests/ondevice/test_sentence_piece_parity.py.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {SentencePieceModel, UserInputError} from '../dist/index.js';

// The protobuf wire format, just enough to write a ModelProto.
const varint = (n) => {
  const bytes = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) bytes.push((n % 128) | 0x80);
  return [...bytes, n];
};
const field = (number, wireType) => varint(number * 8 + wireType);
const message = (number, bytes) => [...field(number, 2), ...varint(bytes.length), ...bytes];
const text = (number, s) => message(number, [...new TextEncoder().encode(s)]);
const flag = (number, value) => [...field(number, 0), ...varint(value)];
const float32 = (number, value) => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return [...field(number, 5), ...bytes];
};

const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4;
const SPECIALS = [['<pad>', 0, CONTROL], ['<unk>', 0, UNKNOWN], ['<s>', 0, CONTROL], ['</s>', 0, CONTROL]];

function modelBytes(pieces, {trainer = [], normalizer = []} = {}) {
  const proto = [];
  for (const [piece, score, type = NORMAL] of [...SPECIALS, ...pieces]) {
    proto.push(...message(1, [...text(1, piece), ...float32(2, score), ...flag(3, type)]));
  }
  proto.push(...message(2, [...flag(3, 1), ...trainer]));
  proto.push(...message(3, [...text(1, 'identity'), ...normalizer]));
  return Uint8Array.from(proto);
}

const PIECES = [['▁', -3], ['▁a', -1], ['b', -1], ['▁ab', -2], ['c', -4], ['▁c', -2.5], ['ab', -1.5]];
const model = SentencePieceModel.fromBytes(modelBytes(PIECES), 'tiny.spm');
const id = (piece) => 4 + PIECES.findIndex(([p]) => p === piece);

test('the vocabulary size counts every piece, the special ones included', () => {
  assert.equal(model.vocabularySize, 4 + PIECES.length);
});

test('the best path wins, and of equal ones the one whose last piece starts first', () => {
  // '▁ab' (-2) ties with '▁a' + 'b' (-1 + -1): the library keeps the earlier start.
  assert.deepEqual(model.encode('ab'), [id('▁ab')]);
  assert.deepEqual(model.encode('c'), [id('▁c')]);
  assert.deepEqual(model.encode('ab c'), [id('▁ab'), id('▁c')]);
  assert.deepEqual(model.encode('abab'), [id('▁ab'), id('ab')]);
});

test('spaces: a dummy prefix, none leading or trailing, runs of them as one', () => {
  assert.deepEqual(model.encode('   ab    c  '), model.encode('ab c'));
  assert.deepEqual(model.encode(''), []);
  assert.deepEqual(model.encode('    '), []);
});

test('a run of unknown characters is one unknown id', () => {
  assert.deepEqual(model.encode('a xyz'), [id('▁a'), id('▁'), 1]);
  assert.deepEqual(model.encode('xyz😀'), [id('▁'), 1]);
  assert.deepEqual(model.encode('axb'), [id('▁a'), 1, id('b')]);
});

test('decoding drops control ids and the dummy prefix, and writes " ⁇ " for the unknown id', () => {
  assert.equal(model.decode([2, id('▁ab'), id('▁c'), 3, 0]), 'ab c');
  assert.equal(model.decode([id('▁a'), 1, id('b')]), 'a ⁇ b');
  assert.equal(model.decode([1, id('▁a')]), ' ⁇  a');
  assert.equal(model.decode([id('b'), id('▁')]), 'b ');
  assert.equal(model.decode([]), '');
  assert.throws(() => model.decode([model.vocabularySize]), RangeError);
});

test('without a dummy prefix or whitespace removal, the spaces are kept as they came', () => {
  const plain = SentencePieceModel.fromBytes(modelBytes(PIECES, {normalizer: [...flag(3, 0), ...flag(4, 0)]}), 'plain.spm');
  assert.deepEqual(plain.encode(' ab'), [id('▁ab')]);
  assert.deepEqual(plain.encode('ab'), [id('ab')]);
  assert.deepEqual(plain.encode('  c'), [id('▁'), id('▁c')]);
  assert.equal(plain.decode([id('▁'), id('▁c')]), '  c');
});

test('models it cannot encode exactly are refused, naming the file and the value', () => {
  const refused = [
    [modelBytes(PIECES, {trainer: flag(3, 2)}), /bpe\.spm: .*model_type=BPE/],
    [modelBytes(PIECES, {trainer: flag(35, 1)}), /bpe\.spm: byte fallback .*byte_fallback=true/],
    [modelBytes([...PIECES, ['<sep>', 0, USER_DEFINED]]), /bpe\.spm: .*"<sep>" of type USER_DEFINED/],
    [modelBytes([...PIECES, ['b', -1]]), /bpe\.spm: a repeated piece .*"b"/],
    [Uint8Array.of(0x0a, 0x05, 0x01), /bpe\.spm: not a SentencePiece model/],
  ];
  for (const [bytes, message] of refused) {
    assert.throws(() => SentencePieceModel.fromBytes(bytes, 'bpe.spm'), (e) => e instanceof UserInputError && message.test(e.message));
  }
});

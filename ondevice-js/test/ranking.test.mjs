// Unit tests of the rules two runtimes must share (docs/ONDEVICE.md); the parity of
// whole strips with the Python runtime is tests/ondevice/test_typescript_parity.py.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {normalizeQuery, SortedWords, topInRange} from '../dist/index.js';

test('equal scores go to the lower index, also at the k-th place', () => {
  const scores = Float64Array.from([9, 1, 1, 1, 1, 1, 1, 1, 1, 5]);
  assert.deepEqual(topInRange(scores, 0, 10, 3), [0, 9, 1]);
  assert.deepEqual(topInRange(scores, 0, 10, 4), [0, 9, 1, 2]);
  assert.deepEqual(topInRange(scores, 2, 4, 5), [2, 3]);
});

test('sorted words are searched in their UTF-8 bytes, in code-point order', () => {
  // The Python writer sorts by code point; UTF-16 order would put U+1F600 before U+FF21.
  const words = ['new', 'yo', 'york', '\u{ff21}', '\u{1f600}'];
  const encoded = words.map((w) => new TextEncoder().encode(w));
  const offsets = Uint32Array.from([0, ...encoded.map((_, i) => encoded.slice(0, i + 1).reduce((n, e) => n + e.length, 0))]);
  const data = new Uint8Array(offsets[offsets.length - 1]);
  encoded.forEach((e, i) => data.set(e, offsets[i]));
  const sorted = new SortedWords(data, offsets);
  assert.deepEqual(Array.from({length: sorted.length}, (_, i) => sorted.get(i)), words);
  assert.deepEqual(sorted.range('yo'), [1, 3]);
  assert.deepEqual(sorted.range('z'), [3, 3]);
  assert.deepEqual(sorted.range('\u{1f600}'), [4, 5]);
  assert.equal(sorted.indexOf('\u{ff21}'), 3);
  assert.equal(sorted.indexOf('yor'), -1);
});

test('queries are lower-cased words with single spaces', () => {
  assert.equal(normalizeQuery('  New   YORK \t'), 'new york');
});

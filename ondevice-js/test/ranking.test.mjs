// Unit tests of the rules two runtimes must share (docs/ONDEVICE.md); the parity of
// whole strips with the Python runtime is tests/ondevice/test_typescript_parity.py.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {compareCodePoints, Lexicon, normalizeQuery, topInRange} from '../dist/index.js';

test('equal scores go to the lower index, also at the k-th place', () => {
  const scores = Float64Array.from([9, 1, 1, 1, 1, 1, 1, 1, 1, 5]);
  assert.deepEqual(topInRange(scores, 0, 10, 3), [0, 9, 1]);
  assert.deepEqual(topInRange(scores, 0, 10, 4), [0, 9, 1, 2]);
  assert.deepEqual(topInRange(scores, 2, 4, 5), [2, 3]);
});

test('words sort by code point, as Python sorts them', () => {
  // UTF-16 order would put U+1F600 (a surrogate pair) before U+FF21.
  assert.ok(compareCodePoints('\u{ff21}', '\u{1f600}') < 0);
  const lexicon = new Lexicon([['york', 3], ['yo', 1], ['new', 2], ['\u{1f600}', 1], ['\u{ff21}', 1]]);
  assert.deepEqual(lexicon.words, ['new', 'yo', 'york', '\u{ff21}', '\u{1f600}']);
  assert.deepEqual(lexicon.range('yo'), [1, 3]);
  assert.deepEqual(lexicon.range('z'), [3, 3]);
});

test('queries are lower-cased words with single spaces', () => {
  assert.equal(normalizeQuery('  New   YORK \t'), 'new york');
});

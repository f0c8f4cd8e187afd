// Unit tests of the spelling pieces two runtimes must share (docs/ONDEVICE.md,
// "Spelling correction"); whole corrections are compared with the Python runtime in
// tests/ondevice/test_typescript_parity.py.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {ChannelModel, codePoints, deletes, DeletesIndex, LexiconTrie, oneEditVariants, osaDistance} from '../dist/index.js';

const osa = (a, b) => osaDistance(codePoints(a), codePoints(b));

test('OSA distances: a swap is one edit, and no substring is edited twice', () => {
  assert.equal(osa('teh', 'the'), 1);
  assert.equal(osa('recieve', 'receive'), 1);
  assert.equal(osa('ca', 'abc'), 3); // OSA, not unrestricted Damerau-Levenshtein (2)
  assert.equal(osa('', 'abc'), 3);
  assert.equal(osa('kitten', 'sitting'), 3);
  assert.equal(osa('\u{1f600}a', 'a'), 1); // code points, not UTF-16 units
});

test('deletes: every string up to the distance, the text itself included', () => {
  assert.deepEqual([...deletes('abc', 1)].sort(), ['ab', 'abc', 'ac', 'bc']);
  assert.equal(deletes('abcd', 2).size, 1 + 4 + 6);
});

test('the deletes index finds the words within the distance, in word order', () => {
  const index = new DeletesIndex(['the', 'then', 'than', 'xylophone', 'he'], 2);
  assert.deepEqual(index.reachable('teh'), [0, 1, 2, 4]);
});

test('one-edit variants of a prefix, the prefix left out', () => {
  const variants = oneEditVariants('ab');
  assert.ok(variants.has('ba') && variants.has('a') && variants.has('b') && variants.has('abz') && variants.has('zb'));
  assert.ok(!variants.has('ab'));
  assert.equal(variants.size, new Set([...variants]).size);
});

function channel(alphabet, counts = {}) {
  const size = [...alphabet].length + 2;
  const zeros = (n) => Array.from({length: n}, () => 0);
  const square = () => Array.from({length: size}, () => zeros(size));
  const json = {alphabet, alpha: 0.5, counts: {sub: square(), del: square(), ins: square(), tra: square(), unigram: zeros(size), bigram: square(), ...counts}};
  return ChannelModel.parse(new TextEncoder().encode(JSON.stringify(json)), 'channel.json');
}

test('with no counts every edit costs log(A): one edit is log 4 over two letters', () => {
  const model = channel('ab'); // A = 4 symbols: ^, a, b, other
  const [same, zero] = model.logProbAndDistance(model.codes('ab'), model.codes('ab'));
  assert.ok(same === 0); // -0 or 0
  assert.equal(zero, 0);
  for (const [typo, word] of [['b', 'a'], ['ba', 'ab'], ['a', 'ab'], ['aab', 'ab']]) {
    const [logp, distance] = model.logProbAndDistance(model.codes(typo), model.codes(word));
    assert.ok(Math.abs(logp + Math.log(4)) < 1e-12, `${typo} for ${word}: ${logp}`);
    assert.equal(distance, 1);
  }
});

test('a counted edit is cheaper than an uncounted one', () => {
  const sub = Array.from({length: 4}, () => [0, 0, 0, 0]);
  sub[1][2] = 9; // "a" written "b", 9 times in 10 a's
  const model = channel('ab', {sub, unigram: [0, 10, 10, 0]});
  const [counted] = model.logProbAndDistance(model.codes('b'), model.codes('a'));
  const [other] = model.logProbAndDistance(model.codes('a'), model.codes('b'));
  assert.ok(Math.abs(counted - Math.log(9.5 / 12)) < 1e-12);
  assert.ok(counted > other);
});

test('a damaged channel file is refused, naming it', () => {
  assert.throws(() => ChannelModel.parse(new TextEncoder().encode('{"alphabet": "ab"}'), 'x/channel.json'), /x\/channel.json: not a channel model/);
});

test('the trie numbers nodes as words are inserted, children in first-seen order', () => {
  const trie = new LexiconTrie([['there', 5], ['the', 9], ['to', 1]], new Map([...'thero'].map((c, i) => [c, i + 1])));
  assert.equal(trie.words[3], 'the');
  assert.equal(trie.words[5], 'there');
  assert.deepEqual(trie.childNodes[1], [2, 6]); // t → h, then t → o
  assert.ok(Math.abs(trie.bestLogp[0] - Math.log(9 / 15)) < 1e-12);
});

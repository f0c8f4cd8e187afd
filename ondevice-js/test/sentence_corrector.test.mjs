// Unit tests of spelling in context (`SentenceCorrector`): the tie rules and the
// text handling Python's runtime follows. The expected values are what
// keras_nlpkit/ondevice/sentence_corrector.py gives for the same inputs; whole
// sentences are compared with it in tests/ondevice/test_typescript_parity.py.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {applied, confusionIndex, parseConfusionSets, SentenceCorrector, shapedLike, UserInputError, wordSpans} from '../dist/index.js';

const SETTINGS = {lm_weight: 1, confusion_cost: 2, max_candidates: 5, beam_width: 8, oov_penalty: 2, keep_cost: 0};

/** An LM that gives every word the same log-probability; `known` are in its lexicon. */
function flatLm(known) {
  return {logprob: () => -1, indexOf: (word) => (word === '</s>' || known.includes(word) ? 0 : -1)};
}

function corrector({lm = flatLm(['a', 'b', 'w', 'x', 'y', 'z']), candidates = async () => [], isWord = () => true, confusions = new Map(), settings = {}} = {}) {
  return new SentenceCorrector(candidates, isWord, lm, {...SETTINGS, ...settings}, confusions);
}

test('ties: a state keeps its first arrival, and the first best final state wins', () => {
  // (x z) and (y z) both grow into (z w) with the same score: the x path stays.
  assert.deepEqual(corrector().decode([[['x', 0], ['y', 0]], [['z', 0]], [['w', 0]]]), ['x', 'z', 'w']);
  assert.deepEqual(corrector().decode([[['a', 0], ['b', 0]]]), ['a']);
});

test('a word outside the LM pays the OOV penalty', () => {
  const lm = flatLm(['a']);
  assert.deepEqual(corrector({lm}).decode([[['b', 0], ['a', -1]]]), ['a']); // −1 − 1 beats 0 − 1 − 2
  assert.deepEqual(corrector({lm, settings: {oov_penalty: 0}}).decode([[['b', 0], ['a', -1]]]), ['b']);
});

test('a typed word is kept unless the context beats it by the confusion cost', async () => {
  const confusions = confusionIndex([['by', 'buy', 'bye']]);
  const prefers = (margin) => ({logprob: (state, word) => (word === 'buy' ? -1 + margin : -1), indexOf: () => 0});
  assert.equal(await corrector({lm: prefers(1.5), confusions}).correct('To by it'), 'To by it');
  assert.equal(await corrector({lm: prefers(2.5), confusions}).correct('To BY it'), 'To BUY it');
  const [, decision] = await corrector({lm: prefers(2.5), confusions}).decisions('to by');
  assert.deepEqual(decision.options, [['by', 0], ['buy', -2], ['bye', -2]]);
  assert.equal(decision.changed, true);
});

test("a misspelling's options are relative to its best candidate; a word the LM knows may stay", async () => {
  const candidates = async () => [['phone', -3], ['phony', -4]];
  const options = await corrector({candidates, isWord: () => false, lm: flatLm(['phnoe'])}).options('phnoe');
  assert.deepEqual(options, [['phone', 0], ['phony', -1], ['phnoe', -0]]);
  assert.deepEqual(await corrector({isWord: () => false}).options('qzx'), [['qzx', 0]]);
  assert.deepEqual(await corrector({candidates, isWord: () => false, lm: null}).decisions('phnoe').then((d) => d[0].options), [
    ['phone', 0],
    ['phony', -1],
  ]);
});

test('word spans count code points, as Python; case follows the typed word', () => {
  assert.deepEqual(wordSpans('😀 It’s rock-n-roll, 2nd ½ x_y'), [
    [2, 6, "it's"],
    [7, 11, 'rock'],
    [12, 13, 'n'],
    [14, 18, 'roll'],
    [21, 23, 'nd'],
    [24, 25, '½'],
    [26, 27, 'x'],
    [28, 29, 'y'],
  ]);
  assert.deepEqual(['THERE', 'There', 'there', 'X'].map((typed) => shapedLike('their', typed)), ['THEIR', 'Their', 'their', 'Their']);
  assert.equal(shapedLike('a', 'I'), 'A');
  assert.equal(shapedLike('straße', 'STRASE'), 'STRASSE');
  assert.equal(applied('😀 i by it', [{start: 4, end: 6, output: 'buy'}]), '😀 i buy it');
});

test('confusion sets: a word in two sets gets both, in set order; bad ones are refused', () => {
  const index = confusionIndex([['where', 'were', 'wear'], ['were', "we're"]]);
  assert.deepEqual(index.get('were'), ['where', 'wear', "we're"]);
  assert.deepEqual(index.get('where'), ['were', 'wear']);
  assert.throws(() => parseConfusionSets([['by']], 'manifest.json'), UserInputError);
  assert.throws(() => parseConfusionSets('by buy', 'manifest.json'), /must be a list of lists/);
});

test('settings are checked as in Python', () => {
  assert.throws(() => corrector({settings: {beam_width: 0}}), /beam_width/);
  assert.throws(() => corrector({settings: {lm_weight: -1}}), /lm_weight/);
});

// The search rules translation_search.py and translation_search.ts share (docs/ONDEVICE.md,
// "Translation"); their parity on exported models is tests/ondevice/test_typescript_parity.py.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {beamSearch, fixedRows, greedySearch, topIndices} from '../dist/index.js';

const BOS = 2;
const EOS = 3;
const VOCABULARY = 9;

/** A deterministic pseudo-random recurrent "translator": the state is one number a row,
 * the logits depend on it, the token and the position; eos grows likelier with the position. */
function randomModel(seed) {
  const noise = (...keys) => {
    let h = seed * 2654435761;
    for (const k of keys) h = Math.imul(h ^ (k + 0x9e3779b9), 0x85ebca6b) >>> 0;
    return (h % 10007) / 10007;
  };
  const step = async (tokens, state, position) => {
    const next = Float64Array.from(tokens, (token, row) => noise(state[row] * 1000, token, position));
    const logits = new Float32Array(tokens.length * VOCABULARY);
    next.forEach((h, row) => {
      for (let v = 0; v < VOCABULARY; v++) logits[row * VOCABULARY + v] = 4 * noise(h * 1e6, v) + (v === EOS ? 0.6 * position : 0);
    });
    return {logits, state: next};
  };
  const gather = (state, rows) => Float64Array.from(rows, (row) => state[row]);
  return {step, gather};
}

/** A step giving every row the same log-probabilities, those of `probabilities(position)`. */
function fixedStep(probabilities) {
  return async (tokens, state, position) => {
    const row = new Float32Array(VOCABULARY).fill(-50);
    for (const [token, p] of Object.entries(probabilities(position))) row[token] = Math.log(p);
    const logits = new Float32Array(tokens.length * VOCABULARY);
    for (let r = 0; r < tokens.length; r++) logits.set(row, r * VOCABULARY);
    return {logits, state};
  };
}

test('beam 1 gives what greedy gives, for a batch too', async () => {
  const lengths = new Set();
  for (let seed = 1; seed <= 20; seed++) {
    const {step, gather} = randomModel(seed);
    const start = Float64Array.from([seed, seed + 0.5, seed + 0.25]);
    const greedy = await greedySearch(step, start, 3, 8, BOS, EOS);
    const beam = await beamSearch(step, gather, start, 3, 1, 8, BOS, EOS);
    assert.deepEqual(beam.ids, greedy);
    greedy.forEach((ids) => lengths.add(ids.length));
  }
  assert.ok(lengths.size > 2, 'the case exercises outputs of several lengths');
});

test('the best hypothesis is the best Σ log p / N, not the best sum', async () => {
  // eos at once: log 0.4 = −0.92. "5 eos": log 0.6 + log 0.55 = −1.11 in all but −0.55 a
  // token; "5 6 eos": −1.91 / 3 = −0.64. Under the plain sum, eos at once would win.
  const step = fixedStep((position) => (position === 0 ? {[EOS]: 0.4, 5: 0.6} : {[EOS]: 0.55, 6: 0.45}));
  for (const beams of [2, 3]) {
    const {ids, scores} = await beamSearch(step, (s) => s, null, 1, beams, 8, BOS, EOS);
    assert.deepEqual(ids, [[5]]);
    assert.ok(Math.abs(scores[0] - (Math.log(0.6) + Math.log(0.55)) / 2) < 1e-6, `${scores[0]}`);
  }
  // One beam cannot look ahead: it takes 5, then eos (0.55 > 0.45).
  assert.deepEqual((await beamSearch(step, (s) => s, null, 1, 1, 8, BOS, EOS)).ids, [[5]]);
  // max_length cuts a hypothesis that never ends; the cut one is the answer, without eos.
  const endless = fixedStep(() => ({[EOS]: 0.1, 7: 0.9}));
  assert.deepEqual((await beamSearch(endless, (s) => s, null, 1, 2, 4, BOS, EOS)).ids, [[7, 7, 7, 7]]);
  assert.deepEqual(await greedySearch(endless, null, 1, 4, BOS, EOS), [[7, 7, 7, 7]]);
});

test('equal scores go to the lower id, also at the k-th place', async () => {
  assert.deepEqual(topIndices([1, 3, 3, 2, 3], 2), [1, 2]);
  assert.deepEqual(topIndices([5, 1, 1, 1], 2), [0, 1]);
  assert.deepEqual(topIndices([0, -0, 0], 3), [0, 1, 2]);
  assert.deepEqual(topIndices([9, 1, 1, 7, 1], 3, 1, 4), [2, 0, 1]); // within [1, 5)
  const tie = fixedStep(() => ({4: 0.4, 6: 0.4, [EOS]: 0.2}));
  assert.deepEqual(await greedySearch(tie, null, 1, 1, BOS, EOS), [[4]]);
  assert.deepEqual((await beamSearch(tie, (s) => s, null, 1, 1, 1, BOS, EOS)).ids, [[4]]);
  assert.deepEqual((await beamSearch(tie, (s) => s, null, 1, 2, 1, BOS, EOS)).ids, [[4]]);
});

test('rows past the live ones never change the result (fixedRows)', async () => {
  for (let seed = 1; seed <= 10; seed++) {
    const {step} = randomModel(seed);
    const rows = 4;
    const padded = (noisyFrom) => async (tokens, state, position) => {
      const flat = new Map([['h', Float32Array.from(state.get('h'))]]);
      const result = await step(tokens, flat.get('h'), position);
      for (let i = noisyFrom * VOCABULARY; i < result.logits.length; i++) result.logits[i] = 50 * Math.sin(i * seed);
      const h = Float32Array.from(result.state);
      h.fill(seed * 7, noisyFrom);
      return {logits: result.logits, state: new Map([['h', h]])};
    };
    const start = new Map([['h', new Float32Array(rows).fill(seed)]]);
    for (const beams of [1, 2]) {
      const clean = fixedRows(padded(rows), rows, BOS);
      const noisy = fixedRows(padded(beams), rows, BOS);
      const want = await beamSearch(clean.step, clean.gather, start, 1, beams, 8, BOS, EOS);
      assert.deepEqual(await beamSearch(noisy.step, noisy.gather, start, 1, beams, 8, BOS, EOS), want);
    }
  }
});

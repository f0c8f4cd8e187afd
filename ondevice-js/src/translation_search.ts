/**
 * Greedy and length-normalised beam search over a translator's step function, as
 * `keras_nlpkit/ondevice/translation_search.py` runs them (the search Keras and the
 * Python runtime share), so that the same logits give the same ids.
 *
 * NumPy computes the search in float32; here every such value is rounded to float32
 * as it is made (`Float32Array`, `Math.fround`), so sums, divisions and therefore ties
 * and orderings come out as NumPy's. Only `exp` and `log` may differ from NumPy's in
 * the last bit (its vectorised float32 versions are not always correctly rounded);
 * they only shift a row's log-probabilities all together.
 *
 * A search runs `batch` sentences of `beams` rows each, a sentence's rows adjacent
 * (row = sentence · beams + beam):
 *
 * - `step(tokenIds (rows,), state, position)` → `{logits, state}`: one decoder step
 *   of every row, `logits` the rows' float32 logits one after the other; `position`
 *   is the index of `tokenIds` in the target (0 for `bosId`);
 * - `gather(state, rows)` → the state's rows `rows`, in that order (the beam reordering).
 */

export type Step<S> = (tokenIds: Int32Array, state: S, position: number) => Promise<{logits: Float32Array; state: S}>;
export type Gather<S> = (state: S, rows: number[]) => S;

/** The total of an impossible candidate: finite, so that sums and divisions stay finite
 * (-1e9 is exact in float32). */
export const IMPOSSIBLE = -1e9;

const f32 = Math.fround;

/** NumPy's float32 sum of `values[from, from + n)`: its pairwise summation (eight
 * accumulators, blocks of 128), the order `np.sum` adds a contiguous row in. */
function pairwiseSum(values: Float32Array, from: number, n: number): number {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum = f32(sum + values[from + i]);
    return sum;
  }
  if (n <= 128) {
    const r = Array.from(values.subarray(from, from + 8));
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = f32(r[j] + values[from + i + j]);
    }
    let sum = f32(f32(f32(r[0] + r[1]) + f32(r[2] + r[3])) + f32(f32(r[4] + r[5]) + f32(r[6] + r[7])));
    for (; i < n; i++) sum = f32(sum + values[from + i]);
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return f32(pairwiseSum(values, from, half) + pairwiseSum(values, from + half, n - half));
}

/** float32 log-probabilities of each row of `logits` (`rows` rows): x − max − log Σ exp(x − max). */
export function logSoftmaxRows(logits: Float32Array, rows: number): Float32Array {
  const vocabulary = logits.length / rows;
  const out = new Float32Array(logits.length);
  const exps = new Float32Array(vocabulary);
  for (let row = 0; row < rows; row++) {
    const start = row * vocabulary;
    let max = -Infinity;
    for (let v = 0; v < vocabulary; v++) max = Math.max(max, logits[start + v]);
    for (let v = 0; v < vocabulary; v++) {
      out[start + v] = logits[start + v] - max; // rounded by the Float32Array
      exps[v] = Math.exp(out[start + v]);
    }
    const log = f32(Math.log(pairwiseSum(exps, 0, vocabulary)));
    for (let v = 0; v < vocabulary; v++) out[start + v] = out[start + v] - log;
  }
  return out;
}

/** The indices of the `count` highest of `scores[from, from + n)` (relative to `from`),
 * best first, equal scores to the lower index. */
export function topIndices(scores: ArrayLike<number>, count: number, from = 0, n = scores.length - from): number[] {
  const best: number[] = [];
  count = Math.min(count, n);
  for (let i = 0; i < n; i++) {
    const score = scores[from + i];
    // Strictly better than the last kept: an equal later index never displaces it.
    if (best.length === count && !(score > scores[from + best[count - 1]])) continue;
    let at = best.length;
    while (at > 0 && score > scores[from + best[at - 1]]) at--;
    best.splice(at, 0, i);
    if (best.length > count) best.pop();
  }
  return best;
}

function check(beams: number, maxLength: number): void {
  if (!Number.isInteger(beams) || beams < 1) {
    throw new RangeError(`\`numBeams\` must be a positive integer. Received: numBeams=${beams}`);
  }
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new RangeError(`\`maxLength\` must be a positive integer. Received: maxLength=${maxLength}`);
  }
}

function untilEos(row: ArrayLike<number>, eosId: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < row.length && row[i] !== eosId; i++) ids.push(row[i]);
  return ids;
}

/** The index of the highest of `values[from, from + n)`; equal values: the lower index,
 * a NaN first of all (as `np.argmax`). */
function argmax(values: Float32Array, from: number, n: number): number {
  let best = 0;
  for (let i = 0; i < n; i++) {
    const value = values[from + i];
    if (Number.isNaN(value)) return i;
    if (value > values[from + best]) best = i;
  }
  return best;
}

/** The argmax of the logits at every step (equal logits: the lower id) until every
 * sentence has produced `eosId`, or `maxLength` tokens (`eosId` included). `state` has
 * one row a sentence; one list of ids a sentence, without `eosId`. */
export async function greedySearch<S>(
  step: Step<S>,
  state: S,
  batch: number,
  maxLength: number,
  bosId: number,
  eosId: number,
): Promise<number[][]> {
  check(1, maxLength);
  let tokens = new Int32Array(batch).fill(bosId);
  const finished = new Array<boolean>(batch).fill(false);
  const outputs = Array.from({length: batch}, () => new Int32Array(maxLength).fill(eosId));
  for (let position = 0; position < maxLength; position++) {
    const result = await step(tokens, state, position);
    state = result.state;
    const vocabulary = result.logits.length / batch;
    tokens = Int32Array.from({length: batch}, (_, b) => (finished[b] ? eosId : argmax(result.logits, b * vocabulary, vocabulary)));
    for (let b = 0; b < batch; b++) {
      outputs[b][position] = tokens[b];
      finished[b] ||= tokens[b] === eosId;
    }
    if (finished.every(Boolean)) break;
  }
  return outputs.map((row) => untilEos(row, eosId));
}

/**
 * Beam search scored `(Σ_t log p(y_t)) / N`, N the tokens generated (eos included),
 * step for step as `beam_search` in translation_search.py:
 *
 * 1. only beam 0 of a sentence is live at first (the others total `IMPOSSIBLE`);
 * 2. a live beam proposes every token (total + log p, length + 1); a finished beam
 *    only itself again (`eosId`, same total and length), so it competes with the
 *    growing ones on its final score;
 * 3. each sentence keeps its `beams` best candidates by total / length (equal scores:
 *    the lower index beam · vocabulary + token), and `gather` reorders the state;
 * 4. it stops when every beam has finished, or after `maxLength` tokens; beam 0 is
 *    the answer.
 *
 * Returns each sentence's ids (without `eosId`) and its Σ log p / N.
 */
export async function beamSearch<S>(
  step: Step<S>,
  gather: Gather<S>,
  state: S,
  batch: number,
  beams: number,
  maxLength: number,
  bosId: number,
  eosId: number,
): Promise<{ids: number[][]; scores: number[]}> {
  check(beams, maxLength);
  const rows = batch * beams;
  let totals = new Float32Array(rows).fill(IMPOSSIBLE);
  for (let b = 0; b < batch; b++) totals[b * beams] = 0;
  let lengths = new Float32Array(rows);
  let finished = new Uint8Array(rows);
  let history = new Int32Array(rows * maxLength).fill(eosId);
  const tokens = new Int32Array(rows).fill(bosId);
  for (let position = 0; position < maxLength; position++) {
    const result = await step(tokens, state, position);
    state = result.state;
    const vocabulary = result.logits.length / rows;
    const logProbs = logSoftmaxRows(result.logits, rows);
    // Each sentence's beams × vocabulary candidates, one after the other.
    const candidates = new Float32Array(rows * vocabulary);
    const candidateLengths = new Float32Array(rows);
    const scores = new Float32Array(rows * vocabulary);
    for (let row = 0; row < rows; row++) {
      candidateLengths[row] = lengths[row] + (finished[row] ? 0 : 1);
      for (let v = 0; v < vocabulary; v++) {
        const i = row * vocabulary + v;
        const add = finished[row] ? (v === eosId ? 0 : IMPOSSIBLE) : logProbs[i];
        candidates[i] = totals[row] + add;
        scores[i] = candidates[i] / candidateLengths[row];
      }
    }
    const nextTotals = new Float32Array(rows);
    const nextLengths = new Float32Array(rows);
    const nextFinished = new Uint8Array(rows);
    const nextHistory = new Int32Array(rows * maxLength);
    const sourceRows: number[] = [];
    for (let b = 0; b < batch; b++) {
      const chosen = topIndices(scores, beams, b * beams * vocabulary, beams * vocabulary);
      chosen.forEach((flat, k) => {
        const row = b * beams + k;
        const source = b * beams + Math.floor(flat / vocabulary);
        const token = flat % vocabulary;
        tokens[row] = token;
        nextTotals[row] = candidates[b * beams * vocabulary + flat];
        nextLengths[row] = candidateLengths[source];
        nextFinished[row] = finished[source] || token === eosId ? 1 : 0;
        nextHistory.set(history.subarray(source * maxLength, (source + 1) * maxLength), row * maxLength);
        nextHistory[row * maxLength + position] = token;
        sourceRows.push(source);
      });
    }
    [totals, lengths, finished, history] = [nextTotals, nextLengths, nextFinished, nextHistory];
    if (finished.every(Boolean)) break;
    state = gather(state, sourceRows);
  }
  const ids: number[][] = [];
  const scores: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = b * beams;
    ids.push(untilEos(history.subarray(row * maxLength, (row + 1) * maxLength), eosId));
    scores.push(f32(totals[row] / Math.max(lengths[row], 1)));
  }
  return {ids, scores};
}

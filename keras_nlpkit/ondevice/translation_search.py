"""Greedy and length-normalised beam search over a translator's step function (NumPy).

One implementation for both sides: the Keras translators
(`keras_nlpkit.models.translation.beam_search`, a batch of sentences through the
compiled `decode_step`) and the on-device `Translator` (one sentence through the
exported `decode_step` signature) call these functions with their own `step` and
`gather`, so the two can differ only in the logits their models compute.

A search runs `batch` sentences of `beams` rows each, the rows of a sentence
adjacent (row = sentence · beams + beam):

- `step(token_ids (rows,) int32, state, position) -> (logits (rows, vocab), state)`:
  one decoder step of every row; `position` is the index of `token_ids` in the
  target (0 for `bos_id`).
- `gather(state, rows) -> state`: the state's rows `rows`, in that order (the beam
  reordering).
"""

import numpy as np

from keras_nlpkit.ondevice.on_device_model import log_softmax

# The total of an impossible candidate: finite, so that sums and divisions stay finite.
IMPOSSIBLE = -1e9


def top_indices(scores, count):
    """Per row of `scores (rows, n)`, the indices of the `count` highest, best first,
    equal scores to the lower index: `(rows, count)`.

    Every entry equal to the `count`-th highest is kept before the stable sort, so the
    result never depends on how `np.partition` breaks ties.
    """
    scores = np.asarray(scores)
    count = min(count, scores.shape[1])
    result = np.empty((scores.shape[0], count), np.int64)
    for i, row in enumerate(scores):
        threshold = np.partition(row, row.size - count)[row.size - count]
        chosen = np.flatnonzero(row >= threshold)  # ascending
        result[i] = chosen[np.argsort(-row[chosen], kind="stable")][:count]
    return result


def _check(beams, max_length):
    if not isinstance(beams, int | np.integer) or beams < 1:
        raise ValueError(f"`num_beams` must be a positive integer. Received: num_beams={beams!r}")
    if not isinstance(max_length, int | np.integer) or max_length < 1:
        raise ValueError(
            f"`max_length` must be a positive integer. Received: max_length={max_length!r}"
        )


def greedy_search(step, state, batch, max_length, bos_id, eos_id):
    """The argmax of the logits at every step (equal logits: the lower id) until every
    sentence has produced `eos_id`, or `max_length` tokens (`eos_id` included).

    `state` has one row a sentence. Returns one list of ids a sentence, without
    `eos_id`.
    """
    _check(1, max_length)
    tokens = np.full(batch, bos_id, np.int32)
    finished = np.zeros(batch, bool)
    outputs = np.full((batch, max_length), eos_id, np.int32)
    for position in range(max_length):
        logits, state = step(tokens, state, position)
        best = np.asarray(logits, np.float32).argmax(axis=-1)
        tokens = np.where(finished, eos_id, best).astype(np.int32)
        outputs[:, position] = tokens
        finished |= tokens == eos_id
        if finished.all():
            break
    return [_until_eos(row, eos_id) for row in outputs]


def beam_search(step, gather, state, batch, beams, max_length, bos_id, eos_id):
    """Beam search scored `(Σ_t log p(y_t)) / N`, N the tokens generated (eos included).

    1. `state` holds `batch × beams` rows (each sentence's start state repeated).
       Only beam 0 of a sentence is live at first (the others total `IMPOSSIBLE`).
    2. At each position, a live beam proposes every token (total + log p, length
       + 1); a finished beam proposes only itself again (`eos_id`, same total and
       length), so it competes with the growing ones on its final score.
    3. Each sentence keeps the `beams` candidates of highest total / length among
       its `beams × vocabulary` (equal scores: the lower index beam · vocabulary +
       token first), and `gather` reorders the state's rows to follow them. A
       candidate whose token is `eos_id` is finished.
    4. It stops when every beam of every sentence has finished, or after
       `max_length` tokens. Beam 0 (the best score) is the answer.

    Dividing by N removes the plain sum's bias towards short outputs. With one beam
    the answer equals `greedy_search`'s.

    Returns:
        `(ids, scores)`: one list of ids a sentence (without `eos_id`), and each
        one's Σ log p / N.

    References:
        - [Wu et al., 2016](https://arxiv.org/abs/1609.08144) (length normalisation)
    """
    _check(beams, max_length)
    totals = np.full((batch, beams), IMPOSSIBLE, np.float32)
    totals[:, 0] = 0.0
    lengths = np.zeros((batch, beams), np.float32)
    finished = np.zeros((batch, beams), bool)
    history = np.full((batch, beams, max_length), eos_id, np.int32)
    tokens = np.full((batch, beams), bos_id, np.int32)
    sentence = np.arange(batch)[:, None]
    for position in range(max_length):
        logits, state = step(tokens.reshape(-1), state, position)
        log_probs = log_softmax(logits, np.float32)
        vocabulary = log_probs.shape[-1]
        candidates = totals[..., None] + log_probs.reshape(batch, beams, vocabulary)
        hold = np.full(vocabulary, IMPOSSIBLE, np.float32)
        hold[eos_id] = 0.0
        candidates = np.where(finished[..., None], totals[..., None] + hold, candidates)
        candidate_lengths = lengths + np.where(finished, 0.0, 1.0).astype(np.float32)
        scores = (candidates / candidate_lengths[..., None]).reshape(batch, -1)

        chosen = top_indices(scores, beams)  # (batch, beams) flat indices, best first
        source_beam, tokens = chosen // vocabulary, (chosen % vocabulary).astype(np.int32)
        totals = candidates.reshape(batch, -1)[sentence, chosen]
        lengths = candidate_lengths[sentence, source_beam]
        finished = finished[sentence, source_beam] | (tokens == eos_id)
        history = history[sentence, source_beam]
        history[:, :, position] = tokens
        if finished.all():
            break
        state = gather(state, (source_beam + sentence * beams).reshape(-1))
    ids = [_until_eos(row, eos_id) for row in history[:, 0]]
    scores = [float(t / max(n, 1.0)) for t, n in zip(totals[:, 0], lengths[:, 0])]
    return ids, scores


def _until_eos(row, eos_id):
    ends = np.flatnonzero(row == eos_id)
    return [int(i) for i in row[: ends[0] if len(ends) else len(row)]]

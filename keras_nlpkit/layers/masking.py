"""Mask helpers shared by every attention layer.

All masks are boolean, `True` where attention is allowed. They are built from
`arange` comparisons and `where`, never from `tril` + strided slices, so the
exported graph stays within TFLite builtin ops (Keras' fused causal attention
lowers to `FlexStridedSlice` at dynamic length).
"""

from keras import ops
from keras import random


def causal_mask(query_length, key_length, start_index=0):
    """A `(query_length, key_length)` mask: query `i` sees keys `<= start_index + i`.

    `start_index` is the position of the first query in the key sequence, so one
    cached decoding step (`query_length=1`) at position `p` sees keys `0..p`.
    """
    query_positions = ops.arange(query_length, dtype="int32") + ops.cast(start_index, "int32")
    key_positions = ops.arange(key_length, dtype="int32")
    return ops.expand_dims(query_positions, 1) >= ops.expand_dims(key_positions, 0)


def check_attention_mask(attention_mask, num_heads=None):
    """Refuses an `attention_mask` rank that no attention layer broadcasts.

    Accepted: `(Tq, Tv)` (broadcast over batch and heads), `(batch, Tq, Tv)` and
    `(batch, heads, Tq, Tv)`, as Keras accepts them.
    """
    shape = tuple(attention_mask.shape)
    if len(shape) not in (2, 3, 4):
        raise ValueError(
            "`attention_mask` must be (Tq, Tv), (batch, Tq, Tv) or (batch, heads, Tq, Tv). "
            f"Received: attention_mask of shape {shape}"
        )
    if len(shape) == 4 and num_heads is not None and shape[1] not in (None, 1, num_heads):
        raise ValueError(
            f"A 4-D `attention_mask` is (batch, heads, Tq, Tv) with heads = {num_heads} "
            f"(or 1). Received: attention_mask of shape {shape}"
        )


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax over `axis` with disallowed positions removed.

    Computed in float32 whatever the compute dtype (a float16 softmax over long
    rows loses the small weights), then cast back. Masked positions get exactly
    zero weight; a row with every position masked gets uniform weights, as
    `keras.layers.Softmax`, `keras.layers.Attention` and Keras' multi-head
    attention give it (its output is the mean of the values, not a zero that
    downstream layers would read as information).

    Masked scores are replaced by the row's minimum minus 20 (a weight below
    e^-20 ≈ 2e-9, then set to zero) rather than by -1e9 as in Keras: a -1e9 would
    stretch the calibrated range of a full-integer TFLite model so far that every
    real score rounds to the same int8 value.
    """
    dtype = scores.dtype
    scores = ops.cast(scores, "float32")
    if mask is None:
        return ops.cast(ops.softmax(scores, axis=axis), dtype)
    mask = ops.cast(mask, "bool")
    floor = ops.stop_gradient(ops.min(scores, axis=axis, keepdims=True)) - 20.0
    # A row with no visible position: every score the same, so uniform weights.
    visible = ops.any(mask, axis=axis, keepdims=True)
    scores = ops.where(visible, ops.where(mask, scores, floor), ops.zeros_like(scores))
    weights = ops.softmax(scores, axis=axis)
    keep = ops.logical_or(mask, ops.logical_not(visible))
    return ops.cast(ops.where(keep, weights, ops.zeros_like(weights)), dtype)


def attend(layer, scores, value, scores_mask=None, training=False):
    """`keras.layers.Attention._apply_scores` with `masked_softmax`: (output, weights).

    As there, the weights returned are the ones applied (after dropout, in training).
    """
    if scores_mask is not None and len(scores_mask.shape) == 2:
        scores_mask = ops.expand_dims(scores_mask, axis=-2)  # (batch, 1, Tv)
    weights = masked_softmax(scores, scores_mask)
    if training and layer.dropout > 0:
        weights = random.dropout(weights, layer.dropout, seed=layer.seed_generator)
    return ops.matmul(weights, value), weights

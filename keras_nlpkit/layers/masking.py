"""Mask helpers shared by every attention layer.

All masks are boolean, `True` where attention is allowed. They are built from
`arange` comparisons and `where`, never from `tril` + strided slices, so the
exported graph stays within TFLite builtin ops (Keras' own causal mask lowers to
`FlexStridedSlice` at dynamic length).
"""

from keras import ops


def causal_mask(query_length, key_length, start_index=0):
    """A `(query_length, key_length)` mask: query `i` sees keys `<= start_index + i`.

    `start_index` is the position of the first query in the key sequence, so one
    cached decoding step (`query_length=1`) at position `p` sees keys `0..p`.
    """
    query_positions = ops.arange(query_length, dtype="int32") + ops.cast(start_index, "int32")
    key_positions = ops.arange(key_length, dtype="int32")
    return ops.expand_dims(query_positions, 1) >= ops.expand_dims(key_positions, 0)


def merge_attention_masks(
    query_length,
    key_length,
    key_padding_mask=None,
    attention_mask=None,
    use_causal_mask=False,
    start_index=0,
):
    """Combines the masks an attention layer may receive into one.

    Args:
        query_length: number of queries.
        key_length: number of keys.
        key_padding_mask: `(batch, key_length)`, `True` for real (non-padding) keys.
        attention_mask: `(batch, query_length, key_length)` or broadcastable.
        use_causal_mask: add a causal mask (see `causal_mask`).
        start_index: position of the first query, for cached decoding.

    Returns:
        A boolean mask broadcastable to `(batch, query_length, key_length)`, or
        `None` when no mask applies.
    """
    mask = None
    if key_padding_mask is not None:
        mask = ops.expand_dims(ops.cast(key_padding_mask, "bool"), axis=1)
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")
        mask = attention_mask if mask is None else ops.logical_and(mask, attention_mask)
    if use_causal_mask:
        causal = ops.expand_dims(causal_mask(query_length, key_length, start_index), axis=0)
        mask = causal if mask is None else ops.logical_and(mask, causal)
    return mask


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax over `axis` with disallowed positions removed.

    Computed in float32 whatever the compute dtype (a float16 softmax over long
    rows loses the small weights), then cast back. Masked positions get exactly
    zero weight, so a row with every position masked is all zeros, as in
    `keras.layers.Softmax`.

    Masked scores are replaced by the row's minimum minus 20 (a weight below
    e^-20 ≈ 2e-9, then set to zero) rather than by -1e9 as in Keras: a -1e9 would
    stretch the calibrated range of a full-integer TFLite model so far that every
    real score rounds to the same int8 value.
    """
    dtype = scores.dtype
    scores = ops.cast(scores, "float32")
    if mask is None:
        return ops.cast(ops.softmax(scores, axis=axis), dtype)
    floor = ops.stop_gradient(ops.min(scores, axis=axis, keepdims=True)) - 20.0
    weights = ops.softmax(ops.where(mask, scores, floor), axis=axis)
    return ops.cast(ops.where(mask, weights, ops.zeros_like(weights)), dtype)

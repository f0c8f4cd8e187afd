import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_rate
from keras_nlpkit.layers.masking import causal_mask
from keras_nlpkit.layers.masking import check_attention_mask
from keras_nlpkit.layers.masking import masked_softmax


@nlpkit_export("keras_nlpkit.layers.MultiHeadAttention")
class MultiHeadAttention(keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` with a key/value cache, exportable to TFLite.

    A subclass of Keras' layer: every argument, config key, weight and sublayer is
    Keras' (so `output_shape`, `attention_axes`, `sliding_window`, `use_gate`,
    regularizers, constraints, `model.quantize("int8")` and LoRA work as there),
    and a Keras layer's weights copy into it with `set_weights`. What it adds:

    - a KV cache, as keras-hub's `CachedMultiHeadAttention`: `cache` and
      `cache_update_index` in, the updated cache out, so one new token costs
      O(seq) instead of recomputing O(seq²); the causal mask and the sliding
      window are offset to the cached position;
    - attention computed with matmul/transpose and a mask made of `arange`
      comparisons, which TFLite converts to builtin ops (Keras' fused causal path
      lowers to `FlexStridedSlice`), and masked scores replaced by the row's
      minimum − 20 instead of −1e9, which keeps an int8 TFLite file's calibrated
      ranges usable;
    - `key_dim` may be left out: it is then the query size over `num_heads`.

    A query row whose every key is masked gets uniform weights over the keys, as
    in Keras (its output is then the mean of the values); a padded query's output
    is not zeroed, as in Keras (mask it downstream).

    Args:
        num_heads: number of attention heads.
        key_dim: size of each query/key head; by default the query feature size
            divided by `num_heads` (which must then divide it).
        value_dim, dropout, use_bias, output_shape, attention_axes,
        sliding_window, flash_attention, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint, use_gate, seed: as in
        `keras.layers.MultiHeadAttention`.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        query, value, key, query_mask, value_mask, key_mask,
        return_attention_scores, training, use_causal_mask: as in Keras.
        attention_mask: optional boolean mask, `True` = may attend: `(Tq, Tv)`,
            `(batch, Tq, Tv)` or `(batch, num_heads, Tq, Tv)`, broadcast over
            what it lacks; another rank is refused with a `ValueError`.
        cache: optional `(batch, 2, max_length, num_heads, key_dim)`, the
            projected keys (index 0) and values (index 1) of the positions seen
            so far (3-D inputs only).
        cache_update_index: where the keys/values of this call's `key`/`value`
            go in the cache; with a cache and no index, the cache is read only
            (cached cross-attention: project the encoder once).

    Returns:
        `output`; then the attention weights if asked; then the updated cache
        if a cache was given.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    mha = keras_nlpkit.layers.MultiHeadAttention(num_heads=2)
    x = np.random.rand(1, 6, 8).astype("float32")
    full = mha(x, x, use_causal_mask=True)                  # (1, 6, 8)
    cache = np.zeros((1, 2, 6, 2, 4), "float32")
    for t in range(6):                                      # one token at a time
        y, cache = mha(x[:, t : t + 1], x[:, t : t + 1], use_causal_mask=True,
                       cache=cache, cache_update_index=t)   # y == full[:, t]
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(self, num_heads, key_dim=None, value_dim=None, **kwargs):
        # Keras needs `key_dim` now; ours may wait for the query size (see `build`).
        check_rate("dropout", kwargs.get("dropout", 0.0))
        super().__init__(num_heads, 1 if key_dim is None else key_dim, value_dim, **kwargs)
        self._key_dim_argument = key_dim
        self._value_dim_argument = value_dim

    def build(self, query_shape, value_shape, key_shape=None):
        if self._key_dim_argument is None:
            query_dim = query_shape[-1]
            if query_dim % self._num_heads:
                raise ValueError(
                    "Without `key_dim`, `num_heads` must divide the query feature "
                    f"size {query_dim}. Received: num_heads={self._num_heads}"
                )
            self._key_dim = query_dim // self._num_heads
            self._value_dim = self._value_dim_argument or self._key_dim
            self._inverse_sqrt_key_dim = 1.0 / float(self._key_dim) ** 0.5
        super().build(query_shape, value_shape, key_shape)

    def get_config(self):
        config = super().get_config()
        if not self.built:  # a `key_dim` left to the query size stays so until built
            config["key_dim"] = self._key_dim_argument
            config["value_dim"] = self._value_dim_argument
        return config

    # --- files of keras-nlpkit 0.2 ------------------------------------------------------
    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "output_dim" in config:  # 0.2's name of Keras' `output_shape`
            config["output_shape"] = config.pop("output_dim")
        return super().from_config(config)

    def load_own_variables(self, store):
        """Reads a 0.2 file too: its layer held the eight kernels and biases itself
        (same shapes and order as Keras' sublayers), where Keras' layer holds none."""
        if not len(store.keys()):
            return super().load_own_variables(store)
        legacy = [store[str(i)] for i in range(len(store.keys()))]
        if len(legacy) != len(self.weights):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: the file holds {len(legacy)} variables "
                f"for it, the layer has {len(self.weights)}"
            )
        for variable, value in zip(self.weights, legacy):
            variable.assign(value)
        for sublayer in self._flatten_layers(include_self=False):
            # Their paths are not in the file: skip their own (next) load, once.
            def skip_once(store, sublayer=sublayer):
                del sublayer.load_own_variables

            sublayer.load_own_variables = skip_once

    # --- masks ----------------------------------------------------------------------
    def _compute_causal_mask(self, query, value=None, start_index=0):
        """`(1, Tq, Tv)`: query `i` sees keys `<= start_index + i` (arange, not tril)."""
        value = query if value is None else value
        return causal_mask(ops.shape(query)[1], ops.shape(value)[1], start_index)[None]

    def _compute_sliding_window_mask(self, query, value=None, start_index=0):
        value = query if value is None else value
        rows = ops.arange(ops.shape(query)[1], dtype="int32") + ops.cast(start_index, "int32")
        columns = ops.arange(ops.shape(value)[1], dtype="int32")
        distance = ops.abs(rows[:, None] - columns[None, :])
        return (distance < self._sliding_window)[None]

    def _masked_softmax(self, attention_scores, attention_mask=None):
        if len(self._attention_axes) != 1:  # softmax over several axes: Keras' own
            return super()._masked_softmax(attention_scores, attention_mask)
        if attention_mask is not None:
            while len(attention_mask.shape) < len(attention_scores.shape):
                attention_mask = ops.expand_dims(attention_mask, -3)  # the heads axis
            attention_mask = ops.cast(attention_mask, "bool")
        return masked_softmax(attention_scores, attention_mask)

    # --- attention ------------------------------------------------------------------
    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        if self._flash_attention or len(query.shape) != 4:
            # Flash kernels and N-D attention: Keras' computation, unchanged.
            return super()._compute_attention(
                query, key, value, attention_mask, training, return_attention_scores
            )
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            attention_mask = (
                causal
                if attention_mask is None
                else ops.logical_and(ops.cast(attention_mask, "bool"), causal)
            )
        query = ops.multiply(query, ops.cast(self._inverse_sqrt_key_dim, query.dtype))
        query = ops.transpose(query, (0, 2, 1, 3))  # (b, h, Tq, d)
        key = ops.transpose(ops.cast(key, query.dtype), (0, 2, 3, 1))  # (b, h, d, Tv)
        value = ops.transpose(ops.cast(value, query.dtype), (0, 2, 1, 3))  # (b, h, Tv, dv)
        scores = self._masked_softmax(ops.matmul(query, key), attention_mask)
        attended = scores
        if self._dropout > 0.0:
            attended = self._dropout_layer(scores, training=training)
        output = ops.transpose(ops.matmul(attended, value), (0, 2, 1, 3))  # (b, Tq, h, dv)
        return output, scores

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        cache=None,
        cache_update_index=None,
    ):
        self._check_inputs(query, value, key, attention_mask)
        if cache is None:
            if cache_update_index is not None:
                raise ValueError(
                    "`cache_update_index` needs a `cache`. "
                    f"Received: cache=None, cache_update_index={cache_update_index}"
                )
            if query_mask is not None:  # Keras reads it off the tensor only
                keras.src.backend.set_keras_mask(query, query_mask)
            return super().call(
                query,
                value,
                key=key,
                query_mask=query_mask,
                value_mask=value_mask,
                key_mask=key_mask,
                attention_mask=attention_mask,
                return_attention_scores=return_attention_scores,
                training=training,
                use_causal_mask=use_causal_mask,
            )
        return self._call_cached(
            query,
            value,
            key,
            value_mask if value_mask is not None else key_mask,
            attention_mask,
            return_attention_scores,
            training,
            use_causal_mask,
            cache,
            cache_update_index,
        )

    def _call_cached(
        self,
        query,
        value,
        key,
        padding_mask,
        attention_mask,
        return_attention_scores,
        training,
        use_causal_mask,
        cache,
        cache_update_index,
    ):
        if padding_mask is not None:
            raise ValueError(
                "With a `cache` the keys are the cache positions: pass padding as "
                "`attention_mask` of shape (batch, Tq, max_length). Received: a "
                f"value/key mask of shape {tuple(padding_mask.shape)}"
            )
        if len(query.shape) != 3:
            raise ValueError(
                "A `cache` needs 3-D inputs (batch, seq, features). "
                f"Received: query of shape {tuple(query.shape)}"
            )
        key = value if key is None else key
        start = 0 if cache_update_index is None else cache_update_index
        projected_query = self._query_dense(query)
        key_cache, value_cache = cache[:, 0], cache[:, 1]
        if cache_update_index is not None:
            index = [0, cache_update_index, 0, 0]
            new_key = ops.cast(self._key_dense(key), cache.dtype)
            key_cache = ops.slice_update(key_cache, index, new_key)
            value_cache = ops.slice_update(
                value_cache, index, ops.cast(self._value_dense(value), cache.dtype)
            )
            cache = ops.stack([key_cache, value_cache], axis=1)
        mask = None if attention_mask is None else ops.cast(attention_mask, "bool")
        for wanted, make in (
            (use_causal_mask, self._compute_causal_mask),
            (self._sliding_window is not None, self._compute_sliding_window_mask),
        ):
            if wanted:
                band = make(query, key_cache, start)
                mask = band if mask is None else ops.logical_and(mask, band)
        output, scores = self._compute_attention(
            projected_query, key_cache, value_cache, mask, training, return_attention_scores
        )
        if self._use_gate:
            output = ops.multiply(output, self._gate_dense(query))
        output = self._output_dense(output)
        results = (output, scores, cache) if return_attention_scores else (output, cache)
        return results

    def _check_inputs(self, query, value, key, attention_mask):
        """Keras' errors for these happen deep inside a matmul, or not at all."""
        key_shape = value.shape if key is None else key.shape
        if tuple(value.shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be "
                f"equal. Received: value_shape={tuple(value.shape)} and "
                f"key_shape={tuple(key_shape)}"
            )
        if attention_mask is not None and len(query.shape) == 3:
            check_attention_mask(attention_mask, self._num_heads)

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
        cache=None,
        cache_update_index=None,
    ):
        key_shape = None if key is None else key.shape
        output = keras.KerasTensor(
            self.compute_output_shape(query.shape, value.shape, key_shape),
            dtype=self.compute_dtype,
        )
        results = (output,)
        if return_attention_scores:
            # Keras' own spec says (Tq, Tq); the weights are (Tq, Tv).
            key_length = cache.shape[2] if cache is not None else value.shape[1]
            if len(query.shape) == 3 or cache is not None:
                shape = (query.shape[0], self._num_heads, query.shape[1], key_length)
            else:
                shape = self._scores_shape(query.shape, value.shape)
            results += (keras.KerasTensor(shape, dtype=self.compute_dtype),)
        if cache is not None:
            results += (keras.KerasTensor(cache.shape, dtype=cache.dtype),)
        return results[0] if len(results) == 1 else results

    def _scores_shape(self, query_shape, value_shape):
        """The weights' shape for N-D attention: batch dims, heads, query axes, key axes."""
        rank = len(query_shape) + 1  # after the projection adds the heads axis
        axes = self._attention_axes or tuple(range(1, rank - 2))
        axes = tuple(a if a >= 0 else (rank - 1) + a for a in axes)
        batch = [query_shape[i] for i in range(len(query_shape) - 1) if i not in axes]
        return (
            *batch,
            self._num_heads,
            *[query_shape[a] for a in axes],
            *[value_shape[a] for a in axes],
        )

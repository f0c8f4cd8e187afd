import math

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.checks import check_rate
from keras_nlpkit.layers.masking import masked_softmax
from keras_nlpkit.layers.masking import merge_attention_masks


@nlpkit_export("keras_nlpkit.layers.MultiHeadAttention")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with a key/value cache for incremental decoding.

    What it adds over `keras.layers.MultiHeadAttention`: a KV cache (cache and
    position index in, updated cache out, so one new token costs O(seq) instead of
    recomputing O(seq²)), a causal mask that also works for cached steps, and a
    graph of plain matmul/reshape/transpose ops (no einsum, no `tril` slices) that
    converts to TFLite builtin ops. The weights have the shapes and order of
    `keras.layers.MultiHeadAttention` (query, key, value kernels
    `(dim, num_heads, head_dim)` and biases `(num_heads, head_dim)`; output kernel
    `(num_heads, value_dim, output_dim)` and bias `(output_dim,)`), so
    `set_weights(keras_mha.get_weights())` copies a Keras layer into this one.

    Args:
        num_heads: positive int, number of heads h.
        key_dim: size of each query/key head; by default the query feature size
            divided by `num_heads` (which must then divide it).
        value_dim: size of each value head; defaults to `key_dim`.
        output_dim: size of the output; defaults to the query feature size.
        dropout: dropout rate on the attention weights.
        use_bias: whether the projections have biases.
        kernel_initializer, bias_initializer: initializers of the projections.
        seed: seed of the dropout.
        **kwargs: `keras.layers.Layer` arguments.

    Call arguments:
        query: `(batch, Tq, dq)`.
        value: `(batch, Tv, dv)`.
        key: `(batch, Tv, dk)`, defaults to `value`.
        query_mask, value_mask, key_mask: optional boolean padding masks
            (`(batch, Tq)`, `(batch, Tv)`); taken from the inputs' Keras masks.
        attention_mask: optional boolean `(batch, Tq, Tv)`, `True` = may attend.
        use_causal_mask: query `i` attends to keys `<= i` (`<= start + i` when
            decoding with a cache).
        return_attention_scores: also return the weights `(batch, h, Tq, Tv)`.
        training: enables dropout.
        cache: optional `(batch, 2, max_length, h, head_dim)`, the projected keys
            (index 0) and values (index 1) of the positions seen so far.
        cache_update_index: where the keys/values of this call's `key`/`value` go
            in the cache; with a cache and no index, the cache is read only (e.g.
            cached cross-attention).

    Returns:
        `output` `(batch, Tq, output_dim)`; then the attention weights if asked,
        then the updated cache if a cache was given.

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

    def __init__(
        self,
        num_heads,
        key_dim=None,
        value_dim=None,
        output_dim=None,
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_int("num_heads", num_heads)
        check_positive_int("key_dim", key_dim, allow_none=True)
        check_positive_int("value_dim", value_dim, allow_none=True)
        check_positive_int("output_dim", output_dim, allow_none=True)
        check_rate("dropout", dropout)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim
        self.output_dim = output_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        self.supports_masking = True
        if dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def _head_dims(self, query_dim):
        key_dim = self.key_dim
        if key_dim is None:
            if query_dim % self.num_heads:
                raise ValueError(
                    "Without `key_dim`, `num_heads` must divide the query feature "
                    f"size {query_dim}. Received: num_heads={self.num_heads}"
                )
            key_dim = query_dim // self.num_heads
        return key_dim, self.value_dim or key_dim

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        query_dim = query_shape[-1]
        self.head_dim, self.value_head_dim = self._head_dims(query_dim)
        output_dim = self.output_dim or query_dim
        h = self.num_heads

        def projection(name, input_dim, head_dim):
            kernel = self.add_weight(
                shape=(input_dim, h, head_dim),
                initializer=self.kernel_initializer,
                name=f"{name}_kernel",
            )
            bias = None
            if self.use_bias:
                bias = self.add_weight(
                    shape=(h, head_dim),
                    initializer=self.bias_initializer,
                    name=f"{name}_bias",
                )
            return kernel, bias

        # Created in the order of keras.layers.MultiHeadAttention's weights.
        self.query_kernel, self.query_bias = projection("query", query_dim, self.head_dim)
        self.key_kernel, self.key_bias = projection("key", key_shape[-1], self.head_dim)
        self.value_kernel, self.value_bias = projection(
            "value", value_shape[-1], self.value_head_dim
        )
        self.output_kernel = self.add_weight(
            shape=(h, self.value_head_dim, output_dim),
            initializer=self.kernel_initializer,
            name="output_kernel",
        )
        self.output_bias = None
        if self.use_bias:
            self.output_bias = self.add_weight(
                shape=(output_dim,), initializer=self.bias_initializer, name="output_bias"
            )

    def _project(self, x, kernel, bias):
        """(batch, T, dim) -> (batch, T, heads, head_dim), as matmul + reshape."""
        input_dim, heads, head_dim = kernel.shape
        y = ops.matmul(x, ops.reshape(kernel, (input_dim, heads * head_dim)))
        if bias is not None:
            y = y + ops.reshape(bias, (heads * head_dim,))
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.reshape(y, (batch, length, heads, head_dim))

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        cache=None,
        cache_update_index=None,
    ):
        if key is None:
            key = value
            key_mask = None
        if cache is None and cache_update_index is not None:
            raise ValueError(
                "`cache_update_index` needs a `cache`. "
                f"Received: cache=None, cache_update_index={cache_update_index}"
            )

        q = self._project(query, self.query_kernel, self.query_bias)  # (b, Tq, h, d)
        if cache is None:
            k = self._project(key, self.key_kernel, self.key_bias)  # (b, Tv, h, d)
            v = self._project(value, self.value_kernel, self.value_bias)
        elif cache_update_index is None:
            k, v = cache[:, 0], cache[:, 1]  # (b, max_length, h, d)
        else:
            new_k = self._project(key, self.key_kernel, self.key_bias)
            new_v = self._project(value, self.value_kernel, self.value_bias)
            start = [0, cache_update_index, 0, 0]
            k = ops.slice_update(cache[:, 0], start, ops.cast(new_k, cache.dtype))
            v = ops.slice_update(cache[:, 1], start, ops.cast(new_v, cache.dtype))
            cache = ops.stack([k, v], axis=1)  # (b, 2, max_length, h, d)

        padding = value_mask
        if key_mask is not None:
            padding = (
                key_mask
                if padding is None
                else ops.logical_and(ops.cast(padding, "bool"), ops.cast(key_mask, "bool"))
            )
        if query_mask is not None:
            query_rows = ops.expand_dims(ops.cast(query_mask, "bool"), -1)
            attention_mask = (
                query_rows
                if attention_mask is None
                else ops.logical_and(ops.cast(attention_mask, "bool"), query_rows)
            )
        mask = merge_attention_masks(
            ops.shape(q)[1],
            ops.shape(k)[1],
            key_padding_mask=padding,
            attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
            start_index=0 if cache_update_index is None else cache_update_index,
        )

        q = ops.transpose(q, (0, 2, 1, 3))  # (b, h, Tq, d)
        k = ops.transpose(ops.cast(k, q.dtype), (0, 2, 3, 1))  # (b, h, d, Tv)
        v = ops.transpose(ops.cast(v, q.dtype), (0, 2, 1, 3))  # (b, h, Tv, dv)
        scores = ops.matmul(q, k) / ops.cast(math.sqrt(self.head_dim), q.dtype)
        if mask is not None:
            mask = ops.expand_dims(mask, 1)  # broadcast over heads
        weights = masked_softmax(scores, mask)  # (b, h, Tq, Tv)
        attended = weights
        if training and self.dropout > 0:
            attended = keras.random.dropout(weights, rate=self.dropout, seed=self.seed_generator)
        context = ops.matmul(attended, v)  # (b, h, Tq, dv)
        context = ops.transpose(context, (0, 2, 1, 3))  # (b, Tq, h, dv)
        heads, value_head_dim, output_dim = self.output_kernel.shape
        batch, length = ops.shape(context)[0], ops.shape(context)[1]
        context = ops.reshape(context, (batch, length, heads * value_head_dim))
        output = ops.matmul(
            context, ops.reshape(self.output_kernel, (heads * value_head_dim, output_dim))
        )
        if self.output_bias is not None:
            output = output + self.output_bias

        results = (output,)
        if return_attention_scores:
            results += (weights,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def compute_output_shape(self, query_shape, value_shape, key_shape=None, **kwargs):
        output_dim = self.output_dim or query_shape[-1]
        return (*query_shape[:-1], output_dim)

    def compute_output_spec(
        self, query, value, key=None, return_attention_scores=False, cache=None, **kwargs
    ):
        output = keras.KerasTensor(
            self.compute_output_shape(query.shape, value.shape),
            dtype=self.compute_dtype,
        )
        results = (output,)
        if return_attention_scores:
            key_length = cache.shape[2] if cache is not None else value.shape[1]
            results += (
                keras.KerasTensor(
                    (query.shape[0], self.num_heads, query.shape[1], key_length),
                    dtype=self.compute_dtype,
                ),
            )
        if cache is not None:
            results += (keras.KerasTensor(cache.shape, dtype=cache.dtype),)
        return results[0] if len(results) == 1 else results

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "output_dim": self.output_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "seed": self.seed,
            }
        )
        return config

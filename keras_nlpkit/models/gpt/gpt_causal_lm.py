"""`GPTCausalLM`: next-token logits from a `GPTBackbone`, KV-cached generation."""

import keras
import keras_hub
import numpy as np
import tensorflow as tf
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_ids_in_range
from keras_nlpkit.checks import check_length
from keras_nlpkit.checks import concrete_value
from keras_nlpkit.models.gpt.beam_sampler import BeamSampler
from keras_nlpkit.models.gpt.gpt_backbone import GPTBackbone
from keras_nlpkit.models.task import Task


@nlpkit_export("keras_nlpkit.models.GPTCausalLM")
class GPTCausalLM(Task, keras.Model):
    """Next-token logits from a `GPTBackbone`, with a KV-cache path for generation.

    The output projection is tied to the token embedding. `call_with_cache` is
    keras-hub's `CausalLM` interface (logits, hidden states and the updated cache
    for a chunk of tokens at `cache_update_index`); the export tool builds the
    `prefill` and `decode` signatures from it, and the on-device runtime drives
    `decode` one token at a time. `generate` runs keras-hub's samplers (greedy,
    top-k, top-p, random, each with a temperature) or our length-normalised
    `BeamSampler` over the same cache, for a batch of prompts of any lengths.

    Args:
        backbone: a `GPTBackbone`.
        sampler: what `generate` uses by default: a keras-hub sampler name
            (`"greedy"`, `"top_k"`, `"top_p"`, `"random"`), `"beam"` (our
            `BeamSampler`), or a `keras_hub.samplers.Sampler` object; saved
            with the model. Assign `model.sampler` to change it.
        **kwargs: `keras.Model` arguments.

    Call arguments:
        token_ids: `(batch, seq)` int.
        padding_mask: optional `(batch, seq)`, 1 for real tokens.

    Returns:
        logits `(batch, seq, vocabulary_size)`.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.GPTBackbone(100, 2, 2, 32, 64, max_sequence_length=16)
    lm = keras_nlpkit.models.GPTCausalLM(backbone)
    logits = lm(np.array([[5, 6, 7]]))                    # (1, 3, 100)
    cache = lm.build_cache(batch_size=1)                  # (1, 4, 16, 2, 16)
    step, _, cache = lm.call_with_cache(np.array([[5]]), cache, 0)
    lm.generate([[5, 6, 7], [8]], max_length=10)          # greedy, two prompts
    import keras_hub
    lm.generate([[5, 6, 7]], max_length=10, stop_token_ids=[2],
                sampler=keras_hub.samplers.TopPSampler(p=0.9, temperature=0.7))
    ```

    References:
        - [Holtzman et al., 2020](https://arxiv.org/abs/1904.09751) (top-p sampling)
    """

    backbone_class = GPTBackbone
    config_arguments = ("sampler",)

    def __init__(self, backbone, sampler="greedy", **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.sampler = _get_sampler(sampler)
        self._generate_function = None
        self._generate_key = None

    def call(self, token_ids, padding_mask=None):
        _check_concrete_token_ids(token_ids, self.backbone, "token_ids")
        if padding_mask is None:
            padding_mask = ops.ones_like(token_ids)
        hidden = self.backbone({"token_ids": token_ids, "padding_mask": padding_mask})
        return self.backbone.token_embedding.logits(hidden)

    def build_cache(self, batch_size, max_length=None):
        """A zero cache `(batch, 2 * num_layers, max_length, num_heads, head_dim)`.

        Layer i's keys and values are rows 2i and 2i + 1. keras-hub stacks them in
        a 6-D `(batch, num_layers, 2, ...)` tensor instead; TFLite's slicing
        kernels stop at 5 dimensions, so ours stays 5-D.
        """
        backbone = self.backbone
        max_length = max_length or backbone.max_sequence_length
        head_dim = backbone.hidden_dim // backbone.num_heads
        shape = (batch_size, 2 * backbone.num_layers, max_length, backbone.num_heads, head_dim)
        return ops.zeros(shape, dtype=backbone.compute_dtype)

    def call_with_cache(self, token_ids, cache, cache_update_index):
        """Runs `token_ids` (batch, seq) at positions `cache_update_index`... onwards.

        Returns `(logits (batch, seq, vocab), hidden (batch, seq, hidden_dim),
        cache)`; positions after the chunk are masked out by the causal mask.
        """
        backbone = self.backbone
        x = backbone.token_embedding(token_ids, start_index=cache_update_index)
        caches = []
        for i, block in enumerate(backbone.transformer_layers):
            x, layer_cache = block(
                x,
                self_attention_cache=cache[:, 2 * i : 2 * i + 2],
                self_attention_cache_update_index=cache_update_index,
            )
            caches.append(layer_cache)
        hidden = backbone.layer_norm(x)
        logits = backbone.token_embedding.logits(hidden)
        return logits, hidden, ops.concatenate(caches, axis=1)

    # === Generation ===
    def generate(
        self, inputs, max_length=None, sampler=None, stop_token_ids=None, strip_prompt=False
    ):
        """Continues prompts on the KV cache with a sampler.

        The prompts are read in one cached pass up to the shortest one's length;
        then one token per step goes through `call_with_cache`, each row keeping
        its own prompt tokens until it has read them all (keras-hub's scheme, on
        our 5-D cache). Every row ends at `max_length` tokens, or earlier after one
        of `stop_token_ids` (which is kept); generation stops when all rows have.

        Args:
            inputs: one prompt (a list of token ids), a list of prompts of any
                lengths, or `{"token_ids": (batch, seq), "padding_mask": (batch,
                seq)}` with each prompt left-aligned (right padding).
            max_length: total length of prompt + continuation; at most the
                backbone's `max_sequence_length` (the default).
            sampler: overrides the model's sampler for this call (a name or a
                `keras_hub.samplers.Sampler`).
            stop_token_ids: token ids that end a row.
            strip_prompt: return only the continuations.

        Returns:
            For list inputs, the same structure of lists of ints (prompt +
            continuation, through the stop token). For dict inputs, NumPy
            `{"token_ids": (batch, max_length), "padding_mask": (batch,
            max_length)}`, the mask marking prompt + continuation; with a
            `BeamSampler(return_all_beams=True)` they have a beam axis after the
            batch and `"scores"` `(batch, beams)` is added, best first.
        """
        if sampler is None:
            sampler = self.sampler
        elif isinstance(sampler, str):  # one object per name, so one traced function
            self._named_samplers = getattr(self, "_named_samplers", None) or {}
            sampler = self._named_samplers.setdefault(sampler, _get_sampler(sampler))
        else:
            sampler = _get_sampler(sampler)
        prompts = _Prompts(inputs, self.backbone, max_length, stop_token_ids)
        generate = self._make_generate_function(sampler, prompts.stop_token_ids)
        outputs = generate(prompts.token_ids, prompts.padding_mask)
        outputs = {name: ops.convert_to_numpy(value) for name, value in outputs.items()}
        return prompts.unpack(outputs, strip_prompt)

    def _make_generate_function(self, sampler, stop_token_ids):
        """The generation step for this sampler, as a `tf.function` unless run eagerly."""
        key = (sampler, stop_token_ids, self.run_eagerly)
        if self._generate_key == key:
            return self._generate_function

        def generate(token_ids, padding_mask):
            return self.generate_step(token_ids, padding_mask, sampler, stop_token_ids)

        if keras.config.backend() == "tensorflow" and not self.run_eagerly:
            generate = tf.function(generate, reduce_retracing=True)
        self._generate_function, self._generate_key = generate, key
        return generate

    def generate_step(self, token_ids, padding_mask, sampler, stop_token_ids=()):
        """One batch of generation in `keras.ops` (compilable).

        Args:
            token_ids: int `(batch, max_length)`, prompts left-aligned.
            padding_mask: bool `(batch, max_length)`, True on prompt tokens.
            sampler: a `keras_hub.samplers.Sampler`.
            stop_token_ids: tuple of ints.

        Returns:
            `{"token_ids", "padding_mask"}` (+ `"scores"` from a sampler that
            returns all beams).
        """
        batch_size = ops.shape(token_ids)[0]
        max_length = token_ids.shape[1]
        padding_mask = ops.cast(padding_mask, "bool")
        index = ops.min(ops.sum(ops.cast(padding_mask, "int32"), axis=-1))
        # Seed the cache with the positions every row has a prompt token for.
        cache = self.build_cache(batch_size, max_length)
        seed = ops.slice(token_ids, [0, 0], [batch_size, index])
        _, hidden_states, cache = self.call_with_cache(seed, cache, 0)

        def next(prompt, cache, index):
            # The token at `index - 1` is new to the cache; its logits give `index`.
            token = ops.slice(prompt, [0, index - 1], [ops.shape(prompt)[0], 1])
            logits, hidden, cache = self.call_with_cache(token, cache, index - 1)
            return ops.squeeze(logits, 1), ops.squeeze(hidden, 1), cache

        outputs = sampler(
            next=next,
            prompt=token_ids,
            cache=cache,
            index=index,
            mask=padding_mask,
            stop_token_ids=stop_token_ids or None,
            hidden_states=hidden_states,
            model=self,
        )
        scores = None
        if isinstance(outputs, tuple):  # every beam and its score
            outputs, scores = outputs
            padding_mask = ops.repeat(
                ops.expand_dims(padding_mask, 1), ops.shape(outputs)[1], axis=1
            )
        # Keep the prompt and the continuation through the first new stop token.
        new = ops.logical_not(padding_mask)
        stops = ops.zeros_like(new)
        for stop_id in stop_token_ids or ():
            stops = ops.logical_or(stops, ops.equal(outputs, stop_id))
        stops = ops.cast(ops.logical_and(stops, new), "int32")
        after_stop = ops.cumsum(stops, axis=-1) - stops
        result = {"token_ids": outputs, "padding_mask": ops.equal(after_stop, 0)}
        if scores is not None:
            result["scores"] = scores
        return result


def _get_sampler(sampler):
    """A sampler object from a name or an object (see `GPTCausalLM`'s `sampler`)."""
    if isinstance(sampler, keras_hub.samplers.ContrastiveSampler):
        # It re-reads the hidden states of every position; our loop keeps the cache only.
        raise ValueError(
            "`sampler`: keras-hub's ContrastiveSampler is not supported by "
            f"GPTCausalLM.generate. Received: sampler={sampler!r}"
        )
    if isinstance(sampler, keras_hub.samplers.Sampler):
        return sampler
    if isinstance(sampler, dict):  # a saved config
        return keras_hub.samplers.get(sampler)
    names = ["beam", "greedy", "random", "top_k", "top_p"]
    if sampler == "beam":
        return BeamSampler()
    if sampler in names:
        return keras_hub.samplers.get(sampler)
    raise ValueError(
        f"`sampler` must be one of {names} or a keras_hub.samplers.Sampler. "
        f"Received: sampler={sampler!r}"
    )


def _check_token_ids(ids, backbone, argument):
    """Raises on ids outside the vocabulary, naming the argument and the value."""
    check_ids_in_range(argument, ids, backbone.vocabulary_size, "vocabulary_size")


def _check_concrete_token_ids(token_ids, backbone, argument):
    ids = concrete_value(token_ids)
    if ids is not None:
        _check_token_ids(ids, backbone, argument)
        check_length(argument, ids, backbone.max_sequence_length)


class _Prompts:
    """A batch of prompts for `generate`: checked, right-padded, and unpacked after."""

    def __init__(self, inputs, backbone, max_length, stop_token_ids):
        limit = backbone.max_sequence_length
        if max_length is None:
            max_length = limit
        if not isinstance(max_length, (int, np.integer)) or not 1 < max_length <= limit:
            raise ValueError(
                f"`max_length` must be an integer in [2, max_sequence_length={limit}]. "
                f"Received: max_length={max_length!r}"
            )
        stop_token_ids = tuple(int(i) for i in (stop_token_ids or ()))
        _check_token_ids(np.asarray(stop_token_ids, "int64"), backbone, "stop_token_ids")
        self.stop_token_ids = stop_token_ids

        self.kind = "dict" if isinstance(inputs, dict) else "lists"
        if self.kind == "dict":
            if "token_ids" not in inputs:
                raise ValueError(
                    "`inputs` as a dict needs 'token_ids' (and 'padding_mask'). "
                    f"Received: keys {sorted(inputs)}"
                )
            ids = np.asarray(inputs["token_ids"])
            if ids.ndim != 2:
                raise ValueError(
                    f"`inputs['token_ids']` must be (batch, seq). Received: shape {ids.shape}"
                )
            mask = np.asarray(inputs.get("padding_mask", np.ones_like(ids))).astype(bool)
            if mask.shape != ids.shape:
                raise ValueError(
                    "`inputs['padding_mask']` must have the shape of token_ids "
                    f"{ids.shape}. Received: shape {mask.shape}"
                )
            lengths = mask.sum(axis=1)
            if np.any(mask != (np.arange(ids.shape[1])[None] < lengths[:, None])):
                raise ValueError(
                    "`inputs['padding_mask']` must mark each prompt at the start of its "
                    "row (right padding). Received: a mask with gaps or left padding"
                )
            prompts = [list(row[:n]) for row, n in zip(ids, lengths)]
        else:
            self.single = len(inputs) > 0 and isinstance(inputs[0], (int, np.integer))
            prompts = [inputs] if self.single else [list(p) for p in inputs]
        if not prompts:
            raise ValueError("`inputs` holds no prompt. Received: an empty batch")
        for prompt in prompts:
            if len(prompt) == 0:
                raise ValueError("Every prompt needs at least one token. Received: an empty prompt")
            _check_token_ids(np.asarray(prompt), backbone, "inputs")
        longest = max(len(p) for p in prompts)
        if longest >= max_length:
            raise ValueError(
                f"`max_length` must exceed the longest prompt ({longest} tokens), leaving "
                f"room to generate. Received: max_length={max_length}"
            )
        # Positions past a prompt are overwritten before they are read; they hold a
        # token that is not a stop token, so that no row looks finished early.
        filler = next(i for i in range(len(stop_token_ids) + 1) if i not in stop_token_ids)
        self.token_ids = np.full((len(prompts), max_length), filler, "int32")
        self.padding_mask = np.zeros((len(prompts), max_length), bool)
        for row, prompt in enumerate(prompts):
            self.token_ids[row, : len(prompt)] = prompt
            self.padding_mask[row, : len(prompt)] = True
        self.lengths = [len(p) for p in prompts]

    def unpack(self, outputs, strip_prompt):
        if self.kind == "dict":
            if strip_prompt:
                outputs = dict(outputs)
                start = np.arange(outputs["token_ids"].shape[-1]) >= np.reshape(
                    self.lengths, (-1,) + (1,) * (outputs["token_ids"].ndim - 1)
                )
                outputs["padding_mask"] = outputs["padding_mask"] & start
            return outputs

        def kept(ids, mask, length):
            ids = [int(i) for i in ids[mask]]
            return ids[length:] if strip_prompt else ids

        rows = []
        for row, length in enumerate(self.lengths):
            ids, mask = outputs["token_ids"][row], outputs["padding_mask"][row]
            if "scores" in outputs:  # every beam: [(ids, score), ...], best first
                rows.append(
                    [
                        (kept(i, m, length), float(score))
                        for i, m, score in zip(ids, mask, outputs["scores"][row])
                    ]
                )
            else:
                rows.append(kept(ids, mask, length))
        return rows[0] if self.single else rows

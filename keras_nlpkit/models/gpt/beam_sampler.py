"""`BeamSampler`: beam search on a KV cache with length-normalised scores."""

import keras_hub
from keras import ops
from keras import tree

from keras_nlpkit.api_export import nlpkit_export

# Scores of impossible candidates: finite, so that sums and divisions stay finite.
IMPOSSIBLE = -1e9


@nlpkit_export("keras_nlpkit.models.BeamSampler")
class BeamSampler(keras_hub.samplers.Sampler):
    """Length-normalised beam search, driven by keras-hub's sampler loop.

    A hypothesis y_1..y_T continuing a prompt scores
    `(Σ_t log P(y_t | prompt, y_<t)) / T^alpha` (alpha = 0: the plain log-probability,
    which favours short outputs; 1: the per-token mean) — the score of the on-device
    runtime's `beam_search`. A hypothesis ends at a stop token and then stays in the
    beam with its final score, competing with the longer ones still growing;
    generation ends when every beam of every row has ended, or at the maximum
    length. Rows of a batch may have prompts of different lengths: a row still
    reading its prompt keeps one live beam and adds no score.

    keras-hub's `BeamSampler` has no length normalisation and lets a beam keep
    growing after its stop token; this one plugs into the same `Sampler` interface
    (`next(prompt, cache, index) -> (logits, hidden, cache)`), so it works with any
    cache whose first axis is the batch (our 5-D GPT cache included).

    Args:
        num_beams: positive int, the beam width.
        alpha: the length-normalisation exponent (0.7 by default, as the runtime).
        return_all_beams: return every beam and its score, best first, instead of
            the best beam.
        temperature: divides the logits before the softmax (1 keeps the model's
            distribution).

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import GPTBackbone, GPTCausalLM
    from keras_nlpkit.models.gpt import BeamSampler

    lm = GPTCausalLM(GPTBackbone(100, 2, 2, 32, 64, max_sequence_length=16))
    out = lm.generate([[5, 6, 7]], max_length=12, sampler=BeamSampler(num_beams=4),
                      stop_token_ids=[2])
    ```

    References:
        - [Wu et al., 2016](https://arxiv.org/abs/1609.08144) (length normalisation)
    """

    def __init__(self, num_beams=4, alpha=0.7, return_all_beams=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_beams, int) or isinstance(num_beams, bool) or num_beams < 1:
            raise ValueError(
                f"`num_beams` must be a positive integer. Received: num_beams={num_beams!r}"
            )
        if not alpha >= 0:
            raise ValueError(f"`alpha` must be >= 0. Received: alpha={alpha!r}")
        self.num_beams = num_beams
        self.alpha = alpha
        self.return_all_beams = return_all_beams

    def __call__(
        self,
        next,
        prompt,
        cache=None,
        index=0,
        mask=None,
        stop_token_ids=None,
        hidden_states=None,
        model=None,
    ):
        beams = self.num_beams
        batch_size = ops.shape(prompt)[0]
        index = ops.cast(index, "int32")
        mask = ops.zeros_like(prompt, "bool") if mask is None else ops.cast(mask, "bool")
        stop_ids = tuple(stop_token_ids or ())
        # A finished beam "continues" with this token at no cost; it is masked
        # out of the output with everything after the stop token.
        hold_id = stop_ids[0] if stop_ids else 0

        def repeat(x):  # (batch, ...) -> (batch * beams, ...), beams of a row adjacent
            return ops.repeat(x, beams, axis=0)

        prompt, mask = repeat(prompt), repeat(mask)
        has_cache = cache is not None
        cache = tree.map_structure(repeat, cache) if has_cache else ()
        # Only the first beam of each row is live at the start.
        totals = ops.broadcast_to(
            ops.convert_to_tensor([[0.0] + [IMPOSSIBLE] * (beams - 1)], "float32"),
            (batch_size, beams),
        )
        totals = ops.reshape(totals, (-1,))  # (rows,) Σ log-probabilities
        lengths = ops.zeros_like(totals)  # (rows,) generated tokens
        finished = ops.zeros_like(totals, "bool")  # (rows,)

        def is_stop(tokens):
            hit = ops.zeros_like(tokens, "bool")
            for stop_id in stop_ids:
                hit = ops.logical_or(hit, ops.equal(tokens, stop_id))
            return hit

        def normalise(total, length):
            return total / ops.power(ops.maximum(length, 1.0), self.alpha)

        def cond(prompt, cache, index, mask, totals, lengths, finished):
            if not stop_ids:
                return ops.convert_to_tensor(True)
            return ops.logical_not(ops.all(finished))

        def body(prompt, cache, index, mask, totals, lengths, finished):
            logits, _, cache = next(prompt, cache, index)  # (rows, vocab)
            vocabulary_size = ops.shape(logits)[-1]
            log_probs = ops.log_softmax(ops.cast(logits, "float32") / self.temperature)
            # A row reading its prompt takes the prompt's token; a finished beam
            # holds. Either way the beam has exactly one candidate, at no cost.
            forced = mask[:, index]  # (rows,)
            frozen = ops.logical_or(forced, finished)
            hold = ops.where(forced, prompt[:, index], hold_id)
            held = ops.equal(
                ops.expand_dims(ops.arange(vocabulary_size, dtype=hold.dtype), 0),
                ops.expand_dims(hold, 1),
            )  # (rows, vocab)
            step = ops.where(
                ops.expand_dims(frozen, 1),
                ops.where(held, 0.0, IMPOSSIBLE),
                log_probs,
            )
            candidate_totals = ops.expand_dims(totals, 1) + step  # (rows, vocab)
            candidate_lengths = lengths + ops.where(frozen, 0.0, 1.0)  # (rows,)
            scores = normalise(candidate_totals, ops.expand_dims(candidate_lengths, 1))

            # The best `beams` candidates of each row, over all its beams' tokens.
            scores = ops.reshape(scores, (-1, beams * vocabulary_size))
            _, chosen = ops.top_k(scores, k=beams, sorted=True)  # (batch, beams)
            source = chosen // vocabulary_size  # the beam each candidate extends
            tokens = ops.reshape(chosen % vocabulary_size, (-1,))  # (rows,)
            rows = ops.reshape(
                source + ops.expand_dims(ops.arange(ops.shape(source)[0]) * beams, 1),
                (-1,),
            )  # (rows,) flat index of the source beam

            def gather(x):
                return ops.take(x, rows, axis=0)

            prompt = gather(prompt)
            if has_cache:
                cache = tree.map_structure(gather, cache)
            totals = ops.take(ops.reshape(candidate_totals, (-1,)), rows * vocabulary_size + tokens)
            lengths = gather(candidate_lengths)
            was_frozen = gather(frozen)
            finished = ops.logical_or(
                gather(finished),
                ops.logical_and(ops.logical_not(gather(forced)), is_stop(tokens)),
            )
            tokens = ops.where(was_frozen, gather(hold), ops.cast(tokens, hold.dtype))
            prompt = ops.slice_update(
                prompt, [0, index], ops.expand_dims(ops.cast(tokens, prompt.dtype), 1)
            )
            return prompt, cache, index + 1, mask, totals, lengths, finished

        max_length = ops.shape(prompt)[-1]
        prompt, _, _, _, totals, lengths, _ = self.run_loop(
            cond,
            body,
            loop_vars=(prompt, cache, index, mask, totals, lengths, finished),
            maximum_iterations=(max_length - index),
            model=model,
        )
        scores = ops.reshape(normalise(totals, lengths), (-1, beams))  # (batch, beams)
        prompts = ops.reshape(prompt, (-1, beams, max_length))
        order = ops.argsort(-scores, axis=-1)
        scores = ops.take_along_axis(scores, order, axis=1)
        prompts = ops.take_along_axis(prompts, ops.expand_dims(order, -1), axis=1)
        if self.return_all_beams:
            return prompts, scores
        return prompts[:, 0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_beams": self.num_beams,
                "alpha": self.alpha,
                "return_all_beams": self.return_all_beams,
            }
        )
        return config

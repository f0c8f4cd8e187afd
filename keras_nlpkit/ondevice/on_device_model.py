"""`OnDeviceModel`: an exported model run in the LiteRT interpreter, as an app runs it.

It uses only NumPy, the standard library and `ai_edge_litert` (the LiteRT/TFLite
interpreter) — never TensorFlow or Keras — and reads nothing but an export folder
(`manifest.json`, `model_<variant>.tflite`, `tokenizer.json`). An app mirrors it
call for call:

- `OnDeviceModel(folder)` loads one variant into an interpreter (one thread by
  default, the default XNNPACK delegate for float kernels);
- `start(prompt_ids)` reads a prompt, through the streaming `step` signature
  (recurrent and feed-forward models: one token per call, the state carried by
  the host from zeros of each state input's declared dtype — float32 recurrent
  states, a feed-forward LM's int32 window of ids) or
  through `prefill` (Transformer models: the whole prompt, a KV cache out);
- `advance(tokens, state)` runs one more token for each row of a batch (`step`
  or `decode`); `select(state, rows)` reorders the rows (beam search);
- `top_k`, `greedy` and `beam_search` are the host loops built on those. The
  loops live here, not in the `.tflite`: a file with a WHILE loop does not run on
  GPU delegates.
"""

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.model_folder import find_export_dir
from keras_nlpkit.ondevice.model_folder import read_listed_file
from keras_nlpkit.ondevice.tflite_file import describe_tflite
from keras_nlpkit.ondevice.tokenizer_file import parse_tokenizer


def log_softmax(logits, dtype=np.float64):
    """Log-probabilities over the last axis, computed in `dtype` (float64 by default;
    the translation search uses float32 to give the TypeScript runtime's numbers)."""
    logits = np.asarray(logits, dtype=dtype)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def check_declared_tensors(runners, manifest, variant, source):
    """Refuses a file whose signature inputs differ from what its manifest declares
    (a file swapped in from another export or version); manifests before 0.3 declare none."""
    declared = manifest.get("tensors", {}).get(variant, {})
    for signature, tensors in declared.items():
        runner = runners.get(signature)
        found = {} if runner is None else runner.get_input_details()
        for name, tensor in tensors["inputs"].items():
            shape = [int(d) for d in found[name]["shape_signature"]] if name in found else None
            if shape != tensor["shape"]:
                raise UserInputError(
                    f"{source}: {signature}'s input {name} is {shape}, the manifest declares "
                    f"{tensor['shape']}: the file and the manifest are of different exports"
                )


class OnDeviceModel:
    """A language model exported by `nlpkit export`, run with the LiteRT interpreter.

    Args:
        directory: an export folder, or a training folder holding one as `export/`.
        variant: `"float32"`, `"float16"`, `"dynamic_int8"` or `"int8"`.
        num_threads: interpreter threads (a phone keyboard uses one).
        argument: how error messages name `directory` (the CLI's `--model`).

    Example:
    ```python
    from keras_nlpkit.ondevice import OnDeviceModel

    model = OnDeviceModel("runs/export", variant="int8")
    model.top_k(model.encode("The list "), k=3)   # [(token_id, probability), ...]
    ids = model.greedy(model.encode("The list "), max_new_tokens=20)
    best = model.beam_search(model.encode("The "), beam_width=4, max_new_tokens=8)
    ```
    """

    def __init__(self, directory, variant="float32", num_threads=1, argument="--model"):
        export_dir, manifest = find_export_dir(directory, argument=argument)
        variants = manifest.get("variants", {})
        if variant not in variants:
            raise UserInputError(
                f"{argument}: no {variant} model in the export (it has "
                f"{sorted(variants) or 'none'}). Received: {export_dir}"
            )
        content = read_listed_file(export_dir, manifest, variants[variant], argument)
        try:
            description = describe_tflite(content)
        except ValueError as error:
            raise UserInputError(
                f"{argument}: {variants[variant]}: {error}. Received: {export_dir}"
            ) from None
        if description["flex_ops"] or description["custom_ops"]:
            raise UserInputError(
                f"{argument}: {variants[variant]} needs ops the builtin interpreter lacks: "
                f"{description['flex_ops'] + description['custom_ops']}. Received: {export_dir}"
            )
        self.export_dir = export_dir
        self.manifest = manifest
        self.path = export_dir / variants[variant]
        self.interpreter = Interpreter(model_content=content, num_threads=num_threads)
        signatures = self.interpreter.get_signature_list()
        self.runners = {name: self.interpreter.get_signature_runner(name) for name in signatures}
        check_declared_tensors(self.runners, manifest, variant, f"{argument}: {self.path.name}")
        self._served = False
        self._any_batch = {}  # signature -> declares a dynamic batch (files before 0.3)
        tokenizer = manifest.get("tokenizer")
        self.tokenizer = None
        if tokenizer:
            data = read_listed_file(export_dir, manifest, tokenizer, argument)
            self.tokenizer = parse_tokenizer(data, f"{argument}: {tokenizer}")
        if "step" in self.runners:
            self.streaming = "step"
            details = self.runners["step"].get_input_details()
            self.state_shapes = {
                name: tuple(int(d) for d in detail["shape_signature"][1:])
                for name, detail in details.items()
                if name != "token"
            }
            # Recurrent states are float32; a feed-forward LM's state is its int32 window.
            self.state_dtypes = {
                name: np.dtype(details[name]["dtype"]) for name in self.state_shapes
            }
        elif "decode" in self.runners:
            self.streaming = "decode"
        else:
            self.streaming = None
        # The longest sequence a `decode` model holds (its KV cache); None: unbounded.
        self.max_length = None
        if self.streaming == "decode":
            cache = self.runners["decode"].get_input_details()["cache"]["shape_signature"]
            self.max_length = int(cache[2])

    # --- text ---------------------------------------------------------------------
    def encode(self, text):
        return self._need_tokenizer().encode(text)

    def decode(self, ids):
        return self._need_tokenizer().decode(ids)

    def _need_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError(f"The export has no tokenizer. Received: {self.export_dir}")
        return self.tokenizer

    # --- the full-sequence signature ----------------------------------------------
    def serve(self, **inputs):
        """Runs `serving_default` on named inputs (batch 1); returns the outputs dict.

        A file exported with `fused_lstm=True` holds TFLite's fused LSTM, which
        keeps its state in variable tensors that persist from one invocation to the
        next, so they are reset first: each call reads its sequence from a zero
        state, like the Keras model. (An app calls `resetVariableTensors()` the same
        way.) Files of the default export have none, and the reset is a no-op.
        """
        if self._served:  # before the first call the tensors are not allocated yet
            self.interpreter.reset_all_variables()
        self._served = True
        return self.runners["serving_default"](**inputs)

    def logits(self, token_ids):
        """Logits `(seq, vocab)` for every position of one sequence."""
        ids = np.asarray(token_ids, dtype=np.int32)[None]
        return self.serve(token_ids=ids)["logits"][0]

    # --- streaming ------------------------------------------------------------------
    def start(self, prompt_ids):
        """Reads a prompt; returns `(log-probabilities (vocab,), state)` after it."""
        logits, state = self._start(prompt_ids)
        return log_softmax(logits), state

    def advance(self, tokens, state):
        """One token per row: `(log-probabilities (rows, vocab), new state)`."""
        logits, state = self._advance(tokens, state)
        return log_softmax(logits), state

    def stream_logits(self, token_ids):
        """Logits after each token of one sequence, through the streaming signature.

        `step` models read token by token; `decode` models prefill the first token
        and decode the rest, so both of their signatures take part. The result
        `(seq, vocab)` should equal `logits(token_ids)`, the full-sequence pass.
        """
        token_ids = [int(i) for i in token_ids]
        logits, state = self._start(token_ids[:1])
        rows = [logits]
        for token in token_ids[1:]:
            logits, state = self._advance([token], state)
            rows.append(logits[0])
        return np.stack(rows)

    def _start(self, prompt_ids):
        """`(logits (vocab,), state)` after the prompt: `step` per token, or `prefill`."""
        prompt_ids = [int(i) for i in prompt_ids]
        if not prompt_ids:
            raise ValueError("`prompt_ids` must hold at least one token. Received: []")
        if self.streaming == "step":
            state = {
                name: np.zeros((1, *shape), self.state_dtypes[name])
                for name, shape in self.state_shapes.items()
            }
            for token in prompt_ids:
                logits, state = self._advance([token], state)
            return logits[0], state
        if self.streaming == "decode":
            out = self.runners["prefill"](token_ids=np.asarray([prompt_ids], np.int32))
            return out["logits"][0, -1], {"cache": out["cache"], "position": len(prompt_ids)}
        raise ValueError(f"{self.path} has no streaming signature (step or decode)")

    def _run_rows(self, signature, rows, shared=None):
        """Runs `signature` on inputs whose first axis is the row, one call a row
        when the file declares batch 1 (every export since 0.3), else in one call.
        `shared` inputs (e.g. `position`) are the same for every row."""
        runner = self.runners[signature]
        shared = shared or {}
        count = len(rows["token"])
        if signature not in self._any_batch:
            declared = runner.get_input_details()["token"]["shape_signature"][0]
            self._any_batch[signature] = declared == -1
        if self._any_batch[signature] or count == 1:
            return runner(**rows, **shared)
        outs = [
            runner(**{name: value[i : i + 1] for name, value in rows.items()}, **shared)
            for i in range(count)
        ]
        return {name: np.concatenate([out[name] for out in outs]) for name in outs[0]}

    def _advance(self, tokens, state):
        """`(logits (rows, vocab), state)` after one more token per row."""
        tokens = np.asarray(tokens, dtype=np.int32).reshape(-1)
        if self.streaming == "step":
            out = self._run_rows("step", {"token": tokens, **state})
            return out.pop("logits"), out
        position = state["position"]
        if position >= state["cache"].shape[2]:  # (rows, 2 * layers, max_length, ...)
            raise ValueError(
                f"The sequence reached the model's maximum length {state['cache'].shape[2]}"
            )
        out = self._run_rows(
            "decode",
            {"token": tokens, "cache": state["cache"]},
            {"position": np.asarray(position, np.int32)},
        )
        return out["logits"], {"cache": out["cache"], "position": position + 1}

    @staticmethod
    def select(state, rows):
        """The state of the given rows (beam search keeps, drops and copies beams)."""
        rows = np.asarray(rows, dtype=np.int64)
        return {
            name: value[rows] if isinstance(value, np.ndarray) else value
            for name, value in state.items()
        }

    # --- host loops -----------------------------------------------------------------
    def top_k(self, prompt_ids, k=5):
        """The k most likely next tokens: `[(token_id, probability), ...]`."""
        logprobs, _ = self.start(prompt_ids)
        best = np.argsort(-logprobs)[:k]
        return [(int(i), float(np.exp(logprobs[i]))) for i in best]

    def greedy(self, prompt_ids, max_new_tokens=20, stop_ids=()):
        """Most likely continuation, one token at a time; stops after a stop token."""
        logprobs, state = self.start(prompt_ids)
        out = []
        for _ in range(max_new_tokens):
            token = int(np.argmax(logprobs))
            out.append(token)
            if token in stop_ids:
                break
            logprobs, state = self.advance([token], state)
            logprobs = logprobs[0]
        return out

    def beam_search(
        self, prompt_ids, beam_width=4, max_new_tokens=20, stop_ids=(), alpha=0.7, token_filter=None
    ):
        """Beam search with a length-normalised score.

        A hypothesis y_1..y_T scores (1 / T^alpha) * Σ_t log P(y_t | prompt, y_<t)
        (alpha = 0: plain log-probability, which favours short outputs; 1: the
        per-token mean). Hypotheses end at a stop token or after
        `max_new_tokens`. `token_filter(hypothesis_ids) -> allowed ids or None`
        constrains the next token (e.g. to words matching typed letters).

        Returns `[(ids, score), ...]`, best first, at most `beam_width`.
        """
        if beam_width < 1:
            raise ValueError(f"`beam_width` must be ≥ 1. Received: beam_width={beam_width}")
        logprobs, state = self.start(prompt_ids)
        logprobs = logprobs[None]  # (beams, vocab)
        beams = [([], 0.0)]
        finished = []
        for _ in range(max_new_tokens):
            candidates = []
            for row, (ids, total) in enumerate(beams):
                scores = logprobs[row]
                allowed = token_filter(ids) if token_filter else None
                if allowed is not None:
                    allowed = np.asarray(list(allowed), dtype=np.int64)
                    if allowed.size == 0:
                        continue
                    best = allowed[np.argsort(-scores[allowed])[:beam_width]]
                else:
                    best = np.argpartition(-scores, min(beam_width, len(scores) - 1))
                    best = best[:beam_width]
                candidates.extend((total + scores[t], row, int(t)) for t in best)
            candidates.sort(key=lambda c: -c[0])
            rows, tokens, new_beams = [], [], []
            for total, row, token in candidates:
                ids = beams[row][0] + [token]
                if token in stop_ids:
                    finished.append((ids, total))
                elif len(new_beams) < beam_width:
                    new_beams.append((ids, total))
                    rows.append(row)
                    tokens.append(token)
                if len(new_beams) == beam_width:
                    break
            if not new_beams or len(finished) >= beam_width:
                beams = []
                break
            beams = new_beams
            logprobs, state = self.advance(tokens, self.select(state, rows))
        finished.extend(beams)
        ranked = sorted(
            ((ids, total / max(len(ids), 1) ** alpha) for ids, total in finished),
            key=lambda item: -item[1],
        )
        return [(ids, float(score)) for ids, score in ranked[:beam_width]]

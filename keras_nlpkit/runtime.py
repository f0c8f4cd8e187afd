"""The reference on-device runtime: what an Android or iOS app does with an export.

It uses only NumPy, the standard library and `ai_edge_litert` (the LiteRT/TFLite
interpreter) — never TensorFlow or Keras — and reads nothing but the export
folder written by `nlpkit export`: `model_<variant>.tflite` and `tokenizer.json`.
An app mirrors it call for call:

- `OnDeviceModel(folder)` loads one variant into an interpreter (one thread by
  default, the default XNNPACK delegate for float kernels);
- `start(prompt_ids)` reads a prompt, through the streaming `step` signature
  (recurrent models: one token per call, the state carried by the host) or
  through `prefill` (Transformer models: the whole prompt, a KV cache out);
- `advance(tokens, state)` runs one more token for each row of a batch (`step`
  or `decode`); `select(state, rows)` reorders the rows (beam search);
- `top_k`, `greedy` and `beam_search` are the host loops built on those. The
  loops live here, not in the `.tflite`: a file with a WHILE loop does not run on
  GPU delegates.
"""

from pathlib import Path

import numpy as np

from keras_nlpkit.tokenizers import load_tokenizer

# Variant label → file name, as `nlpkit export` writes them.
VARIANT_FILES = {
    "float32": "model_float32.tflite",
    "float16": "model_float16.tflite",
    "dynamic_int8": "model_dynamic_int8.tflite",
    "int8": "model_int8.tflite",
}


def describe_tflite(content):
    """Operators and signatures of a `.tflite` flatbuffer (bytes), without running it.

    Returns `{"ops": sorted operator names, "flex_ops": [...], "custom_ops":
    [...], "signatures": [...]}`. Flex (Select TF) ops are custom ops whose name
    starts with `Flex`; other custom ops are listed under `custom_ops`. Raises
    `ValueError` when `content` is not a TFLite model.
    """
    from ai_edge_litert import schema_py_generated as schema

    if len(content) < 8 or bytes(content[4:8]) != b"TFL3":
        raise ValueError("Not a TFLite model (no TFL3 identifier)")
    try:
        model = schema.Model.GetRootAsModel(content, 0)
        names = {
            code: name for name, code in vars(schema.BuiltinOperator).items()
            if not name.startswith("_")
        }
        ops = set()
        custom = set()
        for i in range(model.OperatorCodesLength()):
            code = model.OperatorCodes(i)
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            if builtin == schema.BuiltinOperator.CUSTOM:
                custom.add(code.CustomCode().decode())
            else:
                ops.add(names[builtin])
        signatures = [
            model.SignatureDefs(i).SignatureKey().decode()
            for i in range(model.SignatureDefsLength())
        ]
    except Exception as error:  # a truncated or corrupt flatbuffer
        raise ValueError(f"Corrupt TFLite model ({type(error).__name__}: {error})") from None
    flex = sorted(op for op in custom if op.startswith("Flex"))
    return {
        "ops": sorted(ops | custom),
        "flex_ops": flex,
        "custom_ops": sorted(custom - set(flex)),
        "signatures": sorted(signatures),
    }


def log_softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class OnDeviceModel:
    """A language model exported by `nlpkit export`, run with the LiteRT interpreter.

    Args:
        directory: the export folder.
        variant: `"float32"`, `"float16"`, `"dynamic_int8"` or `"int8"`.
        num_threads: interpreter threads (a phone keyboard uses one).

    Example:
    ```python
    from keras_nlpkit.runtime import OnDeviceModel

    model = OnDeviceModel("runs/export", variant="int8")
    model.top_k(model.encode("The list "), k=3)   # [(token_id, probability), ...]
    ids = model.greedy(model.encode("The list "), max_new_tokens=20)
    best = model.beam_search(model.encode("The "), beam_width=4, max_new_tokens=8)
    ```
    """

    def __init__(self, directory, variant="float32", num_threads=1):
        from ai_edge_litert.interpreter import Interpreter

        directory = Path(directory)
        if variant not in VARIANT_FILES:
            raise ValueError(f"`variant` must be one of {list(VARIANT_FILES)}. "
                             f"Received: variant={variant!r}")
        path = directory / VARIANT_FILES[variant]
        if not path.is_file():
            raise ValueError(
                f"No {variant} model in the export folder (expected {path.name}). "
                f"Received: {directory}"
            )
        content = path.read_bytes()
        description = describe_tflite(content)
        if description["flex_ops"] or description["custom_ops"]:
            raise ValueError(
                f"{path} needs ops the builtin interpreter lacks: "
                f"{description['flex_ops'] + description['custom_ops']}"
            )
        self.path = path
        self.interpreter = Interpreter(model_content=content, num_threads=num_threads)
        signatures = self.interpreter.get_signature_list()
        self.runners = {name: self.interpreter.get_signature_runner(name) for name in signatures}
        self._served = False
        tokenizer_path = directory / "tokenizer.json"
        self.tokenizer = load_tokenizer(tokenizer_path) if tokenizer_path.is_file() else None
        if "step" in self.runners:
            self.streaming = "step"
            details = self.runners["step"].get_input_details()
            self.state_shapes = {
                name: tuple(int(d) for d in detail["shape_signature"][1:])
                for name, detail in details.items() if name != "token"
            }
        elif "decode" in self.runners:
            self.streaming = "decode"
        else:
            self.streaming = None

    # --- text ---------------------------------------------------------------------
    def encode(self, text):
        return self._need_tokenizer().encode(text)

    def decode(self, ids):
        return self._need_tokenizer().decode(ids)

    def _need_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError(f"The export folder has no tokenizer.json: {self.path.parent}")
        return self.tokenizer

    # --- the full-sequence signature ----------------------------------------------
    def serve(self, **inputs):
        """Runs `serving_default` on named inputs (batch 1); returns the outputs dict.

        TFLite's fused LSTM keeps its state in variable tensors that persist from
        one invocation to the next, so they are reset first: each call reads its
        sequence from a zero state, like the Keras model. (An app calls
        `resetVariableTensors()` the same way.)
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
            state = {name: np.zeros((1, *shape), np.float32)
                     for name, shape in self.state_shapes.items()}
            for token in prompt_ids:
                logits, state = self._advance([token], state)
            return logits[0], state
        if self.streaming == "decode":
            out = self.runners["prefill"](token_ids=np.asarray([prompt_ids], np.int32))
            return out["logits"][0, -1], {"cache": out["cache"], "position": len(prompt_ids)}
        raise ValueError(f"{self.path} has no streaming signature (step or decode)")

    def _advance(self, tokens, state):
        """`(logits (rows, vocab), state)` after one more token per row."""
        tokens = np.asarray(tokens, dtype=np.int32).reshape(-1)
        if self.streaming == "step":
            out = self.runners["step"](token=tokens, **state)
            return out.pop("logits"), out
        position = state["position"]
        if position >= state["cache"].shape[2]:  # (rows, 2 * layers, max_length, ...)
            raise ValueError(
                f"The sequence reached the model's maximum length {state['cache'].shape[2]}"
            )
        out = self.runners["decode"](
            token=tokens, cache=state["cache"], position=np.asarray(position, np.int32)
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

    def beam_search(self, prompt_ids, beam_width=4, max_new_tokens=20, stop_ids=(),
                    alpha=0.7, token_filter=None):
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


__all__ = ["OnDeviceModel", "VARIANT_FILES", "describe_tflite", "log_softmax"]

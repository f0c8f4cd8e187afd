"""The functions an export serves, built from a Keras 3 model of ours.

Every model gets `serving_default` (its inputs at batch 1 → `logits`; batch 1 is
what a phone runs and what TFLite's fused LSTM kernel needs). Models that can be
run incrementally also get streaming signatures, which the on-device runtime
drives from a host loop, so no WHILE loop is ever in a generation path:

- a chain of per-timestep layers around our `LSTM`/`GRU`/`SimpleRNN` (e.g.
  Embedding → LSTM → Dense) gets `step`: `token (1,)` and one input per state, named
  `<layer>_<state>` → `logits (1, vocab)` and the new states under the same
  names;
- a model with keras-hub's `call_with_cache` / `build_cache` interface (our
  `GPTCausalLM`) gets `prefill`: `token_ids (1, seq)` → `logits (1, seq, vocab)`,
  `cache`; and `decode`: `token (1,)`, `cache (1, ...)`, `position ()` →
  `logits (1, vocab)`, `cache`;
- a translator (`encode` / `start_decoding` / `decode_step`) gets `encode` and
  `decode_step` at batch `num_beams` (`keras_nlpkit.export.translation`).

The streaming signatures are declared at batch 1, a static shape: LiteRT.js runs a
signature only on tensors of exactly its declared shape (a `-1` matches nothing),
and a keyboard streams one row. A host loop that keeps several rows (beam search)
calls them once a row (`OnDeviceModel.advance`).

Each signature is a plain Python function over named `tf.TensorSpec`s plus a
reference: the same function run eagerly on the Keras model, which parity checks
compare against.
"""

import dataclasses

import keras
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.layers.adaptive_softmax import AdaptiveSoftmax
from keras_nlpkit.layers.recurrent import RecurrentLayer

# Layers that act on each timestep independently, so they run unchanged on one step.
PER_TIMESTEP_LAYERS = (
    AdaptiveSoftmax,
    keras.layers.Activation,
    keras.layers.Dense,
    keras.layers.Dropout,
    keras.layers.Embedding,
    keras.layers.LayerNormalization,
)


class ExportError(UserInputError):
    """The model cannot be exported as asked; the message says why and what to do."""


@dataclasses.dataclass
class Signature:
    """A named function and its named input specs (the SavedModel/TFLite signature)."""

    name: str
    fn: object  # fn(*inputs) -> dict of named outputs
    input_specs: list  # tf.TensorSpec, each with a name

    @property
    def input_names(self):
        return [spec.name for spec in self.input_specs]


def keras_signatures(model):
    """The signatures for a Keras 3 model: `serving_default` plus streaming ones."""
    if callable(getattr(model, "export_signatures", None)):
        # A model that knows its own signatures (e.g. an encoder-decoder's `encode`
        # and `decode_step`); it must include `serving_default`.
        signatures = list(model.export_signatures())
        if "serving_default" not in [s.name for s in signatures]:
            raise ExportError(
                f"{type(model).__name__}.export_signatures() must include "
                f"serving_default. Received: {[s.name for s in signatures]}"
            )
        return signatures
    if all(callable(getattr(model, n, None)) for n in ("encode", "start_decoding", "decode_step")):
        # A translator: `encode` and `decode_step` for the device's beam search.
        from keras_nlpkit.export.translation import translator_signatures  # (a cycle at import)

        return translator_signatures(model)
    if hasattr(model, "call_with_cache") and hasattr(model, "build_cache"):
        token_spec = tf.TensorSpec((1, None), tf.int32, name="token_ids")
        return [
            Signature("serving_default", lambda ids: {"logits": model(ids)}, [token_spec]),
            *cached_decoding_signatures(model),
        ]
    if not getattr(model, "inputs", None):
        raise ExportError(
            "The model has no symbolic inputs, so its signature is unknown: build it "
            f"on `keras.Input`s (functional or Sequential). Received: {type(model).__name__}"
        )
    signatures = [serving_signature(model, ids_input=False)]
    step = step_signature(model)
    if step is not None:
        signatures.append(step)
    return signatures


def _tf_dtype(dtype):
    # Token ids travel as int32: TFLite's GATHER and every phone API expect it.
    dtype = getattr(dtype, "name", dtype)  # tf-keras gives a tf.DType, Keras 3 a string
    return tf.int32 if "int" in str(dtype) else tf.as_dtype(dtype)


def _input_name(tensor):
    name = tensor.name.split(":")[0]
    return name if name.isidentifier() else "inputs"


def chain_layers(model):
    """The layers of a one-input, one-output model that is a plain chain, else None."""
    if len(getattr(model, "inputs", None) or ()) != 1 or len(model.outputs) != 1:
        return None
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    x = model.inputs[0]
    for layer in layers:
        if len(layer._inbound_nodes) != 1 or layer.input is not x:
            return None
        x = layer.output
    return layers if x is model.outputs[0] else None


def step_signature(model):
    """`step` for a chain with our recurrent layers; None when there is no state."""
    layers = chain_layers(model)
    if layers is None or not any(isinstance(layer, RecurrentLayer) for layer in layers):
        return None
    for layer in layers:
        if not isinstance(layer, PER_TIMESTEP_LAYERS + (RecurrentLayer,)):
            raise ExportError(
                f"Layer {layer.name!r} ({type(layer).__name__}) has no one-timestep form, "
                "so the streaming `step` signature cannot be built. It supports "
                f"{', '.join(cls.__name__ for cls in PER_TIMESTEP_LAYERS)} and "
                "keras_nlpkit.layers.LSTM/GRU/SimpleRNN."
            )
    recurrent = [layer for layer in layers if isinstance(layer, RecurrentLayer)]
    state_names = [f"{layer.name}_{state}" for layer in recurrent for state in layer.state_names]
    state_specs = [
        tf.TensorSpec((1, layer.units), tf.float32, name=f"{layer.name}_{state}")
        for layer in recurrent
        for state in layer.state_names
    ]

    def step(token, *states):
        x = token  # (batch,)
        states = list(states)
        outputs = {}
        for layer in layers:
            if isinstance(layer, RecurrentLayer):
                count = len(layer.state_names)
                x, new_states = layer.step(x, states[:count])  # (batch, units)
                states = states[count:]
                for state, value in zip(layer.state_names, new_states):
                    outputs[f"{layer.name}_{state}"] = value
            else:
                x = layer(x, training=False)
        return {"logits": x, **{name: outputs[name] for name in state_names}}

    token_spec = tf.TensorSpec((1,), tf.int32, name="token")
    return Signature("step", step, [token_spec, *state_specs])


def cached_decoding_signatures(model):
    """`prefill` and `decode` over the model's KV cache (keras-hub's interface)."""
    cache_shape = tuple(model.build_cache(1).shape[1:])

    def prefill(token_ids):
        cache = model.build_cache(tf.shape(token_ids)[0])
        logits, _, cache = model.call_with_cache(token_ids, cache, 0)
        return {"logits": logits, "cache": cache}

    def decode(token, cache, position):
        logits, _, cache = model.call_with_cache(token[:, None], cache, position)
        return {"logits": logits[:, 0], "cache": cache}

    return [
        Signature("prefill", prefill, [tf.TensorSpec((1, None), tf.int32, name="token_ids")]),
        Signature(
            "decode",
            decode,
            [
                tf.TensorSpec((1,), tf.int32, name="token"),
                tf.TensorSpec((1, *cache_shape), tf.float32, name="cache"),
                tf.TensorSpec((), tf.int32, name="position"),
            ],
        ),
    ]


def tf_keras_signatures(model):
    """`serving_default` for a tf-keras (Keras 2) model, at batch 1."""
    # A tf-keras Input defaults to float32 even when it feeds an Embedding: token ids.
    first = model.layers[0] if model.layers else None
    ids_input = type(first).__name__ == "Embedding" and len(model.inputs) == 1
    return [serving_signature(model, ids_input)]


def serving_signature(model, ids_input):
    """`serving_default`: the model's inputs at batch 1 → its outputs (`logits` if one)."""
    specs = [
        tf.TensorSpec(
            (1, *tensor.shape[1:]),
            tf.int32 if ids_input else _tf_dtype(tensor.dtype),
            name=_input_name(tensor),
        )
        for tensor in model.inputs
    ]

    def serve(*inputs):
        outputs = model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)
        return outputs if isinstance(outputs, dict) else {"logits": outputs}

    return Signature("serving_default", serve, specs)

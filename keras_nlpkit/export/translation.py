"""The export of a translator: `encode` and `decode_step`, which the device's beam search drives.

A translator (`TransformerTranslator`, `RNNTranslator`) has `encode(source_ids) ->
encoder state`, `start_decoding(encoder state, max_length) -> decoder state` and
`decode_step(encoder state, decoder state, token_ids, position) -> (logits, decoder
state)`, every state a dict of batch-major tensors. The export serves them as:

- `encode`: `source_ids (1, source_length)` int32 → every encoder-state tensor, and,
  under its own name, each decoder-state tensor whose start value depends on the
  source (an RNN's first h/c); a start value that is constant zeros (a
  Transformer's self-attention caches) is left to the runtime, which starts it as
  zeros of its declared shape, so the file carries no zeros;
- `decode_step`: every encoder-state and decoder-state tensor at batch
  `num_beams`, `token_ids (num_beams,)` int32 and `position ()` int32 →
  `logits (num_beams, vocab)` and the new decoder state under the same names;
- `serving_default`: `source_ids (1, source_length)`, `target_ids (1,
  target_length)` → teacher-forced logits (the export report's parity check).

Static shapes everywhere (LiteRT.js runs a signature only on tensors of its declared
shape), batch `num_beams` for `decode_step` so one call advances every beam. Boolean
and integer state tensors (a source mask) cross the signature as int32 and are cast
back inside. The host loop lives in `keras_nlpkit.ondevice.Translator`.
"""

import contextlib
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.export.exporter import MAX_STREAMING_CALIBRATION
from keras_nlpkit.export.exporter import Source
from keras_nlpkit.export.exporter import export
from keras_nlpkit.export.signatures import ExportError
from keras_nlpkit.export.signatures import Signature
from keras_nlpkit.layers.recurrent import RecurrentLayer
from keras_nlpkit.ondevice.model_folder import read_json
from keras_nlpkit.ondevice.translator import DECODE_STEP
from keras_nlpkit.ondevice.translator import ENCODE
from keras_nlpkit.ondevice.translator import KIND
from keras_nlpkit.ondevice.translator import LOGITS
from keras_nlpkit.ondevice.translator import POSITION
from keras_nlpkit.ondevice.translator import SOURCE_IDS
from keras_nlpkit.ondevice.translator import SOURCE_SPM_FILE
from keras_nlpkit.ondevice.translator import TARGET_SPM_FILE
from keras_nlpkit.ondevice.translator import TOKEN_IDS

TARGET_IDS = "target_ids"
# A training folder's files (`nlpkit train translation`).
SETTINGS_FILE = "translation.json"
MODEL_FILE = "model.keras"
RESERVED = (SOURCE_IDS, TARGET_IDS, TOKEN_IDS, POSITION, LOGITS)
DEFAULT_NUM_BEAMS = 4
# The settings `Translator` needs in the manifest.
REQUIRED_SETTINGS = ("pad_id", "unk_id", "bos_id", "eos_id", "source_length", "target_length")


def _boundary_dtype(dtype):
    """What a state tensor of `dtype` is at the signature: int32 for ids and masks."""
    name = keras.backend.standardize_dtype(dtype)
    return "float32" if "float" in name else "int32"


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


class _Layout:
    """The names, shapes and dtypes of a translator's states, read from one eager run."""

    def __init__(self, model, source_length, target_length):
        ids = ops.convert_to_tensor(np.full((1, source_length), 1, np.int32))
        encoder = model.encode(ids)
        decoder = model.start_decoding(encoder, target_length)
        self.encoder = {k: (tuple(v.shape[1:]), v.dtype) for k, v in encoder.items()}
        self.decoder = {k: (tuple(v.shape[1:]), v.dtype) for k, v in decoder.items()}
        for side, names in (("encoder", self.encoder), ("decoder", self.decoder)):
            bad = [n for n in names if not n.isidentifier() or n in RESERVED]
            if bad:
                raise ExportError(
                    f"{type(model).__name__}'s {side} state names must be identifiers other "
                    f"than {list(RESERVED)} (they name signature tensors). Received: {bad}"
                )
        shared = sorted(set(self.encoder) & set(self.decoder))
        if shared:
            raise ExportError(
                f"{type(model).__name__}'s encoder and decoder states share the names "
                f"{shared}: they name signature tensors, so they must differ"
            )
        self.from_source = self._source_dependent(model, source_length, target_length)

    def _source_dependent(self, model, source_length, target_length):
        """Decoder-state names whose start value is not constant zeros (traced, not run)."""
        constant_zero = {}

        @tf.function(input_signature=[tf.TensorSpec((1, source_length), tf.int32)])
        def start(source_ids):
            decoder = model.start_decoding(model.encode(source_ids), target_length)
            for name, value in decoder.items():
                static = tf.get_static_value(value)
                constant_zero[name] = static is not None and not np.any(static)
            return decoder

        start.get_concrete_function()
        return sorted(name for name in self.decoder if not constant_zero.get(name))

    def specs(self, num_beams):
        spec = lambda name, shape, dtype: tf.TensorSpec(  # noqa: E731
            (num_beams, *shape), tf.as_dtype(_boundary_dtype(dtype)), name=name
        )
        return [
            *(spec(n, *self.encoder[n]) for n in sorted(self.encoder)),
            *(spec(n, *self.decoder[n]) for n in sorted(self.decoder)),
            tf.TensorSpec((num_beams,), tf.int32, name=TOKEN_IDS),
            tf.TensorSpec((), tf.int32, name=POSITION),
        ]


@contextlib.contextmanager
def _unrolled(model):
    """Our recurrent layers written out over their static length while a signature runs.

    The file then holds no WHILE loop: TFLite's int8 calibrator crashes (a segfault)
    on the loops of a masked LSTM encoder, and GPU delegates run no loops. The
    numbers are the loop's (`RecurrentLayer(unroll=True)`).
    """
    layers = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, RecurrentLayer)
    ]
    saved = [layer.unroll for layer in layers]
    for layer in layers:
        layer.unroll = True
    try:
        yield
    finally:
        for layer, unroll in zip(layers, saved):
            layer.unroll = unroll


def translation_signatures(model, source_length, target_length, num_beams=DEFAULT_NUM_BEAMS):
    """`serving_default`, `encode` and `decode_step` of a translator (the module docstring)."""
    if not all(
        callable(getattr(model, n, None)) for n in ("encode", "start_decoding", "decode_step")
    ):
        raise ExportError(
            "A translator needs encode, start_decoding and decode_step methods. "
            f"Received: {type(model).__name__}"
        )
    source_length = _positive("source_length", source_length)
    target_length = _positive("target_length", target_length)
    num_beams = _positive("num_beams", num_beams)
    layout = _Layout(model, source_length, target_length)
    specs = layout.specs(num_beams)
    names = [spec.name for spec in specs]

    def to_boundary(value):
        return ops.cast(value, _boundary_dtype(value.dtype))

    def from_boundary(value, dtype):
        value = ops.convert_to_tensor(value)
        if keras.backend.standardize_dtype(dtype) == "bool":
            return ops.not_equal(value, 0)
        return ops.cast(value, dtype)

    def serve(source_ids, target_ids):
        logits = model(
            {SOURCE_IDS: ops.convert_to_tensor(source_ids), TARGET_IDS: target_ids},
            training=False,
        )
        return {LOGITS: ops.cast(logits, "float32")}

    def encode(source_ids):
        encoder = model.encode(ops.convert_to_tensor(source_ids))
        outputs = {name: to_boundary(value) for name, value in encoder.items()}
        if layout.from_source:
            decoder = model.start_decoding(encoder, target_length)
            outputs.update({name: to_boundary(decoder[name]) for name in layout.from_source})
        return outputs

    def decode_step(*inputs):
        named = dict(zip(names, inputs))
        encoder = {n: from_boundary(named[n], d) for n, (_, d) in layout.encoder.items()}
        decoder = {n: from_boundary(named[n], d) for n, (_, d) in layout.decoder.items()}
        logits, decoder = model.decode_step(
            encoder,
            decoder,
            ops.convert_to_tensor(named[TOKEN_IDS]),
            ops.convert_to_tensor(named[POSITION]),
        )
        return {
            LOGITS: ops.cast(logits, "float32"),
            **{name: to_boundary(decoder[name]) for name in layout.decoder},
        }

    def unrolled(fn):
        def run(*inputs):
            with _unrolled(model):
                return fn(*inputs)

        return run

    ids = lambda name, n: tf.TensorSpec((1, n), tf.int32, name=name)  # noqa: E731
    return [
        Signature(
            "serving_default",
            unrolled(serve),
            [ids(SOURCE_IDS, source_length), ids(TARGET_IDS, target_length)],
        ),
        Signature(ENCODE, unrolled(encode), [ids(SOURCE_IDS, source_length)]),
        Signature(DECODE_STEP, unrolled(decode_step), specs),
    ]


def translator_signatures(model, num_beams=DEFAULT_NUM_BEAMS):
    """`translation_signatures` at the model's own lengths (`max_source_length`,
    `max_target_length`): what `keras_signatures` gives a translator."""
    lengths = [getattr(model, name, None) for name in ("max_source_length", "max_target_length")]
    if None in lengths:
        raise ExportError(
            f"{type(model).__name__} does not say its source and target lengths: export it "
            "with keras_nlpkit.export.translation.export_translation (its settings give "
            "them), or run `nlpkit export` on its training folder (translation.json). "
            f"Received: max_source_length={lengths[0]}, max_target_length={lengths[1]}"
        )
    return translation_signatures(model, *lengths, num_beams)


def calibration_records(signatures, samples, reference, limit=MAX_STREAMING_CALIBRATION):
    """(signature, inputs) for int8 calibration: what `encode` and `decode_step` see while
    the samples' target sides are read teacher-forced (`serving_default` samples)."""
    decode = next(s for s in signatures if s.name == DECODE_STEP)
    specs = {spec.name: spec for spec in decode.input_specs}
    num_beams = specs[TOKEN_IDS].shape[0]
    records = []
    for sample in samples:
        source_ids, target_ids = sample[SOURCE_IDS], sample[TARGET_IDS][0]
        length = int(np.max(np.flatnonzero(target_ids), initial=0)) + 1
        records.append((ENCODE, {SOURCE_IDS: source_ids}))
        encoded = reference(ENCODE, {SOURCE_IDS: source_ids})
        state = {
            name: np.repeat(encoded[name], num_beams, axis=0)
            if name in encoded
            else np.zeros(spec.shape, spec.dtype.as_numpy_dtype)
            for name, spec in specs.items()
            if name not in (TOKEN_IDS, POSITION)
        }
        for position, token in enumerate(target_ids[:length]):
            inputs = {
                **state,
                TOKEN_IDS: np.full((num_beams,), token, np.int32),
                POSITION: np.asarray(position, np.int32),
            }
            records.append((DECODE_STEP, inputs))
            out = reference(DECODE_STEP, inputs)
            state.update({name: value for name, value in out.items() if name != LOGITS})
        if len(records) >= limit:
            break
    return records[:limit]


def translation_source(model, source_length, target_length, num_beams=DEFAULT_NUM_BEAMS, **kw):
    """A `Source` for `export`: the translation signatures, int8 calibration over them,
    and random parity ids below each side's vocabulary size (`source_vocabulary_size`,
    `target_vocabulary_size` in `kw`)."""
    signatures = translation_signatures(model, source_length, target_length, num_beams)
    ranges = {}
    if kw.get("source_vocabulary_size"):
        ranges[SOURCE_IDS] = int(kw["source_vocabulary_size"])
    if kw.get("target_vocabulary_size"):
        ranges[TARGET_IDS] = int(kw["target_vocabulary_size"])
    return Source(
        "keras",
        kw.get("path", "<in memory>"),
        model=model,
        signatures=signatures,
        ranges=ranges,
        calibration_records=lambda samples, reference: calibration_records(
            signatures, samples, reference
        ),
    )


def _spm_bytes(value, argument):
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    try:
        return Path(value).read_bytes()
    except OSError:
        raise UserInputError(f"{argument}: no such SentencePiece file. Received: {value}") from None


def _piece_count(data, argument):
    import sentencepiece

    try:
        return sentencepiece.SentencePieceProcessor(model_proto=data).get_piece_size()
    except (RuntimeError, TypeError) as error:
        raise UserInputError(f"{argument}: not a SentencePiece model ({error})") from None


def representative_npz(path, pairs, settings):
    """Writes `(source ids, target ids)` pairs (pieces, no bos/eos) as a `.npz` of
    `source_ids` and `target_ids` = [bos] + pieces, cut and padded to the lengths."""
    source_length, target_length = settings["source_length"], settings["target_length"]
    pad, bos = settings["pad_id"], settings["bos_id"]
    source = np.full((len(pairs), source_length), pad, np.int32)
    target = np.full((len(pairs), target_length), pad, np.int32)
    for i, (src, tgt) in enumerate(pairs):
        src = list(src)[:source_length]
        tgt = [bos, *tgt][:target_length]
        source[i, : len(src)] = src
        target[i, : len(tgt)] = tgt
    np.savez(path, **{SOURCE_IDS: source, TARGET_IDS: target})


def export_translation(
    model,
    out_dir,
    settings,
    source_spm,
    target_spm,
    num_beams=DEFAULT_NUM_BEAMS,
    quantize=None,
    representative_pairs=None,
    representative_data=None,
    path="<in memory>",
    log=print,
):
    """Exports a translator to `out_dir`, ready for `keras_nlpkit.ondevice.Translator`.

    Args:
        model: a translator (`encode`, `start_decoding`, `decode_step`).
        out_dir: the export folder (`export`'s rules: new, empty or an earlier export).
        settings: translation.json's dict: at least `pad_id`, `unk_id`, `bos_id`, `eos_id`,
            `source_length`, `target_length`; all of it goes into the manifest's
            settings, with `num_beams`.
        source_spm, target_spm: the SentencePiece models (serialized bytes or paths),
            written as `source.spm` and `target.spm`.
        num_beams: the rows `decode_step` reads: the widest beam the device can run.
        quantize: `export`'s variants; by default float32, float16 and dynamic_int8,
            and int8 too when `representative_pairs` are given.
        representative_pairs: `[(source piece ids, target piece ids), ...]` (no bos,
            eos or padding): real pairs to calibrate int8 and to check parity on.
        representative_data: instead, a `.npz` of `source_ids` (n, source_length)
            and `target_ids` (n, target_length) = [bos] + pieces, 0-padded.
        path: what the report names as the model's source.
        log: progress lines.

    Returns:
        `export`'s report.
    """
    missing = [name for name in REQUIRED_SETTINGS if name not in settings]
    if missing:
        raise ValueError(f"`settings` lacks {missing}. Received: {sorted(settings)}")
    num_beams = _positive("num_beams", num_beams)
    source_spm = _spm_bytes(source_spm, "source_spm")
    target_spm = _spm_bytes(target_spm, "target_spm")
    source = translation_source(
        model,
        settings["source_length"],
        settings["target_length"],
        num_beams,
        path=path,
        source_vocabulary_size=_piece_count(source_spm, "source_spm"),
        target_vocabulary_size=_piece_count(target_spm, "target_spm"),
    )
    with tempfile.TemporaryDirectory() as scratch:
        samples = representative_data
        if representative_pairs:
            samples = Path(scratch) / "representative.npz"
            representative_npz(samples, list(representative_pairs), settings)
        return export(
            source,
            out_dir,
            quantize=quantize,
            representative_data=samples,
            kind=KIND,
            settings={**settings, "num_beams": num_beams},
            side_files={SOURCE_SPM_FILE: source_spm, TARGET_SPM_FILE: target_spm},
            log=log,
        )


def export_translation_folder(
    folder,
    out_dir,
    model_path=None,
    num_beams=DEFAULT_NUM_BEAMS,
    quantize=None,
    representative_data=None,
    log=print,
):
    """`export_translation` of a `nlpkit train translation` folder (`nlpkit export DIR`).

    Reads `translation.json`, `source.spm`, `target.spm` and `model.keras` (or
    `model_path`) from `folder`.
    """
    import keras_nlpkit.models  # noqa: F401  (registers the model classes for loading)

    folder = Path(folder)
    settings = read_json(folder / SETTINGS_FILE, "MODEL")
    model_path = Path(model_path) if model_path is not None else folder / MODEL_FILE
    for path in (model_path, folder / SOURCE_SPM_FILE, folder / TARGET_SPM_FILE):
        if not path.is_file():
            raise ExportError(
                f"MODEL: a translation folder without {path.name} (has the training "
                f"finished?). Received: {folder}"
            )
    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as error:
        raise ExportError(f"MODEL: cannot load ({error}). Received: {model_path}") from None
    return export_translation(
        model,
        out_dir,
        settings,
        folder / SOURCE_SPM_FILE,
        folder / TARGET_SPM_FILE,
        num_beams=num_beams,
        quantize=quantize,
        representative_data=representative_data,
        path=str(model_path),
        log=log,
    )


def is_translation_folder(path):
    """True for a training folder of `nlpkit train translation`, or its model file."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return False
    return (folder / SETTINGS_FILE).is_file() and (path.is_dir() or path.suffix == ".keras")

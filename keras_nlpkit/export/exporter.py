"""`nlpkit export`: a model → SavedModel + quantised TFLite + tokenizer + report.

    nlpkit export MODEL --out DIR [--quantize float32,float16,dynamic_int8,int8]
                        [--representative-data FILE] [--allow-flex]

MODEL is a Keras 3 `.keras` file, a tf-keras (Keras 2) `.h5`/`.keras` file, or a
SavedModel folder. DIR receives `saved_model/` (signatures `serving_default`,
and `step` or `prefill`/`decode` for streaming models), one
`model_<variant>.tflite` per quantisation (all signatures in one file),
`tokenizer.json` when the model has one, `manifest.json` (what the on-device
runtimes read: files with checksums, signatures, settings) and `report.json`
(sizes, ops, parity). Everything is written to a hidden folder beside DIR and
renamed into place at the end, so a failed export leaves DIR as it was.

A SavedModel folder or a legacy `.h5` file is a program, not data: loading one
runs its graph or rebuilds its layers, so export only models you trust.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import keras_nlpkit
from keras_nlpkit.backend import tflite_export_hints
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.export import convert as convert_lib
from keras_nlpkit.export import signatures as signatures_lib
from keras_nlpkit.export import untrusted
from keras_nlpkit.export.clients import check_clients
from keras_nlpkit.export.clients import compiled_model_works
from keras_nlpkit.export.clients import signature_tensors
from keras_nlpkit.export.signatures import ExportError
from keras_nlpkit.files import atomic_write_bytes
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import give_default_mode
from keras_nlpkit.files import read_lines
from keras_nlpkit.ondevice.model_folder import FORMAT
from keras_nlpkit.ondevice.model_folder import FORMAT_VERSION
from keras_nlpkit.ondevice.model_folder import MANIFEST_FILE
from keras_nlpkit.ondevice.model_folder import VARIANTS
from keras_nlpkit.ondevice.model_folder import read_manifest
from keras_nlpkit.ondevice.model_folder import variant_file
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.ondevice.tflite_file import describe_tflite
from keras_nlpkit.ondevice.tokenizer_file import TOKENIZER_FILE
from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer

HELD_BACK_EVERY = 5  # every 5th representative sample is kept for parity, not calibration
MAX_CALIBRATION = 100  # samples per signature
MAX_PARITY = 40  # held-back sequences
# Streaming calibration: the states a `step`/`decode` sees, from the first tokens of many
# sequences rather than all tokens of a few, so the ranges cover varied states.
MAX_STREAMING_CALIBRATION = 500
TOKENS_PER_SEQUENCE = 40


@dataclasses.dataclass
class Source:
    """What is exported: the signatures, the reference they are checked against."""

    kind: str  # "keras", "tf_keras" or "saved_model"
    path: str
    model: object = None  # the Keras model (Keras 3 or tf-keras)
    signatures: list = None  # signatures_lib.Signature, for Keras models
    saved_model: object = None  # the loaded SavedModel, for SavedModel sources
    # {input name: id range} for random parity ids, when the model cannot tell
    # (a translator's source and target vocabularies differ).
    ranges: dict = None
    # calibration_records(samples, reference) -> [(signature, inputs)]: what a model's
    # own signatures see on the samples (int8 calibration), when the model has no
    # `calibration_records` method (signatures built outside it, e.g. a translator's).
    calibration_records: object = None

    @property
    def signature_names(self):
        if self.signatures is not None:
            return [s.name for s in self.signatures]
        return sorted(self.saved_model.signatures.keys())

    def input_specs(self, name):
        if self.signatures is not None:
            return next(s for s in self.signatures if s.name == name).input_specs
        fn = self.saved_model.signatures[name]
        return [spec for spec in fn.structured_input_signature[1].values()]

    def reference(self, name, inputs):
        """Runs signature `name` on the source itself (eager Keras, or the SavedModel)."""
        if self.signatures is not None:
            signature = next(s for s in self.signatures if s.name == name)
            outputs = signature.fn(*[inputs[n] for n in signature.input_names])
        else:
            outputs = self.saved_model.signatures[name](**inputs)
        return {key: np.asarray(value) for key, value in outputs.items()}

    def layer_names(self):
        if self.model is None:
            return []
        return [layer.name for layer in self.model._flatten_layers(include_self=False)]

    def vocabulary_size(self):
        """The first Embedding's input size: the range of random token ids."""
        if self.model is None:
            return None
        for layer in self.model._flatten_layers(include_self=False):
            size = _table_size(layer)
            if size is not None:
                return size
        return None

    def input_ranges(self):
        """{input name: the input size of the first Embedding its ids reach}.

        A model with several id inputs (word ids and case ids of a tagger, say)
        needs random ids of each input's own range; inputs that reach no
        Embedding are left out (they get `vocabulary_size()`).
        """
        if self.ranges is not None:
            return dict(self.ranges)
        if not isinstance(self.model, keras.Model):  # a tf-keras model: left to the default
            return {}
        inputs = getattr(self.model, "inputs", None) or []
        consumers = {}  # id(tensor) -> layers that take it
        for layer in self.model._flatten_layers(include_self=False) if inputs else []:
            for node in getattr(layer, "_inbound_nodes", []):
                for tensor in keras.tree.flatten(node.input_tensors):
                    consumers.setdefault(id(tensor), []).append((layer, node))
        ranges = {}
        for tensor in inputs:
            seen, frontier = set(), [tensor]
            while frontier and tensor.name not in ranges:
                current = frontier.pop(0)
                for layer, node in consumers.get(id(current), []):
                    size = _table_size(layer)
                    if size is not None:
                        ranges[tensor.name] = size
                        break
                    if id(node) not in seen:
                        seen.add(id(node))
                        frontier.extend(node.output_tensors)
        return ranges

    def max_length(self):
        backbone = getattr(self.model, "backbone", None)
        return getattr(backbone, "max_sequence_length", None)


def _table_size(layer):
    """The number of ids an Embedding-like layer takes (`input_dim`, `vocabulary_size`)."""
    for name in ("input_dim", "vocabulary_size"):
        if hasattr(layer, name):
            return int(getattr(layer, name))
    return None


def load_source(path, allow_unsafe=False):
    """Loads MODEL: a Keras 3 or tf-keras model file, or a SavedModel folder.

    Legacy files and SavedModels hold code; they are checked before they are loaded
    (`keras_nlpkit.export.untrusted`) unless `allow_unsafe`.
    """
    path = Path(path)
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ExportError(f"MODEL: a folder without saved_model.pb. Received: {path}")
        if not allow_unsafe:
            untrusted.check_saved_model(path)

        try:
            loaded = tf.saved_model.load(str(path))
        except Exception as error:
            raise ExportError(
                f"MODEL: cannot load the SavedModel ({error}). Received: {path}"
            ) from None
        if "serving_default" not in loaded.signatures:
            raise ExportError(f"MODEL: the SavedModel has no serving_default. Received: {path}")
        return Source("saved_model", str(path), saved_model=loaded)
    if not path.is_file():
        raise ExportError(f"MODEL: no such file or folder. Received: {path}")
    if path.suffix in (".h5", ".hdf5"):
        return _tf_keras_source(path, allow_unsafe)
    if path.suffix != ".keras":
        raise ExportError(
            f"MODEL: expected a .keras or .h5 file or a SavedModel folder. Received: {path}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read("metadata.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError):
        raise ExportError(f"MODEL: not a Keras model file. Received: {path}") from None
    if not str(metadata.get("keras_version", "")).startswith("3"):
        return _tf_keras_source(path, allow_unsafe)

    # Registers our classes for loading; imported here because the models import
    # this package (for `Signature`), so a module-level import would be a cycle.
    import keras_nlpkit.layers  # noqa: F401
    import keras_nlpkit.models  # noqa: F401

    try:  # safe_mode: a Lambda's bytecode is refused unless the user trusts the file
        model = keras.saving.load_model(path, compile=False, safe_mode=not allow_unsafe)
    except Exception as error:
        raise ExportError(f"MODEL: cannot load ({error}). Received: {path}") from None
    return Source(
        "keras", str(path), model=model, signatures=signatures_lib.keras_signatures(model)
    )


def _tf_keras_source(path, allow_unsafe):
    import tf_keras  # legacy (Keras 2) files only: a slow import nothing else needs

    if not allow_unsafe:
        untrusted.check_legacy_file(path)
    try:
        model = tf_keras.models.load_model(path, compile=False)
    except Exception as error:
        raise ExportError(f"MODEL: cannot load with tf-keras ({error}). Received: {path}") from None
    return Source(
        "tf_keras", str(path), model=model, signatures=signatures_lib.tf_keras_signatures(model)
    )


def keras_source(model):
    """A Source for a Keras 3 model object (the Python API's entry point)."""
    return Source(
        "keras", "<in memory>", model=model, signatures=signatures_lib.keras_signatures(model)
    )


# --- the SavedModel ----------------------------------------------------------------------
def write_saved_model(source, path, fused_lstm=False):

    if source.kind == "saved_model":
        shutil.copytree(source.path, path)
        return

    def hinted(fn):
        def traced(*args):
            with tflite_export_hints():  # e.g. LSTM → TFLite's fused kernel
                return fn(*args)

        return traced

    if source.kind == "keras":
        archive = keras.export.ExportArchive()
        archive.track(source.model)
        for signature in source.signatures:
            fn = hinted(signature.fn) if fused_lstm else signature.fn
            archive.add_endpoint(signature.name, fn, signature.input_specs)
        archive.write_out(str(path), verbose=False)
    else:  # tf-keras: its LSTM carries its own fusion tag
        module = tf.Module()
        module.model = source.model
        functions = {
            s.name: tf.function(s.fn, input_signature=s.input_specs).get_concrete_function()
            for s in source.signatures
        }
        tf.saved_model.save(module, str(path), signatures=functions)


# --- inputs: calibration and parity samples ------------------------------------------------
def read_samples(path, specs, tokenizer, max_length):
    """Samples for `serving_default`: a `.npz` of arrays by input name, or text lines."""
    path = Path(path)
    names = [spec.name for spec in specs]
    if path.suffix == ".npz":
        try:
            data = np.load(path)
            missing = [name for name in names if name not in data.files]
        except Exception:
            raise ExportError(
                f"--representative-data: not a valid .npz file. Received: {path}"
            ) from None
        if missing:
            raise ExportError(
                f"--representative-data: the .npz needs one array per model input {names}; "
                f"missing {missing}. Received: {path} with {sorted(data.files)}"
            )
        count = len(data[names[0]])
        return [
            {
                spec.name: data[spec.name][i : i + 1].astype(spec.dtype.as_numpy_dtype)
                for spec in specs
            }
            for i in range(count)
        ]
    lines = read_lines(path, argument="--representative-data")
    if tokenizer is None or len(specs) != 1 or not specs[0].dtype.is_integer:
        raise ExportError(
            "--representative-data: a text file needs a tokenizer and a model with one "
            f"token-id input; give a .npz with arrays {names} instead. Received: {path}"
        )
    samples = []
    for line in lines:
        ids = tokenizer.encode(line.strip())[:max_length]
        if ids:
            samples.append({names[0]: np.asarray([ids], np.int32)})
    if not samples:
        raise ExportError(f"--representative-data: no non-empty line. Received: {path}")
    return samples


def random_samples(specs, vocabulary_size, count=12, length=24, seed=0, ranges=None):
    """Random inputs for parity: ids below each input's range (`ranges`) or `vocabulary_size`."""
    rng = np.random.default_rng(seed)
    ranges = ranges or {}
    samples = []
    for _ in range(count):
        sample = {}
        for spec in specs:
            shape = [1] + [length if d is None else d for d in spec.shape[1:]]
            if spec.dtype.is_integer:
                high = ranges.get(spec.name, vocabulary_size)
                sample[spec.name] = rng.integers(0, high, shape).astype(np.int32)
            else:
                sample[spec.name] = rng.standard_normal(shape).astype(np.float32)
        samples.append(sample)
    return samples


def streaming_records(source, sequences, limit=MAX_STREAMING_CALIBRATION):
    """Inputs a streaming signature sees on real sequences (for int8 calibration)."""
    records = []
    names = source.signature_names
    for ids in sequences:
        ids = ids[:TOKENS_PER_SEQUENCE]
        if "step" in names:
            specs = source.input_specs("step")
            # Zeros of each state's own dtype (a feed-forward LM's state is an int32 window).
            state = {s.name: np.zeros((1, *s.shape[1:]), s.dtype.as_numpy_dtype) for s in specs[1:]}
            for token in ids:
                inputs = {"token": np.asarray([token], np.int32), **state}
                records.append(("step", inputs))
                out = source.reference("step", inputs)
                state = {name: out[name] for name in state}
        elif "decode" in names:
            out = source.reference("prefill", {"token_ids": np.asarray([ids[:1]], np.int32)})
            records.append(("prefill", {"token_ids": np.asarray([ids], np.int32)}))
            cache = out["cache"]
            for position, token in enumerate(ids[1:], start=1):
                inputs = {
                    "token": np.asarray([token], np.int32),
                    "cache": cache,
                    "position": np.asarray(position, np.int32),
                }
                records.append(("decode", inputs))
                cache = source.reference("decode", inputs)["cache"]
        if len(records) >= limit:
            break
    return records[:limit]


# --- parity -------------------------------------------------------------------------------
def agreement(reference, candidate, k):
    """Fraction of positions whose top-k token sets are identical (k=1: same argmax)."""
    k = min(k, reference.shape[-1])
    ref = np.sort(np.argsort(-reference, axis=-1)[..., :k], axis=-1)
    got = np.sort(np.argsort(-candidate, axis=-1)[..., :k], axis=-1)
    return float(np.mean(np.all(ref == got, axis=-1)))


def parity(references, candidates):
    """max |reference − candidate| and top-1/top-5 agreement over all positions."""
    ref = np.concatenate([r.reshape(-1, r.shape[-1]) for r in references])
    got = np.concatenate([c.reshape(-1, c.shape[-1]) for c in candidates])
    return {
        "max_abs_diff": float(np.max(np.abs(ref - got))),
        "top1_agreement": agreement(ref, got, 1),
        "top5_agreement": agreement(ref, got, 5),
        "positions": int(ref.shape[0]),
    }


def first_output(outputs):
    return outputs["logits"] if "logits" in outputs else next(iter(outputs.values()))


# --- the export ---------------------------------------------------------------------------
def export(
    source,
    out_dir,
    quantize=None,
    representative_data=None,
    tokenizer=None,
    allow_flex=False,
    sequence_length=64,
    kind="model",
    settings=None,
    side_files=None,
    fused_lstm=False,
    log=print,
):
    """Exports `source` (a `Source`, or a Keras 3 model) to `out_dir`; returns the report.

    Args:
        source: a `Source` (`load_source`) or a Keras 3 model.
        out_dir: the export folder; replaced whole at the end. An existing folder
            must be an export (hold `manifest.json`) or be empty: anything else is
            refused by name, so no user's files are deleted.
        quantize: variants from `VARIANTS` (`float32`, `float16`, `dynamic_int8`,
            `int8`); by default all of them, less `int8` without
            `representative_data` to calibrate it.
        representative_data: a text file (one sample a line) or a `.npz`.
        tokenizer: a pure-Python tokenizer, written as `tokenizer.json`.
        allow_flex: keep files that need Flex ops (with a warning) instead of failing.
        sequence_length: the longest sample taken from a text file, in tokens.
        kind: what the manifest says the folder is (`"model"`, or a recipe's kind).
        settings: the kind's settings, stored in the manifest (e.g. decoding weights).
        side_files: `{name: bytes}` written beside the model and listed in the
            manifest with their checksums (e.g. a recipe's lexicon).
        fused_lstm: write our LSTM's `serving_default` as TFLite's fused
            `UNIDIRECTIONAL_SEQUENCE_LSTM` (faster over long int8 sequences, larger:
            its weights are not shared with `step`). The kernel keeps its state in
            variable tensors, which LiteRT's CompiledModel API (Android's Kotlin API,
            LiteRT.js) refuses, so such a file runs only in the classic Interpreter.
            By default the LSTM is a TFLite WHILE loop over the same cell `step` runs.
    """
    if not isinstance(source, Source):
        source = keras_source(source)
    if quantize is None:
        quantize = VARIANTS if representative_data is not None else VARIANTS[:3]
    quantize = list(quantize)
    unknown = [q for q in quantize if q not in VARIANTS]
    if unknown or not quantize:
        raise ExportError(f"--quantize: choose from {list(VARIANTS)}. Received: {quantize}")
    if "int8" in quantize and representative_data is None:
        raise ExportError(
            "--quantize int8 needs --representative-data (real samples of the training "
            "input) to calibrate the activation ranges. Received: no file"
        )
    out_dir, previous = check_export_folder(out_dir)
    if previous and previous["kind"] != "model" and kind == "model" and side_files is None:
        kind, settings, side_files = _carried_over(out_dir, previous)
        if tokenizer is None and previous.get("tokenizer"):  # a recipe's model needs it
            tokenizer = load_tokenizer(out_dir / previous["tokenizer"], "--out")
        log(
            f"Re-exporting a {kind} model: its side files {sorted(side_files)}, settings "
            "and tokenizer are kept"
        )

    serving_specs = source.input_specs("serving_default")
    max_length = min(sequence_length, source.max_length() or sequence_length)
    if representative_data is not None:
        samples = read_samples(representative_data, serving_specs, tokenizer, max_length)
        held_back = samples[HELD_BACK_EVERY - 1 :: HELD_BACK_EVERY][:MAX_PARITY]
        calibration = [
            s for i, s in enumerate(samples) if i % HELD_BACK_EVERY != HELD_BACK_EVERY - 1
        ]
        calibration = calibration[:MAX_CALIBRATION] or samples[:MAX_CALIBRATION]
        held_back = held_back or samples[:MAX_PARITY]
        parity_inputs = f"{len(held_back)} held-back samples of {representative_data}"
    else:
        vocabulary = (
            (tokenizer.vocabulary_size if tokenizer else None) or source.vocabulary_size() or 10
        )
        held_back = random_samples(
            serving_specs, vocabulary, length=min(24, max_length), ranges=source.input_ranges()
        )
        calibration = []
        parity_inputs = f"{len(held_back)} random samples (no --representative-data)"

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir), _staging(out_dir) as staging:
        for name, data in (side_files or {}).items():
            atomic_write_bytes(staging / name, data)
        report = _export_into(
            source,
            staging,
            quantize,
            calibration,
            held_back,
            tokenizer,
            allow_flex,
            fused_lstm,
            log,
            manifest={"kind": kind, "settings": settings or {}},
        )
        report["parity_inputs"] = parity_inputs
        report["source"] = {"kind": source.kind, "path": source.path}
        atomic_write_json(staging / "report.json", report)
        _replace_folder(staging, out_dir)
    log(format_report(report))
    return report


@contextlib.contextmanager
def _staging(out_dir):
    """A new folder beside `out_dir` to write the export into; removed if the body fails."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        give_default_mode(staging)  # mkdtemp makes it 0700
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_export_folder(out_dir):
    """`(out_dir as a Path, its manifest or None)`, when an export may be written there.

    A new or empty folder, or an earlier export (its manifest is read to tell): any
    other folder is refused by name, so that no files of the user's are replaced.
    """
    out_dir = Path(out_dir)
    if out_dir.name in ("", ".", "..") or out_dir.resolve() == Path.cwd().resolve():
        raise ExportError(f"--out: name a folder below the current one. Received: {out_dir}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"--out: exists and is not a folder. Received: {out_dir}")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return out_dir, None
    try:
        return out_dir, read_manifest(out_dir, "--out")
    except UserInputError:
        raise ExportError(
            f"--out: the folder holds files that are not an export (no keras-nlpkit "
            f"{MANIFEST_FILE}); nothing is replaced. Choose a new or empty folder. "
            f"Received: {out_dir}"
        ) from None


def _carried_over(out_dir, previous):
    """A recipe's side files and settings in an earlier export of it, kept by a re-export."""
    own = {*previous.get("variants", {}).values(), previous.get("tokenizer")}
    files = {
        name: (out_dir / name).read_bytes()
        for name in previous.get("files", {})
        if name not in own and (out_dir / name).is_file()
    }
    return previous["kind"], previous.get("settings", {}), files


@contextlib.contextmanager
def _exclusive(out_dir):
    """One export at a time into `out_dir`; the staging folders of a killed one are removed."""
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExportError(
                f"--out: another export is writing this folder now. Received: {out_dir}"
            ) from None
        for stale in out_dir.parent.glob(f".{out_dir.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)  # its writer is gone: we hold the lock
        for stale in out_dir.parent.glob(f".{out_dir.name}.old-*"):
            if out_dir.exists():
                shutil.rmtree(stale, ignore_errors=True)
            else:  # killed between `_replace_folder`'s two renames: the old export comes back
                os.replace(stale, out_dir)
        try:
            yield
        finally:
            lock_path.unlink(missing_ok=True)


def _replace_folder(staging, out_dir):
    """Puts `staging` at `out_dir`; an existing `out_dir` is removed only after that."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_manifest(folder, kind, settings, variants, signatures, tokenizer, tensors=None):
    """`manifest.json` (`keras_nlpkit.ondevice.model_folder`'s format) for the files there;
    `tensors`: `{variant: clients.signature_tensors(...)}`."""
    folder = Path(folder)
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in (MANIFEST_FILE, "report.json"):
            data = path.read_bytes()
            files[path.name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    atomic_write_json(
        folder / MANIFEST_FILE,
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "nlpkit_version": keras_nlpkit.__version__,
            "kind": kind,
            "settings": settings,
            "variants": {label: variant_file(label) for label in variants},
            "signatures": signatures,
            "tensors": tensors or {},
            "tokenizer": tokenizer,
            "files": files,
        },
    )


def _export_into(
    source,
    staging,
    quantize,
    calibration,
    held_back,
    tokenizer,
    allow_flex,
    fused_lstm,
    log,
    manifest,
):
    names = source.signature_names
    sequences = token_sequences(held_back)
    references = [first_output(source.reference("serving_default", s)) for s in held_back]

    log(f"Writing the SavedModel (signatures: {', '.join(names)})")
    saved_model_dir = staging / "saved_model"
    write_saved_model(source, saved_model_dir, fused_lstm)
    loaded = tf.saved_model.load(str(saved_model_dir))
    saved_outputs = [
        first_output(
            {
                k: np.asarray(v)
                for k, v in loaded.signatures["serving_default"](
                    **{k: tf.constant(v) for k, v in s.items()}
                ).items()
            }
        )
        for s in held_back
    ]
    report = {
        "signatures": names,
        "saved_model": {"path": "saved_model", **parity(references, saved_outputs)},
        "variants": {},
    }
    if tokenizer is not None:
        atomic_write_json(staging / TOKENIZER_FILE, tokenizer.get_config())
        report["tokenizer"] = TOKENIZER_FILE

    calibration_inputs = [("serving_default", s) for s in calibration]
    calibration_inputs += streaming_records(source, token_sequences(calibration))
    # Models with their own signatures say what those see on the samples.
    model_records = source.calibration_records or getattr(source.model, "calibration_records", None)
    if callable(model_records) and calibration:
        calibration_inputs += model_records(calibration, source.reference)

    def representative_dataset():
        yield from calibration_inputs

    blocked_variants, tensors = set(), {}
    for label in quantize:
        log(f"Converting to TFLite: {label}")
        content, note = convert_lib.convert(
            saved_model_dir, names, label, representative_dataset, allow_flex=True
        )
        description = describe_tflite(content)
        blocked = description["flex_ops"] + description["custom_ops"]
        if blocked and not allow_flex:
            sources = convert_lib.flex_op_sources(saved_model_dir, blocked, source.layer_names())
            named = "; ".join(
                f"{op} (from layer {', '.join(map(repr, layers)) or 'unknown'})"  # candidates
                for op, layers in sources.items()
            )
            raise ExportError(
                f"The {label} TFLite model needs ops outside the TFLite builtins: {named}. "
                "Use keras_nlpkit layers (e.g. keras_nlpkit.layers.LSTM rather than "
                "keras.layers.LSTM), or pass --allow-flex to write it anyway (it then "
                "needs the Flex delegate on the device)."
            )
        if blocked:
            print(
                f"nlpkit: warning: {label} needs the Flex delegate for {blocked}", file=sys.stderr
            )
            blocked_variants.add(label)
        clients = None if blocked else check_clients(content)  # Flex: neither client runs it
        if clients is not None and not compiled_model_works(clients):
            reason = clients["compiled_model"]["error"]
            if source.kind == "keras" and not fused_lstm:
                raise ExportError(
                    f"The {label} TFLite model does not run in LiteRT's CompiledModel API "
                    f"(Android's Kotlin API, LiteRT.js): {reason}"
                )
            print(
                f"nlpkit: warning: {variant_file(label)} runs only in the classic "
                f"Interpreter, not in LiteRT's CompiledModel API: {reason}",
                file=sys.stderr,
            )
        (staging / variant_file(label)).write_bytes(content)
        tensors[label] = signature_tensors(content)
        entry = {
            "path": variant_file(label),
            "bytes": len(content),
            **description,
            "clients": clients,
        }
        if note:
            entry["note"] = note
        report["variants"][label] = entry
    write_manifest(
        staging,
        manifest["kind"],
        manifest["settings"],
        quantize,
        names,
        TOKENIZER_FILE if tokenizer is not None else None,
        tensors,
    )
    for label in quantize:
        if label not in blocked_variants:
            report["variants"][label].update(
                _variant_parity(staging, label, held_back, references, sequences)
            )
    return report


def token_sequences(samples):
    """The token ids of one-input integer samples (what streaming signatures read).

    Only (1, tokens) samples are token sequences; (1, words, characters) ones are not.
    """
    sequences = []
    for sample in samples:
        (value, *others) = sample.values()
        if not others and np.issubdtype(value.dtype, np.integer) and value.ndim == 2 and value.size:
            sequences.append([int(i) for i in value[0]])
    return sequences


def _variant_parity(staging, label, held_back, references, sequences):
    model = OnDeviceModel(staging, variant=label)
    outputs = [first_output(model.serve(**s)) for s in held_back]
    result = parity(references, outputs)
    if model.streaming and sequences:
        streamed = [model.stream_logits(ids) for ids in sequences]
        full = [r[0] for r in references]  # (seq, vocab), or (vocab,) for a last-step output
        if full[0].ndim == 1:
            streamed = [rows[-1:] for rows in streamed]
        stream = parity(full, streamed)
        result["streaming"] = {"signature": model.streaming, **stream}
    return result


def _client_cell(clients):
    if clients is None:
        return ""
    compiled = clients["compiled_model"]
    if not compiled["loaded"]:
        return "refused"
    if compiled["error"]:
        return f"ran {len(compiled['ran'])}, then failed"
    return f"ran {len(compiled['ran'])}, {compiled['max_abs_diff']:.1e}"


def format_report(report):
    rows = [
        (
            "variant",
            "bytes",
            "flex/custom",
            "max|diff|",
            "top1",
            "top5",
            "streaming diff",
            "CompiledModel",
        )
    ]
    saved = report["saved_model"]
    rows.append(
        (
            "saved_model",
            "",
            "",
            f"{saved['max_abs_diff']:.2e}",
            f"{saved['top1_agreement']:.3f}",
            f"{saved['top5_agreement']:.3f}",
            "",
            "",
        )
    )
    for label, v in report["variants"].items():
        streaming = v.get("streaming", {}).get("max_abs_diff")
        rows.append(
            (
                label,
                f"{v['bytes']:,}",
                str(len(v["flex_ops"]) + len(v["custom_ops"])),
                f"{v['max_abs_diff']:.2e}" if "max_abs_diff" in v else "-",
                f"{v['top1_agreement']:.3f}" if "top1_agreement" in v else "-",
                f"{v['top5_agreement']:.3f}" if "top5_agreement" in v else "-",
                f"{streaming:.2e}" if streaming is not None else "",
                _client_cell(v.get("clients")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.append(
        f"signatures: {', '.join(report['signatures'])}; parity on "
        f"{report.get('parity_inputs', '')}"
    )
    return "\n".join(lines)

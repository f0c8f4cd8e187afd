"""The model folders the on-device code reads: the export manifest, and "DIR or DIR/export".

Every export folder (written by `nlpkit export`, or by a recipe's export step)
holds `manifest.json`, which is what a runtime reads first:

    {"format": "keras-nlpkit-export", "format_version": 1, "nlpkit_version": "0.2.0",
     "kind": "model" | "query-completion" | "spelling" | "translation",
     "variants": {"float32": "model_float32.tflite", ...},   # the TFLite files
     "signatures": ["serving_default", "step"],
     "tensors": {"int8": {"step": {"inputs": {"token": {"shape": [1], "dtype": "int32"},
                                             ...}, "outputs": {...}}, ...}, ...},
     "tokenizer": "tokenizer.json" or null,
     "settings": {...},                                      # the kind's decoding settings
     "files": {"lexicon.tsv": {"bytes": 123, "sha256": "..."}, ...}}

A training folder holds `recipe.json` (`{"recipe": "spelling", "config": {...},
...}`, written by the recipe) and its export in `export/`. Every command that
takes a model folder accepts either: `find_export_dir` resolves it, once, for all.
"""

import hashlib
import json
from pathlib import Path

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.array_file import map_file

MANIFEST_FILE = "manifest.json"
RECIPE_FILE = "recipe.json"
EXPORT_FOLDER = "export"
FORMAT = "keras-nlpkit-export"
FORMAT_VERSION = 1
# The TFLite variants, in the order the export writes them; each is one file.
VARIANTS = ("float32", "float16", "dynamic_int8", "int8")
# What each kind is called in messages, and the command that uses it.
KINDS = {
    "model": ("a plain exported model", "keras_nlpkit.ondevice.OnDeviceModel"),
    "query-completion": ("a query-completion model", "nlpkit complete"),
    "spelling": ("a spelling-correction model", "nlpkit correct"),
    "translation": ("a translation model", "nlpkit translate"),
}


def variant_file(variant):
    """The file name of a TFLite variant (`model_int8.tflite`)."""
    if variant not in VARIANTS:
        raise ValueError(
            f"`variant` must be one of {list(VARIANTS)}. Received: variant={variant!r}"
        )
    return f"model_{variant}.tflite"


def read_json(path, argument):
    """A JSON file as a dict; a `UserInputError` naming it when it is not one."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserInputError(
            f"{argument}: {Path(path).name} is unreadable or corrupt "
            f"({type(error).__name__}). Received: {path}"
        ) from None
    if not isinstance(value, dict):
        raise UserInputError(
            f"{argument}: {Path(path).name} is not a JSON object. Received: {path}"
        )
    return value


def read_manifest(export_dir, argument="--model"):
    """`manifest.json` of an export folder, checked to be one this version reads."""
    path = Path(export_dir) / MANIFEST_FILE
    manifest = read_json(path, argument)
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise UserInputError(
            f"{argument}: {path.name} is not a keras-nlpkit export manifest of format version "
            f"{FORMAT_VERSION}. Received: format={manifest.get('format')!r}, "
            f"format_version={manifest.get('format_version')!r} in {path}"
        )
    if manifest.get("kind") not in KINDS:
        raise UserInputError(
            f"{argument}: unknown model kind in {path}. Received: kind={manifest.get('kind')!r}"
        )
    return manifest


def find_export_dir(path, kind=None, argument="--model"):
    """`(export folder, manifest)` of `path`: an export folder, or a training folder
    whose `export/` is one. With `kind`, the manifest must be of that kind.
    """
    path = Path(path)
    if not path.is_dir():
        what = "not a folder" if path.exists() else "no such folder"
        raise UserInputError(f"{argument}: {what}. Received: {path}")
    for candidate in (path, path / EXPORT_FOLDER):
        if (candidate / MANIFEST_FILE).is_file():
            manifest = read_manifest(candidate, argument)
            break
    else:
        recipe = _recipe_of(path)
        written = (
            f"a `{recipe}` training folder without an export"
            if recipe
            else f"not a model folder (no {MANIFEST_FILE} in it or in {EXPORT_FOLDER}/)"
        )
        raise UserInputError(f"{argument}: {written}. Received: {path}")
    if kind is not None and manifest["kind"] != kind:
        found, command = KINDS[manifest["kind"]]
        raise UserInputError(
            f"{argument}: this is {found}, not {KINDS[kind][0]} (use {command}). Received: {path}"
        )
    return candidate, manifest


def read_listed_file(export_dir, manifest, name, argument="--model"):
    """The bytes of a file the manifest lists, checked against its size and SHA-256."""
    return bytes(map_listed_file(export_dir, manifest, name, argument))


def map_listed_file(export_dir, manifest, name, argument="--model"):
    """A read-only memory map of a file the manifest lists, checked against its size
    and SHA-256: its pages are shared with the file cache, not copied."""
    entry = manifest.get("files", {}).get(name)
    path = Path(export_dir) / name
    if entry is None:
        raise UserInputError(
            f"{argument}: the manifest does not list {name}. Received: {export_dir}"
        )
    try:
        data = map_file(path)
    except (OSError, ValueError):
        raise UserInputError(
            f"{argument}: {name} is missing or unreadable. Received: {path}"
        ) from None
    if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise UserInputError(
            f"{argument}: {name} is damaged (its size or checksum differs "
            f"from the manifest's). Received: {path}"
        )
    return data


def _recipe_of(path):
    try:
        return json.loads((path / RECIPE_FILE).read_text(encoding="utf-8")).get("recipe")
    except (OSError, ValueError, AttributeError):
        return None

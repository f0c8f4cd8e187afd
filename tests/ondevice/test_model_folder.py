"""The export manifest and the one resolver for "DIR or DIR/export", with their errors."""

import json

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.export.exporter import write_manifest
from keras_nlpkit.ondevice import find_export_dir
from keras_nlpkit.ondevice.model_folder import read_listed_file
from keras_nlpkit.ondevice.model_folder import variant_file


def make_export(folder, kind="query-completion"):
    folder.mkdir(parents=True)
    (folder / "lexicon.tsv").write_bytes(b"new\t2\n")
    (folder / variant_file("float32")).write_bytes(b"not really a model")
    write_manifest(folder, kind, {"ngram_weight": 0.5}, ["float32"], ["serving_default"], None)
    return folder


def test_a_training_folder_or_its_export_resolve_to_the_export(tmp_path):
    export = make_export(tmp_path / "run" / "export")
    for given in (tmp_path / "run", export):
        found, manifest = find_export_dir(given, "query-completion")
        assert found == export and manifest["settings"] == {"ngram_weight": 0.5}
    assert manifest["variants"] == {"float32": "model_float32.tflite"}
    assert set(manifest["files"]) == {"lexicon.tsv", "model_float32.tflite"}
    assert read_listed_file(export, manifest, "lexicon.tsv") == b"new\t2\n"


def test_the_wrong_kind_and_non_model_folders_are_named(tmp_path):
    make_export(tmp_path / "spelling", kind="spelling")
    with pytest.raises(
        UserInputError,
        match="this is a spelling-correction model, not a "
        r"query-completion model \(use nlpkit correct\)",
    ):
        find_export_dir(tmp_path / "spelling", "query-completion")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="--model: not a model folder"):
        find_export_dir(tmp_path / "empty")
    (tmp_path / "glove").mkdir()
    (tmp_path / "glove" / "recipe.json").write_text('{"recipe": "glove"}')
    with pytest.raises(UserInputError, match="a `glove` training folder without an export"):
        find_export_dir(tmp_path / "glove", argument="--spelling-model")
    with pytest.raises(UserInputError, match="--model: no such folder"):
        find_export_dir(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserInputError, match="--model: not a folder"):
        find_export_dir(tmp_path / "file")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format_version=99), "format version 1"),
        (lambda m: m.update(kind="summarization"), "unknown model kind"),
    ],
)
def test_a_manifest_of_another_version_or_kind_is_refused(tmp_path, change, message):
    export = make_export(tmp_path / "export")
    manifest = json.loads((export / "manifest.json").read_text())
    change(manifest)
    (export / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserInputError, match=message):
        find_export_dir(export)
    (export / "manifest.json").write_text("{truncated")
    with pytest.raises(UserInputError, match="manifest.json is unreadable or corrupt"):
        find_export_dir(export)


def test_a_damaged_or_missing_file_is_named(tmp_path):
    export = make_export(tmp_path / "export")
    _, manifest = find_export_dir(export)
    (export / "lexicon.tsv").write_bytes(b"new\t3\n")  # same size, other bytes
    with pytest.raises(UserInputError, match="lexicon.tsv is damaged"):
        read_listed_file(export, manifest, "lexicon.tsv")
    (export / "lexicon.tsv").unlink()
    with pytest.raises(UserInputError, match="lexicon.tsv is missing"):
        read_listed_file(export, manifest, "lexicon.tsv")
    with pytest.raises(UserInputError, match="does not list ngrams.tsv.gz"):
        read_listed_file(export, manifest, "ngrams.tsv.gz")

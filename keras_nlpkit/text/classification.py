"""Sentence-classification data sets: SST-2 and TREC question classification."""

import hashlib
from pathlib import Path

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import read_lines

TASKS = ("sst2", "trec_qc")


def _data_file(data, name):
    path = Path(data)
    path = path / name if path.is_dir() else path
    if not path.is_file():
        raise UserInputError(f"--data: no {name} there. Received: {data}")
    return path


def data_files(task, data):
    """The files of `task` that `--data` names (what a run is fingerprinted on)."""
    names = ("train.tsv", "dev.tsv") if task == "sst2" else ("train.txt",)
    return [_data_file(data, name) for name in names]


def read_sst2(data):
    """(train, dev) lists of (sentence, label) from an SST-2 folder."""
    splits = []
    for name in ("train.tsv", "dev.tsv"):
        path = _data_file(data, name)
        examples = []
        for number, line in enumerate(read_lines(path, "--data")[1:], 2):
            label, _, sentence = line.partition("\t")
            if not line.strip():
                continue
            if label not in ("0", "1") or not sentence.strip():
                raise UserInputError(
                    f"--data: line {number} of {path} is not "
                    f"`label<TAB>sentence`. Received: {line[:60]!r}"
                )
            examples.append((sentence.strip(), label))
        splits.append(examples)
    return splits


def in_dev(text, fraction):
    """A stable pseudo-random split by the text's hash (the same on every run)."""
    digest = hashlib.sha1(text.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") < fraction * 2**32


def read_trec(data, dev_fraction):
    """(train, dev) lists of (question, coarse label) from TREC's `train.txt`."""
    path = _data_file(data, "train.txt")
    train, dev = [], []
    for number, line in enumerate(read_lines(path, "--data"), 1):
        if not line.strip():
            continue
        label, _, question = line.partition(" ")
        coarse = label.split(":")[0]
        if ":" not in label or not question.strip():
            raise UserInputError(
                f"--data: line {number} of {path} is not `COARSE:fine "
                f"question`. Received: {line[:60]!r}"
            )
        (dev if in_dev(question, dev_fraction) else train).append((question.strip(), coarse))
    return train, dev

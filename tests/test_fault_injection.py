"""Careless and hostile input against every `nlpkit` command.

Each case asserts one of two outcomes: exit 2 with one `nlpkit: error:` line that names
the argument or the file (no traceback, nothing of the user's lost, no code of a file
run), or a correct run. Kills during training and export, which need a process of their
own, are `large` tests; the rest are fast.
"""

import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from keras_nlpkit import cli
from keras_nlpkit import files
from keras_nlpkit.ondevice import QueryCompleter
from keras_nlpkit.ondevice import SpellingCorrector
from keras_nlpkit.ondevice.query_completer import MAX_PREVIOUS_WORDS
from keras_nlpkit.recipes import char_lm
from tests.corpora import QUERIES


def run_cli(argv, capsys):
    """`(exit status, stderr)` of one in-process `nlpkit` call."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def assert_one_clear_line(code, err, *names):
    assert code == 2, err
    # Progress lines ("recipe: reading ...") may come first; the failure is one last line.
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("nlpkit: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert "Traceback" not in err
    for name in names:
        assert str(name) in errors[0], (name, errors[0])


# --- bad files -----------------------------------------------------------------------------
BAD_FILES = {
    "missing": None,
    "folder": "folder",
    "empty": b"",
    "blank": b"\n \n\t\n",
    "binary": b"\x00\x01\x02\x03" * 64,
    "late NUL": b"the cat sat on the mat\n" * 1000 + b"\x00\n",
    "pipe": "fifo",  # opening it would block for ever
}


def bad_file(tmp_path, kind):
    path = tmp_path / f"input-{kind.replace(' ', '-')}.txt"
    content = BAD_FILES[kind]
    if content == "folder":
        path.mkdir()
    elif content == "fifo":
        os.mkfifo(path)
    elif content is not None:
        path.write_bytes(content)
    return path


def file_arguments(tmp_path, query_completion_run, spelling_run):
    """`{name: (argv with a FILE slot, the argument named in the error)}` for every file flag."""
    queries = query_completion_run[1]
    dev = queries / "data" / "dev.txt"
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("the 0.1 0.2\ncat 0.3 0.4\n")
    out = tmp_path / "out"
    return {
        "train query-completion --corpus": (
            ["train", "query-completion", "--corpus", "FILE", "--out", out],
            "--corpus",
        ),
        "train char-lm --corpus": (
            ["train", "char-lm", "--corpus", "FILE", "--out", out],
            "--corpus",
        ),
        "train glove --corpus": (["train", "glove", "--corpus", "FILE", "--out", out], "--corpus"),
        "train bert-pretrain --corpus": (
            ["train", "bert-pretrain", "--corpus", "FILE", "--out", out],
            "--corpus",
        ),
        "train gpt-pretrain --corpus": (
            ["train", "gpt-pretrain", "--corpus", "FILE", "--out", out],
            "--corpus",
        ),
        "train gpt-pretrain --eval-text": (
            ["train", "gpt-pretrain", "--corpus", dev, "--eval-text", "FILE", "--out", out],
            "--eval-text",
        ),
        "train spelling --pairs": (
            ["train", "spelling", "--pairs", "FILE", "--out", out],
            "--pairs",
        ),
        "train spelling --exclude-pairs": (
            ["train", "spelling", "--exclude-pairs", "FILE", "--out", out],
            "--exclude-pairs",
        ),
        "train bert-finetune --data": (
            ["train", "bert-finetune", "--task", "trec_qc", "--data", "FILE", "--out", out],
            "--data",
        ),
        "evaluate query-completion --queries": (
            ["evaluate", "query-completion", "--model", queries, "--queries", "FILE"],
            "--queries",
        ),
        "evaluate query-completion --peer-corpus": (
            [
                "evaluate",
                "query-completion",
                "--model",
                queries,
                "--queries",
                dev,
                "--peer-corpus",
                "FILE",
            ],
            "--peer-corpus",
        ),
        "evaluate spelling --pairs": (
            ["evaluate", "spelling", "--model", spelling_run, "--pairs", "FILE", "--no-peers"],
            "--pairs",
        ),
        "evaluate glove --vectors": (["evaluate", "glove", "--vectors", "FILE"], "--vectors"),
        "evaluate glove --analogies": (
            ["evaluate", "glove", "--vectors", vectors, "--analogies", "FILE"],
            "--analogies",
        ),
        "evaluate glove --similarity": (
            ["evaluate", "glove", "--vectors", vectors, "--similarity", "FILE"],
            "--similarity",
        ),
        "export --representative-data": (
            ["export", queries / "model.keras", "--representative-data", "FILE", "--out", out],
            "--representative-data",
        ),
        "export --tokenizer": (
            ["export", queries / "model.keras", "--tokenizer", "FILE", "--out", out],
            "--tokenizer",
        ),
    }


FILE_FLAGS = [
    "train query-completion --corpus",
    "train char-lm --corpus",
    "train glove --corpus",
    "train bert-pretrain --corpus",
    "train gpt-pretrain --corpus",
    "train gpt-pretrain --eval-text",
    "train spelling --pairs",
    "train spelling --exclude-pairs",
    "train bert-finetune --data",
    "evaluate query-completion --queries",
    "evaluate query-completion --peer-corpus",
    "evaluate spelling --pairs",
    "evaluate glove --vectors",
    "evaluate glove --analogies",
    "evaluate glove --similarity",
    "export --representative-data",
    "export --tokenizer",
]
# A trec_qc --data folder is read as a folder; an export's tokenizer is JSON, not text.
NOT_APPLICABLE = {("train bert-finetune --data", "folder"), ("export --tokenizer", "blank")}


@pytest.mark.parametrize(
    "flag, kind",
    [(f, k) for f in FILE_FLAGS for k in BAD_FILES if (f, k) not in NOT_APPLICABLE],
)
def test_bad_files_are_refused_naming_the_argument_and_the_path(
    flag, kind, tmp_path, capsys, query_completion_run, spelling_run
):
    argv, argument = file_arguments(tmp_path, query_completion_run, spelling_run)[flag]
    path = bad_file(tmp_path, kind)
    code, err = run_cli([path if a == "FILE" else a for a in argv], capsys)
    assert_one_clear_line(code, err, argument, path.name)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.keras"))


def test_a_latin1_line_is_read_with_a_warning_not_refused(tmp_path, capsys, spelling_run):
    pairs = tmp_path / "pairs.txt"
    pairs.write_bytes(b"the: teh\n" + "café: cafe\n".encode("latin-1"))
    code, err = run_cli(
        ["evaluate", "spelling", "--model", spelling_run, "--pairs", pairs, "--no-peers"], capsys
    )
    assert code == 0 and "1 line(s)" in err and "Latin-1" in err


def test_a_huge_line_is_one_query_not_a_crash(tmp_path, capsys, query_completion_run):
    queries = tmp_path / "queries.txt"
    queries.write_text("weather " * 300_000 + "\nhotels boston\n")
    code, err = run_cli(
        [
            "evaluate",
            "query-completion",
            "--model",
            query_completion_run[1],
            "--queries",
            queries,
            "--limit",
            "2",
        ],
        capsys,
    )
    assert code == 0, err


# --- bad flags -----------------------------------------------------------------------------
BAD_VALUES = {"zero": "0", "negative": "-1", "NaN": "nan", "huge": "9" * 30, "word": "abc"}
NUMERIC_FLAGS = [
    (["train", "query-completion", "--corpus", "FILE", "--out", "OUT"], "--units"),
    (["train", "query-completion", "--corpus", "FILE", "--out", "OUT"], "--learning-rate"),
    (["train", "query-completion", "--corpus", "FILE", "--out", "OUT"], "--dev-fraction"),
    (["train", "query-completion", "--corpus", "FILE", "--out", "OUT"], "--typo-penalty"),
    (["train", "spelling", "--out", "OUT"], "--epochs"),
    (["train", "spelling", "--out", "OUT"], "--validation-fraction"),
    (["train", "char-lm", "--corpus", "FILE", "--out", "OUT"], "--sequence-length"),
    (["train", "glove", "--corpus", "FILE", "--out", "OUT"], "--x-max"),
    (["train", "bert-pretrain", "--corpus", "FILE", "--out", "OUT"], "--batch-size"),
    (["train", "gpt-pretrain", "--corpus", "FILE", "--out", "OUT"], "--num-heads"),
    (["train", "bert-finetune", "--task", "sst2", "--data", "FILE", "--out", "OUT"], "--epochs"),
    (["complete", "--model", "OUT", "x"], "--k"),
    (["generate", "--model", "OUT", "x"], "--length"),
    (["export", "FILE", "--out", "OUT"], "--sequence-length"),
]
# Values that are valid for a flag (0 or -1 where a range allows them) are left out.
VALID = {
    ("--learning-rate", "huge"),  # a NaN with advice: the next test
    ("--typo-penalty", "zero"),  # a typo costs nothing: valid
    ("--typo-penalty", "huge"),  # typo-tolerant matching off: valid
}


@pytest.mark.parametrize(
    "argv, flag, value",
    [(a, f, v) for a, f in NUMERIC_FLAGS for v in BAD_VALUES if (f, v) not in VALID],
    ids=[f"{f}-{v}" for _, f in NUMERIC_FLAGS for v in BAD_VALUES if (f, v) not in VALID],
)
def test_bad_numbers_are_refused_naming_the_flag(argv, flag, value, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(QUERIES))
    argv = [corpus if a == "FILE" else tmp_path / "out" if a == "OUT" else a for a in argv]
    code, err = run_cli([*argv, flag, BAD_VALUES[value]], capsys)
    assert_one_clear_line(code, err, flag)
    assert not (tmp_path / "out").exists()


def test_an_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys, query_completion_run):
    corpus, run, _ = query_completion_run
    blocker = tmp_path / "notes.txt"
    blocker.write_text("precious")
    for argv in (
        ["train", "query-completion", "--corpus", corpus, "--out", blocker / "run"],
        ["export", run / "model.keras", "--out", blocker / "export", "--quantize", "float32"],
    ):
        code, err = run_cli(argv, capsys)
        assert_one_clear_line(code, err, "notes.txt")
    assert blocker.read_text() == "precious"


def test_the_glove_memory_check_counts_the_dimensions(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(QUERIES))
    argv = ["train", "glove", "--corpus", corpus, "--out", tmp_path / "out", "--min-count", "1"]
    code, err = run_cli([*argv, "--memory", "0.01", "--dim", "100000"], capsys)
    assert_one_clear_line(code, err, "--memory", "100000 dimensions")
    assert not (tmp_path / "out").exists()


def test_a_huge_learning_rate_is_a_nan_with_advice_not_a_crash(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(QUERIES))
    code, err = run_cli(
        [
            "train",
            "query-completion",
            "--corpus",
            corpus,
            "--out",
            tmp_path / "out",
            "--units",
            "8",
            "--epochs",
            "2",
            "--learning-rate",
            "1e30",
        ],
        capsys,
    )
    assert code == 1 and err.strip().splitlines()[-1].startswith("nlpkit: error: ")
    assert "NaN" in err and "--learning-rate" in err and "Traceback" not in err


# --- damaged exports -----------------------------------------------------------------------
DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "zeroed": lambda data: bytes(len(data)),
    "garbage": lambda data: bytes(np.random.default_rng(0).integers(0, 256, len(data), np.uint8)),
    "deleted": None,
}
QUERY_FILES = [
    "model_int8.tflite",
    "tokenizer.json",
    "completion.bin",
    "manifest.json",
]
SPELLING_FILES = [
    "model_dynamic_int8.tflite",
    "tokenizer.json",
    "lexicon.tsv",
    "known_words.tsv",
    "channel.json",
    "manifest.json",
]


def damaged_copy(run, name, damage, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    path = copy / "export" / name
    if DAMAGE[damage] is None:
        path.unlink()
    else:
        path.write_bytes(DAMAGE[damage](path.read_bytes()))
    return copy


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("name", QUERY_FILES)
def test_a_damaged_completion_export_is_named(name, damage, tmp_path, capsys, query_completion_run):
    copy = damaged_copy(query_completion_run[1], name, damage, tmp_path)
    code, err = run_cli(["complete", "--model", copy, "new yo"], capsys)
    expected = "without an export" if (name, damage) == ("manifest.json", "deleted") else name
    assert_one_clear_line(code, err, "--model", expected)


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("name", SPELLING_FILES)
def test_a_damaged_spelling_export_is_named(name, damage, tmp_path, capsys, spelling_run):
    copy = damaged_copy(spelling_run, name, damage, tmp_path)
    code, err = run_cli(["correct", "--model", copy, "recieve"], capsys)
    expected = "without an export" if (name, damage) == ("manifest.json", "deleted") else name
    assert_one_clear_line(code, err, "--model", expected)


def test_the_wrong_kind_of_model_folder_is_named(
    tmp_path, capsys, query_completion_run, spelling_run
):
    code, err = run_cli(["correct", "--model", query_completion_run[1], "x"], capsys)
    assert_one_clear_line(code, err, "query-completion model, not a spelling-correction")
    code, err = run_cli(
        [
            "complete",
            "--model",
            query_completion_run[1],
            "x",
            "--spelling-model",
            query_completion_run[1],
        ],
        capsys,
    )
    assert_one_clear_line(code, err, "--spelling-model")
    code, err = run_cli(["generate", "--model", spelling_run, "x"], capsys)
    assert_one_clear_line(code, err, "--model", "says 'spelling'")


# --- the user's folders --------------------------------------------------------------------
def test_export_never_replaces_a_folder_it_does_not_own(tmp_path, capsys, query_completion_run):
    run = tmp_path / "run"
    shutil.copytree(query_completion_run[1], run)
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    for out in (run, tmp_path / "notes", Path(".")):
        (tmp_path / "notes").mkdir(exist_ok=True)
        (tmp_path / "notes" / "mine.txt").write_text("precious")
        code, err = run_cli(["export", run / "model.keras", "--out", out], capsys)
        assert_one_clear_line(code, err, "--out")
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before
    assert (tmp_path / "notes" / "mine.txt").read_text() == "precious"
    code, err = run_cli(
        ["export", run / "model.keras", "--out", tmp_path / "notes" / "mine.txt"], capsys
    )
    assert_one_clear_line(code, err, "--out: exists and is not a folder")


def test_re_exporting_a_recipe_model_keeps_its_side_files(
    tmp_path, capsys, query_completion_run, spelling_run
):
    for run, recipe_files in (
        (query_completion_run[1], ["completion.bin"]),
        (spelling_run, ["lexicon.tsv", "channel.json"]),
    ):
        copy = tmp_path / run.name
        shutil.copytree(run, copy)
        code, err = run_cli(
            [
                "export",
                copy / "model.keras",
                "--out",
                copy / "export",
                "--quantize",
                "float32,dynamic_int8",
            ],
            capsys,
        )
        assert code == 0, err
        manifest = json.loads((copy / "export" / "manifest.json").read_text())
        assert set(recipe_files) <= set(manifest["files"]) and manifest["kind"] != "model"
    assert QueryCompleter(tmp_path / query_completion_run[1].name, variant="float32").suggest(
        "flights to bo"
    ) == ["boston"]
    assert SpellingCorrector(tmp_path / spelling_run.name).correct("teh", k=1)


def test_one_export_at_a_time_and_a_killed_ones_staging_is_removed(
    tmp_path, capsys, query_completion_run
):
    out = tmp_path / "export"
    model = query_completion_run[1] / "model.keras"
    stale = tmp_path / ".export.partial-dead"
    stale.mkdir()
    with open(tmp_path / ".export.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        code, err = run_cli(["export", model, "--out", out, "--quantize", "float32"], capsys)
        assert_one_clear_line(code, err, "another export is writing")
    code, err = run_cli(["export", model, "--out", out, "--quantize", "float32"], capsys)
    assert code == 0, err
    assert not stale.exists() and not (tmp_path / ".export.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    mode = out.stat().st_mode & 0o777
    assert mode == 0o777 & ~files._UMASK  # not mkdtemp's 0700


def test_a_kill_between_the_two_renames_gives_the_old_export_back(tmp_path):
    from keras_nlpkit.export.exporter import _exclusive

    out = tmp_path / "export"
    old = tmp_path / ".export.old-4242"  # the old export moved aside, the new one not yet in
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    with _exclusive(out):
        assert (out / "manifest.json").read_text() == "{}" and not old.exists()


def test_training_into_another_recipes_folder_is_refused(tmp_path, capsys, spelling_run):
    copy = tmp_path / "spelling"
    shutil.copytree(spelling_run, copy)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(QUERIES))
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    for argv in (
        ["train", "query-completion", "--corpus", corpus],
        ["train", "char-lm", "--corpus", corpus],
        ["train", "glove", "--corpus", corpus, "--min-count", "1"],
    ):
        code, err = run_cli([*argv, "--out", copy], capsys)
        assert_one_clear_line(code, err, "--out: the folder holds a `spelling` run")
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before


@pytest.fixture(scope="module")
def char_lm_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("char_lm")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(QUERIES[:200]))
    config = char_lm.CharLMConfig(
        sequence_length=16, embedding_dim=8, units=8, batch_size=32, epochs=1, min_char_count=1
    )
    char_lm.train([corpus.read_text()], root / "run", config, verbose=0, inputs=[corpus])
    return corpus, root / "run"


def test_resume_with_another_config_or_corpus_is_refused_before_writing(
    tmp_path, capsys, char_lm_run
):
    corpus, run = char_lm_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    recipe = (copy / "recipe.json").read_bytes()
    base = [
        "train",
        "char-lm",
        "--corpus",
        corpus,
        "--out",
        copy,
        "--sequence-length",
        "16",
        "--embedding-dim",
        "8",
        "--batch-size",
        "32",
        "--min-char-count",
        "1",
    ]
    code, err = run_cli([*base, "--units", "12"], capsys)
    assert_one_clear_line(code, err, "--units: 8 → 12")
    other = tmp_path / "other.txt"
    other.write_text(corpus.read_text() + "\nmore text")
    code, err = run_cli([*base, "--units", "8"][:3] + [other] + base[4:] + ["--units", "8"], capsys)
    assert_one_clear_line(code, err, "the input files differ")
    assert (copy / "recipe.json").read_bytes() == recipe


def test_generate_from_a_char_lm_in_a_fresh_process(char_lm_run):
    """Nothing but the CLI has imported our layers there (it used to fail to load LSTM)."""
    _, run = char_lm_run
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_nlpkit.cli",
            "generate",
            "--model",
            str(run),
            "--length",
            "5",
            "new ",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("new ") and len(result.stdout.rstrip("\n")) == 9


def test_a_damaged_backup_is_set_aside_and_training_starts_again(tmp_path, capsys, char_lm_run):
    corpus, _ = char_lm_run
    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "training_metadata.json").write_bytes(b"")  # a write on a full disk
    config = char_lm.CharLMConfig(
        sequence_length=16, embedding_dim=8, units=8, batch_size=32, epochs=1, min_char_count=1
    )
    metrics = char_lm.train([corpus.read_text()], out, config, verbose=0, inputs=[corpus])
    assert metrics["validation_loss_nats"] > 0 and (out / "model.keras").is_file()
    assert "backup of the interrupted run is damaged" in capsys.readouterr().err
    assert any(p.name.startswith("backup.damaged-") for p in out.iterdir())


def test_a_kill_after_training_resumes_with_the_trained_weights(tmp_path, char_lm_run, monkeypatch):
    """Killed during the export or the metrics: the rerun trains no epoch again."""
    corpus, _ = char_lm_run
    out = tmp_path / "run"
    config = char_lm.CharLMConfig(
        sequence_length=16, embedding_dim=8, units=8, batch_size=32, epochs=2, min_char_count=1
    )

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed after training")

    monkeypatch.setattr(char_lm, "save_model_atomically", killed)
    with pytest.raises(KeyboardInterrupt):
        char_lm.train([corpus.read_text()], out, config, verbose=0, inputs=[corpus])
    monkeypatch.undo()
    assert (out / "backup").is_dir() and (out / "history.json").is_file()
    first = json.loads((out / "history.json").read_text())
    metrics = char_lm.train([corpus.read_text()], out, config, verbose=0, inputs=[corpus])
    assert json.loads((out / "history.json").read_text()) == first  # no epoch trained again
    assert metrics["validation_loss_nats"] == round(first["history"]["val_loss"][-1], 4)
    assert not (out / "backup").exists()  # the finished run removed it


def _kill_when(argv, ready, timeout=300):
    """Starts `nlpkit argv` in a process of its own and SIGKILLs it once `ready()` holds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_nlpkit.cli", *map(str, argv)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert process.poll() is None, "it ended before it could be killed"
            assert time.monotonic() < deadline, "never ready to be killed"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()


@pytest.mark.large
def test_kill_9_during_training_resumes_where_the_backup_stood(tmp_path, char_lm_run):
    corpus, _ = char_lm_run
    out = tmp_path / "run"
    argv = ["train", "char-lm", "--corpus", corpus, "--out", out, "--epochs", "30"]
    argv += ["--sequence-length", "16", "--embedding-dim", "8", "--units", "8"]
    argv += ["--batch-size", "32", "--min-char-count", "1"]
    _kill_when(argv, lambda: (out / "backup" / "training_metadata.json").is_file())
    assert not (out / "model.keras").exists()
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    epochs_rerun = len(json.loads((out / "history.json").read_text())["history"]["loss"])
    assert 0 < epochs_rerun < 30  # it went on from the backup, not from epoch 0
    assert (out / "model.keras").is_file() and not (out / "backup").exists()


@pytest.mark.large
def test_kill_9_during_export_keeps_the_old_export(tmp_path, query_completion_run):
    out = tmp_path / "export"
    shutil.copytree(query_completion_run[1] / "export", out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    argv = ["export", query_completion_run[1] / "model.keras", "--out", out]
    _kill_when(argv, lambda: any(tmp_path.glob(".export.partial-*/saved_model")))
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", *map(str, argv), "--quantize", "float32"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # staging removed


def test_a_full_disk_is_one_line_and_the_old_file_stays(
    tmp_path, capsys, monkeypatch, query_completion_run
):
    copy = tmp_path / "export"
    shutil.copytree(query_completion_run[1] / "export", copy)
    manifest = (copy / "manifest.json").read_bytes()

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(files, "atomic_write_bytes", full)
    import keras_nlpkit.export.exporter as exporter

    monkeypatch.setattr(exporter, "atomic_write_bytes", full)
    code, err = run_cli(
        ["export", query_completion_run[1] / "model.keras", "--out", copy, "--quantize", "float32"],
        capsys,
    )
    assert_one_clear_line(code, err, "No space left on device")
    assert (copy / "manifest.json").read_bytes() == manifest
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# --- hostile model files -------------------------------------------------------------------
def test_an_h5_lambda_is_refused_and_never_runs(tmp_path, capsys):
    import tf_keras

    marker = tmp_path / "pwned"

    def payload(x, path=str(marker)):  # runs whenever the model is rebuilt from the file
        __import__("pathlib").Path(path).write_text("ran")
        return x

    inputs = tf_keras.Input((3,))
    model = tf_keras.Model(
        inputs, tf_keras.layers.Dense(2)(tf_keras.layers.Lambda(payload)(inputs))
    )
    model.save(tmp_path / "evil.h5")
    marker.unlink()  # building the model ran it once
    code, err = run_cli(["export", tmp_path / "evil.h5", "--out", tmp_path / "out"], capsys)
    assert_one_clear_line(code, err, "Lambda", "--unsafe-load", "evil.h5")
    assert not marker.exists() and not (tmp_path / "out").exists()
    tf_keras.models.load_model(tmp_path / "evil.h5")  # what export refused to do:
    assert marker.read_text() == "ran"  # the legacy loader runs the payload


def test_a_tf_op_lambda_that_writes_files_is_refused(tmp_path, capsys):
    """tf-keras saves `tf.io.write_file(...)` on a Keras tensor as a TFOpLambda layer."""
    import h5py

    config = {
        "class_name": "Functional",
        "config": {
            "layers": [
                {"class_name": "InputLayer", "config": {"name": "x"}},
                {
                    "class_name": "TFOpLambda",
                    "config": {"name": "tf.io.write_file", "function": "io.write_file"},
                },
            ]
        },
    }
    with h5py.File(tmp_path / "writer.h5", "w") as file:
        file.attrs["model_config"] = json.dumps(config)
    code, err = run_cli(["export", tmp_path / "writer.h5", "--out", tmp_path / "out"], capsys)
    assert_one_clear_line(code, err, "calls tf.io.write_file", "--unsafe-load")
    assert not (tmp_path / "out").exists()


def test_a_savedmodel_that_writes_a_file_is_refused_before_it_runs(tmp_path, capsys):
    import tensorflow as tf

    marker = tmp_path / "pwned"

    class Writer(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((1, 4), tf.float32, name="x")])
        def serve(self, x):
            tf.io.write_file(str(marker), "gotcha")
            return {"logits": x * 2.0}

    module = Writer()
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.serve})
    code, err = run_cli(["export", tmp_path / "sm", "--out", tmp_path / "out"], capsys)
    assert_one_clear_line(code, err, "WriteFile", "--unsafe-load")
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_a_keras3_lambda_is_refused_by_safe_mode(tmp_path, capsys):
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "lambda.keras")
    code, err = run_cli(["export", tmp_path / "lambda.keras", "--out", tmp_path / "out"], capsys)
    assert_one_clear_line(code, err, "MODEL: cannot load", "lambda.keras")
    assert not (tmp_path / "out").exists()


# --- long input ----------------------------------------------------------------------------
def test_long_input_is_bounded_work(query_completion_run, spelling_run):
    completer = QueryCompleter(
        query_completion_run[1], variant="float32", corrector=SpellingCorrector(spelling_run)
    )
    calls = []
    advance = completer.model.advance
    completer.model.advance = lambda *a: calls.append(1) or advance(*a)
    long = "weather " * 20_000 + "bo"
    assert completer.suggest(long) == completer.suggest(long)
    # Only the last MAX_PREVIOUS_WORDS words are read: one model call each, then cached.
    assert len(calls) == MAX_PREVIOUS_WORDS
    assert completer.suggest(long) == completer.suggest("weather " * MAX_PREVIOUS_WORDS + "bo")
    assert completer.suggest("x" * 10_000) == []
    assert SpellingCorrector(spelling_run).correct("e" * 10_000, k=3) is not None


def test_glove_on_one_word_a_line_is_a_clear_error_not_a_crash(tmp_path, capsys):
    corpus = tmp_path / "words.txt"
    corpus.write_text("\n".join(f"word{i % 40}" for i in range(5000)))
    code, err = run_cli(
        ["train", "glove", "--corpus", corpus, "--out", tmp_path / "out", "--min-count", "1"],
        capsys,
    )
    assert_one_clear_line(code, err, "--corpus: no two vocabulary words share a line")

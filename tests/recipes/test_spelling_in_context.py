"""`--context-corpus`: the export's context LM, `correct_sentence`, `nlpkit correct --context`."""

import io
import json
import shutil

import pytest

from keras_nlpkit import cli
from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice import SpellingCorrector
from keras_nlpkit.ondevice.confusion_sets import CONFUSION_SETS
from keras_nlpkit.recipes import spelling
from tests.tiny_recipes import tiny_context_config
from tests.tiny_recipes import tiny_spelling_config
from tests.tiny_recipes import with_context_lm

# Real-looking sentences, repeated so their n-grams are kept (min count 2); the
# hash split holds a few out, as it would any text.
CORPUS = [
    "I want to buy a new phone.",
    "We want to buy a new car.",
    "They went to the shop to buy bread.",
    "He walked by the river. She sat by the window.",
    "Their house is bigger than ours.",
    "There is a house by the river.",
] * 5


def context_config(root):
    return tiny_context_config(root, CORPUS)


@pytest.fixture(scope="module")
def context_run(spelling_run, tmp_path_factory):
    return with_context_lm(spelling_run, tmp_path_factory.mktemp("spelling_context"), CORPUS)


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    return exit_info.value.code, capsys.readouterr()


def test_the_export_holds_the_context_lm_and_corrects_in_context(context_run):
    manifest = json.loads((context_run / "export" / "manifest.json").read_text())
    assert "context_lm.bin" in manifest["files"]
    assert manifest["settings"]["context"]["lm_weight"] > 0
    corrector = SpellingCorrector(context_run, variant="float32")
    assert corrector.correct_sentence("i want to by a new phone") == "i want to buy a new phone"
    assert corrector.correct_sentence("He walked by the river.") == "He walked by the river."
    changed = [d for d in corrector.sentence_decisions("We want to by a car") if d["changed"]]
    assert [(d["typed"], d["output"]) for d in changed] == [("by", "buy")]


def test_the_confusion_sets_are_the_manifests(context_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(context_run, copy)
    path = copy / "export" / "manifest.json"
    manifest = json.loads(path.read_text())
    context = manifest["settings"]["context"]
    assert context.pop("confusion_sets") == [list(members) for members in CONFUSION_SETS]

    def corrected(sets):
        if sets is not None:
            context["confusion_sets"] = sets
        path.write_text(json.dumps(manifest))
        return SpellingCorrector(copy, variant="float32").correct_sentence(
            "i want to by a new phone"
        )

    assert corrected(None) == "i want to buy a new phone"  # an older export: the module's sets
    assert corrected([["then", "than"]]) == "i want to by a new phone"  # no set holds "by"
    with pytest.raises(UserInputError, match="manifest.json: `confusion_sets` must be"):
        corrected([["by"]])


def test_cli_correct_context(context_run, capsys, monkeypatch):
    model = str(context_run)
    args = ["correct", "--model", model, "--variant", "float32", "--context"]
    assert cli.main([*args, "I want to by a new phone"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["corrected"] == "I want to buy a new phone"
    assert result["changes"] == [{"start": 10, "end": 12, "typed": "by", "output": "buy"}]
    monkeypatch.setattr("sys.stdin", io.StringIO("their is a house by the river\n\n"))
    assert cli.main([*args, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["corrected"] for line in lines] == ["there is a house by the river", ""]


def test_an_export_without_the_context_lm_says_so(spelling_run, capsys):
    corrector = SpellingCorrector(spelling_run, variant="float32")
    assert corrector.correct("teh", k=1)  # words are corrected as before
    with pytest.raises(UserInputError, match="no context_lm.bin .*--context-corpus"):
        corrector.correct_sentence("i want to by a new phone")
    code, out = run_cli(["correct", "--model", str(spelling_run), "--context", "a b"], capsys)
    assert code == 2 and "context_lm.bin" in out.err and str(spelling_run) in out.err


def test_cli_context_bad_input_exits_2(spelling_run, tmp_path, capsys):
    code, out = run_cli(["correct", "--model", str(spelling_run), "--context"], capsys)
    assert code == 2 and "sentences" in out.err
    missing = tmp_path / "missing.txt"
    code, out = run_cli(
        ["evaluate", "spelling", "--model", str(spelling_run), "--context-text", str(missing)],
        capsys,
    )
    assert code == 2 and str(missing) in out.err
    code, out = run_cli(["evaluate", "spelling", "--model", str(spelling_run)], capsys)
    assert code == 2 and "--pairs" in out.err and "--context-text" in out.err


def test_a_missing_context_corpus_is_refused_before_any_work(tmp_path):
    config = tiny_spelling_config(context_corpus=str(tmp_path / "nothing.txt"))
    with pytest.raises(UserInputError, match="--context-corpus: no such file or folder"):
        spelling.train(tmp_path / "out", config, log=lambda *a: None, verbose=0)
    assert not (tmp_path / "out").exists()


@pytest.mark.large
def test_export_model_writes_the_context_lm(spelling_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(spelling_run, out)
    config = context_config(tmp_path)
    spelling.export_model(out, config=config, log=lambda *a: None, quantize=["float32"])
    manifest = json.loads((out / "export" / "manifest.json").read_text())
    data, settings = spelling.context_lm(config, log=lambda *a: None)
    assert (out / "export" / "context_lm.bin").read_bytes() == data
    assert manifest["settings"]["context"] == settings
    corrector = SpellingCorrector(out, variant="float32")
    assert corrector.correct_sentence("i want to by a new phone") == "i want to buy a new phone"

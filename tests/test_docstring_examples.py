"""Every ```python example in the library's docstrings runs, and says what it prints.

A line `expression  # literal` (e.g. `tokenizer.encode("ab c")  # [2, 3, 1, 0]`)
is also checked: the expression must equal the literal (`[a, ...]`: start with a).
Examples that open a model folder (`runs/queries`, `runs/spelling`, `runs/export`,
`runs/translation/export`)
or a corpus find tiny ones made by the tests in the folder they run in.
"""

import ast
import importlib
import inspect
import pkgutil
import re
import shutil
import textwrap

import pytest

import keras_nlpkit
from keras_nlpkit.export import export
from tests.corpora import planted_corpus
from tests.export.conftest import SENTENCES
from tests.export.conftest import TOKENIZER
from tests.export.conftest import recurrent_lm
from tests.export.conftest import train
from tests.translation_exports import exported

FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _docstrings():
    for info in pkgutil.walk_packages(keras_nlpkit.__path__, "keras_nlpkit."):
        module = importlib.import_module(info.name)
        yield info.name, module.__doc__
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) != info.name:
                continue
            yield f"{info.name}.{name}", getattr(value, "__doc__", None)
            if inspect.isclass(value):
                for attribute, member in vars(value).items():
                    member = getattr(member, "__func__", member)
                    if callable(member):
                        yield f"{info.name}.{name}.{attribute}", member.__doc__


def collect():
    examples = {}
    for name, doc in _docstrings():
        for number, block in enumerate(FENCE.findall(inspect.cleandoc(doc or ""))):
            examples[f"{name}[{number}]"] = textwrap.dedent(block)
    return examples


EXAMPLES = collect()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, query_completion_run, spelling_run):
    """What the examples open: the tiny trained models under runs/, and a corpus."""
    root = tmp_path_factory.mktemp("examples")
    shutil.copytree(query_completion_run[1], root / "runs" / "queries")
    shutil.copytree(spelling_run, root / "runs" / "spelling")
    samples = root / "held_out.txt"
    samples.write_text("\n".join(SENTENCES[-100:]))
    lstm = train(recurrent_lm(keras_nlpkit.layers.LSTM(16, return_sequences=True)), epochs=1)
    export(
        lstm,
        root / "runs" / "export",
        representative_data=samples,
        tokenizer=TOKENIZER,
        log=lambda *_: None,
    )
    (root / "corpus.txt").write_text(planted_corpus(300))
    shutil.copytree(exported("transformer")[1], root / "runs" / "translation" / "export")
    return root


def checked_lines(code):
    """`(expression, literal)` of each line whose trailing comment is a Python literal."""
    for line in code.splitlines():
        statement, hash_, comment = line.partition("  # ")
        if not hash_ or statement.startswith((" ", "#")):
            continue
        try:
            expected = ast.literal_eval(comment.strip())
            ast.parse(statement.strip(), mode="eval")
        except (ValueError, SyntaxError):
            continue
        yield statement.strip(), expected


def test_the_examples_were_found():
    assert len(EXAMPLES) >= 25
    assert any("QueryCompleter" in code for code in EXAMPLES.values())
    assert any("SpellingCorrector" in code for code in EXAMPLES.values())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_docstring_example_runs(name, folder, monkeypatch):
    monkeypatch.chdir(folder)
    code = EXAMPLES[name]
    namespace = {}
    exec(compile(code, name, "exec"), namespace)  # noqa: S102 - our own docstrings
    for expression, expected in checked_lines(code):
        got = eval(expression, namespace)  # noqa: S307
        if isinstance(expected, list) and expected[-1:] == [Ellipsis]:  # `[first, ...]`
            got, expected = list(got)[: len(expected) - 1], expected[:-1]
        assert got == expected, (name, expression)

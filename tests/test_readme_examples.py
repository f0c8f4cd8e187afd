"""The README's Python examples run in order, in one namespace, and say what they print."""

import re
import shutil
from pathlib import Path

from tests.test_docstring_examples import checked_lines

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_run(tmp_path, monkeypatch, query_completion_run, spelling_run):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 3
    # The third example opens the main job's folders: tiny ones stand in for them.
    shutil.copytree(query_completion_run[1], tmp_path / "runs" / "demo" / "queries")
    shutil.copytree(spelling_run, tmp_path / "runs" / "demo" / "spelling")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for number, code in enumerate(blocks):
        exec(compile(code, f"README.md[{number}]", "exec"), namespace)  # noqa: S102
        for expression, expected in checked_lines(code):
            assert eval(expression, namespace) == expected, expression  # noqa: S307
    assert len(namespace["continuation"]) == 5 and namespace["best"]
    assert len(namespace["completer"].suggest("the value of the ")) <= 3

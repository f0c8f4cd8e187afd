"""The README's main job, end to end (large: about a minute and a half on 2 cores)."""

import json
import subprocess
import sys

import pytest


@pytest.mark.large
def test_the_main_job_trains_exports_and_runs_on_the_device(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "keras_nlpkit.cli", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    corrections = {
        line.split("'")[1]: line.split("-> ")[1] for line in lines if line.startswith("  correct ")
    }
    assert set(corrections) == {
        "recieve",
        "definately",
        "seperate",
        "acommodate",
        "beleive",
        "python",
    }
    assert corrections["recieve"].startswith("['receive'")
    assert corrections["python"].startswith("['python'")
    completions = [line for line in lines if line.startswith("  complete ")]
    assert len(completions) == 5 and all("typo-tolerant: [" in line for line in completions)
    for recipe in ("spelling", "queries"):
        manifest = json.loads((tmp_path / "demo" / recipe / "export" / "manifest.json").read_text())
        assert manifest["kind"] in ("spelling", "query-completion")
    serve = [line.strip() for line in lines if "nlpkit serve-demo" in line]
    assert serve == [
        f"nlpkit serve-demo --model {tmp_path / 'demo' / 'queries'} "
        f"--spelling-model {tmp_path / 'demo' / 'spelling'}"
    ]
    assert lines[-1] == "  then open http://127.0.0.1:8765/"
    assert "nlpkit: warning: no --exclude-pairs" in result.stderr  # said, not hidden
    # TensorFlow's start-up lines are dropped (a run-time oneDNN line may remain).
    assert "oneDNN custom operations" not in result.stderr
    assert "cuda" not in result.stderr.lower()

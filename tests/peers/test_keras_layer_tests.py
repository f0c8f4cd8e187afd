"""Keras' own layer tests, from the installed wheel, run against our layers.

Each file below is one of keras' test files (`keras/src/layers/.../*_test.py`, in
site-packages: nothing of it is copied here), run in a pytest of its own with the
Keras class swapped for ours (`tests/peers/swap_plugin.py`). A test fails here when
a peer test fails that is not in `EXPECTED_FAILURES`, or when one listed there
passes (the list is kept exact, each entry with its reason).

keras-hub's wheel ships no tests; what its layer tests check is covered by ours
(`tests/layers/`).
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import keras
import pytest

KERAS_LAYERS = Path(keras.__file__).parent / "src" / "layers"

# keras test file → (keras class = our class, for the swap)
PEER_FILES = {
    "rnn/lstm_test.py": "LSTM=LSTM",
    "rnn/gru_test.py": "GRU=GRU",
    "rnn/simple_rnn_test.py": "SimpleRNN=SimpleRNN",
    "attention/attention_test.py": "Attention=DotProductAttention",
    "attention/additive_attention_test.py": "AdditiveAttention=AdditiveAttention",
    "attention/multi_head_attention_test.py": "MultiHeadAttention=MultiHeadAttention",
}

PROJECTIONS = (
    "documented deliberate difference: our AdditiveAttention learns Bahdanau's "
    "projections W1, W2 and b (4 weights, not Keras' 1); Keras' numbers are reached "
    "with identity projections (tests/layers/test_attention.py)"
)
EXPECTED_FAILURES = {
    "attention/additive_attention_test.py": {
        "test_attention_basics": PROJECTIONS,
        "test_attention_correctness": PROJECTIONS,
    },
}


def run_peer_file(relative, swap, tmp_path):
    """`{test name: "passed" | "failed" | "skipped"}` of one keras test file, which must
    have built our class (the swap took effect)."""
    report = tmp_path / "report.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(KERAS_LAYERS / relative),
        "-q",
        "-p",
        "tests.peers.swap_plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        f"--junitxml={report}",
        f"--rootdir={tmp_path}",
        f"--confcutdir={KERAS_LAYERS}",
    ]
    built = tmp_path / "built.json"
    environment = {
        **os.environ,
        "NLPKIT_SWAP": swap,
        "NLPKIT_SWAP_REPORT": str(built),
        "KERAS_BACKEND": "tensorflow",
    }
    root = Path(__file__).resolve().parents[2]
    subprocess.run(command, env=environment, cwd=root, capture_output=True, timeout=900)
    assert report.is_file(), f"no report from {relative}"
    ours = swap.split("=")[1]
    count = json.loads(built.read_text())[ours]
    assert count > 0, f"{relative} built no {ours} of ours: the swap missed"
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        name = case.get("name")
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = "failed"
        elif case.find("skipped") is not None:
            outcomes[name] = "skipped"
        else:
            outcomes[name] = "passed"
    return outcomes


@pytest.mark.parametrize("relative", list(PEER_FILES))
def test_keras_layer_test_file_passes_against_ours(relative, tmp_path):
    outcomes = run_peer_file(relative, PEER_FILES[relative], tmp_path)
    failed = {name for name, outcome in outcomes.items() if outcome == "failed"}
    passed = sum(outcome == "passed" for outcome in outcomes.values())
    skipped = sum(outcome == "skipped" for outcome in outcomes.values())
    print(
        f"{relative}: {passed} passed, {len(failed)} failed, {skipped} skipped, "
        f"{len(outcomes)} in all"
    )
    assert passed > 0
    assert failed == set(EXPECTED_FAILURES.get(relative, {})), sorted(failed)

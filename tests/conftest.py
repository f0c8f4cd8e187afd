import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption(
        "--run-large",
        action="store_true",
        default=False,
        help="also run the tests marked large (real data, long training)",
    )


def pytest_collection_modifyitems(config, items):
    """A bare `pytest` is the fast suite: `large` tests run only with --run-large."""
    if config.getoption("--run-large"):
        return
    skip = pytest.mark.skip(reason="a large test: run with --run-large")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state and the float32 policy."""
    keras.utils.set_random_seed(1337)
    assert keras.config.dtype_policy().name == "float32"
    yield


@pytest.fixture(scope="session")
def query_completion_run(tmp_path_factory):
    """`(corpus, training folder, metrics)` of the tiny query completer (float32, int8)."""
    from keras_nlpkit.recipes import query_completion
    from tests.corpora import QUERIES
    from tests.tiny_recipes import TINY_QUERY_COMPLETION

    root = tmp_path_factory.mktemp("query_completion")
    corpus = root / "queries.txt"
    corpus.write_text("\n".join(f"{i}:{q}" for i, q in enumerate(QUERIES)) + "\n")
    out = root / "model"
    metrics = query_completion.train(
        [corpus],
        out,
        TINY_QUERY_COMPLETION,
        verbose=0,
        log=lambda *_: None,
        export_variants=["float32", "int8"],
    )
    return corpus, out, metrics


@pytest.fixture(scope="session")
def spelling_run(tmp_path_factory):
    """The training folder of the tiny spelling model (float32, dynamic int8)."""
    from keras_nlpkit.recipes import spelling
    from tests.tiny_recipes import tiny_spelling_config

    out = tmp_path_factory.mktemp("spelling")
    spelling.train(out, tiny_spelling_config(), log=lambda *a: None, verbose=0)
    return out


@pytest.fixture
def shared_data():
    """../shared/data beside the checkout; tests that need it skip, saying why."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (shared/ beside the checkout)")
    return SHARED_DATA

"""The user's local history: hand-computed mixing weights, decay, the size cap, and a
file that is written atomically and discarded (with a warning) when damaged."""

import json
import math

import pytest

from keras_nlpkit.ondevice.local_history import LocalHistory


def test_mixture_is_witten_bell_over_the_users_counts():
    history = LocalHistory(beta=1.0, backoff_beta=4.0, half_life=1e12)  # no decay here
    assert history.mixture(("a", "b")) == (0.0, {})
    history.learn("A b c")  # lower-cased, as queries are
    # Two typed words: the trigram context, β = 1: μ = 1 / (1 + 1 · 1).
    assert history.mixture(("a", "b")) == (0.5, {"c": 1.0})
    # "x b" was never typed: the one-word context b, β = 4: μ = 1 / (1 + 4).
    assert history.mixture(("x", "b")) == (0.2, {"c": 1.0})
    # The start of a query is shared by every query: β = 4 too.
    assert history.mixture(()) == (0.2, {"a": 1.0})
    history.learn("a b d")
    mu, words = history.mixture(("a", "b"))
    assert math.isclose(mu, 2 / (2 + 2)) and words == pytest.approx({"c": 0.5, "d": 0.5})
    assert history.mixture(("zz",)) == (0.0, {})  # the user's words alone are not used


def test_counts_decay_by_half_life():
    history = LocalHistory(half_life=2.0)
    history.learn("a b c")
    history.learn("a b d")
    history.learn("a b d")
    # At clock 3: c weighs 2^(-2/2) = 0.5, d weighs 2^(-1/2) + 1.
    _, words = history.mixture(("a", "b"))
    d = 2**-0.5 + 1
    assert math.isclose(words["c"], 0.5 / (0.5 + d)) and math.isclose(words["d"], d / (0.5 + d))


def test_size_is_capped_lightest_first():
    history = LocalHistory(max_grams=20)
    for i in range(30):
        history.learn(f"query number{i}")
    assert len(history) <= 20
    assert len(history) == sum(len(row) for row in history._followers.values())
    assert "number29" in history.mixture(("query",))[1]  # the newest survive
    assert "number0" not in history.mixture(("query",))[1]


def test_file_round_trips_atomically_and_clears(tmp_path):
    path = tmp_path / "nested" / "history.json"
    history = LocalHistory(path)
    history.learn("pizza delivery hoboken")
    history.learn("pizza hut")
    assert sorted(p.name for p in path.parent.iterdir()) == ["history.json"]  # no temp left
    again = LocalHistory(path)
    assert again.mixture(("pizza",)) == history.mixture(("pizza",))
    assert json.loads(path.read_text())["format"] == "nlpkit-local-history"
    again.clear()
    assert not path.exists() and len(again) == 0 and again.mixture(("pizza",)) == (0.0, {})


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"{not json", "Expecting property name"),
        (b'{"format": "other", "format_version": 1, "clock": 0, "grams": []}', "format"),
        (
            b'{"format": "nlpkit-local-history", "format_version": 1, "clock": 1, "grams": [[1]]}',
            "not enough values",
        ),
        (
            b'{"format": "nlpkit-local-history", "format_version": 1, "clock": 1, '
            b'"grams": [["a", "b", -1]]}',
            "bad entry",
        ),
        (b"x" * 200, "max_bytes"),
    ],
)
def test_a_damaged_or_oversized_file_is_discarded_with_a_warning(tmp_path, content, reason):
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with pytest.warns(
        RuntimeWarning, match=f"history.json: the local history is unreadable.*{reason}"
    ):
        history = LocalHistory(path, max_bytes=100)
    assert len(history) == 0
    history.learn("fresh start")  # and it keeps working, replacing the damaged file
    assert LocalHistory(path, max_bytes=10_000).mixture(("fresh",))[1] == {"start": 1.0}


def test_bad_arguments_are_named():
    for name, value in (("half_life", 0), ("max_grams", 0), ("beta", 0.0), ("backoff_beta", -1.0)):
        with pytest.raises(ValueError, match=f"`{name}`"):
            LocalHistory(**{name: value})

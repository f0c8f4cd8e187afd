"""The context dev set (deterministic, injects only what the pairs cover) and its figures."""

import pytest

from keras_nlpkit.evaluation import spelling_in_context as sic
from keras_nlpkit.ondevice.sentence_corrector import word_spans
from keras_nlpkit.text.context_sentences import read_sentences

SENTENCES = [
    "They went to the market by the river and bought bread.",
    "Their house is bigger than ours, I think.",
    "We received the letter on Monday morning after breakfast.",
    "The NASA team said the weather was fine for the launch today.",
    "It was quite late when we finally arrived at the station.",
    "She wants to buy a new phone before the holidays begin.",
    "Too short.",
]
CODESPELL = [
    ("recieved", "received"),
    ("brekfast", "breakfast"),
    ("stasion", "station"),
    ("stasion", "stations"),  # two corrections: never used
    ("trained", "trainee"),  # its misspelling was trained on
    ("wether", "weather"),
    ("mornig", "morning"),
    ("x-ray", "xray"),  # not a plain word
]


def sentences():
    return [(text, [w for _, _, w in word_spans(text)]) for text in SENTENCES]


def build(seed=0, count=10):
    pairs = sic.unused_pairs({"trained"}, codespell=CODESPELL)
    return sic.build_dev_set(sentences(), pairs, count, seed, heldout=lambda words: True)


def test_unused_pairs_leave_out_trained_ambiguous_and_odd_misspellings():
    assert sic.unused_pairs({"trained"}, codespell=CODESPELL) == {
        "received": ["recieved"],
        "breakfast": ["brekfast"],
        "weather": ["wether"],
        "morning": ["mornig"],
    }


def test_the_dev_set_is_deterministic_and_injects_only_what_is_covered():
    items = build()
    assert items == build() and items != build(seed=1)
    # "Too short." and the all-capitals word "NASA" are never used.
    assert len(items) == 6
    pairs = sic.unused_pairs({"trained"}, codespell=CODESPELL)
    for seed in range(20):
        for item in build(seed):
            typed = [w for _, _, w in word_spans(item["text"])]
            assert len(typed) == len(item["reference"])
            injected = {i for i, *_ in item["errors"]}
            for i, kind, wrong, right in item["errors"]:
                assert item["reference"][i] == right and typed[i] == wrong
                if kind == "misspelling":
                    assert wrong in pairs[right]
                else:
                    assert kind == "confusion" and wrong != right
            assert all(
                typed[i] == word for i, word in enumerate(item["reference"]) if i not in injected
            )
            assert "nasa" not in {item["reference"][i] for i in injected}
    kinds = {kind for seed in range(20) for item in build(seed) for _, kind, _, _ in item["errors"]}
    assert kinds == {"misspelling", "confusion"}


def test_the_figures():
    items = build()
    references = [" ".join(item["reference"]) for item in items]
    perfect = sic.score(items, references, [0.001] * len(items))
    assert perfect["word_accuracy"] == perfect["sentence_accuracy"] == 1.0
    assert perfect["kept_correct"] == 1.0
    assert perfect["latency_per_sentence"]["median_ms"] == pytest.approx(1.0)
    typed = sic.score(items, [item["text"] for item in items], [0.0] * len(items))
    assert typed["kept_correct"] == 1.0
    assert typed["misspellings_fixed"] == typed["confusions_fixed"] == 0.0
    # A word split in two costs that word only: the rest is aligned.
    item = {
        "reference": ["we", "received", "the", "letter"],
        "errors": [[1, "misspelling", "", ""]],
    }
    split = sic.score([item], ["we re ceived the letter"], [0.0])
    assert split["word_accuracy"] == 0.75 and split["sentence_accuracy"] == 0.0
    assert split["kept_correct"] == 1.0 and split["misspellings_fixed"] == 0.0


def test_describe_counts_the_injected_errors():
    items = build()
    described = sic.describe(items)
    assert described["sentences"] == len(items)
    assert described["misspellings"] + described["confusions"] == sum(
        len(item["errors"]) for item in items
    )


@pytest.mark.large
def test_dev_set_of_the_shared_text(shared_data):
    """The held-out side of books + news gives a thousand sentences, the same each time."""
    files = [shared_data / "text" / "brown.txt", shared_data / "text" / "reuters.txt"]
    pairs = sic.unused_pairs(set())
    first = sic.build_dev_set(read_sentences(files), pairs, 1000, seed=0)
    assert len(first) == 1000 and first == sic.build_dev_set(read_sentences(files), pairs, 1000)
    described = sic.describe(first)
    assert described["misspellings"] > 300 and described["confusions"] > 300

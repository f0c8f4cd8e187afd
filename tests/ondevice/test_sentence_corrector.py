"""`SentenceCorrector`: candidates rescored with a word trigram LM over both sides."""

import pytest

from keras_nlpkit.ondevice.confusion_sets import CONFUSION_SETS
from keras_nlpkit.ondevice.confusion_sets import confusion_index
from keras_nlpkit.ondevice.ngram_table import NgramTable
from keras_nlpkit.ondevice.ngram_table import ngram_table_bytes
from keras_nlpkit.ondevice.sentence_corrector import SentenceCorrector
from keras_nlpkit.ondevice.sentence_corrector import shaped_like
from keras_nlpkit.ondevice.sentence_corrector import word_spans
from keras_nlpkit.text.context_sentences import context_lm_counts
from keras_nlpkit.text.misspellings import is_word

TEXT = [
    "i want to buy a new phone",
    "we want to buy a car",
    "they went to buy a new car",
    "i want to buy it now",
    "he went by the house",
    "we walked by the river",
    "she sat by the window",
    "i want a new phone",
    "my phone is new",
    "there is a house by the river",
]
# A stand-in for the word corrector: its candidates for a few misspellings.
STUB = {"phnoe": [("phony", -0.5), ("phone", -1.0)], "hous": [("house", -0.2)]}


def tiny_lm():
    sentences = [line.split() for line in TEXT] * 2
    words, ngrams, _ = context_lm_counts(sentences, min_count=1)
    return NgramTable(ngram_table_bytes(words, ngrams))


def corrector(lm="tiny", **settings):
    vocabulary = {w for line in TEXT for w in line.split()} | {"bye", "too", "two", "phony"}
    return SentenceCorrector(
        lambda word: STUB.get(word, []),
        vocabulary.__contains__,
        tiny_lm() if lm == "tiny" else lm,
        **settings,
    )


def test_a_real_word_confusion_is_fixed_by_the_words_around_it():
    fixed = corrector()
    assert fixed.correct("i want to by a new phone") == "i want to buy a new phone"
    # Case and everything between the words are kept; the misspelling takes the
    # candidate the context prefers over the corrector's own first choice.
    assert fixed.correct("I want to by a new Phnoe!") == "I want to buy a new Phone!"
    decisions = fixed.decisions("I want to by a new Phnoe!")
    assert [d["typed"] for d in decisions if d["changed"]] == ["by", "Phnoe"]
    assert decisions[3]["options"][0] == ("by", 0.0)
    assert ("buy", -fixed.confusion_cost) in decisions[3]["options"]


def test_a_correct_sentence_is_left_unchanged():
    fixed = corrector()
    for text in ("he went by the house.", "We walked by the river, then stopped.", ""):
        assert fixed.correct(text) == text
        assert not any(d["changed"] for d in fixed.decisions(text))


def test_the_typed_word_is_kept_unless_the_context_wins_by_the_confusion_cost():
    assert corrector(confusion_cost=50.0).correct("i want to by a new phone") == (
        "i want to by a new phone"
    )


def test_without_an_lm_each_word_is_corrected_alone():
    alone = corrector(lm=None)
    # A word is kept, a non-word gets the corrector's first candidate.
    assert alone.correct("i want to by a new phnoe by the hous") == (
        "i want to by a new phony by the house"
    )


def test_words_and_case():
    assert [w for _, _, w in word_spans("Don’t stop—it's 5 o'clock, Café!")] == [
        "don't",
        "stop",
        "it's",
        "o'clock",
        "café",
    ]
    assert shaped_like("buy", "BY") == "BUY" and shaped_like("buy", "By") == "Buy"
    assert shaped_like("don't", "Don’t") == "Don’t"


def test_confusion_sets_are_spellable_and_symmetric():
    index = confusion_index()
    for members in CONFUSION_SETS:
        assert len(set(members)) == len(members) >= 2
        for word in members:
            assert is_word(word) and word == word.lower()
            assert set(members) - {word} <= set(index[word])
    assert set(index["were"]) == {"where", "wear", "we're"}


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="beam_width"):
        corrector(beam_width=0)
    with pytest.raises(ValueError, match="lm_weight"):
        corrector(lm_weight=float("nan"))

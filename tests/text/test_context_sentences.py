"""Sentences for the context LM and its dev set: reading, the split, the counts."""

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.text.context_sentences import HELDOUT_PERCENT
from keras_nlpkit.text.context_sentences import context_lm_counts
from keras_nlpkit.text.context_sentences import corpus_files
from keras_nlpkit.text.context_sentences import is_heldout
from keras_nlpkit.text.context_sentences import paragraphs
from keras_nlpkit.text.context_sentences import read_sentences
from keras_nlpkit.text.ngrams import count_ngrams


def test_files_are_read_as_sentences_of_lower_case_words(tmp_path):
    lines = tmp_path / "lines.txt"  # a sentence or a story a line (Brown, Reuters)
    lines.write_text("The jury said it . Nothing more\nIt's 5 o'clock. Go home!\n")
    wrapped = tmp_path / "book" / "a.txt"  # wrapped paragraphs (Gutenberg)
    wrapped.parent.mkdir()
    wrapped.write_text("Emma was\nhappy. She smiled.\n\nThe end\n")
    files = corpus_files(f"{lines}, {wrapped.parent}")
    assert files == [lines, wrapped]
    assert [words for _, words in read_sentences(files)] == [
        ["the", "jury", "said", "it"],
        ["nothing", "more"],
        ["it's", "o'clock"],
        ["go", "home"],
        ["emma", "was", "happy"],
        ["she", "smiled"],
        ["the", "end"],
    ]
    assert paragraphs("a\nb\n") == ["a", "b"]
    with pytest.raises(UserInputError, match="--context-corpus: no such file"):
        corpus_files(str(tmp_path / "missing.txt"))
    with pytest.raises(UserInputError, match="no files named"):
        corpus_files(" , ")


def test_the_split_depends_on_the_words_only():
    sentences = [[f"w{i}", "and", f"v{i % 7}"] for i in range(5000)]
    held = [s for s in sentences if is_heldout(s)]
    assert abs(len(held) / len(sentences) - HELDOUT_PERCENT / 100) < 0.01
    assert all(is_heldout(list(s)) for s in held)


def test_counts_are_count_ngrams_of_the_sentences():
    sentences = [["a", "b", "c"], ["a", "b"], ["b", "c", "a"], ["rare"]]
    words, ngrams, folded = context_lm_counts(sentences, min_count=1)
    expected = count_ngrams([" ".join(s) for s in sentences])
    assert ngrams == {g: c for g, c in expected.items() if len(g) > 1}
    assert words == {"a": 3, "b": 3, "c": 2, "rare": 1} and folded == 0
    # Rare words become <unk>; rare n-grams go.
    words, ngrams, folded = context_lm_counts(sentences, min_count=2)
    assert "rare" not in words and folded == 1
    assert ngrams == {
        ("a", "b"): 2,
        ("<s>", "a"): 2,
        ("<s>", "<s>", "a"): 2,
        ("<s>", "a", "b"): 2,
        ("b", "c"): 2,
    }

"""`read_conll` and `iob1_to_bio` on files and tags written in the test."""

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.text.conll import TaggedSentence
from keras_nlpkit.text.conll import iob1_to_bio
from keras_nlpkit.text.conll import read_conll
from keras_nlpkit.text.conll import split_tag

# CoNLL-2003's layout: a -DOCSTART- line, IOB1 tags (I- starts an entity; B- only
# between two adjacent entities of one type), a blank line between sentences.
CONLL_2003 = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
Paul NNP I-NP B-PER
Smith NNP I-NP I-PER
-DOCSTART- -X- O O
BRUSSELS NNP I-NP I-LOC
"""


def test_conll_2003_iob1_is_read_as_bio(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(CONLL_2003)
    assert read_conll(path) == [
        TaggedSentence(["EU", "rejects", "German", "call"], ["B-ORG", "O", "B-MISC", "O"]),
        TaggedSentence(
            ["Peter", "Blackburn", "Paul", "Smith"], ["B-PER", "I-PER", "B-PER", "I-PER"]
        ),
        TaggedSentence(["BRUSSELS"], ["B-LOC"]),  # -DOCSTART- ended the sentence
    ]


def test_two_column_bio_with_tab_only_separator_lines(tmp_path):
    # WNUT-17: word<TAB>tag; its training file separates some sentences by a lone tab.
    path = tmp_path / "wnut.conll"
    path.write_text(
        "Empire\tB-location\nState\tI-location\n=\tO\n\t\n"
        "@paul walk\tO\nNew\tB-creative-work\n\nYork\tI-location\n"
    )
    sentences = read_conll(path)
    assert sentences == [
        (["Empire", "State", "="], ["B-location", "I-location", "O"]),
        # Tab-separated: a space inside a word is kept; the stray I- starts an entity.
        (["@paul walk", "New"], ["O", "B-creative-work"]),
        (["York"], ["B-location"]),
    ]
    words, tags = sentences[0]  # a (words, tags) pair
    assert words[0] == "Empire" and tags[0] == "B-location"


@pytest.mark.parametrize(
    "tags, bio",
    [
        (["I-PER", "I-PER", "O", "I-LOC"], ["B-PER", "I-PER", "O", "B-LOC"]),
        # B- between two adjacent entities of one type (IOB1) stays B-.
        (["I-LOC", "B-LOC", "I-LOC"], ["B-LOC", "B-LOC", "I-LOC"]),
        # Another type right after: a new entity.
        (["I-ORG", "I-LOC", "I-LOC"], ["B-ORG", "B-LOC", "I-LOC"]),
        # BIO is left as it is; a stray I- after O starts an entity.
        (["B-PER", "I-PER", "O", "I-PER"], ["B-PER", "I-PER", "O", "B-PER"]),
        (["O", "O"], ["O", "O"]),
        ([], []),
    ],
)
def test_iob1_to_bio(tags, bio):
    assert iob1_to_bio(tags) == bio
    assert iob1_to_bio(bio) == bio  # BIO is a fixed point


def test_types_with_hyphens_and_bad_tags():
    assert split_tag("B-creative-work") == ("B", "creative-work")
    assert split_tag("O") == ("O", None)
    for bad in ("E-PER", "S-LOC", "B-", "PER", "o", "I"):
        with pytest.raises(ValueError, match=f"tag={bad!r}"):
            split_tag(bad)


def test_wrong_column_count_names_argument_file_line_and_line(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("EU NNP I-NP I-ORG\nrejects VBZ O\n")
    with pytest.raises(UserInputError) as error:
        read_conll(path, "--data")
    message = str(error.value)
    assert message.startswith("--data: line 2 of ") and str(path) in message
    assert "has 3 columns, but the first data line (line 1) has 4" in message
    assert "'rejects VBZ O'" in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("EU\nrejects\n", "line 1 .* has one column"),
        (
            "EU\tB-ORG\nrejects\tE-ORG\n",
            r"line 2 .* must be O, B-TYPE or I-TYPE.*'rejects\\tE-ORG'",
        ),
        ("\n\n-DOCSTART- -X- O O\n\n", "no tagged sentence"),
        ("", "no tagged sentence"),
    ],
)
def test_other_bad_files(tmp_path, text, expected):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(UserInputError, match=f"--dev: {expected}"):
        read_conll(path, "--dev")
    with pytest.raises(UserInputError, match="--dev: no such file"):
        read_conll(tmp_path / "missing.txt", "--dev")


def test_real_files_read_whole(shared_data):
    train = read_conll(shared_data / "ner/conll2003/eng.train")
    assert len(train) == 14041  # the sizes the shared data's README gives
    assert len(read_conll(shared_data / "ner/conll2003/eng.testa")) == 3250
    assert len(read_conll(shared_data / "ner/wnut17/wnut17train.conll")) == 3394
    assert len(read_conll(shared_data / "ner/wnut17/emerging.dev.conll")) == 1009
    # CoNLL-2003's 11 B- tags stay; its first-of-entity I- tags become B-.
    assert train[0].tags == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]

"""The pure-Python tokenizers and `tokenizer.json`, the file every runtime reads."""

import json

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice import CharacterTokenizer
from keras_nlpkit.ondevice import WordTokenizer
from keras_nlpkit.ondevice import load_tokenizer
from keras_nlpkit.ondevice.tokenizer_file import tokenizer_from_config


def test_characters_and_words_round_trip_through_tokenizer_json(tmp_path):
    characters = CharacterTokenizer(["<unk>", " ", "a", "b"])
    assert characters.encode("ab c") == [2, 3, 1, 0]
    assert characters.decode([2, 3, 1, 0]) == "ab "
    words = WordTokenizer(["<unk>", "<s>", "</s>", "new", "york"])
    assert words.encode("New  York city") == [3, 4, 0]
    assert words.decode([3, 4, 0]) == "new york <unk>" and words.token_id("york") == 4
    for tokenizer in (characters, words):
        path = tmp_path / f"{tokenizer.kind}.json"
        path.write_text(json.dumps(tokenizer.get_config()))
        again = load_tokenizer(path)
        assert type(again) is type(tokenizer) and again.vocabulary == tokenizer.vocabulary


@pytest.mark.parametrize(
    "vocabulary, message",
    [
        (["<unk>"], "needs the unknown token"),
        (["<unk>", "ab"], "single characters"),
        (["<unk>", "a", "a"], "duplicates"),
    ],
)
def test_bad_character_vocabularies(vocabulary, message):
    with pytest.raises(ValueError, match=message):
        CharacterTokenizer(vocabulary)


@pytest.mark.parametrize(
    "vocabulary, message",
    [
        (["new", "york"], "must start with"),
        (["<unk>", "<s>", "</s>", "New"], "lower-case words"),
        (["<unk>", "<s>", "</s>", "new york"], "without spaces"),
    ],
)
def test_bad_word_vocabularies(vocabulary, message):
    with pytest.raises(ValueError, match=message):
        WordTokenizer(vocabulary)


def test_a_file_that_is_not_a_tokenizer_is_refused_naming_it(tmp_path):
    for content in ("{", '{"kind": "bytes", "vocabulary": []}', "[1, 2]"):
        path = tmp_path / "tokenizer.json"
        path.write_text(content)
        with pytest.raises(UserInputError, match=f"--tokenizer: not a tokenizer file.*{path}"):
            load_tokenizer(path)
    with pytest.raises(UserInputError, match="--model: not a tokenizer"):
        load_tokenizer(tmp_path / "missing.json", "--model")
    with pytest.raises(ValueError, match="kind='bytes'"):
        tokenizer_from_config({"kind": "bytes"})

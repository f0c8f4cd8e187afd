"""`character_ids`: known arrays, truncation, nested sentences, NumPy only."""

import subprocess
import sys

import numpy as np
import pytest

from keras_nlpkit.text.word_characters import NUM_CHARACTERS
from keras_nlpkit.text.word_characters import character_ids


def test_ascii_and_multibyte_words_have_known_ids():
    ids = character_ids(["cat", "é", b"ab", ""], max_characters=6)
    assert ids.dtype == np.int32 and ids.shape == (4, 6)
    assert ids.tolist() == [
        [1, 99 + 3, 97 + 3, 116 + 3, 2, 0],  # c a t
        [1, 0xC3 + 3, 0xA9 + 3, 2, 0, 0],  # é is two UTF-8 bytes, C3 A9
        [1, 97 + 3, 98 + 3, 2, 0, 0],  # bytes are taken as they are
        [0, 0, 0, 0, 0, 0],  # an empty word is padding
    ]
    assert NUM_CHARACTERS == 259 and character_ids(["\xff"]).max() < NUM_CHARACTERS
    japanese = [[1, 0xE6 + 3, 0x97 + 3, 0xA5 + 3, 2]]  # 日 is E6 97 A5
    assert character_ids(["日"], max_characters=5).tolist() == japanese


def test_a_long_word_keeps_its_marks_and_first_bytes():
    assert character_ids(["abcdef"], max_characters=5).tolist() == [[1, 100, 101, 102, 2]]
    assert character_ids(["abc"], max_characters=5).tolist() == [[1, 100, 101, 102, 2]]
    assert character_ids(["abcdef"], max_characters=3).tolist() == [[1, 100, 2]]
    assert character_ids([], max_characters=4).shape == (0, 4)


def test_sentences_are_padded_with_zero_words():
    ids = character_ids([["a", "bc"], ["d"], []], max_characters=4)
    assert ids.shape == (3, 2, 4)
    assert ids.tolist() == [
        [[1, 100, 2, 0], [1, 101, 102, 2]],
        [[1, 103, 2, 0], [0, 0, 0, 0]],
        [[0, 0, 0, 0], [0, 0, 0, 0]],
    ]
    np.testing.assert_array_equal(character_ids(np.array(["a", "bc"]), 4), ids[0])


def test_bad_arguments_are_named():
    for bad in (2, 0, 3.5, True, "50"):
        with pytest.raises(ValueError, match="max_characters"):
            character_ids(["a"], max_characters=bad)
    with pytest.raises(ValueError, match="`words`"):
        character_ids("cat")
    with pytest.raises(ValueError, match="`words`"):
        character_ids(["cat", 3])
    with pytest.raises(ValueError, match="`words`"):
        character_ids(["cat", ["mixed"]])


def test_imports_numpy_only():
    script = (
        "import sys; from keras_nlpkit.text.word_characters import character_ids;"
        "character_ids(['a']);"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('tensorflow', 'keras', 'jax')];"
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]

"""The count model mixed into the network: interpolated Kneser-Ney on hand-computed numbers."""

import gzip
import math

import numpy as np
import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice import InterpolatedNgram
from keras_nlpkit.ondevice import Lexicon
from keras_nlpkit.ondevice.interpolated_ngram import parse_ngrams
from keras_nlpkit.text.ngrams import count_ngrams
from keras_nlpkit.text.ngrams import ngram_file_bytes


def test_interpolated_ngram_probabilities(tmp_path):
    counts = count_ngrams(["a b c", "a b d", "a b c", "b d"])
    assert counts[("<s>", "<s>", "a")] == 3 and counts[("b", "d")] == 2
    data = ngram_file_bytes(counts)
    assert data == ngram_file_bytes(counts)  # byte-identical: gzip without a timestamp
    parsed = parse_ngrams(data, "ngrams")
    assert parsed == {g: c for g, c in counts.items() if len(g) > 1}
    lexicon = Lexicon(["a", "b", "c", "d"], [3, 4, 2, 2])
    model = InterpolatedNgram(lexicon, parsed)
    # Continuation unigram: distinct words before a, b, c, d are 1, 2, 1, 1.
    np.testing.assert_allclose(model.unigram, [0.2, 0.4, 0.2, 0.2], rtol=1e-3)
    # "x b": no trigram; b → c, d twice each: (2 − .75) / 4 + .75 · 2/4 · P(w).
    p_b = model.probabilities(("x", "b"))
    np.testing.assert_allclose(p_b, [0.075, 0.15, 0.3875, 0.3875], rtol=1e-3)
    # "a b" → c twice, d once: (c − .75) / 3 + .75 · 2/3 · P(w | b); sums to 1.
    p_ab = model.probabilities(("a", "b"))
    np.testing.assert_allclose(
        p_ab, [0.0375, 0.075, 1.25 / 3 + 0.5 * 0.3875, 0.25 / 3 + 0.5 * 0.3875], rtol=1e-3
    )
    assert math.isclose(p_ab.sum(), 1.0, rel_tol=1e-9)
    # Unseen context: the unigram, untouched by the calls before.
    np.testing.assert_allclose(model.probabilities(("zz",)), model.unigram)
    np.testing.assert_allclose(model.unigram, [0.2, 0.4, 0.2, 0.2], rtol=1e-3)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not gzip", "not a gzipped"),
        (gzip.compress(b"", mtime=0), "holds no n-gram"),
        (gzip.compress(b"a b\t2\na b c\n", mtime=0), "line 2"),
        (gzip.compress(b"a\t2\n", mtime=0), "line 1"),
    ],
)
def test_a_damaged_ngram_file_is_refused_naming_it(data, message):
    with pytest.raises(UserInputError, match=f"ngrams.tsv.gz: {message}"):
        parse_ngrams(data, "ngrams.tsv.gz")
    with pytest.raises(ValueError, match="discount"):
        InterpolatedNgram(Lexicon(["a"], [1]), {}, discount=1.0)

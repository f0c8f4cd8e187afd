"""The spelling correctors ours is measured against: SymSpell and pyspellchecker.

Each peer is a function `correct(word) -> ranked words`, run on the same pairs in
the same process as ours (`keras_nlpkit.evaluation.spelling.measure`).
"""

from spellchecker import SpellChecker
from symspellpy import SymSpell
from symspellpy import Verbosity

from keras_nlpkit.text.misspellings import symspell_dictionary_path


def symspell_peer(max_edit_distance=2):
    """`correct(word) -> ranked words` with SymSpell and its own 82,765-word dictionary."""
    symspell = SymSpell(max_dictionary_edit_distance=max_edit_distance, prefix_length=7)
    symspell.load_dictionary(str(symspell_dictionary_path()), term_index=0, count_index=1)

    def correct(word):
        # CLOSEST is what SymSpell answers for a single correction; ALL (sorted by
        # distance, then count, as symspell sorts) fills the rest of the top 5.
        closest = [
            s.term
            for s in symspell.lookup(
                word, Verbosity.CLOSEST, max_edit_distance, include_unknown=True
            )
        ]
        ranked = closest[:1]
        for s in symspell.lookup(word, Verbosity.ALL, max_edit_distance):
            if s.term not in ranked:
                ranked.append(s.term)
        return ranked

    return correct


def pyspellchecker_peer():

    checker = SpellChecker()

    def correct(word):
        best = checker.correction(word)
        candidates = sorted(
            checker.candidates(word) or (), key=lambda w: (-checker.word_usage_frequency(w), w)
        )
        ranked = [best] if best else []
        ranked += [w for w in candidates if w != best]
        return ranked or [word]

    return correct

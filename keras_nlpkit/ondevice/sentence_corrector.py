"""`SentenceCorrector`: spelling correction in context, with a word trigram LM.

A word corrected alone cannot tell "by" from "buy": both are words. In a sentence,
each word's candidates are rescored with the words before and after it:

    score(w_1..w_n) = Σ_i local(w_i) + λ · Σ_i log P(w_i | w_{i-2} w_{i-1}) + λ · log P(</s> | …)

so a candidate at position i is judged by log P(w | u v) + log P(x | v w) + log P(y | w x),
the trigrams it takes part in. `local` is the word corrector's own score for a
misspelling, relative to its best candidate (`prior_share` of its frequency prior
can be taken out, as the LM knows frequency too: tuning kept it all); 0 for a typed
word that is a word; and `-confusion_cost` for another member of its real-word
confusion set (`confusion_sets.py`): a typed word is kept unless the context
prefers an alternative by that margin, the "the typed word is intended" prior of
real-word noisy-channel correction (Mays, Damerau & Mercer, 1991). A typed word the
corrector does not know but the LM's real text does ("mln", "dlrs", "court's")
stays a candidate too, at `-keep_cost`: the context decides whether it was meant.
The lattice is decoded left to right by a beam over LM states (the last two words),
keeping the best path into each state.

Words are runs of letters with inner apostrophes (`word_spans`); everything else
(spaces, punctuation, digits) is copied through, and an output word takes the
typed word's case (lower, Title, UPPER). The context LM's text is normalised the
same way (`normalise`), lower-cased.
"""

import re

import numpy as np

from keras_nlpkit.ondevice.confusion_sets import confusion_index

# What the export holds the context LM as (an `NgramTable` array file).
CONTEXT_LM_FILE = "context_lm.bin"
WORD_PATTERN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# The defaults, tuned on a tuning split of the context dev set (never the reported one):
# see docs/RESULTS.md, "Spelling in context".
# λ 1.5 and a confusion cost of 2 (a 1.3-nat margin) were best or within 0.1 point of
# word accuracy; prior_share 0 (the corrector's frequency prior kept) fixed more
# misspellings than 1; keep_cost 0 kept the most correct words.
DEFAULTS = {
    "lm_weight": 1.5,
    "confusion_cost": 2.0,
    "prior_share": 0.0,
    "max_candidates": 5,
    "beam_width": 8,
    "oov_penalty": 10.0,
    "keep_cost": 0.0,
}


def normalise(word):
    """The form a word is looked up in: lower-case, typographic apostrophes plain."""
    return word.lower().replace("’", "'")


def word_spans(text):
    """`[(start, end, normalised word)]` of the words of `text`, in order."""
    return [(m.start(), m.end(), normalise(m.group())) for m in WORD_PATTERN.finditer(text)]


def shaped_like(word, typed):
    """`word` in the case of `typed` (lower, Title or UPPER)."""
    if normalise(typed) == word:
        return typed
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def applied(text, decisions):
    """`text` with each decision's span replaced by its `output` (`decisions` in order)."""
    pieces, at = [], 0
    for decision in decisions:
        pieces += [text[at : decision["start"]], decision["output"]]
        at = decision["end"]
    return "".join(pieces) + text[at:]


class SentenceCorrector:
    """Corrects the words of a sentence together, with a word trigram LM.

    Args:
        candidates: `candidates(word) -> [(candidate, score), ...]`, best first, for
            a lower-case word that is not a word (the word corrector's answers; empty
            when it has none, and the typed word is kept).
        is_word: `is_word(word) -> bool`: whether a lower-case typed word is a correctly
            spelled word (kept unless its confusion set wins in context).
        lm: an `NgramTable` (`logprob(previous_words, word)`, `index_of(word)`), or
            None to correct each word alone: a non-word gets its best candidate,
            a word is kept (the word-by-word baseline).
        lm_weight: λ, the weight of the LM's log-probabilities.
        confusion_cost: what replacing a typed word by another member of its
            confusion set costs, in the units of the scores.
        max_candidates: how many of a misspelling's candidates enter the lattice.
        beam_width: LM states kept after each word.
        oov_penalty: taken from the LM log-probability of a word outside the LM's
            lexicon (the LM gives it the mass of every such word, `<unk>`).
        keep_cost: what keeping a typed word the corrector does not know, but
            the LM does, costs (relative to the corrector's best candidate).
        confusions: `{word: (other words, ...)}` (`confusion_sets.confusion_index()`).

    Example:

        corrector = SpellingCorrector("runs/spelling")
        corrector.correct_sentence("i want to by a new phone")   # 'i want to buy a new phone'
    """

    def __init__(
        self,
        candidates,
        is_word,
        lm=None,
        lm_weight=DEFAULTS["lm_weight"],
        confusion_cost=DEFAULTS["confusion_cost"],
        max_candidates=DEFAULTS["max_candidates"],
        beam_width=DEFAULTS["beam_width"],
        oov_penalty=DEFAULTS["oov_penalty"],
        keep_cost=DEFAULTS["keep_cost"],
        confusions=None,
    ):
        for name, value in (("max_candidates", max_candidates), ("beam_width", beam_width)):
            if int(value) != value or value < 1:
                raise ValueError(f"`{name}` must be a whole number ≥ 1. Received: {name}={value}")
        for name, value in (
            ("lm_weight", lm_weight),
            ("confusion_cost", confusion_cost),
            ("oov_penalty", oov_penalty),
            ("keep_cost", keep_cost),
        ):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"`{name}` must be finite and ≥ 0. Received: {name}={value}")
        self._candidates = candidates
        self._is_word = is_word
        self.lm = lm
        self.lm_weight = float(lm_weight)
        self.confusion_cost = float(confusion_cost)
        self.max_candidates = int(max_candidates)
        self.beam_width = int(beam_width)
        self.oov_penalty = float(oov_penalty)
        self.keep_cost = float(keep_cost)
        self.confusions = confusion_index() if confusions is None else confusions

    def correct(self, text):
        """`text` with its words corrected; everything between words is kept."""
        return applied(text, self.decisions(text))

    def decisions(self, text):
        """One dict a word of `text`: `start`, `end`, `typed` (as in the text),
        `output` (in the typed word's case), `changed` and `options` (the lattice's
        `[(word, local score)]` at that position, best local score first)."""
        spans = word_spans(text)
        options = [self.options(word) for _, _, word in spans]
        chosen = self.decode(options)
        found = []
        for (start, end, word), choice, opts in zip(spans, chosen, options):
            typed = text[start:end]
            found.append(
                {
                    "start": start,
                    "end": end,
                    "typed": typed,
                    "output": shaped_like(choice, typed),
                    "changed": choice != word,
                    "options": opts,
                }
            )
        return found

    def options(self, word):
        """The lattice's `[(word, local score)]` for a typed lower-case word."""
        if self._is_word(word):
            others = self.confusions.get(word, ()) if self.lm is not None else ()
            return [(word, 0.0)] + [(other, -self.confusion_cost) for other in others]
        found = list(self._candidates(word))[: self.max_candidates]
        if not found:
            return [(word, 0.0)]
        top = found[0][1]
        found = [(w, float(score - top)) for w, score in found]
        if self.lm is not None and self.lm.index_of(word) >= 0 and word not in dict(found):
            found.append((word, -self.keep_cost))
        return found

    def decode(self, options):
        """The best word of each position's options (a beam over trigram LM states)."""
        if self.lm is None or not options:
            return [opts[0][0] for opts in options]
        cache = {}

        def logprob(previous, word):
            key = (previous, word)
            if key not in cache:
                value = self.lm.logprob(previous, word)
                if word != "</s>" and self.lm.index_of(word) < 0:
                    value -= self.oov_penalty
                cache[key] = value
            return cache[key]

        beams = {(): (0.0, ())}  # the last two words → (score, the words so far)
        for opts in options:
            grown = {}
            for state, (score, path) in beams.items():
                for word, local in opts:
                    total = score + local + self.lm_weight * logprob(state, word)
                    key = (*state, word)[-2:]
                    if key not in grown or total > grown[key][0]:
                        grown[key] = (total, (*path, word))
            ranked = sorted(grown.items(), key=lambda item: -item[1][0])
            beams = dict(ranked[: self.beam_width])
        _, (_, best) = max(
            beams.items(),
            key=lambda item: item[1][0] + self.lm_weight * logprob(item[0], "</s>"),
        )
        return list(best)

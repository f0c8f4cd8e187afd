"""`PrefixCompleter`: the k best lexicon words for a typed prefix, exact or one edit away."""

import math

import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyz"
# The probability a phrase's every word past its first needs (`suggest_phrases`).
PHRASE_CONFIDENCE = 0.7


def normalize_query(text):
    """Lower-case words separated by single spaces (METRICS.md's query form)."""
    return " ".join(text.lower().split())


def top_in_range(scores, lo, hi, k):
    """Indices of the k best scores in [lo, hi), best first; equal scores in index
    order, so every runtime that follows docs/ONDEVICE.md picks the same words."""
    if hi - lo <= k:
        idx = np.arange(lo, hi)
    else:
        # Everything at least as good as the k-th best, ties at the boundary included.
        kth = -np.partition(-scores[lo:hi], k - 1)[k - 1]
        idx = lo + np.flatnonzero(scores[lo:hi] >= kth)
    return idx[np.lexsort((idx, -scores[idx]))][:k]


def one_edit_variants(prefix):
    """Strings one edit from `prefix`: deletions, transpositions, substitutions, insertions."""
    splits = [(prefix[:i], prefix[i:]) for i in range(len(prefix) + 1)]
    variants = {a + b[1:] for a, b in splits if b}
    variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    variants |= {a + c + b[1:] for a, b in splits if b for c in LETTERS}
    variants |= {a + c + b for a, b in splits for c in LETTERS}
    variants.discard(prefix)
    return variants


class PrefixCompleter:
    """Top-k lexicon words for a typed prefix, given a score per lexicon word.

    Subclasses define `scores(previous_words) -> (len(lexicon),)` log-scores: the
    neural completer (`QueryCompleter`) and the count-based peer
    (`keras_nlpkit.evaluation.TrigramCompleter`) differ only there.

    Args:
        lexicon: a `Lexicon`.
        typo_penalty: log-score subtracted from a word whose beginning is one edit
            from the typed prefix; None for exact prefixes only.
        min_fuzzy_prefix: the shortest prefix matched one edit away.
    """

    def __init__(self, lexicon, typo_penalty=None, min_fuzzy_prefix=2):
        self.lexicon = lexicon
        self.typo_penalty = typo_penalty
        self.min_fuzzy_prefix = min_fuzzy_prefix

    def suggest_words(self, previous_words, prefix, k=3):
        """`[(word, score), ...]`, best first: the k best words starting with `prefix`."""
        if len(prefix) > self.lexicon.longest + 1:  # no word starts with it, even one edit off
            return []
        scores = self.scores(tuple(previous_words))
        lo, hi = self.lexicon.range(prefix)
        best = {int(i): float(scores[i]) for i in top_in_range(scores, lo, hi, k)}
        if self.typo_penalty is not None and len(prefix) >= self.min_fuzzy_prefix:
            for variant in one_edit_variants(prefix):
                lo, hi = self.lexicon.range(variant)
                if lo == hi:
                    continue
                for i in top_in_range(scores, lo, hi, k):
                    score = float(scores[i]) - self.typo_penalty
                    if score > best.get(int(i), -math.inf):
                        best[int(i)] = score
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]  # ties: index
        return [(self.lexicon.words[i], score) for i, score in ranked]

    def confident_next(self, previous_words, confidence):
        """`(lexicon index, log-score)` of the best next word if its score is at least
        log(`confidence`), else None. Subclasses may find it without scoring every word."""
        scores = self.scores(tuple(previous_words))
        best = int(top_in_range(scores, 0, len(scores), 1)[0])
        return (best, float(scores[best])) if scores[best] >= math.log(confidence) else None

    def suggest_phrases(
        self, previous_words, prefix, k=3, max_words=3, confidence=PHRASE_CONFIDENCE
    ):
        """`[(words, score), ...]`, best first: k entries of one to `max_words` words.

        A beam search over the model, constrained by the typed characters: the first
        word is one of `suggest_words`' k; an entry grows by the most probable next
        word while that word's probability given the words before is at least
        `confidence` (a phrase is shown only when the model is confident of it), each
        grown phrase an entry of its own, scored by the sum of its words' log-scores.
        The k best entries are shown; a phrase never outranks its own first word.
        The default confidence, 0.7, lost the least KSR of 0.1-0.7 on the first
        1,000 TREC dev queries: on held-out queries a phrase rarely saves more than
        the word it displaces (a tapped word already types its space, and the next
        word is often suggested at once), so phrases are shown sparingly.
        """
        if not 0.0 < confidence <= 1.0:
            raise ValueError(f"`confidence` must be in (0, 1]. Received: confidence={confidence}")
        previous = tuple(previous_words)
        found = [((word,), score) for word, score in self.suggest_words(previous, prefix, k)]
        frontier = list(found)
        for _ in range(max_words - 1):
            grown = []
            for words, score in frontier:
                best = self.confident_next(previous + words, confidence)
                if best is not None:
                    grown.append(((*words, self.lexicon.words[best[0]]), score + best[1]))
            found += grown
            frontier = grown
        found.sort(key=lambda entry: (-entry[1], entry[0]))  # ties: by spelling
        return found[:k]

    def suggest(self, text, k=3, max_words=1):
        """Suggestions for the text typed so far (a trailing space: the next word);
        with `max_words` > 1, phrases too (`suggest_phrases`), as strings with spaces."""
        words = normalize_query(text).split()
        if text[-1:].isspace() or not words:
            previous, prefix = words, ""
        else:
            previous, prefix = words[:-1], words[-1]
        if max_words > 1:
            found = self.suggest_phrases(previous, prefix, k, max_words=max_words)
            return [" ".join(entry) for entry, _ in found]
        return [word for word, _ in self.suggest_words(previous, prefix, k)]

"""Spelling correction in sentences: the dev set, its figures, and SymSpell's compound peer.

The dev set (`build_dev_set`, seeded) is real sentences of the held-out side of
`keras_nlpkit.text.context_sentences`' split, so the context LM never counted
them, with errors injected at chosen words:

- misspellings: a word w becomes x where `x->w` is a codespell pair the spelling
  model never trained on (`unused_pairs`: its misspelling is in no training pair)
  and codespell gives x one correction only; words no such pair covers are never
  touched;
- real-word confusions: a word of a confusion set (`ondevice.confusion_sets`)
  becomes another member ("buy" → "by").

Each sentence gets 0, 1 or 2 errors (20/55/25%): for each, a kind (evenly, of
those some word of the sentence allows), then a word that allows it.

The figures (`score`), over the lower-cased words (letters with inner
apostrophes) of each output, aligned to the reference's words by
their longest matching blocks (difflib), so a system that splits or merges
words (SymSpell's `lookup_compound`) is scored on the words it gets right:

- word accuracy: reference words matched by the output / reference words;
- sentence accuracy: outputs whose words equal the reference's exactly;
- kept correct: words not injected that the output keeps / words not injected;
- misspellings fixed, confusions fixed: injected words of that kind restored;
- ms per sentence: wall time of one sentence's correction (median, p95).
"""

import difflib
import random
import time

from symspellpy import SymSpell

from keras_nlpkit.evaluation.metrics import latency_summary
from keras_nlpkit.ondevice.confusion_sets import confusion_index
from keras_nlpkit.ondevice.sentence_corrector import WORD_PATTERN
from keras_nlpkit.ondevice.sentence_corrector import shaped_like
from keras_nlpkit.ondevice.sentence_corrector import word_spans
from keras_nlpkit.text.context_sentences import is_heldout
from keras_nlpkit.text.misspellings import is_word
from keras_nlpkit.text.misspellings import read_codespell
from keras_nlpkit.text.misspellings import symspell_dictionary_path

ERRORS_PER_SENTENCE = ((0, 0.20), (1, 0.55), (2, 0.25))
MIN_WORDS, MAX_WORDS = 6, 30


def unused_pairs(training_wrongs, codespell=None):
    """`{right: [wrong, ...]}` of codespell's pairs whose misspelling is in no
    training pair and has exactly one correction, both plain lower-case words."""
    corrections = {}
    for wrong, right in codespell if codespell is not None else read_codespell():
        corrections.setdefault(wrong.lower(), set()).add(right.lower())
    by_right = {}
    for wrong, rights in sorted(corrections.items()):
        (right,) = rights if len(rights) == 1 else (None,)
        if (
            right is None
            or wrong == right
            or wrong in training_wrongs
            or not (is_word(wrong) and is_word(right))
            or not (WORD_PATTERN.fullmatch(wrong) and WORD_PATTERN.fullmatch(right))
        ):
            continue
        by_right.setdefault(right, []).append(wrong)
    return by_right


def usable(text, words):
    """Whether a sentence makes a dev item: 6..30 words, not a headline (Reuters
    opens each story with one in capitals), letters a-z and apostrophes only."""
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    capitals = sum(1 for s, e, _ in word_spans(text) if e - s > 1 and text[s:e].isupper())
    return capitals < 2 and all(w.isascii() for w in words)


def build_dev_set(sentences, pairs, count, seed=0, confusions=None, heldout=is_heldout):
    """`count` dev items from `(text, words)` sentences (their held-out side only).

    Args:
        sentences: `(sentence text, its lower-case words)`, e.g. `read_sentences`.
        pairs: `{right: [wrong, ...]}`, the misspellings to inject (`unused_pairs`).
        count: items to make (fewer if the text has fewer usable sentences).
        seed: the draws' seed: the same inputs and seed give the same items.
        confusions: `{word: (others, ...)}`, by default `confusion_index()`.
        heldout: `heldout(words) -> bool`, the sentences that may be used (by
            default the held-out side of the context LM's split).

    Returns:
        `[{"text": the sentence with its errors, "reference": [its words],
        "errors": [[word index, "misspelling" | "confusion", typed, right]]}]`.
    """
    confusions = confusion_index() if confusions is None else confusions
    # The same sentence twice (a refrain, a ticker line) is used once.
    kept = {}
    for text, words in sentences:
        if heldout(words) and usable(text, words):
            kept.setdefault(" ".join(words), (text, words))
    rng = random.Random(seed)
    chosen = list(kept.values())
    rng.shuffle(chosen)
    numbers, weights = zip(*ERRORS_PER_SENTENCE)
    items = []
    for text, words in chosen[:count]:
        spans = word_spans(text)
        kinds = {}
        for i, (start, end, word) in enumerate(spans):
            typed = text[start:end]
            if len(typed) > 1 and typed.isupper():
                continue  # an acronym: left alone
            options = []
            if word in pairs:
                options.append("misspelling")
            if word in confusions:
                options.append("confusion")
            if options:
                kinds[i] = options
        # The kind first, then a word that allows it: confusable words ("to", "of")
        # are far more common than words with an unused misspelling.
        picked = {}
        for _ in range(rng.choices(numbers, weights)[0]):
            free = {
                kind: [i for i in sorted(kinds) if kind in kinds[i] and i not in picked]
                for kind in ("misspelling", "confusion")
            }
            available = [kind for kind in free if free[kind]]
            if not available:
                break
            kind = rng.choice(available)
            picked[rng.choice(free[kind])] = kind
        errors, noisy, at = [], [], 0
        for i in sorted(picked):
            start, end, word = spans[i]
            kind = picked[i]
            pool = pairs[word] if kind == "misspelling" else confusions[word]
            replacement = rng.choice(sorted(pool))
            errors.append([i, kind, replacement, word])
            noisy += [text[at:start], shaped_like(replacement, text[start:end])]
            at = end
        items.append({"text": "".join(noisy) + text[at:], "reference": words, "errors": errors})
    return items


def output_words(text):
    return [word for _, _, word in word_spans(text)]


def matched_positions(reference, output):
    """The reference's word indices that the output matches (difflib's blocks)."""
    matcher = difflib.SequenceMatcher(a=reference, b=output, autojunk=False)
    return {block.a + k for block in matcher.get_matching_blocks() for k in range(block.size)}


def score(items, outputs, seconds):
    """The figures (module docstring) of `outputs` (texts) for `items`."""
    words = clean = clean_kept = sentences_right = 0
    matched_words = 0
    fixed = {"misspelling": [0, 0], "confusion": [0, 0]}
    for item, text in zip(items, outputs):
        reference = item["reference"]
        output = output_words(text)
        matched = matched_positions(reference, output)
        injected = {i: kind for i, kind, _, _ in item["errors"]}
        words += len(reference)
        matched_words += len(matched)
        sentences_right += output == reference
        for i in range(len(reference)):
            if i in injected:
                fixed[injected[i]][0] += i in matched
                fixed[injected[i]][1] += 1
            else:
                clean += 1
                clean_kept += i in matched
    return {
        "word_accuracy": round(matched_words / max(words, 1), 4),
        "sentence_accuracy": round(sentences_right / max(len(items), 1), 4),
        "kept_correct": round(clean_kept / max(clean, 1), 4),
        "misspellings_fixed": round(fixed["misspelling"][0] / max(fixed["misspelling"][1], 1), 4),
        "confusions_fixed": round(fixed["confusion"][0] / max(fixed["confusion"][1], 1), 4),
        "latency_per_sentence": latency_summary(seconds),
    }


def measure(correct, items):
    """The figures of `correct(text) -> text` on the dev items, timed one by one."""
    outputs, seconds = [], []
    for item in items:
        start = time.perf_counter()
        outputs.append(correct(item["text"]))
        seconds.append(time.perf_counter() - start)
    return score(items, outputs, seconds)


def describe(items):
    """What the dev set holds: sentences, words, and injected errors by kind."""
    kinds = [kind for item in items for _, kind, _, _ in item["errors"]]
    return {
        "sentences": len(items),
        "words": sum(len(item["reference"]) for item in items),
        "misspellings": kinds.count("misspelling"),
        "confusions": kinds.count("confusion"),
        "sentences_without_errors": sum(not item["errors"] for item in items),
    }


def symspell_compound_peer(max_edit_distance=2):
    """`correct(text) -> text` with SymSpell's `lookup_compound` (its context-aware mode:
    unigram and bigram counts, words split and merged), given the sentence's words
    lower-cased and space-separated (punctuation would confuse its splitter)."""
    symspell = SymSpell(max_dictionary_edit_distance=max_edit_distance, prefix_length=7)
    symspell.load_dictionary(str(symspell_dictionary_path()), term_index=0, count_index=1)
    bigrams = symspell_dictionary_path().parent / "frequency_bigramdictionary_en_243_342.txt"
    symspell.load_bigram_dictionary(str(bigrams), term_index=0, count_index=2)

    def correct(text):
        phrase = " ".join(output_words(text))
        found = symspell.lookup_compound(phrase, max_edit_distance) if phrase else []
        return found[0].term if found else phrase

    return correct

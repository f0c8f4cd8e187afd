"""Real-word confusion sets: correctly spelled words that are typed for one another.

A misspelling that is itself a word ("by" for "buy", "there" for "their") passes
every dictionary check; only the words around it tell. `SentenceCorrector` offers
the other members of a typed word's set as candidates, scored by the context LM.

The sets were written for this project from common English usage errors (homophones,
near-homophones and one-letter slips between frequent words); they are not copied
from any list. Every member is a lower-case word the spelling model can spell.

This module is their one hand-kept copy: `nlpkit train spelling --context-corpus`
writes them into the export's manifest (`settings["context"]["confusion_sets"]`),
which both runtimes read (the TypeScript one has no copy). Exports written before
that lack the key, and the Python runtime falls back to `CONFUSION_SETS`.
"""

from keras_nlpkit.errors import UserInputError

# Where the export's manifest holds the sets, under `settings["context"]`.
MANIFEST_KEY = "confusion_sets"

CONFUSION_SETS = (
    ("their", "there", "they're"),
    ("then", "than"),
    ("by", "buy", "bye"),
    ("to", "too", "two"),
    ("its", "it's"),
    ("your", "you're"),
    ("whose", "who's"),
    ("lose", "loose"),
    ("affect", "effect"),
    ("accept", "except"),
    ("weather", "whether"),
    ("where", "were", "wear"),
    ("know", "no", "now"),
    ("new", "knew"),
    ("hear", "here"),
    ("piece", "peace"),
    ("quite", "quiet"),
    ("passed", "past"),
    ("principal", "principle"),
    ("advice", "advise"),
    ("brake", "break"),
    ("cite", "site", "sight"),
    ("complement", "compliment"),
    ("led", "lead"),
    ("of", "off"),
    ("sea", "see"),
    ("week", "weak"),
    ("write", "right"),
    ("which", "witch"),
    ("hole", "whole"),
    ("plain", "plane"),
    ("threw", "through"),
    ("lie", "lay"),
    ("lightening", "lightning"),
    ("stationary", "stationery"),
    ("dessert", "desert"),
    ("began", "begun"),
    ("chose", "choose"),
    ("form", "from"),
    ("were", "we're"),
)


def confusion_index(sets=CONFUSION_SETS):
    """`{word: (the other words of its sets)}`; a word in two sets gets both."""
    index = {}
    for members in sets:
        for word in members:
            others = index.setdefault(word, [])
            others.extend(m for m in members if m != word and m not in others)
    return {word: tuple(others) for word, others in index.items()}


def parse_confusion_sets(value, source):
    """`value` (the manifest's JSON: a list of lists of words) as a tuple of sets."""
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(members, (list, tuple))
        and len(members) > 1
        and all(isinstance(word, str) and word for word in members)
        for members in value
    ):
        raise UserInputError(
            f"{source}: `{MANIFEST_KEY}` must be a list of lists of two or more words. "
            f"Received: {str(value)[:80]}"
        )
    return tuple(tuple(members) for members in value)

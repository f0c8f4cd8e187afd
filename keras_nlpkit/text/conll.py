"""CoNLL-style tagged files → sentences of (words, tags), the tags made BIO.

Two layouts are read, told apart by the first data line:

- CoNLL-2003: `word POS chunk NER`, separated by spaces (`EU NNP I-NP I-ORG`), a
  `-DOCSTART- -X- O O` line between documents, IOB1 tags;
- two columns: `word<TAB>tag` (WNUT-17), BIO tags.

In general: the columns are separated by tabs if the first data line holds one, else
by runs of spaces; the word is the first column and the named-entity tag the last,
and every data line must have as many columns as the first one (a line that differs
is refused with its number, so a file cut or mixed by mistake is not read as data).
A blank line, or one of whitespace alone (WNUT-17 has lines of a single tab), ends a
sentence; a `-DOCSTART-` line ends one too and is skipped. A tag is `O`, `B-TYPE` or
`I-TYPE`; whatever the file's scheme, `read_conll` returns BIO (`iob1_to_bio`).
"""

from typing import NamedTuple

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import read_line_blocks

DOCUMENT_START = "-DOCSTART-"
OUTSIDE = "O"


class TaggedSentence(NamedTuple):
    """One sentence: its words and one tag a word (`words, tags = sentence`)."""

    words: list
    tags: list


def split_tag(tag):
    """`"B-PER"` → `("B", "PER")`; `"O"` → `("O", None)`; a malformed tag → `ValueError`.

    A type may hold hyphens (WNUT-17's `B-creative-work`): only the first one splits.
    """
    if tag == OUTSIDE:
        return OUTSIDE, None
    prefix, hyphen, entity_type = tag.partition("-")
    if prefix not in ("B", "I") or not hyphen or not entity_type:
        raise ValueError(f"a tag must be O, B-TYPE or I-TYPE. Received: tag={tag!r}")
    return prefix, entity_type


def iob1_to_bio(tags):
    """IOB1 (or BIO) tags → BIO: an `I-X` that does not continue an `X` becomes `B-X`.

    In IOB1 (CoNLL-2003's files) an entity starts with `I-X`; `B-X` appears only where
    an `X` entity follows another `X` entity directly. In BIO every entity starts with
    `B-X`. So an `I-X` at the start of a sentence, after `O`, or after a tag of another
    type starts an entity and is rewritten `B-X`; every other tag is kept. BIO tags
    come out unchanged, and a stray `I-X` in BIO (after `O`) is read as conlleval
    reads it: as the start of an entity.

    `["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]` →
    `["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "B-ORG"]`.
    """
    bio, previous_type = [], None
    for tag in tags:
        prefix, entity_type = split_tag(tag)
        if prefix == "I" and entity_type != previous_type:
            tag = f"B-{entity_type}"
        bio.append(tag)
        previous_type = entity_type
    return bio


def _columns(line, separator):
    return line.split(separator) if separator == "\t" else line.split()


def read_conll(path, argument="--data"):
    """The `TaggedSentence`s of a CoNLL-2003 or two-column file, tags in BIO.

    Raises `UserInputError` naming `argument`, the file and the line: a line with
    another column count than the first data line, a first data line of one column,
    a tag that is not `O`, `B-TYPE` or `I-TYPE`, a file without a sentence.
    """
    sentences, words, tags = [], [], []
    separator = expected = first_line = None

    def end_sentence():
        if words:
            sentences.append(TaggedSentence(list(words), iob1_to_bio(tags)))
            words.clear()
            tags.clear()

    lines = (line for block in read_line_blocks(path, argument) for line in block)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            end_sentence()
            continue
        if separator is None:
            separator = "\t" if "\t" in line else " "
            expected, first_line = len(_columns(line, separator)), number
            if expected < 2:
                raise UserInputError(
                    f"{argument}: line {number} of {path} has one column; a tagged file "
                    f"has the word first and its tag last (`word TAG` or CoNLL-2003's "
                    f"`word POS chunk TAG`). Received: {line!r}"
                )
        columns = _columns(line, separator)
        if columns[0] == DOCUMENT_START:
            end_sentence()
            continue
        if len(columns) != expected:
            raise UserInputError(
                f"{argument}: line {number} of {path} has {len(columns)} columns, but the "
                f"first data line (line {first_line}) has {expected}. Received: {line!r}"
            )
        try:
            split_tag(columns[-1])
        except ValueError:
            raise UserInputError(
                f"{argument}: line {number} of {path}: the tag (last column) must be O, "
                f"B-TYPE or I-TYPE. Received: {line!r}"
            ) from None
        words.append(columns[0])
        tags.append(columns[-1])
    end_sentence()
    if not sentences:
        raise UserInputError(f"{argument}: no tagged sentence in the file. Received: {path}")
    return sentences

"""WikiText's tokenization: raw text rewritten into it, and its word count.

WikiText-2 (Merity et al., 2016) splits punctuation from words, writes `@-@`,
`@,@`, `@.@` inside words and numbers, and counts words as whitespace tokens plus
one end of line per line (217,646 words in valid): the standard word-level
perplexity figure is only comparable in that tokenization.
"""

import re


def wikitext_style(line):
    """One line of raw text in WikiText's tokenization (see the module docstring)."""
    line = line.replace("``", '"').replace("''", '"')
    line = re.sub(r"(?<=\w)-(?=\w)", " @-@ ", line)
    line = re.sub(r'[;:!?()"\[\]]|(?<!\d),|,(?!\d)', lambda m: f" {m.group()} ", line)
    line = re.sub(r"(?<=\d),(?=\d)", " @,@ ", line)
    line = re.sub(r"(?<=\d)\.(?=\d)", " @.@ ", line)
    line = re.sub(r"(?<=\w)'s\b", " 's", line)
    line = re.sub(r"(?<!\.[A-Z])\.(?=\s|$)", " .", line)  # not U.S.
    return " ".join(line.split())


def count_words(lines):
    """Words as WikiText counts them: whitespace tokens + one end of line per line."""
    return sum(len(line.split()) + 1 for line in lines)


def first_words(lines, limit):
    """The first lines of `lines` holding `limit` words (WikiText's count), or all."""
    kept, words = [], 0
    for line in lines:
        if words >= limit:
            break
        kept.append(line)
        words += len(line.split()) + 1
    return kept

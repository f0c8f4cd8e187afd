"""Writing the lexicon file (`keras_nlpkit.ondevice.lexicon` reads it)."""


def lexicon_file_bytes(counts):
    """`word<TAB>count` lines, most frequent first, ties by spelling: the one lexicon format."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "".join(f"{word}\t{count}\n" for word, count in ordered).encode("utf-8")

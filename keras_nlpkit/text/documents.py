"""Documents of sentences, from raw text, and the sentence pairs BERT pretrains on."""

import re

import numpy as np

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'`(\[]*[A-Z0-9])")


def split_sentences(line):
    """The sentences of a line of prose: split after `.`, `!` or `?` before a capital."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(line)) if s]


def read_documents(texts, max_sentences=32):
    """Documents (lists of sentences) from whole texts, and the text each came from.

    See the module docstring; a run of lines longer than `max_sentences` sentences
    is cut into documents of that many, so a file without blank lines (Brown) gives
    many documents, and its NSP negatives can come from itself.
    """
    documents, sources = [], []
    for source, text in enumerate(texts):
        split = [split_sentences(line) for line in text.splitlines()]
        counts = [len(s) for s in split if s]
        if counts and np.median(counts) >= 2:  # a document a line
            found = [s for s in split if len(s) >= 2]
        else:
            found, current = [], []
            for sentences in split:
                if (not sentences or len(current) >= max_sentences) and current:
                    found.append(current)
                    current = []
                current.extend(sentences)
            found.append(current)
        found = [d for d in found if len(d) >= 2]
        documents.extend(found)
        sources.extend([source] * len(found))
    return documents, sources


def next_sentence_pairs(documents, seed=0, random_fraction=0.5, sources=None):
    """Sentence pairs for next-sentence prediction (ours; keras-hub has none).

    Every sentence that has a successor in its document gives one pair: with
    probability `1 - random_fraction` its true successor (label 1), otherwise a
    sentence drawn uniformly from another document of the same source when there
    is one, else from its own source (label 0); never the true successor.

    Drawing negatives from the same source matters when a corpus mixes styles (news
    and fiction, say): a negative from the other corpus is told apart by its style
    alone, and NSP accuracy then measures that instead of coherence.

    Args:
        documents: a list of documents, each a list of sentences (strings) in order.
        seed: seed of the draws.
        random_fraction: the share of random second sentences.
        sources: optional, a source id (e.g. the file's index) per document; by
            default all documents share one source.

    Returns:
        `(first, second, is_next)`: two lists of strings and an int array of labels.
    """
    rng = np.random.default_rng(seed)
    sources = np.zeros(len(documents), np.int64) if sources is None else np.asarray(sources)
    if len(sources) != len(documents):
        raise ValueError(
            f"`sources` needs one id per document ({len(documents)}). Received: {len(sources)}"
        )
    sentences = [s for doc in documents for s in doc]
    owner = np.repeat(np.arange(len(documents)), [len(d) for d in documents])
    pools = {source: np.flatnonzero(sources[owner] == source) for source in set(sources.tolist())}
    first, second, labels = [], [], []
    index = 0
    for doc_id, doc in enumerate(documents):
        pool = pools[int(sources[doc_id])]
        other_documents = len(pool) > len(doc)
        for i in range(len(doc) - 1):
            first.append(doc[i])
            if rng.random() >= random_fraction:
                second.append(doc[i + 1])
                labels.append(1)
                continue
            true_next = index + i + 1
            while True:
                j = int(pool[rng.integers(len(pool))])
                if j != true_next and (owner[j] != doc_id or not other_documents):
                    break
            second.append(sentences[j])
            labels.append(0)
        index += len(doc)
    return first, second, np.asarray(labels, np.int32)

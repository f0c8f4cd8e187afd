"""Search queries for training: query logs read, normalised and split into train and dev."""

import collections
import hashlib
import sys

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import read_lines
from keras_nlpkit.ondevice.prefix_completer import normalize_query


def parse_query_line(line):
    """A query from a plain line or a TREC topic line (`id:query`, `id:n:query`)."""
    parts = line.split(":", 2)
    if len(parts) >= 2 and parts[0].strip().isdigit():
        if len(parts) == 3 and parts[1].strip().isdigit():
            return normalize_query(parts[2])
        return normalize_query(line.split(":", 1)[1])
    return normalize_query(line)


# Real search queries are a few words (the TREC logs: 99.9% under 100 characters). A
# longer line is not a query a keyboard sees, and typing it out in `simulate_typing`
# would cost one completion per character.
MAX_QUERY_CHARACTERS = 1000


def read_queries(paths, argument="--corpus"):
    """Queries from text files, one a line; empty lines are dropped.

    Lines longer than `MAX_QUERY_CHARACTERS` are dropped with a warning naming how many.
    """
    queries = []
    for path in paths:
        found = [q for q in map(parse_query_line, read_lines(path, argument)) if q]
        kept = [q for q in found if len(q) <= MAX_QUERY_CHARACTERS]
        if len(kept) < len(found):
            print(
                f"nlpkit: warning: {argument}: {len(found) - len(kept)} line(s) of {path} are "
                f"longer than {MAX_QUERY_CHARACTERS} characters and are not queries; dropped",
                file=sys.stderr,
            )
        if not kept:
            raise UserInputError(f"{argument}: no query in the file. Received: {path}")
        queries.extend(kept)
    return queries


def split_queries(queries, dev_fraction, by="query"):
    """A stable train/dev split by hashing the query text (default) or each line.

    `"line"` treats the file as the log it is: a query issued again by another user
    may land in dev while an earlier issue of it trained the model, as happens to a
    deployed completer. `"query"` keeps every repeat of a query on one side, the
    stricter split (no dev query was seen whole in training).
    """
    if by not in ("line", "query"):
        raise ValueError(f"`by` must be 'line' or 'query'. Received: by={by!r}")
    train, dev = [], []
    for i, query in enumerate(queries):
        key = f"{i}\t{query}" if by == "line" else query
        digest = int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16)
        (dev if digest % 10000 < dev_fraction * 10000 else train).append(query)
    return train, dev


def word_counts(queries):
    """`Counter` of the words of the queries."""
    return collections.Counter(word for query in queries for word in query.split())

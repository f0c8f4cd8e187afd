"""Text that arrives with every Python install: the main job needs no download.

`pydoc_data.topics` is the reference documentation CPython ships (79 topics,
465k characters): real English prose about programming.
"""

import re
from pydoc_data.topics import topics


def python_documentation():
    """The documentation topics of this Python, joined into one text."""
    return "\n\n".join(topics[name] for name in sorted(topics))


def documentation_phrases():
    """Short 'queries' cut from Python's documentation.

    Each sentence is cut into runs of up to five words, letters only: not search
    logs, but real text that arrives with every install (the main job's queries).
    """
    queries = []
    for name in sorted(topics):
        for sentence in re.split(r"[.!?:;\n]+", topics[name].lower()):
            words = re.findall(r"[a-z]+", sentence)
            for i in range(0, len(words), 5):
                if len(words[i : i + 5]) >= 2:
                    queries.append(" ".join(words[i : i + 5]))
    return queries

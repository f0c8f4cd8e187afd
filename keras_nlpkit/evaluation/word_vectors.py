"""Word-vector figures (METRICS.md): analogy accuracy (3CosAdd) and similarity (Spearman)."""

from pathlib import Path

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.metrics import analogy_accuracy
from keras_nlpkit.evaluation.metrics import word_similarity
from keras_nlpkit.files import read_lines
from keras_nlpkit.models.word_vectors import WordVectors


def read_similarity(path):
    """`w1 w2 score` lines (spaces or tabs) → [(w1, w2, score)]."""
    pairs = []
    for number, line in enumerate(_lines(path, "--similarity"), 1):
        parts = line.split()
        if not parts or line.startswith("#"):
            continue
        try:
            pairs.append((parts[0], parts[1], float(parts[2])))
        except (IndexError, ValueError):
            raise UserInputError(
                f"--similarity: line {number} is not `word word score`. "
                f"Received: {line.strip()[:60]!r} in {path}"
            ) from None
    if not pairs:
        raise UserInputError(f"--similarity: no pairs in the file. Received: {path}")
    return pairs


def read_analogies(path):
    """`: section` headers and `a b c d` lines → [(section, a, b, c, d)]."""
    questions, section = [], ""
    for number, line in enumerate(_lines(path, "--analogies"), 1):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == ":":
            section = " ".join(parts[1:])
        elif len(parts) == 4:
            questions.append((section, *parts))
        else:
            raise UserInputError(
                f"--analogies: line {number} is neither `: section` nor "
                f"`a b c d`. Received: {line.strip()[:60]!r} in {path}"
            )
    if not questions:
        raise UserInputError(f"--analogies: no questions in the file. Received: {path}")
    return questions


def _lines(path, argument):
    return read_lines(path, argument)


def evaluate(vectors_path, analogies=None, similarity=()):
    """METRICS.md analogy accuracy and similarity of a vectors file, as one dict."""
    try:
        vectors = WordVectors.load_text(vectors_path)
    except UserInputError:
        raise
    except ValueError as error:
        raise UserInputError(str(error)) from None
    result = {"vectors": str(vectors_path), "vocabulary_size": len(vectors), "dim": vectors.dim}
    if analogies:
        result["analogy"] = analogy_accuracy(
            vectors.words, vectors.matrix, read_analogies(analogies)
        )
    if similarity:
        result["similarity"] = {
            Path(path).name: word_similarity(vectors.words, vectors.matrix, read_similarity(path))
            for path in similarity
        }
    return result

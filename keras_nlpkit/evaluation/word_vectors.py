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


ANALOGY_CSV_HEADER = ",type,word1,word2,word3,target"


def read_analogies(path):
    """`: section` headers and `a b c d` lines → [(section, a, b, c, d)].

    A file whose first line is `,type,word1,word2,word3,target` (the MSR set as
    vecto's word-benchmarks give it) is read as CSV instead, its `type` column
    as the section.
    """
    lines = _lines(path, "--analogies")
    if lines and lines[0].strip().replace(" ", "") == ANALOGY_CSV_HEADER:
        return _read_analogy_csv(path, lines)
    questions, section = [], ""
    for number, line in enumerate(lines, 1):
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


def _read_analogy_csv(path, lines):
    questions = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 6 or not all(parts[1:]):
            raise UserInputError(
                f"--analogies: line {number} is not `id,type,word1,word2,word3,target`. "
                f"Received: {line.strip()[:60]!r} in {path}"
            )
        questions.append(tuple(parts[1:]))
    if not questions:
        raise UserInputError(f"--analogies: no questions in the file. Received: {path}")
    return questions


def _lines(path, argument):
    return read_lines(path, argument)


def evaluate(vectors_path, analogies=None, similarity=(), oov_model=None):
    """METRICS.md analogy accuracy and similarity of a vectors file, as one dict.

    With `oov_model` (an `nlpkit train mimick` folder), the words of the test files
    that the vectors lack get vectors from their spelling (`Mimick.complete`)
    before scoring, so coverage is full; without it they are left out.
    """
    try:
        vectors = WordVectors.load_text(vectors_path)
    except UserInputError:
        raise
    except ValueError as error:
        raise UserInputError(str(error)) from None
    result = {"vectors": str(vectors_path), "vocabulary_size": len(vectors), "dim": vectors.dim}
    questions = read_analogies(analogies) if analogies else []
    pairs = {path: read_similarity(path) for path in similarity}
    if oov_model is not None:
        words = [w for q in questions for w in q[1:]]
        words += [w for found in pairs.values() for pair in found for w in pair[:2]]
        vectors = _load_mimick(oov_model, vectors).complete(vectors, words)
        result["oov_model"] = str(oov_model)
        result["completed_words"] = len(vectors) - result["vocabulary_size"]
    if questions:
        result["analogy"] = analogy_accuracy(vectors.words, vectors.matrix, questions)
    if pairs:
        result["similarity"] = {
            Path(path).name: word_similarity(vectors.words, vectors.matrix, found)
            for path, found in pairs.items()
        }
    return result


def _load_mimick(folder, vectors):
    import keras

    import keras_nlpkit.models  # noqa: F401  (registers Mimick for loading)

    path = Path(folder) / "model.keras"
    if not path.is_file():
        raise UserInputError(
            f"--oov-model: not a finished `nlpkit train mimick` folder (no model.keras). "
            f"Received: {folder}"
        )
    model = keras.saving.load_model(path)
    if not hasattr(model, "complete") or getattr(model, "dim", None) != vectors.dim:
        raise UserInputError(
            f"--oov-model: not a Mimick model of the vectors' {vectors.dim} dimensions. "
            f"Received: {folder}"
        )
    return model

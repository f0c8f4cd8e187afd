"""Mimick: word vectors from spelling, for the words a vector table does not hold.

    from keras_nlpkit.models import Mimick, WordVectors

    vectors = WordVectors.load_text("runs/glove/vectors.txt")
    model = Mimick(dim=vectors.dim)
    model.compile("adam", loss=Mimick.loss("euclidean"))
    model.fit(model.character_ids(vectors.words), vectors.matrix, epochs=20)
    completed = model.complete(vectors, ["unhappily", "recompute"])  # + their vectors

`nlpkit train mimick` (`keras_nlpkit/recipes/mimick.py`) runs it with a dev split,
checkpoints and TensorBoard logs.
"""

from keras_nlpkit.models.mimick.mimick import Mimick  # noqa: F401

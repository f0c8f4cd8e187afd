"""GloVe word vectors: counting, a Keras model trained with `fit`, and the vectors it makes.

    counts = count_cooccurrences(["corpus.txt"], window=10, min_count=5)
    model = GloVe(len(counts.words), dim=100)
    model.compile(optimizer=GloVeAdagrad(0.05), loss=GloVeLoss())
    model.fit(glove_dataset(counts, x_max=100, alpha=0.75), epochs=15)
    vectors = WordVectors(counts.words, model.word_vectors())
    vectors.save_text("vectors.txt")

`recipes/glove.py` (`nlpkit train glove`) runs all of it with checkpoints,
TensorBoard logs and the outputs; `nlpkit evaluate glove` scores vectors.
"""

from keras_nlpkit.glove.cooccurrence import Cooccurrences
from keras_nlpkit.glove.cooccurrence import count_cooccurrences
from keras_nlpkit.glove.cooccurrence import tokenize
from keras_nlpkit.glove.model import GloVe
from keras_nlpkit.glove.model import GloVeAdagrad
from keras_nlpkit.glove.model import GloVeLoss
from keras_nlpkit.glove.model import glove_dataset
from keras_nlpkit.glove.model import weighting
from keras_nlpkit.glove.vectors import WordVectors

__all__ = [
    "Cooccurrences", "GloVe", "GloVeAdagrad", "GloVeLoss", "WordVectors", "count_cooccurrences",
    "glove_dataset", "tokenize", "weighting",
]

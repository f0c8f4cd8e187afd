"""GloVe word vectors: a Keras model trained with `fit` on co-occurrence counts.

    from keras_nlpkit.models import GloVe, GloVeAdagrad, GloVeLoss, WordVectors, glove_dataset
    from keras_nlpkit.text.cooccurrence import count_cooccurrences

    counts = count_cooccurrences(["corpus.txt"], window=10, min_count=5)
    model = GloVe(len(counts.words), dim=100)
    model.compile(optimizer=GloVeAdagrad(0.05), loss=GloVeLoss())
    model.fit(glove_dataset(counts, x_max=100, alpha=0.75), epochs=15)
    vectors = WordVectors(counts.words, model.word_vectors())
    vectors.save_text("vectors.txt")

`nlpkit train glove` (`keras_nlpkit/recipes/glove.py`) runs all of it with
checkpoints, TensorBoard logs and the outputs; `nlpkit evaluate word-vectors` scores vectors.
"""

from keras_nlpkit.models.glove.glove import GloVe  # noqa: F401
from keras_nlpkit.models.glove.glove import weighting  # noqa: F401
from keras_nlpkit.models.glove.glove_adagrad import GloVeAdagrad  # noqa: F401
from keras_nlpkit.models.glove.glove_dataset import glove_dataset  # noqa: F401
from keras_nlpkit.models.glove.glove_loss import GloVeLoss  # noqa: F401

"""word2vec: skip-gram and CBOW with negative sampling, a Keras model trained with `fit`.

    import keras
    from keras_nlpkit.models import WordVectors, Word2Vec, word2vec_dataset
    from keras_nlpkit.text.cooccurrence import token_ids

    corpus = token_ids(["corpus.txt"], min_count=5)
    model = Word2Vec(len(corpus.words), dim=100, architecture="skipgram")
    model.compile(optimizer=keras.optimizers.SGD(0.025))
    model.fit(word2vec_dataset(corpus.ids, corpus.counts, window=5, negative=5), epochs=5)
    WordVectors(corpus.words, model.word_vectors()).save_text("vectors.txt")

`nlpkit train word2vec` (`keras_nlpkit/recipes/word2vec.py`) adds word2vec.c's linear
learning-rate decay, checkpoints, TensorBoard logs and the outputs; `nlpkit evaluate
word-vectors` scores the vectors.
"""

from keras_nlpkit.models.word2vec.word2vec import Word2Vec  # noqa: F401
from keras_nlpkit.models.word2vec.word2vec_dataset import expected_steps  # noqa: F401
from keras_nlpkit.models.word2vec.word2vec_dataset import keep_probabilities  # noqa: F401
from keras_nlpkit.models.word2vec.word2vec_dataset import noise_distribution  # noqa: F401
from keras_nlpkit.models.word2vec.word2vec_dataset import word2vec_dataset  # noqa: F401

from keras_nlpkit.models.spelling.spelling_model import SpellingModel  # noqa: F401

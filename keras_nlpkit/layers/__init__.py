"""Building-block layers: recurrent, attention, Transformer blocks and embeddings."""

from keras_nlpkit.api_export import export_public

export_public(__name__, globals())
del export_public

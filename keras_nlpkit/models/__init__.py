"""Models assembled from our layers: a backbone and its task models per architecture."""

from keras_nlpkit.api_export import export_public

export_public(__name__, globals())
del export_public

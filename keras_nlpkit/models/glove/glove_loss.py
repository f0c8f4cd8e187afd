"""`GloVeLoss`: GloVe's weighted least squares, summed over the batch."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export


@nlpkit_export("keras_nlpkit.models.GloVeLoss")
class GloVeLoss(keras.losses.Loss):
    """Half the squared error of the predicted log X_ij, weighted by f(X_ij), summed.

    Summed, not averaged, over the batch, so that a gradient step sees the
    gradient of J itself (AdaGrad's accumulators depend on its scale).
    """

    def __init__(self, name="glove_loss", reduction="sum", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return 0.5 * ops.square(y_pred - y_true)

"""Distillation into an on-device student: `LSTMClassifier` (the student) and
`DistillationLoss` (Hinton et al.'s soft targets mixed with the hard labels) with
its metric, `DistillationAccuracy`.

`nlpkit train distill` (`keras_nlpkit/recipes/distill.py`) distils a fine-tuned
`BertClassifier` into one, on sentences augmented by `keras_nlpkit.text.augmentation`.
"""

from keras_nlpkit.models.distillation.distillation_accuracy import DistillationAccuracy  # noqa: F401
from keras_nlpkit.models.distillation.distillation_loss import DistillationLoss  # noqa: F401
from keras_nlpkit.models.distillation.lstm_classifier import LSTMClassifier  # noqa: F401

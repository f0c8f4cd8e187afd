"""`LabelSmoothedCrossEntropy`: token cross-entropy with label smoothing, padding ignored."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_rate


@nlpkit_export("keras_nlpkit.models.LabelSmoothedCrossEntropy")
class LabelSmoothedCrossEntropy(keras.losses.Loss):
    """Mean over real tokens of `(1 − ε) · (−log p(y)) + ε · mean_v(−log p(v))`.

    Label smoothing (Szegedy et al., 2016) spreads ε of the target mass evenly
    over the vocabulary, which keeps a translation model from growing
    over-confident on a small corpus (+~1 BLEU in Vaswani et al., 2017 at
    ε = 0.1). Labels equal to `pad_id` are left out, and the mean is over the
    real tokens of the batch (not per sentence), so long sentences weigh by
    their length. Keras' `SparseCategoricalCrossentropy` has no smoothing, and
    `CategoricalCrossentropy` needs one-hot labels as large as the logits.

    Args:
        label_smoothing: ε, in [0, 1).
        pad_id: the label of padding; `0`.
        **kwargs: `keras.losses.Loss` arguments.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import LabelSmoothedCrossEntropy

    loss = LabelSmoothedCrossEntropy(label_smoothing=0.1)
    labels = np.array([[5, 3, 0]])                       # the last one is padding
    value = loss(labels, np.zeros((1, 3, 8), "float32"))  # log 8 for uniform logits
    ```

    References:
        - [Szegedy et al., 2016](https://arxiv.org/abs/1512.00567)
    """

    def __init__(self, label_smoothing=0.1, pad_id=0, **kwargs):
        kwargs.setdefault("name", "label_smoothed_cross_entropy")
        super().__init__(**kwargs)
        check_rate("label_smoothing", label_smoothing)
        self.label_smoothing = label_smoothing
        self.pad_id = pad_id

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, "int32")  # (batch, seq)
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)  # (batch, seq, vocab)
        nll = -ops.squeeze(ops.take_along_axis(log_probs, labels[..., None], axis=-1), -1)
        smooth = -ops.mean(log_probs, axis=-1)
        losses = (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        mask = ops.cast(ops.not_equal(labels, self.pad_id), "float32")
        return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)

    def get_config(self):
        config = super().get_config()
        config.update(label_smoothing=self.label_smoothing, pad_id=self.pad_id)
        return config

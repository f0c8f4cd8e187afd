"""`DistillationAccuracy`: accuracy over the labelled rows of `DistillationLoss`' targets."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export


@nlpkit_export("keras_nlpkit.models.DistillationAccuracy")
class DistillationAccuracy(keras.metrics.Mean):
    """The fraction of labelled rows whose argmax logit is the label.

    Reads `y_true` in `DistillationLoss`' layout (column 0 the label id, or
    `UNLABELLED` (-1) for a sentence only the teacher labels; the teacher's logits
    after it), so one metric follows training on labelled and augmented rows alike:
    unlabelled rows are left out, not counted as wrong. Keras' own accuracy metrics
    would read the teacher's logits as labels.

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import DistillationAccuracy

    y_true = np.array([[1, 2.0, -1.0], [-1, 0.5, 0.0], [0, 0.1, 0.3]], "float32")
    y_pred = np.array([[0.3, 0.1], [0.2, 0.4], [0.9, 0.1]], "float32")
    metric = DistillationAccuracy()
    metric.update_state(y_true, y_pred)
    metric.result()  # 0.5: row 0 wrong, row 2 right, row 1 unlabelled
    ```
    """

    def __init__(self, name="accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = ops.cast(ops.convert_to_tensor(y_true)[:, 0], "int32")
        right = ops.cast(ops.argmax(y_pred, axis=-1) == labels, "float32")
        labelled = ops.cast(labels >= 0, "float32")
        if sample_weight is not None:
            labelled = labelled * ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        return super().update_state(right, sample_weight=labelled)

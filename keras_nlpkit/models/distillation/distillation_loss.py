"""`DistillationLoss`: Hinton et al.'s soft targets mixed with the hard labels, one row
layout for labelled and unlabelled (augmented) sentences."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export

UNLABELLED = -1  # the label column of a sentence the teacher alone labels


@nlpkit_export("keras_nlpkit.models.DistillationLoss")
class DistillationLoss(keras.losses.Loss):
    """α · CE(label, softmax(s)) + (1 − α) · T² · KL(softmax(t / T) ‖ softmax(s / T)).

    s are the student's logits, t the teacher's, T the temperature. α weighs the
    hard labels, as in Keras' distillation example: α = 1 is plain cross-entropy on
    the labels (whatever T), α = 0 the teacher alone. T² keeps the soft part's
    gradients at the scale of the hard part's when T changes (Hinton et al., 2015,
    section 2). A row whose label is `UNLABELLED` (-1), e.g. an augmented sentence,
    has no hard part: its loss is (1 − α) · T² · KL.

    `y_true` carries both targets in one float tensor, so that one `tf.data` stream
    feeds labelled and augmented rows alike: column 0 the label id (or -1), columns
    1 .. C the teacher's logits; `y_pred` is the student's logits `(batch, C)`.

    Args:
        temperature: T > 0.
        alpha: the hard labels' weight, in [0, 1].
        **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`).

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import DistillationLoss

    y_true = np.array([[1, 2.0, -1.0], [-1, 0.5, 0.0]], "float32")  # label, teacher logits
    y_pred = np.array([[0.3, 0.1], [0.2, 0.4]], "float32")          # student logits
    DistillationLoss(temperature=2.0, alpha=0.5)(y_true, y_pred)
    ```

    References:
        - [Hinton et al., 2015](https://arxiv.org/abs/1503.02531)
        - [Keras: knowledge distillation](https://keras.io/examples/vision/knowledge_distillation/)
    """

    def __init__(self, temperature=1.0, alpha=0.5, name="distillation_loss", **kwargs):
        if not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"`temperature` must be > 0. Received: temperature={temperature!r}")
        if not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha!r}")
        super().__init__(name=name, **kwargs)
        self.temperature = float(temperature)
        self.alpha = float(alpha)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        student = ops.cast(y_pred, "float32")  # (batch, C)
        labels = ops.cast(y_true[:, 0], "int32")  # (batch,)
        teacher = y_true[:, 1:]  # (batch, C)
        labelled = ops.cast(labels >= 0, "float32")
        log_probs = ops.log_softmax(student, axis=-1)
        hard = -ops.sum(ops.one_hot(ops.maximum(labels, 0), ops.shape(student)[-1]) * log_probs, -1)
        t = self.temperature
        teacher_log_probs = ops.log_softmax(teacher / t, axis=-1)
        student_log_probs = ops.log_softmax(student / t, axis=-1)
        kl = ops.sum(ops.exp(teacher_log_probs) * (teacher_log_probs - student_log_probs), -1)
        return self.alpha * labelled * hard + (1.0 - self.alpha) * t * t * kl  # (batch,)

    def get_config(self):
        config = super().get_config()
        config.update(temperature=self.temperature, alpha=self.alpha)
        return config

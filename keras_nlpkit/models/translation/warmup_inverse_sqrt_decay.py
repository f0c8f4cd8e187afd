"""`WarmupInverseSqrtDecay`: the Transformer paper's learning-rate schedule."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int


@nlpkit_export("keras_nlpkit.models.WarmupInverseSqrtDecay")
class WarmupInverseSqrtDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak`, then decay as 1/sqrt(step) (Vaswani et al., 2017).

    `lr(step) = peak · min(step / warmup_steps, sqrt(warmup_steps / step))`,
    step counted from 1. Unlike a cosine or linear decay it needs no total
    number of steps, so it suits a run bounded by time (`--train-seconds`),
    whose step count is known only at the end.

    Args:
        peak: positive float, the learning rate at the end of the warm-up.
        warmup_steps: positive int.

    Example:
    ```python
    import keras
    from keras_nlpkit.models import WarmupInverseSqrtDecay

    schedule = WarmupInverseSqrtDecay(peak=1e-3, warmup_steps=400)
    optimizer = keras.optimizers.Adam(schedule, beta_2=0.98, epsilon=1e-9)
    rate = float(schedule(1599))   # half the peak, 4 × warmup_steps in
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762) (section 5.3)
    """

    def __init__(self, peak, warmup_steps):
        if not peak > 0:
            raise ValueError(f"`peak` must be positive. Received: peak={peak!r}")
        check_positive_int("warmup_steps", warmup_steps)
        self.peak = peak
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        warmup = float(self.warmup_steps)
        return self.peak * ops.minimum(step / warmup, ops.sqrt(warmup / step))

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}

import keras
import numpy as np
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.bert.bert_backbone import bert_kernel_initializer
from keras_nlpkit.models.bert.bert_backbone import serving_signatures
from keras_nlpkit.models.bert.bert_task import BertTask

# Logit given to positions outside the passage: exp() of it is exactly 0 in float32.
OUTSIDE_PASSAGE = -1e9
# Under mixed_float16, where -1e9 would be -inf: float16's lowest finite value.
OUTSIDE_PASSAGE_FLOAT16 = float(np.finfo(np.float16).min)


@nlpkit_export("keras_nlpkit.models.BertSpanLogits")
class BertSpanLogits(keras.layers.Layer):
    """Start and end logits ⟨s, v_i⟩, ⟨e, v_i⟩ over the passage tokens only.

    `s` and `e` are the two columns of one `(hidden, 2)` kernel (with biases). The
    passage is the second segment without its closing [SEP]: position `i` belongs to
    it when `segment_ids[i] == 1`, `padding_mask[i]` is set, and position `i + 1` is
    also in segment 1 and not padding (the packer always ends segment 1 with
    [SEP]). Elsewhere the logits are `-1e9` (`-65504`, the lowest finite value,
    when computing in float16), so a softmax over the sequence is a softmax over
    the passage.

    Call arguments:
        sequence_output: `(batch, seq, hidden)`.
        segment_ids, padding_mask: `(batch, seq)`.

    Returns:
        `(start_logits, end_logits)`, each `(batch, seq)`.
    """

    def build(self, sequence_output_shape, segment_ids_shape=None, padding_mask_shape=None):
        self.dense = keras.layers.Dense(
            2,
            kernel_initializer=bert_kernel_initializer(),
            dtype=self.dtype_policy,
            name="span_dense",
        )
        self.dense.build(sequence_output_shape)

    def call(self, sequence_output, segment_ids, padding_mask):
        logits = self.dense(sequence_output)  # (batch, seq, 2)
        in_b = ops.logical_and(
            ops.equal(ops.cast(segment_ids, "int32"), 1), ops.cast(padding_mask, "bool")
        )
        next_in_b = ops.concatenate(
            [in_b[:, 1:], ops.zeros_like(in_b[:, :1])], axis=1
        )  # (batch, seq): position i + 1 in segment 1
        passage = ops.logical_and(in_b, next_in_b)
        float16 = keras.backend.standardize_dtype(logits.dtype) == "float16"
        floor = ops.cast(OUTSIDE_PASSAGE_FLOAT16 if float16 else OUTSIDE_PASSAGE, logits.dtype)
        start = ops.where(passage, logits[..., 0], floor)
        end = ops.where(passage, logits[..., 1], floor)
        return start, end

    def compute_output_shape(
        self, sequence_output_shape, segment_ids_shape=None, padding_mask_shape=None
    ):
        return sequence_output_shape[:-1], sequence_output_shape[:-1]


@nlpkit_export("keras_nlpkit.models.BertQuestionAnswerer")
class BertQuestionAnswerer(BertTask):
    """Span question answering: the answer's start and end in the passage.

    Pack `[CLS] question [SEP] passage [SEP]`; a start vector `s` and an end
    vector `e` score every passage token by ⟨s, v_i⟩ and ⟨e, v_i⟩, and a softmax
    over the passage tokens (only) gives P(start = i), P(end = j). Train with two
    sparse cross-entropies from logits; `best_span` picks the answer.

    Args:
        backbone: a `BertBackbone`.
        **kwargs: `keras.Model` arguments.

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask`.
    Outputs: `{"start_logits": (batch, seq), "end_logits": (batch, seq)}`,
    `-1e9` outside the passage.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.BertBackbone.from_size("tiny", 1000, 32)
    qa = keras_nlpkit.models.BertQuestionAnswerer(backbone)
    out = qa({"token_ids": np.array([[1, 50, 51, 2, 60, 61, 62, 2, 0]]),
              "segment_ids": np.array([[0, 0, 0, 0, 1, 1, 1, 1, 0]]),
              "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 1, 0]])})
    start, end = qa.best_span(out)     # both in 4..6
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805), section 4.2
    """

    def __init__(self, backbone, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.span_logits = BertSpanLogits(dtype=backbone.dtype_policy, name="span_logits")

        # === Functional model ===
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]
        start, end = self.span_logits(sequence, inputs["segment_ids"], inputs["padding_mask"])
        super().__init__(
            inputs=inputs, outputs={"start_logits": start, "end_logits": end}, **kwargs
        )

    @staticmethod
    def best_span(outputs, max_answer_length=30):
        """The `(start, end)` arrays maximising start + end logits with start ≤ end."""
        start = np.asarray(outputs["start_logits"], np.float64)
        end = np.asarray(outputs["end_logits"], np.float64)
        length = start.shape[1]
        scores = start[:, :, None] + end[:, None, :]  # (batch, start, end)
        i, j = np.meshgrid(np.arange(length), np.arange(length), indexing="ij")
        allowed = (j >= i) & (j - i < max_answer_length)
        scores = np.where(allowed[None], scores, -np.inf)
        flat = scores.reshape(len(scores), -1).argmax(axis=1)
        return flat // length, flat % length

    def export_signatures(self):
        """`serving_default` for `keras_nlpkit.export`: the three named inputs at batch 1."""
        return serving_signatures(self)

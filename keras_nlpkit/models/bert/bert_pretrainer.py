import keras

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.models.bert.bert_backbone import bert_kernel_initializer
from keras_nlpkit.models.bert.bert_masked_lm_head import BertMaskedLMHead
from keras_nlpkit.models.bert.bert_task import BertTask


@nlpkit_export("keras_nlpkit.models.BertPretrainer")
class BertPretrainer(BertTask):
    """BERT pretraining: masked-LM and next-sentence prediction on one backbone.

    Masked LM: vocabulary logits at `mask_positions` from the final hidden
    vectors (`BertMaskedLMHead`, tied to the token embedding). Next sentence:
    two logits from the pooled [CLS] vector (1 = B follows A). Train both at once
    with two sparse cross-entropies; `BertPreprocessor.mask_generator` and
    `next_sentence_pairs` make the inputs.

    Args:
        backbone: a `BertBackbone`.
        **kwargs: `keras.Model` arguments.

    Inputs: the backbone's (`token_ids`, `segment_ids`, `padding_mask`) and
    `mask_positions` `(batch, num_masked)` int.
    Outputs: `{"mlm": (batch, num_masked, vocabulary_size),
    "nsp": (batch, 2)}` logits.

    Example:
    ```python
    import numpy as np
    import keras_nlpkit

    backbone = keras_nlpkit.models.BertBackbone.from_size("tiny", 1000, 32)
    model = keras_nlpkit.models.BertPretrainer(backbone)
    out = model({"token_ids": np.array([[1, 50, 4, 2, 60, 2]]),
                 "segment_ids": np.array([[0, 0, 0, 0, 1, 1]]),
                 "padding_mask": np.ones((1, 6)),
                 "mask_positions": np.array([[2]])})
    out["mlm"].shape, out["nsp"].shape   # (1, 1, 1000), (1, 2)
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    def __init__(self, backbone, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.masked_lm_head = BertMaskedLMHead(
            backbone.embeddings.token_embedding,
            dtype=backbone.dtype_policy,
            name="masked_lm_head",
        )
        self.next_sentence_head = keras.layers.Dense(
            2,
            kernel_initializer=bert_kernel_initializer(),
            dtype=backbone.dtype_policy,
            name="next_sentence_head",
        )

        # === Functional model ===
        inputs = dict(backbone.input)
        inputs["mask_positions"] = keras.Input((None,), dtype="int32", name="mask_positions")
        outputs = backbone({k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")})
        mlm = self.masked_lm_head(outputs["sequence_output"], inputs["mask_positions"])
        nsp = self.next_sentence_head(outputs["pooled_output"])
        super().__init__(inputs=inputs, outputs={"mlm": mlm, "nsp": nsp}, **kwargs)

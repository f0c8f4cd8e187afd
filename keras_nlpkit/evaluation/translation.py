"""Translation quality: corpus BLEU and chrF, as sacrebleu computes and signs them."""

import sacrebleu


def translation_scores(hypotheses, references):
    """Corpus BLEU and chrF of detokenized, cased `hypotheses` against one reference each.

    sacrebleu's defaults, so the figures compare with published ones: BLEU with
    its `13a` tokenizer, cased, exponential smoothing, one reference; chrF with
    character 6-grams, β = 2. Each comes with sacrebleu's signature string,
    which states exactly that (and sacrebleu's version).

    Args:
        hypotheses: the system's translations, one string per sentence.
        references: the reference translations, aligned with `hypotheses`.

    Returns:
        `{"bleu", "chrf", "bleu_signature", "chrf_signature",
        "bleu_precisions" (1- to 4-gram, %), "brevity_penalty", "sentences"}`.

    Example:
    ```python
    from keras_nlpkit.evaluation.translation import translation_scores

    scores = translation_scores(["The cat sat on the mat."], ["The cat is on the mat."])
    round(scores["bleu"], 2)  # 48.89
    ```

    References:
        - [Papineni et al., 2002](https://aclanthology.org/P02-1040/) (BLEU)
        - [Popović, 2015](https://aclanthology.org/W15-3049/) (chrF)
        - [Post, 2018](https://aclanthology.org/W18-6319/) (sacrebleu)
    """
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(
            "`hypotheses` and `references` must be aligned. Received: "
            f"{len(hypotheses)} hypotheses and {len(references)} references"
        )
    if not hypotheses:
        raise ValueError("No sentence to score. Received: hypotheses=[]")
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    bleu_score = bleu.corpus_score(hypotheses, [references])
    chrf_score = chrf.corpus_score(hypotheses, [references])
    return {
        "bleu": bleu_score.score,
        "chrf": chrf_score.score,
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "bleu_precisions": [round(p, 2) for p in bleu_score.precisions],
        "brevity_penalty": round(bleu_score.bp, 4),
        "sentences": len(hypotheses),
    }

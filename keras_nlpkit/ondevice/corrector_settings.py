"""`CorrectorSettings`: every knob of on-device spelling correction, with its one default."""

import dataclasses
import math

from keras_nlpkit.errors import UserInputError


@dataclasses.dataclass(frozen=True)
class CorrectorSettings:
    """How `SpellingCorrector` finds and scores candidates (the export stores them).

    A candidate w for a typed word is scored

        score(w) = log P_model(w | typo) + λ · log P_freq(w) + γ · log P_channel(typo | w)
                   - μ · distance(typo, w) + b · [w = typo]

    over the lexicon words within `edit_distance` (Damerau-Levenshtein) of the
    typo, the `max_candidates` best by the same score without the model. When no
    word is that close, a beam search over the lexicon trie proposes words, scored
    log P_model + λ_search · log P_freq.

    λ and γ were chosen on 1,209 held-out real (codespell) misspellings that the
    channel model is not counted on: acc@1 .941 there, flat within ±0.5 point for
    λ in 0.8-2 and γ in 1.5-4. λ_search is the beam search's own, tuned alone (best
    of 0, .15, .3, .5, .8 on held-out pairs); b, the cap and μ were left as the
    first reranker had them, μ = 0 because the channel prices every edit.

    Args:
        edit_distance: candidates within this distance are reranked; 0 leaves the
            beam search alone.
        max_candidates: how many of them the model scores.
        prior_weight: λ, the weight of the log word frequency.
        channel_weight: γ, the weight of the channel model (0: off).
        distance_weight: μ, charged per edit.
        input_bonus: b, added to the typed word when it is a word.
        beam_width: beams of the trie-constrained search.
        search_prior_weight: λ_search, the beam search's frequency weight.
        length_penalty: the beam search divides log P_model by length ** this.
    """

    edit_distance: int = 2
    max_candidates: int = 8
    prior_weight: float = 1.2
    channel_weight: float = 2.5
    distance_weight: float = 0.0
    input_bonus: float = 1.0
    beam_width: int = 3
    search_prior_weight: float = 0.15
    length_penalty: float = 0.0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type is int or field.type == "int":
                if (
                    not isinstance(value, int)
                    or isinstance(value, bool)
                    or value < 0
                    or (value == 0 and field.name != "edit_distance")
                ):
                    raise UserInputError(
                        f"`{field.name}` must be a positive integer. "
                        f"Received: {field.name}={value!r}"
                    )
            elif not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise UserInputError(
                    f"`{field.name}` must be a finite number >= 0. Received: {field.name}={value!r}"
                )

    @classmethod
    def from_dict(cls, values, source):
        """Settings from a manifest's `"decoding"` object; unknown names are refused."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise UserInputError(f"{source}: unknown decoding settings {unknown}")
        return cls(**values)

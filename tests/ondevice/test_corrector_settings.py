"""One set of corrector settings, with the defaults the figures in docs/RESULTS.md used."""

import dataclasses

import pytest

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice import CorrectorSettings


def test_the_defaults_are_the_tuned_values():
    assert dataclasses.asdict(CorrectorSettings()) == {
        "edit_distance": 2,
        "max_candidates": 8,
        "prior_weight": 1.2,
        "channel_weight": 2.5,
        "distance_weight": 0.0,
        "input_bonus": 1.0,
        "beam_width": 3,
        "search_prior_weight": 0.15,
        "length_penalty": 0.0,
    }


def test_bad_settings_are_refused_by_name():
    with pytest.raises(UserInputError, match="max_candidates=0"):
        CorrectorSettings(max_candidates=0)
    with pytest.raises(UserInputError, match="prior_weight=nan"):
        CorrectorSettings(prior_weight=float("nan"))
    with pytest.raises(UserInputError, match="channel_weight=-1"):
        CorrectorSettings(channel_weight=-1)
    assert CorrectorSettings(edit_distance=0).edit_distance == 0  # the beam search alone
    with pytest.raises(
        UserInputError, match=r"manifest.json: unknown decoding settings \['lambda'\]"
    ):
        CorrectorSettings.from_dict({"lambda": 0.3}, "manifest.json")
    assert CorrectorSettings.from_dict({"beam_width": 6}, "m").beam_width == 6

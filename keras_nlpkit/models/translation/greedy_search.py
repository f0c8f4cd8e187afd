"""`greedy_search`: the most probable next piece at every step, until eos."""

import numpy as np

from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.models.translation.decoding_functions import DecodingFunctions
from keras_nlpkit.ondevice import translation_search


def greedy_search(model, source_ids, max_length, bos_id=2, eos_id=3):
    """Greedy translations of a batch of sources through the model's decoding interface.

    Runs `model.encode` once, then the compiled `model.decode_step` one position at
    a time (self-attention cache, cross-attention K/V projected once), taking the
    argmax (the lowest id on a tie) until every row has produced `eos_id`, or
    `max_length` tokens (eos included): `keras_nlpkit.ondevice.translation_search.
    greedy_search`, which the on-device `Translator` runs too.

    Args:
        model: a translator with `encode` / `start_decoding` / `decode_step`.
        source_ids: int `(batch, S)`, 0-padded.
        max_length: positive int, the most tokens generated per row (eos
            included); at most the model's decoder positions.
        bos_id, eos_id: the start and end ids.

    Returns:
        One list of ids per row, without bos and eos.
    """
    check_positive_int("max_length", max_length)
    functions = DecodingFunctions.of(model)
    source_ids = np.asarray(source_ids, "int32")
    encoder_state = functions.encode(source_ids)

    def step(tokens, state, position):
        return functions.decode_step(encoder_state, state, tokens, position)

    return translation_search.greedy_search(
        step,
        functions.start_decoding(encoder_state, max_length),
        source_ids.shape[0],
        max_length,
        bos_id,
        eos_id,
    )

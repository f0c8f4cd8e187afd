"""`beam_search`: length-normalised beam search of a batch through a translator's model."""

import numpy as np

from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.models.translation.decoding_functions import DecodingFunctions
from keras_nlpkit.ondevice import translation_search


def beam_search(model, source_ids, num_beams, max_length, bos_id=2, eos_id=3, return_scores=False):
    """Beam-search translations, scored `(Σ_t log p(y_t)) / N` (N: tokens incl. eos).

    `encode` runs once; its state and `start_decoding`'s caches are repeated to
    `batch × num_beams` rows, then `keras_nlpkit.ondevice.translation_search.
    beam_search` (the algorithm, written out there) drives the compiled
    `decode_step` and a row gather of the state. The on-device `Translator` runs
    the same function over the exported signatures.

    Args:
        model: a translator with `encode` / `start_decoding` / `decode_step`.
        source_ids: int `(batch, S)`, 0-padded.
        num_beams: positive int.
        max_length: positive int, the most tokens generated (eos included).
        bos_id, eos_id: the start and end ids.
        return_scores: also return each translation's score.

    Returns:
        One list of ids per row (without bos and eos); with `return_scores`,
        `(ids, scores)`.
    """
    check_positive_int("num_beams", num_beams)
    check_positive_int("max_length", max_length)
    functions = DecodingFunctions.of(model)
    source_ids = np.asarray(source_ids, "int32")
    encoder_state = functions.repeat(functions.encode(source_ids), num_beams)

    def step(tokens, state, position):
        return functions.decode_step(encoder_state, state, tokens, position)

    ids, scores = translation_search.beam_search(
        step,
        functions.gather,
        functions.start_decoding(encoder_state, max_length),
        source_ids.shape[0],
        num_beams,
        max_length,
        bos_id,
        eos_id,
    )
    return (ids, scores) if return_scores else ids

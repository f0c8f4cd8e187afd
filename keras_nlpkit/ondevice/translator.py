"""`Translator`: a translation export run on the device (SentencePiece, LiteRT, NumPy beam search).

It reads only the export folder of `nlpkit train translation` (`manifest.json` of kind
`translation`, `model_<variant>.tflite` with the signatures `encode` and
`decode_step`, `source.spm`, `target.spm`) and imports no TensorFlow:

    from keras_nlpkit.ondevice import Translator

    translator = Translator("runs/translation")
    translator.translate("A man is riding a bike.")          # beam: the export's num_beams
    translator.translate("A man is riding a bike.", beam=1)  # greedy

How a sentence is translated, call for call (what an app mirrors):

1. **Source ids.** `source.spm` (a SentencePiece model) turns the sentence into
   piece ids (no bos/eos; `[unk_id]` when it has none); they are cut to
   `source_length` and padded with `pad_id` (0) to it, batch 1.
2. **`encode`** reads `source_ids (1, source_length)` once and gives the encoder
   state (for a Transformer: every decoder layer's cross-attention keys/values and
   the source mask), and, under the decoder state's own names, whatever part of the
   decoder's start state depends on the source (an RNN's first h/c). Each output
   is repeated `num_beams` times along axis 0.
3. **The decoder state** is `decode_step`'s outputs other than `logits`; one that
   `encode` did not give starts as zeros of its declared shape (a Transformer's
   self-attention caches).
4. **`decode_step`** reads every encoder-state and decoder-state tensor at batch
   `num_beams` (fixed by the export), `token_ids (num_beams,)` and `position ()`
   (the index of `token_ids` in the target, 0 for `bos_id`), and gives `logits
   (num_beams, vocab)` and the new decoder state. Rows past the live hypotheses
   are ignored: they never change the result.
5. **Search.** `keras_nlpkit.ondevice.translation_search`, the functions the Keras
   side decodes with too: greedy (`beam=1`, the argmax until `eos_id`) or beam
   search scored Σ log p / N (N the tokens generated with `eos_id`), until every
   beam has finished or `target_length` tokens. Rows of `decode_step` past the live
   beams run but are never read.
6. **Text.** `target.spm` turns the answer's ids, the special ids (pad, unk, bos,
   eos) left out, into text.
"""

import numpy as np
import sentencepiece

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.model_folder import find_export_dir
from keras_nlpkit.ondevice.model_folder import read_listed_file
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.ondevice.translation_search import beam_search
from keras_nlpkit.ondevice.translation_search import greedy_search

KIND = "translation"
SOURCE_SPM_FILE = "source.spm"
TARGET_SPM_FILE = "target.spm"
# The signatures and the names of their fixed tensors.
ENCODE = "encode"
DECODE_STEP = "decode_step"
SOURCE_IDS = "source_ids"
TOKEN_IDS = "token_ids"
POSITION = "position"
LOGITS = "logits"


def fixed_rows(step, num_rows, fill_token):
    """`(step, gather)` for `translation_search` over a `step` whose batch is fixed
    (the export's `num_beams`): fewer rows are padded up to it (tokens with
    `fill_token`, gathered rows with row 0), and the logits of the padding rows are
    dropped, so what those rows compute never reaches the search."""

    def padded_step(tokens, state, position):
        padded = np.full(num_rows, fill_token, np.int32)
        padded[: len(tokens)] = tokens
        logits, state = step(padded, state, position)
        return np.asarray(logits)[: len(tokens)], state

    def gather(state, rows):
        padded = np.zeros(num_rows, np.int64)
        padded[: len(rows)] = rows
        return {name: value[padded] for name, value in state.items()}

    return padded_step, gather


class Translator:
    """A sentence translator from an export folder, run as an app runs it (no TensorFlow).

    Args:
        directory: the export folder of `nlpkit train translation`, or its training
            folder (which holds it as `export/`).
        variant: `"float32"`, `"float16"`, `"dynamic_int8"` or `"int8"`.
        num_threads: interpreter threads (a phone app uses one).
        argument: how error messages name `directory` (the CLI's `--model`).

    Example:
    ```python
    from keras_nlpkit.ondevice import Translator

    translator = Translator("runs/translation/export")
    translator.translate("Two dogs play in the snow.")   # e.g. Zwei Hunde spielen im Schnee.
    source = translator.source_ids("Two dogs play in the snow.")
    translator.translate_ids(source, beam=1)              # target ids, greedy
    ```
    """

    def __init__(self, directory, variant="float32", num_threads=1, argument="--model"):
        export_dir, manifest = find_export_dir(directory, KIND, argument)
        self.export_dir, self.manifest = export_dir, manifest
        settings = manifest.get("settings", {})
        try:
            self.pad_id = int(settings["pad_id"])
            self.unk_id = int(settings["unk_id"])
            self.bos_id = int(settings["bos_id"])
            self.eos_id = int(settings["eos_id"])
            self.target_length = int(settings["target_length"])
        except (KeyError, TypeError, ValueError) as error:
            raise UserInputError(
                f"{argument}: manifest.json's settings lack a translation setting "
                f"({error!r}). Received: {export_dir}"
            ) from None
        self.source_language = settings.get("source_language")
        self.target_language = settings.get("target_language")

        def processor(name):
            data = read_listed_file(export_dir, manifest, name, argument)
            try:
                return sentencepiece.SentencePieceProcessor(model_proto=data)
            except (RuntimeError, TypeError) as error:
                raise UserInputError(
                    f"{argument}: {name} is not a SentencePiece model ({error}). "
                    f"Received: {export_dir}"
                ) from None

        self.source_tokenizer = processor(SOURCE_SPM_FILE)
        self.target_tokenizer = processor(TARGET_SPM_FILE)
        self.model = OnDeviceModel(
            export_dir, variant=variant, num_threads=num_threads, argument=argument
        )
        missing = {ENCODE, DECODE_STEP} - set(self.model.runners)
        if missing:
            raise UserInputError(
                f"{argument}: {self.model.path.name} lacks the signatures "
                f"{sorted(missing)}. Received: {export_dir}"
            )
        self._encode = self.model.runners[ENCODE]
        self._decode = self.model.runners[DECODE_STEP]
        source = self._encode.get_input_details()[SOURCE_IDS]["shape_signature"]
        self.source_length = int(source[1])
        inputs = self._decode.get_input_details()
        self.num_beams = int(inputs[TOKEN_IDS]["shape_signature"][0])
        self.decoder_names = sorted(set(self._decode.get_output_details()) - {LOGITS})
        self.encoder_names = sorted(set(inputs) - {TOKEN_IDS, POSITION, *self.decoder_names})
        unknown = set(self.encoder_names) - set(self._encode.get_output_details())
        if unknown:
            raise UserInputError(
                f"{argument}: {self.model.path.name}'s decode_step reads {sorted(unknown)}, "
                f"which encode does not give. Received: {export_dir}"
            )
        self._zero_state = {
            name: np.zeros([int(d) for d in inputs[name]["shape_signature"]], inputs[name]["dtype"])
            for name in self.decoder_names
            if name not in self._encode.get_output_details()
        }

    # --- text ---------------------------------------------------------------------
    def source_ids(self, sentence):
        """The sentence's source pieces as ids, cut to `source_length`; `[unk_id]` for
        a sentence without pieces (as the Keras-side translator reads it)."""
        ids = list(self.source_tokenizer.encode(str(sentence)))[: self.source_length]
        return ids or [self.unk_id]

    def detokenize(self, ids):
        """Target ids → text; the special ids (pad, unk, bos, eos) are left out."""
        special = {self.pad_id, self.unk_id, self.bos_id, self.eos_id}
        return self.target_tokenizer.decode([int(i) for i in ids if int(i) not in special])

    def translate(self, sentence, beam=None):
        """The translation of one sentence: beam search of width `beam` (the export's
        `num_beams` by default), greedy when `beam` is 1."""
        return self.detokenize(self.translate_ids(self.source_ids(sentence), beam))

    def translate_ids(self, source_ids, beam=None, max_length=None):
        """The translation's target ids, without `eos_id` (greedy when `beam` is 1;
        the export's `num_beams` by default)."""
        beam = self.num_beams if beam is None else beam
        if not isinstance(beam, int | np.integer) or not 1 <= beam <= self.num_beams:
            raise ValueError(
                f"`beam` must be from 1 to {self.num_beams} (the export's num_beams). "
                f"Received: beam={beam!r}"
            )
        max_length = self.target_length if max_length is None else max_length
        if not isinstance(max_length, int | np.integer) or not 1 <= max_length <= (
            self.target_length
        ):
            raise ValueError(
                f"`max_length` must be from 1 to {self.target_length} (the export's "
                f"target_length). Received: max_length={max_length!r}"
            )
        encoder_state, decoder_state = self.encode(source_ids)
        step, gather = fixed_rows(
            lambda tokens, state, position: self.step(encoder_state, state, tokens, position),
            self.num_beams,
            self.bos_id,
        )
        if beam == 1:
            found = greedy_search(step, decoder_state, 1, max_length, self.bos_id, self.eos_id)
        else:
            found, _ = beam_search(
                step, gather, decoder_state, 1, beam, max_length, self.bos_id, self.eos_id
            )
        return found[0]

    # --- the model ------------------------------------------------------------------
    def encode(self, source_ids):
        """`(encoder state, decoder start state)` of one source, each at batch `num_beams`."""
        ids = [int(i) for i in source_ids]
        if len(ids) > self.source_length:
            raise ValueError(
                f"`source_ids` holds at most {self.source_length} ids (the export's "
                f"source_length). Received: {len(ids)} ids"
            )
        padded = np.full((1, self.source_length), self.pad_id, np.int32)
        padded[0, : len(ids)] = ids
        out = self._encode(**{SOURCE_IDS: padded})
        tiled = {name: np.repeat(value, self.num_beams, axis=0) for name, value in out.items()}
        decoder = {name: tiled[name] for name in self.decoder_names if name in tiled}
        decoder.update({name: value.copy() for name, value in self._zero_state.items()})
        encoder = {name: tiled[name] for name in self.encoder_names}
        return encoder, decoder

    def step(self, encoder_state, decoder_state, token_ids, position):
        """One `decode_step` call: `(logits (num_beams, vocab), new decoder state)`."""
        out = self._decode(
            **encoder_state,
            **decoder_state,
            **{
                TOKEN_IDS: np.asarray(token_ids, np.int32),
                POSITION: np.asarray(position, np.int32),
            },
        )
        logits = out.pop(LOGITS)
        return logits, out

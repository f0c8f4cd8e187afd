"""`SentencePieceEncoder`: text ↔ ids with a SentencePiece model (the `sentencepiece` package)."""

import sentencepiece

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.tokenizers.sentence_piece_model import BOS_ID
from keras_nlpkit.tokenizers.sentence_piece_model import EOS_ID
from keras_nlpkit.tokenizers.sentence_piece_model import PAD_ID
from keras_nlpkit.tokenizers.sentence_piece_model import UNK_ID


class SentencePieceEncoder:
    """Encodes lines to piece ids and decodes ids to text, with a serialized model.

    The plain `sentencepiece` processor (no TensorFlow), as the on-device runtime
    reads the same `.spm` file; `decode` inverts `encode` up to the model's NFKC
    normalisation. Special ids: pad 0, unk 1, bos 2, eos 3.

    Args:
        proto: `bytes`, a serialized model (`learn_sentence_piece_model`).

    Example:
    ```python
    from keras_nlpkit.tokenizers.sentence_piece_encoder import SentencePieceEncoder
    from keras_nlpkit.tokenizers.sentence_piece_model import learn_sentence_piece_model

    lines = ["a dog runs", "the dog sleeps", "a cat runs", "the cat sleeps"] * 10
    encoder = SentencePieceEncoder(learn_sentence_piece_model(lines, 25))
    encoder.decode(encoder.encode("the dog runs"))  # 'the dog runs'
    ```
    """

    pad_id, unk_id, bos_id, eos_id = PAD_ID, UNK_ID, BOS_ID, EOS_ID

    def __init__(self, proto):
        self.proto = bytes(proto)
        self.processor = sentencepiece.SentencePieceProcessor(model_proto=self.proto)
        found = (
            self.processor.pad_id(),
            self.processor.unk_id(),
            self.processor.bos_id(),
            self.processor.eos_id(),
        )
        if found != (PAD_ID, UNK_ID, BOS_ID, EOS_ID):
            raise ValueError(
                "`proto`: the model's special ids must be pad 0, unk 1, bos 2, eos 3. "
                f"Received: pad, unk, bos, eos = {found}"
            )

    @classmethod
    def from_file(cls, path, argument="--model"):
        try:
            with open(path, "rb") as f:
                return cls(f.read())
        except FileNotFoundError:
            raise UserInputError(f"{argument}: no SentencePiece model {path}") from None
        except (RuntimeError, ValueError) as error:
            raise UserInputError(
                f"{argument}: not a SentencePiece model ({error}). Received: {path}"
            ) from None

    @property
    def vocabulary_size(self):
        return self.processor.get_piece_size()

    def encode(self, text):
        """The piece ids of one line (a string) or of each line of a list."""
        return self.processor.encode(text)

    def decode(self, ids):
        """The text of one id list, or of each of a list of id lists; special ids dropped."""
        if ids and isinstance(ids[0], (list, tuple)):
            return [self.decode(row) for row in ids]
        return self.processor.decode([int(i) for i in ids if int(i) > EOS_ID])

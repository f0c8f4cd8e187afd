"""`learn_sentence_piece_model`: a SentencePiece unigram model with fixed special ids."""

import io
import re

import sentencepiece

from keras_nlpkit.native_logs import filtered_stderr

# The special ids of every model learnt here (keras-hub's trainer fixes the same).
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


def learn_sentence_piece_model(texts, vocabulary_size):
    """A serialized SentencePiece unigram model learnt from `texts`, pad 0 unk 1 bos 2 eos 3.

    The settings of keras-hub's `compute_sentence_piece_proto` (unigram, `nmt_nfkc`
    normalisation, cased, the same special ids) plus one it cannot pass: every
    character of `texts` gets a piece (`character_coverage=1.0`, SentencePiece's
    advice for small alphabets). Its default, 0.9995, leaves the rarest characters
    unknown: on Multi30k "K", "J" and "4" among them, so that 2.3% of training
    sentences held an unknown piece a side and a German "4" could not be written.

    SentencePiece rather than WordPiece for translation because its pieces keep
    the spaces (`▁`): decoding the pieces gives the text back exactly, where
    WordPiece's whitespace/punctuation pre-split loses whether a space stood
    before a comma or an apostrophe — and BLEU (sacrebleu) scores detokenized,
    cased text.

    A text too small for `vocabulary_size` pieces gives the largest model the
    trainer can make from it (the trainer names that size; a tiny corpus in a
    test, say), rather than an error.

    Args:
        texts: strings, the training side only (lines of text).
        vocabulary_size: int above 4, the most pieces, the four special ones
            included.

    Returns:
        `bytes`, the model proto (what `source.spm` / `target.spm` hold).
    """
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise ValueError("`texts` holds no non-empty line to learn from. Received: texts=[]")
    if not isinstance(vocabulary_size, int) or vocabulary_size <= 4:
        raise ValueError(
            f"`vocabulary_size` must be an integer above 4. Received: vocabulary_size="
            f"{vocabulary_size!r}"
        )
    # The trainer logs its whole spec and progress from C++; errors come as exceptions.
    with filtered_stderr(noise=_EVERY_LINE):
        try:
            return _learn(texts, vocabulary_size)
        except RuntimeError as error:
            most = re.search(r"Vocabulary size too high .*<= (\d+)", str(error))
            if not most or int(most.group(1)) <= 4:
                raise
            return _learn(texts, int(most.group(1)))


def _learn(texts, vocabulary_size):
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        vocab_size=vocabulary_size,
        model_type="unigram",
        normalization_rule_name="nmt_nfkc",
        character_coverage=1.0,
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=BOS_ID,
        eos_id=EOS_ID,
    )
    return model.getvalue()


_EVERY_LINE = re.compile("")

"""`nlpkit demo`, the README's main job: both recipes, small, trained → exported → on device.

Everything it reads arrives with the install: the documentation that ships with
Python (`pydoc_data.topics`) for query completion, and the misspellings and word
frequencies inside the `codespell` and `symspellpy` packages for spelling
correction. About 3 minutes on 2 cores.
"""

import dataclasses
import json
import time
from pathlib import Path

from keras_nlpkit.io_utils import atomic_write_text

COMPLETION_INPUTS = ("the ", "a list of ", "the value of the ", "retur", "exceptoin ")
SPELLING_INPUTS = ("recieve", "definately", "seperate", "acommodate", "beleive", "python")


def demo(out_dir="runs/demo", epochs=None, log=print):
    from keras_nlpkit.completion import QueryCompleter
    from keras_nlpkit.recipes import query_completion
    from keras_nlpkit.recipes import spelling_correction

    out_dir = Path(out_dir)
    start = time.perf_counter()

    log("== 1/3 Spelling correction: codespell's real misspellings + synthetic typos "
        "over symspellpy's word frequencies")
    spelling_config = spelling_correction.SpellingConfig.small()
    if epochs is not None:
        spelling_config = dataclasses.replace(spelling_config, epochs=epochs)
    spelling_dir = out_dir / "spelling"
    spelling_metrics = spelling_correction.train(spelling_dir, spelling_config, log=log, verbose=1)
    log(json.dumps(spelling_metrics, indent=2))

    log("== 2/3 Query completion: a word LSTM on phrases of Python's documentation")
    corpus = out_dir / "queries" / "corpus.txt"
    atomic_write_text(corpus, "\n".join(query_completion.demo_corpus()) + "\n")
    completion_config = query_completion.QueryCompletionConfig(
        vocabulary_size=4000, units=128, epochs=epochs or 10, batch_size=256)
    completion_dir = out_dir / "queries"
    completion_metrics = query_completion.train([corpus], completion_dir, completion_config,
                                                log=log)
    log(json.dumps(completion_metrics, indent=2))

    log("== 3/3 On the device (LiteRT interpreter, one thread, no TensorFlow)")
    # Full-integer int8 of the seq2seq does not yet run under XNNPACK (see README): the
    # corrector runs the dynamic-range int8 file.
    corrector = spelling_correction.load_corrector(spelling_dir, variant="dynamic_int8")
    for word in SPELLING_INPUTS:
        best = [w for w, _ in corrector.correct(word, k=3)]
        log(f"  correct {word!r:14} -> {best}")
    plain = QueryCompleter(completion_dir, variant="int8")
    tolerant = QueryCompleter(completion_dir, variant="int8", corrector=corrector)
    for typed in COMPLETION_INPUTS:
        log(f"  complete {typed!r:20} -> {plain.suggest(typed)}   "
            f"typo-tolerant: {tolerant.suggest(typed)}")
    log(f"Done in {time.perf_counter() - start:.0f} s. Models and exports under {out_dir}; "
        f"try `nlpkit complete --model {completion_dir} \"the value \"` and "
        f"`nlpkit correct --model {spelling_dir} recieve`.")

"""Query-completion figures (METRICS.md) of an exported model and of the trigram peer."""

from pathlib import Path

import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.metrics import perplexity
from keras_nlpkit.evaluation.metrics import simulate_typing
from keras_nlpkit.evaluation.metrics import simulate_typing_phrases
from keras_nlpkit.evaluation.trigram_completer import TrigramCompleter
from keras_nlpkit.ondevice.local_history import LocalHistory
from keras_nlpkit.ondevice.model_folder import find_export_dir
from keras_nlpkit.ondevice.query_completer import KIND
from keras_nlpkit.ondevice.query_completer import QueryCompleter
from keras_nlpkit.text.queries import read_queries
from keras_nlpkit.text.typos import inject_typos


def evaluate(
    model_dir,
    queries_file,
    k=3,
    variant="int8",
    limit=None,
    peer_corpus=None,
    typos=True,
    corrector=None,
    seed=0,
    ngram_weight=None,
    repeat=False,
    phrases=None,
):
    """METRICS.md figures for the exported model and the trigram peer, on `queries_file`.

    The peer is trained on `DIR/data/train.txt` (the model's training split) unless
    `peer_corpus` names other files. With `typos`, every query also gets one
    injected typo (in one word of 3+ letters) and both completers, plus the
    typo-tolerant one when a `corrector` is given, are measured on it.
    `ngram_weight` overrides the export's mixture weight (0: the network alone).
    With `phrases` (a confidence), also METRICS.md's "KSR with phrases" for both
    completers, one phrase mechanism (`PrefixCompleter.suggest_phrases` at that
    confidence) over each one's scores.
    With `repeat`, also the repeat-query KSR (`repeat_query_ksr`), with and without
    the on-device `LocalHistory`.
    """
    model_dir = Path(model_dir)
    export_dir, _ = find_export_dir(model_dir, KIND)
    queries = read_queries([queries_file], argument="--queries")
    if limit:
        queries = queries[:limit]
    # The model's training split, from the training folder (DIR or DIR/..).
    peer_files = peer_corpus or [export_dir.parent / "data" / "train.txt"]
    if not all(Path(p).is_file() for p in peer_files):
        raise UserInputError(
            f"--peer-corpus: the trigram peer needs the training queries. Received: "
            f"{[str(p) for p in peer_files]}"
        )
    ours = QueryCompleter(export_dir, variant=variant, ngram_weight=ngram_weight)
    peer = TrigramCompleter(read_queries(peer_files, argument="--peer-corpus"))

    def suggester(completer):
        return lambda previous, prefix: [w for w, _ in completer.suggest_words(previous, prefix, k)]

    nll = np.concatenate([-ours.sequence_logprobs(q) for q in queries])
    result = {
        "queries_file": str(queries_file),
        "variant": variant,
        "tflite_bytes": (export_dir / ours.model.path.name).stat().st_size,
        "k": k,
        "ngram_weight": ours.ngram_weight,
        "ours": simulate_typing(queries, suggester(ours), k),
        "peer_trigram": simulate_typing(queries, suggester(peer), k),
    }
    result["ours"]["perplexity"] = round(perplexity(nll), 2)
    result["ours"]["perplexity_tokenization"] = (
        f"words ({ours.tokenizer.vocabulary_size:,}, others as <unk>), per token incl. </s>"
    )
    if phrases is not None:

        def phrase_suggester(completer):
            return lambda previous, prefix: [
                words
                for words, _ in completer.suggest_phrases(previous, prefix, k, confidence=phrases)
            ]

        result["phrases"] = {
            "confidence": phrases,
            "ours": simulate_typing_phrases(queries, phrase_suggester(ours), k),
            "peer_trigram": simulate_typing_phrases(queries, phrase_suggester(peer), k),
        }
    if repeat:
        result["repeat"] = {
            "without_history": repeat_query_ksr(ours, None, queries, k, seed),
            "with_history": repeat_query_ksr(ours, LocalHistory(), queries, k, seed),
        }
    if typos:
        typed = inject_typos(queries, seed=seed)
        result["typo"] = {
            "ours": simulate_typing(queries, suggester(ours), k, typed),
            "peer_trigram": simulate_typing(queries, suggester(peer), k, typed),
        }
        if corrector is not None:
            tolerant = QueryCompleter(
                export_dir, variant=variant, corrector=corrector, ngram_weight=ngram_weight
            )
            result["typo"]["ours_typo_tolerant"] = simulate_typing(
                queries, suggester(tolerant), k, typed
            )
            result["ours_typo_tolerant"] = simulate_typing(queries, suggester(tolerant), k)
    return result


def repeat_stream(count, seed=0, max_gap=100):
    """`[(query index, is_repeat), ...]`: each query typed once in order, then again
    after 1..`max_gap` (uniform) more queries, as people repeat their searches."""
    rng = np.random.default_rng(seed)
    gaps = rng.integers(1, max_gap + 1, size=count)
    events = [(i, 0, i) for i in range(count)] + [
        (min(i + int(g), count - 1), 1, i) for i, g in enumerate(gaps)
    ]
    return [(index, bool(repeat)) for _, repeat, index in sorted(events)]


def repeat_query_ksr(completer, history, queries, k=3, seed=0):
    """METRICS.md's repeat-query KSR: KSR over first and over second typings of a
    `repeat_stream`. With a `history`, every query typed is learnt after it is
    submitted (the completer mixes it in from the next keystroke on)."""
    completer.history = history
    totals = {False: [0, 0], True: [0, 0]}  # is_repeat -> [keystrokes, characters]
    try:
        for index, is_repeat in repeat_stream(len(queries), seed):
            figures = simulate_typing(
                [queries[index]],
                lambda previous, prefix: [
                    w for w, _ in completer.suggest_words(previous, prefix, k)
                ],
                k,
            )
            totals[is_repeat][0] += figures["keystrokes"]
            totals[is_repeat][1] += figures["characters"]
            if history is not None:
                history.learn(queries[index])
    finally:
        completer.history = None
    return {
        name: round(1.0 - keys / max(chars, 1), 4)
        for name, (keys, chars) in (("first", totals[False]), ("second", totals[True]))
    }

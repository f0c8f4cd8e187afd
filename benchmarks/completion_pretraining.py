"""Does general English help the query network? Pre-train it on books and news, then train it
on the queries exactly as `nlpkit train query-completion` does.

    python benchmarks/completion_pretraining.py --out runs/queries_pretrained \\
        --corpus ../shared/data/queries/*.txt \\
        --text ../shared/data/text/brown.txt ../shared/data/text/reuters.txt \\
               ../shared/data/text/gutenberg/*.txt [--passes 2] [--epochs 12]
    python benchmarks/completion_ablation.py --model runs/queries_pretrained \\
        --queries runs/queries_pretrained/data/dev.txt --rows baseline,weight=0

The queries (85k in the shared TREC logs) are the network's only data in the recipe. Here
the same network, with the queries' own vocabulary (the recipe's split and tokenizer, so
the dev split is the recipe's), first reads `--passes` passes over the text: lower-cased
words, cut into windows of `sequence_length` tokens, each read after `<s>`. The recipe
then trains, saves and exports it as usual, so `--out` is a query-completion folder every
evaluation reads. The recipe's own run of the same `--corpus` is the comparison.
"""

import argparse
import re
import sys
import time

import numpy as np
import tensorflow as tf

from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.recipes import query_completion
from keras_nlpkit.text.queries import read_queries
from keras_nlpkit.text.queries import split_queries
from keras_nlpkit.text.queries import word_counts

# Words as queries spell them: punctuation dropped, "u.s." and "don't" kept whole.
WORD = re.compile(r"[a-z0-9]+(?:['.&-][a-z0-9]+)*")


def text_windows(paths, tokenizer, length):
    """(inputs, targets): the text's token ids cut into windows of `length`, `<s>` first."""
    ids = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = WORD.findall(line.lower())
                if words:
                    ids.extend(tokenizer.encode(" ".join(words)))
    ids = np.asarray(ids, np.int32)
    n = len(ids) // length
    targets = ids[: n * length].reshape(n, length)
    starts = np.full((n, 1), WordTokenizer.start_id, np.int32)
    unknown = float(np.mean(ids == WordTokenizer.unknown_id))
    print(f"text: {len(ids):,} tokens ({unknown:.1%} <unk>), {n:,} windows", flush=True)
    return np.concatenate([starts, targets[:, :-1]], axis=1), targets


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", required=True, help="the query-completion folder to write")
    p.add_argument("--corpus", nargs="+", required=True, help="query files, as the recipe's")
    p.add_argument("--text", nargs="+", required=True, help="general text files")
    p.add_argument("--passes", type=float, default=2.0, help="passes over the text")
    p.add_argument("--epochs", type=int, help="query epochs (default: the recipe's)")
    args = p.parse_args(argv)

    config = query_completion.QueryCompletionConfig()
    if args.epochs:
        config.epochs = args.epochs
    train_queries, _ = split_queries(read_queries(args.corpus), config.dev_fraction)
    vocabulary = query_completion.build_vocabulary(
        word_counts(train_queries), config.vocabulary_size
    )
    inputs, targets = text_windows(args.text, WordTokenizer(vocabulary), config.sequence_length)
    build = query_completion.build_model

    def pretrained_model(vocabulary_size, recipe_config):
        model = build(vocabulary_size, recipe_config)
        steps = int(args.passes * len(inputs) / recipe_config.batch_size)
        data = (
            tf.data.Dataset.from_tensor_slices((inputs, targets))
            .shuffle(len(inputs), seed=recipe_config.seed)
            .repeat()
            .batch(recipe_config.batch_size)
        )
        start = time.time()
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=2)
        print(f"pre-trained: {steps:,} steps in {time.time() - start:.0f} s", flush=True)
        return model

    # The recipe builds its model through this module attribute; everything else is its own.
    query_completion.build_model = pretrained_model
    try:
        metrics = query_completion.train(args.corpus, args.out, config, verbose=2)
    finally:
        query_completion.build_model = build
    print(metrics)


if __name__ == "__main__":
    sys.exit(main())

"""`nlpkit evaluate translation`: corpus BLEU and chrF of a translation model, as one JSON object.

    nlpkit evaluate translation --model runs/mt \\
        --source ../shared/data/translation/multi30k/val.en.gz \\
        --reference ../shared/data/translation/multi30k/val.de.gz [--beam 4] [--limit 100]

Prints `{"bleu", "chrf", "bleu_signature", "chrf_signature", "bleu_precisions",
"brevity_penalty", "sentences", "beam", "seconds", "ms_per_sentence"}`: sacrebleu's
corpus BLEU (13a tokenizer, cased, detokenized output) and chrF, with the
signatures that state those settings (docs/METRICS.md). `--beam 1` is greedy
decoding; `--limit N` scores the first N pairs.
"""

import json
import time

from keras_nlpkit.recipes.arguments import positive_integer


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a `nlpkit train translation` folder")
    parser.add_argument("--source", required=True, help="source sentences, one a line (or .gz)")
    parser.add_argument(
        "--reference", required=True, help="reference translations, line-aligned (or .gz)"
    )
    parser.add_argument(
        "--beam", type=positive_integer, default=4, help="beam width (1: greedy); default 4"
    )
    parser.add_argument("--limit", type=positive_integer, default=None, help="first N pairs only")


def run(args):
    from keras_nlpkit.evaluation.translation import translation_scores
    from keras_nlpkit.recipes import translation
    from keras_nlpkit.text.parallel import read_parallel

    pairs = read_parallel(args.source, args.reference, "--source/--reference")
    if args.limit:
        pairs = pairs[: args.limit]
    translator = translation.load(args.model)
    start = time.perf_counter()
    hypotheses = translator.translate(
        [source for source, _ in pairs], num_beams=args.beam, greedy=args.beam == 1
    )
    seconds = time.perf_counter() - start
    scores = translation_scores(hypotheses, [reference for _, reference in pairs])
    scores["bleu"] = round(scores["bleu"], 2)
    scores["chrf"] = round(scores["chrf"], 2)
    scores.update(
        beam=args.beam,
        seconds=round(seconds, 1),
        ms_per_sentence=round(1000 * seconds / len(pairs), 1),
    )
    print(json.dumps(scores, sort_keys=True))

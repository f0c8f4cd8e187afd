"""BERT fine-tuned for named entities: first-piece token classification, scored by entity F1.

    nlpkit train bert-finetune --task ner --train ../shared/data/ner/conll2003/eng.train \
        --dev ../shared/data/ner/conll2003/eng.testa --pretrained runs/bert_pretrain \
        --out runs/bert_conll [--epochs 2 --learning-rate 2e-4 --batch-size 32 ...]
    nlpkit evaluate ner --model runs/bert_conll --data ../shared/data/ner/conll2003/eng.testa

`--train` and `--dev` are CoNLL-2003 (`word POS chunk NER`, IOB1) or two-column
(`word<TAB>tag`, BIO: WNUT-17) files, read by `keras_nlpkit.text.conll` (tags made
BIO). The model is a `BertTokenClassifier` on the `--pretrained` folder's backbone
and vocabulary (`nlpkit train bert-pretrain`; without one, a vocabulary learnt on
the training words and a random backbone). Words become WordPieces one word at a
time (`BertTokenClassifierPreprocessor`): a word's tag is learnt and predicted on
its first piece only (first-piece labelling, as Devlin et al. do for CoNLL-2003),
and a sentence longer than `--sequence-length` − 2 pieces is cut at word boundaries
into windows of about equal size, so every word is tagged and scored (on
CoNLL-2003 with the 64-piece BERT of `bert-pretrain`: 4.5% of the training words
and 7.3% of the dev words are in such sentences). Each epoch ends with the dev
set's entity F1 (`keras_nlpkit.evaluation.ner`, conlleval's definition,
docs/METRICS.md) in the progress line and in `history.json`. The config is
`bert-finetune`'s (`--dev-fraction` and the `--baseline-*` flags are unused here).

DIR receives `recipe.json`, `vocabulary.txt` + `preprocessor.json`, `tags.json`
(tag id → BIO tag), `model.keras`, `logs/` (TensorBoard), `backup/` (rerun the
same command to resume), `history.json`, `representative.npz` (dev windows: the
export's parity inputs), `export/` (SavedModel, float32 and dynamic-int8 TFLite,
builtin ops only, the same side files, `report.json`) and `metrics.json` (dev
scores per type, through Keras and through each TFLite file one window at a time,
sizes, seconds).
"""

import time
from pathlib import Path

import keras
import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.ner import entity_scores
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.models import BertTokenClassifier
from keras_nlpkit.models import BertTokenClassifierPreprocessor
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import tagging
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.bert_finetune import RECIPE
from keras_nlpkit.recipes.bert_finetune import BertFinetuneConfig
from keras_nlpkit.recipes.bert_finetune import load_preprocessor_and_backbone
from keras_nlpkit.text.conll import OUTSIDE
from keras_nlpkit.text.conll import read_conll

TASK = "ner"


def predict_tags(model, preprocessor, tags, sentences, batch_size=256):
    """The BIO tags `model` gives each of `sentences` (lists of words), read at each
    word's first piece; windows of about one length are batched together."""
    windows = preprocessor.encode(sentences)
    order = np.argsort(windows.lengths, kind="stable")
    logits = [None] * len(order)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        length = int(windows.lengths[rows].max())
        batch = {name: x[rows, :length] for name, x in windows.inputs.items()}
        for row, output in zip(rows, np.asarray(model.predict_on_batch(batch))):
            logits[row] = output
    ids = preprocessor.word_tag_ids(windows, logits, [len(words) for words in sentences])
    return [[tags[t] for t in row] for row in ids]


def on_device_tags(export_dir, variant, preprocessor, tags, sentences):
    """The tags the exported `variant` gives each sentence, one window a call (batch 1,
    unpadded), as an app runs it."""
    windows = preprocessor.encode(sentences)
    logits = tagging.on_device_logits(export_dir, variant, windows.inputs, windows.lengths)
    ids = preprocessor.word_tag_ids(windows, logits, [len(words) for words in sentences])
    return [[tags[t] for t in row] for row in ids]


def check_files(train_file, dev_file, data):
    """`--task ner` reads `--train` and `--dev`; `--data` belongs to the sentence tasks."""
    if data is not None:
        raise UserInputError(
            "--data: --task ner reads --train FILE and --dev FILE (CoNLL-2003 or "
            f"word<TAB>tag), not --data. Received: --data {data}"
        )
    for argument, path in (("--train", train_file), ("--dev", dev_file)):
        if path is None:
            raise UserInputError(
                f"{argument}: --task ner needs --train FILE and --dev FILE (CoNLL-2003 "
                f"or word<TAB>tag). Received: no {argument}"
            )


def train(
    train_file,
    dev_file,
    out_dir,
    config=None,
    pretrained=None,
    vocabulary=None,
    verbose=1,
    log=print,
    export_variants=tagging.EXPORT_VARIANTS,
):
    """Fine-tunes, saves, exports and scores the BERT tagger; returns the metrics dict.

    `export_variants`: the TFLite variants written; the dev set is tagged through each.
    """
    config = (config or BertFinetuneConfig()).check()
    check_files(train_file, dev_file, None)
    start = time.perf_counter()
    train_set = read_conll(train_file, "--train")
    dev_set = read_conll(dev_file, "--dev")
    tags = [OUTSIDE] + sorted({t for s in train_set for t in s.tags} - {OUTSIDE})
    tag_index = {tag: i for i, tag in enumerate(tags)}
    unseen = sorted({t for s in dev_set for t in s.tags} - set(tags))
    if unseen:
        log(f"The dev set has tags the training set lacks (never predicted): {unseen}")
    train_words = [s.words for s in train_set]
    plain, backbone = load_preprocessor_and_backbone(
        pretrained, vocabulary, config, [" ".join(words) for words in train_words]
    )
    preprocessor = BertTokenClassifierPreprocessor(**plain.get_config())
    windows = preprocessor.encode(train_words, [[tag_index[t] for t in s.tags] for s in train_set])
    dev_windows = preprocessor.encode([s.words for s in dev_set])
    log(
        f"{len(train_set):,} training and {len(dev_set):,} dev sentences, {len(tags)} tags; "
        f"{len(windows.lengths):,} and {len(dev_windows.lengths):,} windows of at most "
        f"{config.sequence_length} pieces"
    )

    inputs = [
        train_file,
        dev_file,
        *([Path(pretrained) / "backbone.keras"] if pretrained else []),
        *([vocabulary] if vocabulary else []),
    ]
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=inputs)
    keras.utils.set_random_seed(config.seed)
    preprocessor.save(out_dir)  # what the backup needs beside it
    atomic_write_json(out_dir / tagging.TAGS_FILE, tags)
    data = tagging.tagged_dataset(
        windows.inputs,
        windows.labels,
        windows.lengths,
        config.batch_size,
        seed=config.seed,
        weights=windows.sample_weight,
    )
    steps = config.epochs * tagging.batches_per_epoch(windows.lengths, config.batch_size)

    def predict(model, sentences):
        return predict_tags(model, preprocessor, tags, sentences)

    backbone = distribution.current().adopt(backbone)
    backbone.pooled_dense.trainable = False  # the [CLS] pooler: unused, it gets no gradient

    def build():
        model = BertTokenClassifier(backbone, len(tags), dropout=config.dropout, name="bert")
        model.compile(
            training.adamw_with_warmup(
                config.learning_rate, steps, config.warmup_fraction, config.weight_decay
            ),
            # The mean over the weighted positions: one term a word (its first piece).
            keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            ),
            jit_compile=False,  # window lengths vary by batch: XLA would compile each
        )
        return model

    trained = tagging.train_tagger(build, data, out_dir, config, predict, dev_set, verbose, log)
    if trained is None:  # process 0 writes the outputs
        return None
    model, fitted, dev = trained
    dev_words = [s.words for s in dev_set]
    dev_tags = [s.tags for s in dev_set]
    metrics = {
        "task": TASK,
        "pretrained": str(pretrained) if pretrained else None,
        "train_sentences": len(train_set),
        "dev_sentences": len(dev_set),
        "tags": tags,
        "labelling": "first WordPiece of each word",
        "train_windows": len(windows.lengths),
        "dev_windows": len(dev_windows.lengths),
        "train_words_in_split_sentences": _windowed_words(windows, len(train_words)),
        "dev_words_in_split_sentences": _windowed_words(dev_windows, len(dev_words)),
        "parameters": int(model.count_params()),
        "epochs_run": fitted.epochs,
        "dev_f1_by_epoch": [round(f, 4) for f in fitted.history.get("val_f1", [])],
        "train_seconds": round(fitted.seconds, 1),
        "dev": tagging.rounded(dev),
    }
    representative = tagging.save_parity_inputs(
        dev_windows.inputs, dev_windows.lengths, out_dir / "representative.npz"
    )
    report = tagging.export_tagger(
        model,
        out_dir,
        export_variants,
        representative,
        {
            "task": "named entities",
            "tags": tags,
            "labelling": "first WordPiece of each word",
            "sequence_length": preprocessor.sequence_length,
            "lowercase": preprocessor.lowercase,
        },
        ("vocabulary.txt", "preprocessor.json", tagging.TAGS_FILE),
        log,
        verbose,
    )
    if report is not None:
        metrics["export"] = training.export_figures(report)
        for variant in export_variants:
            on_device = on_device_tags(out_dir / "export", variant, preprocessor, tags, dev_words)
            scores = entity_scores(dev_tags, on_device)
            metrics[f"dev_{variant}"] = tagging.rounded(
                {key: value for key, value in scores.items() if key != "per_type"}
            )
            log(f"dev entity F1 through the {variant} file {scores['f1']:.4f}")
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics


def _windowed_words(windows, sentences):
    """How many words are in sentences cut into more than one window."""
    counts = np.zeros(sentences, np.int64)
    words = np.zeros(sentences, np.int64)
    for owners in windows.words:
        if owners:
            counts[owners[0][0]] += 1
            words[owners[0][0]] += len(owners)
    return int(words[counts > 1].sum())


# === Evaluation ===
def load(model_dir, argument="--model"):
    """`(model, preprocessor, tags)` of a `bert-finetune --task ner` folder."""
    model_dir = Path(model_dir)
    training.read_run(model_dir, RECIPE, argument)
    if not (model_dir / tagging.TAGS_FILE).is_file():
        raise UserInputError(
            f"{argument}: a `bert-finetune` run of a sentence task (no {tagging.TAGS_FILE}), "
            f"not of --task ner. Received: {model_dir}"
        )
    path = model_dir / training.MODEL_FILE
    if not path.is_file():
        raise UserInputError(
            f"{argument}: the run has not finished (no {training.MODEL_FILE}); rerun its "
            f"`nlpkit train bert-finetune --task ner` command. Received: {model_dir}"
        )
    tags = tagging.read_tags(model_dir, argument)
    try:
        preprocessor = BertTokenClassifierPreprocessor.load(model_dir)
    except (OSError, ValueError, KeyError):
        raise UserInputError(
            f"{argument}: vocabulary.txt or preprocessor.json is missing or unreadable. "
            f"Received: {model_dir}"
        ) from None
    # Without the optimizer: the backbone's config does not keep the frozen pooler, so
    # the saved optimizer's slots would not match (and evaluation needs none).
    return keras.saving.load_model(path, compile=False), preprocessor, tags


def evaluate(model_dir, data_file, argument="--data"):
    """METRICS.md's entity scores of a `bert-finetune --task ner` model on a tagged file."""
    model, preprocessor, tags = load(model_dir)
    sentences = read_conll(data_file, argument)
    predicted = predict_tags(model, preprocessor, tags, [s.words for s in sentences])
    return tagging.file_scores(sentences, predicted)

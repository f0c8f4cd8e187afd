"""BERT fine-tuning for sentence classification, against a bag-of-embeddings baseline.

(`--task ner --train FILE --dev FILE` fine-tunes it for named entities instead:
`keras_nlpkit/recipes/bert_finetune_ner.py` says what that run does and writes.)

    nlpkit train bert-finetune --task sst2 --data ../shared/data/classification/sst2 \
        --pretrained runs/bert_pretrain --out runs/bert_sst2 [--epochs 2 ...]
    nlpkit train bert-finetune --task trec_qc --data ../shared/data/classification/trec_qc \
        --pretrained runs/bert_pretrain --out runs/bert_trec

Tasks: `sst2` reads `train.tsv` and `dev.tsv` (`label<TAB>sentence`, with a header)
from `--data`; `trec_qc` reads `train.txt` (`COARSE:fine question`) and predicts the
6 coarse classes, holding out `dev_fraction` of it as the dev set by a hash of the
question text (the same split on every run). The classifier is a `BertClassifier`
on the `--pretrained` folder's backbone and vocabulary (`nlpkit train
bert-pretrain`); without one, a vocabulary is learnt on the training sentences and
the backbone starts from random weights. `--vocabulary FILE` replaces the
pretrained vocabulary (it must fit the checkpoint's embedding).

In the same run, on the same tokens, a bag-of-embeddings baseline is trained: a
trained `Embedding` averaged over the non-padding tokens, then `Dense`.

DIR receives `recipe.json`, `model.keras` (the classifier), `baseline.keras`,
`vocabulary.txt` + `preprocessor.json`, `labels.json`, `bert/` and `baseline/`
(TensorBoard `logs/` and resumable `backup/` of each fit) and `metrics.json` (dev
accuracy of both, sizes, seconds).
"""

import dataclasses
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import BertBackbone
from keras_nlpkit.models import BertClassifier
from keras_nlpkit.models import BertPreprocessor
from keras_nlpkit.models.bert.bert_backbone import BERT_SIZES
from keras_nlpkit.models.bert.bert_preprocessor import SPECIAL_TOKENS
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.classification import TASKS
from keras_nlpkit.text.classification import data_files
from keras_nlpkit.text.classification import read_sst2
from keras_nlpkit.text.classification import read_trec
from keras_nlpkit.tokenizers.word_piece_vocabulary import learn_word_piece_vocabulary

RECIPE = "bert-finetune"


@dataclasses.dataclass
class BertFinetuneConfig(RecipeConfig):
    sequence_length: int = 64  # SST-2 sentences and TREC questions fit in 64 WordPieces
    batch_size: int = 32
    epochs: int = 2  # SST-2 has 67k sentences: two passes suffice for a tiny BERT
    learning_rate: float = 2e-4  # peak; tiny models fine-tune best above base's 2e-5
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1
    dev_fraction: float = 0.1  # trec_qc: share of train.txt held out as the dev set
    baseline_dim: int = 128  # the bag-of-embeddings baseline's embedding size
    baseline_learning_rate: float = 3e-3
    size: str = "tiny"  # the backbone's size when there is no --pretrained folder
    vocabulary_size: int = 8000  # likewise, the vocabulary learnt here
    seed: int = 1

    ranges = {
        "dev_fraction": "(0, 1)",
        "warmup_fraction": "[0, 1)",
        "weight_decay": "[0, inf)",
    }
    choices = {"size": tuple(BERT_SIZES)}


NER = "ner"  # the token task: bert_finetune_ner.py


def add_arguments(parser):
    parser.add_argument("--task", choices=(*TASKS, NER), required=True)
    parser.add_argument(
        "--data", default=None, help="sst2: folder with train.tsv, dev.tsv; trec_qc: train.txt"
    )
    parser.add_argument("--train", default=None, help="ner: CoNLL-2003 or word<TAB>tag file")
    parser.add_argument("--dev", default=None, help="ner: the dev file, same format")
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    parser.add_argument(
        "--pretrained", default=None, help="a `train bert-pretrain` folder (default: random init)"
    )
    parser.add_argument(
        "--vocabulary", default=None, help="vocabulary file instead of the pretrained folder's"
    )
    add_config_arguments(parser, BertFinetuneConfig)


def run(args):
    config = config_from_arguments(BertFinetuneConfig, args)
    if args.task == NER:
        from keras_nlpkit.recipes import bert_finetune_ner  # it imports this module

        bert_finetune_ner.check_files(args.train, args.dev, args.data)
        metrics = bert_finetune_ner.train(
            args.train,
            args.dev,
            args.out,
            config,
            pretrained=args.pretrained,
            vocabulary=args.vocabulary,
        )
        training.print_metrics(metrics, indent=2)
        return
    for argument, value in (("--train", args.train), ("--dev", args.dev)):
        if value is not None:
            raise UserInputError(
                f"{argument}: only --task ner reads --train and --dev; --task {args.task} "
                f"reads --data. Received: {argument} {value}"
            )
    if args.data is None:
        raise UserInputError(
            f"--data: --task {args.task} needs --data (sst2: a folder with train.tsv and "
            "dev.tsv; trec_qc: train.txt or its folder). Received: no --data"
        )
    metrics = train(
        args.task,
        args.data,
        args.out,
        config,
        pretrained=args.pretrained,
        vocabulary=args.vocabulary,
    )
    training.print_metrics(metrics, indent=2, sort_keys=True)


def load_preprocessor_and_backbone(pretrained, vocabulary, config, sentences):
    """The pretrained folder's (or a fresh) preprocessor and backbone, checked together."""
    if pretrained:
        folder = Path(pretrained)
        if not (folder / "backbone.keras").is_file():
            raise UserInputError(
                "--pretrained: no backbone.keras (a `nlpkit train "
                f"bert-pretrain` folder). Received: {pretrained}"
            )
        backbone = keras.saving.load_model(folder / "backbone.keras")
        try:
            if vocabulary:
                lowercase = BertPreprocessor.load(folder).lowercase
                preprocessor = BertPreprocessor(vocabulary, config.sequence_length, lowercase)
            else:
                preprocessor = BertPreprocessor.load(folder, config.sequence_length)
            preprocessor.check_backbone(backbone)
        except ValueError as error:
            argument = "--vocabulary" if vocabulary else "--sequence-length"
            raise UserInputError(f"{argument}: {error}") from None
        return preprocessor, backbone
    if vocabulary:
        preprocessor = BertPreprocessor(vocabulary, config.sequence_length)
    else:
        preprocessor = BertPreprocessor(
            learn_word_piece_vocabulary(
                sentences, config.vocabulary_size, SPECIAL_TOKENS, lowercase=True
            ),
            config.sequence_length,
        )
    backbone = BertBackbone.from_size(
        config.size,
        preprocessor.vocabulary_size,
        max_sequence_length=config.sequence_length,
        dropout=config.dropout,
    )
    return preprocessor, backbone


def classification_dataset(preprocessor, examples, label_ids, batch_size, seed, training):
    sentences = [s for s, _ in examples]
    labels = np.asarray([label_ids[label] for _, label in examples], np.int32)
    data = tf.data.Dataset.from_tensor_slices((sentences, labels)).batch(1024)
    data = data.map(lambda s, y: (preprocessor(s), y)).unbatch()
    data = data.apply(tf.data.experimental.assert_cardinality(len(sentences))).cache()
    if training:
        data = data.shuffle(len(sentences), seed=seed)
    return data.batch(batch_size).prefetch(2)


def bag_of_embeddings(vocabulary_size, dim, num_classes):
    """The baseline: mean of trained token embeddings (padding excluded) → Dense."""
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, dim, mask_zero=True, name="embedding")(token_ids)
    x = keras.layers.GlobalAveragePooling1D(name="mean")(x)  # the mask skips [PAD]
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(token_ids, logits, name="bag_of_embeddings")


def _fit(build, train_data, dev_data, epochs, optimizer, out_dir, verbose):
    """(the trained model, its dev scores), built by `build()` with `optimizer()`.

    (None, None) on a process other than 0 of a distributed run.
    """
    plan = distribution.current()
    with plan.scope():
        model = build()
        model.compile(
            optimizer(),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )
        fitted = training.fit(
            model, train_data, out_dir, epochs=epochs, verbose=verbose, validation_data=dev_data
        )
    model = plan.local(model)
    if model is None:
        return None, None
    scores = model.evaluate(dev_data, return_dict=True, verbose=0)
    return model, {
        "dev_accuracy": round(float(scores["accuracy"]), 4),
        "dev_loss": round(float(scores["loss"]), 4),
        "training_seconds": round(fitted.seconds, 1),
    }


def train(task, data, out_dir, config=None, pretrained=None, vocabulary=None, verbose=2, log=print):
    """Fine-tunes BERT (and trains the baseline) on `task`; returns the metrics dict."""
    if task not in TASKS:
        raise UserInputError(f"--task must be one of {list(TASKS)}. Received: {task!r}")
    config = (config or BertFinetuneConfig()).check()
    start = time.perf_counter()
    train_set, dev_set = read_sst2(data) if task == "sst2" else read_trec(data, config.dev_fraction)
    if not train_set or not dev_set:
        raise UserInputError(
            f"--data: {len(train_set)} training and {len(dev_set)} dev "
            f"examples; both must be non-empty. Received: {data}"
        )
    labels = sorted({label for _, label in train_set})
    label_ids = {label: i for i, label in enumerate(labels)}
    unseen = sorted({label for _, label in dev_set} - set(label_ids))
    if unseen:
        raise UserInputError(
            f"--data: the dev set has labels the training set lacks: {unseen}. Received: {data}"
        )
    log(
        f"{task}: {len(train_set):,} training and {len(dev_set):,} dev examples, "
        f"{len(labels)} classes"
    )

    keras.utils.set_random_seed(config.seed)
    preprocessor, backbone = load_preprocessor_and_backbone(
        pretrained, vocabulary, config, [s for s, _ in train_set]
    )
    inputs = [
        *data_files(task, data),
        *([Path(pretrained) / "backbone.keras"] if pretrained else []),
        *([vocabulary] if vocabulary else []),
    ]
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=inputs)
    preprocessor.save(out_dir)
    atomic_write_json(out_dir / "labels.json", labels)
    train_data = classification_dataset(
        preprocessor, train_set, label_ids, config.batch_size, config.seed, training=True
    )
    dev_data = classification_dataset(
        preprocessor, dev_set, label_ids, config.batch_size, config.seed, training=False
    )

    steps = config.epochs * math.ceil(len(train_set) / config.batch_size)

    def optimizer():
        return training.adamw_with_warmup(
            config.learning_rate, steps, config.warmup_fraction, config.weight_decay
        )

    backbone = distribution.current().adopt(backbone)
    classifier, bert = _fit(
        lambda: BertClassifier(backbone, len(labels), dropout=config.dropout, name="bert"),
        train_data,
        dev_data,
        config.epochs,
        optimizer,
        out_dir / "bert",
        verbose,
    )
    if classifier is not None:  # process 0 writes the outputs
        save_model_atomically(classifier, out_dir / "model.keras")
        log(f"BERT dev accuracy {bert['dev_accuracy']:.4f}")

    def ids_only(x, y):
        return x["token_ids"], y

    baseline_model, baseline = _fit(
        lambda: bag_of_embeddings(preprocessor.vocabulary_size, config.baseline_dim, len(labels)),
        train_data.map(ids_only),
        dev_data.map(ids_only),
        config.epochs,
        lambda: keras.optimizers.Adam(config.baseline_learning_rate),
        out_dir / "baseline",
        verbose,
    )
    if baseline_model is None:
        return None
    save_model_atomically(baseline_model, out_dir / "baseline.keras")
    log(f"bag-of-embeddings dev accuracy {baseline['dev_accuracy']:.4f}")

    metrics = {
        "task": task,
        "train_examples": len(train_set),
        "dev_examples": len(dev_set),
        "classes": labels,
        "pretrained": str(pretrained) if pretrained else None,
        "bert": {**bert, "parameters": classifier.count_params()},
        "bag_of_embeddings": {**baseline, "parameters": baseline_model.count_params()},
        "seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir / "bert")
    training.finish(out_dir / "baseline")
    return metrics

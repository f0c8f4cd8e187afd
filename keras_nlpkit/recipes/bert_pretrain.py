"""BERT pretraining (masked LM + next-sentence prediction together) with `model.fit`.

    nlpkit train bert-pretrain --corpus ../shared/data/text/reuters.txt \
        ../shared/data/text/brown.txt --out runs/bert_pretrain [--size tiny --epochs 5 ...]

Text: each line of prose is split into sentences; a file whose lines mostly hold
several sentences (Reuters: a story a line) has one document a line, any other
file (Brown: a sentence a line) is one document per run of lines between blank
lines, cut every 32 sentences. NSP negatives come from another document of the same
file: drawn from anywhere, a Brown sentence after a Reuters one is told apart by
style alone (on Reuters + Brown, the rule "negative if the two sentences come from
different files" scored 0.893 on pairs drawn that way). A WordPiece vocabulary is
learnt on the first `vocabulary_lines` lines (keras-hub's learner), the pairs of
`next_sentence_pairs` (50% true next sentence, 50% random) are packed
`[CLS] A [SEP] B [SEP]`, and each batch is masked afresh (15% of the tokens; 80%
[MASK], 10% random, 10% kept). `pairs_held_out` pairs, from documents kept out of
training, give the reported accuracies.

DIR receives `recipe.json`, `vocabulary.txt` + `preprocessor.json` (what `BertPreprocessor.load`
reads), `backbone.keras` (the encoder that `bert-finetune --pretrained DIR`
starts from), `model.keras` (backbone + both heads), `logs/`
(TensorBoard), `backup/` (rerun the same command to resume) and `metrics.json`
(held-out MLM and NSP accuracy, sizes, seconds).
"""

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import read_text
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import BertBackbone
from keras_nlpkit.models import BertPreprocessor
from keras_nlpkit.models import BertPretrainer
from keras_nlpkit.models.bert.bert_backbone import BERT_SIZES
from keras_nlpkit.models.bert.bert_preprocessor import SPECIAL_TOKENS
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import add_corpus_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.documents import next_sentence_pairs
from keras_nlpkit.text.documents import read_documents
from keras_nlpkit.tokenizers.word_piece_vocabulary import learn_word_piece_vocabulary

RECIPE = "bert-pretrain"


@dataclasses.dataclass
class BertPretrainConfig(RecipeConfig):
    size: str = "tiny"  # BERT_SIZES: tiny (2 x 128) ... base (12 x 768)
    vocabulary_size: int = 8000  # a small corpus fills few more WordPieces usefully
    vocabulary_lines: int = 30000  # lines the vocabulary is learnt from (time: ~1 min)
    sequence_length: int = 64  # two sentences of Reuters/Brown fit mostly
    batch_size: int = 32
    epochs: int = 5  # 2,500 steps: ~8 min on one shared core
    steps_per_epoch: int = 500  # an "epoch" is a checkpoint interval, not a data pass
    learning_rate: float = 1e-3  # peak; tiny BERT tolerates more than base's 1e-4
    warmup_fraction: float = 0.1  # linear warm-up, then cosine decay to zero
    weight_decay: float = 0.01
    dropout: float = 0.1
    max_pairs: int = 400000  # sentence pairs made from the corpus, at most
    pairs_held_out: int = 2000  # for the reported MLM / NSP accuracy
    seed: int = 1

    ranges = {
        "sequence_length": "[8, inf)",
        "warmup_fraction": "[0, 1)",
        "weight_decay": "[0, inf)",
    }
    choices = {"size": tuple(BERT_SIZES)}


def add_arguments(parser):
    add_corpus_arguments(parser)
    add_config_arguments(parser, BertPretrainConfig)


def run(args):
    config = config_from_arguments(BertPretrainConfig, args)
    training.print_metrics(
        train(args.corpus, args.out, config, verbose=2), indent=2, sort_keys=True
    )


def pretraining_dataset(preprocessor, first, second, is_next, batch_size, seed, training):
    """Batches of (inputs with mask_positions, {"mlm", "nsp"} targets, weights)."""
    generator = preprocessor.mask_generator()
    data = tf.data.Dataset.from_tensor_slices((first, second, is_next))
    if training:
        data = data.shuffle(min(len(first), 100_000), seed=seed).repeat()
    data = data.batch(batch_size, drop_remainder=training)

    def prepare(a, b, label):
        features = preprocessor(a, b)
        inputs, mask_ids, mask_weights = preprocessor.masked_lm_inputs(features, generator)
        targets = {"mlm": mask_ids, "nsp": label}
        weights = {"mlm": mask_weights, "nsp": tf.ones_like(label, tf.float32)}
        return inputs, targets, weights

    data = data.map(prepare, num_parallel_calls=1)
    if not training:
        data = data.cache()  # one fixed masking of the held-out pairs
    return data.prefetch(2)


def compile_pretrainer(model, config, total_steps):
    optimizer = training.adamw_with_warmup(
        config.learning_rate, total_steps, config.warmup_fraction, config.weight_decay
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer,
        loss={"mlm": loss, "nsp": loss},
        weighted_metrics={
            "mlm": [keras.metrics.SparseCategoricalAccuracy("accuracy")],
            "nsp": [keras.metrics.SparseCategoricalAccuracy("accuracy")],
        },
    )


def train(corpus_files, out_dir, config=None, verbose=1, log=print):
    """Learns a vocabulary, pretrains a BERT and writes it to `out_dir`; returns metrics."""
    config = (config or BertPretrainConfig()).check()
    if not corpus_files:
        raise UserInputError("--corpus: no files given. Received: []")
    start = time.perf_counter()
    texts = [read_text(path, "--corpus") for path in corpus_files]
    documents, sources = read_documents(texts)
    if not documents:
        raise UserInputError(
            "--corpus: no document of two or more sentences. "
            f"Received: {list(map(str, corpus_files))}"
        )
    # Held out by document, so no held-out sentence is seen in training; the pairs
    # of each side draw their negatives from their own side.
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(documents))
    cut = (
        int(
            np.searchsorted(
                np.cumsum([len(documents[i]) - 1 for i in order]), config.pairs_held_out
            )
        )
        + 1
    )
    if cut >= len(order):
        raise UserInputError(
            f"--corpus: too little text to hold out --pairs-held-out "
            f"{config.pairs_held_out} sentence pairs and train on the rest. "
            f"Received: {list(map(str, corpus_files))}"
        )

    def pairs(doc_ids, limit):
        first, second, is_next = next_sentence_pairs(
            [documents[i] for i in doc_ids], seed=config.seed, sources=[sources[i] for i in doc_ids]
        )
        keep = rng.permutation(len(first))[:limit]
        return np.asarray(first, object)[keep], np.asarray(second, object)[keep], is_next[keep]

    held = config.pairs_held_out
    held_pairs = pairs(order[:cut], held)
    train_pairs = pairs(order[cut:], config.max_pairs)
    first, second, is_next = (np.concatenate([a, b]) for a, b in zip(held_pairs, train_pairs))
    log(
        f"{len(documents):,} documents, {len(first):,} sentence pairs "
        f"({held:,} held out, from {cut:,} documents), {is_next.mean():.1%} true next sentences"
    )

    out_dir = training.start_run(out_dir, RECIPE, config, inputs=corpus_files)
    if (out_dir / "vocabulary.txt").is_file():  # resuming: the vocabulary the weights know
        preprocessor = BertPreprocessor.load(out_dir)
    else:
        lines = [line for text in texts for line in text.splitlines() if line.strip()]
        lines = [lines[i] for i in np.random.default_rng(config.seed).permutation(len(lines))]
        vocabulary = learn_word_piece_vocabulary(
            lines[: config.vocabulary_lines], config.vocabulary_size, SPECIAL_TOKENS, lowercase=True
        )
        preprocessor = BertPreprocessor(vocabulary, config.sequence_length)
        preprocessor.save(out_dir)
    vocabulary_seconds = time.perf_counter() - start
    log(
        f"WordPiece vocabulary: {preprocessor.vocabulary_size:,} tokens "
        f"({vocabulary_seconds:.0f} s so far)"
    )

    keras.utils.set_random_seed(config.seed)
    train_data = pretraining_dataset(
        preprocessor,
        first[held:],
        second[held:],
        is_next[held:],
        config.batch_size,
        config.seed,
        training=True,
    )
    dev_data = pretraining_dataset(
        preprocessor,
        first[:held],
        second[:held],
        is_next[:held],
        config.batch_size,
        config.seed,
        training=False,
    )
    plan = distribution.current()
    with plan.scope():
        backbone = BertBackbone.from_size(
            config.size,
            preprocessor.vocabulary_size,
            max_sequence_length=config.sequence_length,
            dropout=config.dropout,
        )
        model = BertPretrainer(backbone)
        compile_pretrainer(model, config, config.epochs * config.steps_per_epoch)
        fitted = training.fit(
            model,
            train_data,
            out_dir,
            epochs=config.epochs,
            verbose=verbose,
            learning_rate=config.learning_rate,
            steps_per_epoch=config.steps_per_epoch,
        )
    steps = int(model.optimizer.iterations.numpy())
    model = plan.local(model)
    if model is None:  # process 0 writes the outputs
        return None
    backbone = model.backbone
    scores = model.evaluate(dev_data, return_dict=True, verbose=0)
    save_model_atomically(backbone, out_dir / "backbone.keras")
    save_model_atomically(model, out_dir / "model.keras")
    metrics = {
        "held_out_pairs": held,
        "mlm_accuracy": round(float(scores["mlm_accuracy"]), 4),
        "nsp_accuracy": round(float(scores["nsp_accuracy"]), 4),
        "held_out_loss": round(float(scores["loss"]), 4),
        "train_pairs": len(first) - held,
        "documents": len(documents),
        "vocabulary_size": preprocessor.vocabulary_size,
        "parameters": backbone.count_params(),
        "steps": steps,
        "seconds": {
            "vocabulary": round(vocabulary_seconds, 1),
            "training": round(fitted.seconds, 1),
            "total": round(time.perf_counter() - start, 1),
        },
    }
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics

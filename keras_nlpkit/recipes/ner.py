"""Named-entity tagging: a BiLSTM over word vectors and case, scored by entity F1.

    nlpkit train ner --train ../shared/data/ner/conll2003/eng.train \
        --dev ../shared/data/ner/conll2003/eng.testa --features glove \
        --vectors runs/glove/vectors.txt --out runs/ner_conll [--epochs 5 --batch-size 32
        --hidden 100 --case-dim 16 --dropout 0.5 --learning-rate 0.001]
    nlpkit evaluate ner --model runs/ner_conll --data ../shared/data/ner/conll2003/eng.testa

`--train` and `--dev` are CoNLL-2003 (`word POS chunk NER`, IOB1) or two-column
(`word<TAB>tag`, BIO: WNUT-17) files, read by `keras_nlpkit.text.conll` (tags made
BIO). The tagger is `EntityTagger` over its feature blocks; `--features glove` is
one `WordVectorFeatures` block: the `--vectors` (GloVe text format, e.g. `nlpkit
train glove`'s `vectors.txt`), frozen and looked up lower-cased, beside a trained
embedding of each word's case class. `--features elmo` is one `ELMoFeatures`
block instead: the `nlpkit train elmo` biLM of `--elmo DIR`, frozen, its layers
mixed by a learnt `ScalarMix` over each word's characters (as written, capitals
included); `--features both` concatenates the two blocks. Each epoch
ends with the dev set's entity F1 (`keras_nlpkit.evaluation.ner`, conlleval's
definition, docs/METRICS.md) in the progress line and in `history.json`.

DIR receives `recipe.json`, `vocabulary.txt` + `preprocessor.json` (the words → ids
of `EntityTaggerPreprocessor`), `tags.json` (tag id → BIO tag), `model.keras`,
`logs/` (TensorBoard), `backup/` (rerun the same command to resume after a kill),
`history.json`, `representative.npz` (dev sentences: the export's parity inputs),
`export/` (SavedModel, float32 and dynamic-int8 TFLite, builtin ops only, the same
side files, `report.json` with the parity figures) and `metrics.json` (dev scores
per type, through Keras and through the int8 file one sentence at a time, sizes,
seconds).
"""

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.ner import entity_scores
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.models import ELMoBiLM
from keras_nlpkit.models import ELMoFeatures
from keras_nlpkit.models import EntityTagger
from keras_nlpkit.models import EntityTaggerPreprocessor
from keras_nlpkit.models import WordVectorFeatures
from keras_nlpkit.models import WordVectors
from keras_nlpkit.models.ner.entity_tagger_preprocessor import CASE_CLASSES
from keras_nlpkit.models.ner.entity_tagger_preprocessor import SETTINGS_FILE
from keras_nlpkit.models.ner.entity_tagger_preprocessor import VOCABULARY_FILE
from keras_nlpkit.recipes import tagging
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.recipes.tagging import EXPORT_VARIANTS
from keras_nlpkit.recipes.tagging import ON_DEVICE_VARIANT
from keras_nlpkit.recipes.tagging import TAGS_FILE
from keras_nlpkit.text.conll import OUTSIDE
from keras_nlpkit.text.conll import read_conll

RECIPE = "ner"


@dataclasses.dataclass
class NERConfig(RecipeConfig):
    features: str = "glove"  # glove | elmo | both: the tagger's feature blocks
    hidden: int = 100  # LSTM units each way (Lample et al.'s size)
    case_dim: int = 16  # 7 case classes need few dimensions
    # Dropout on the features and on the BiLSTM's output: the vectors are frozen, so
    # the tagger's ~120k weights see 200k tokens; 0.5 as in Lample et al.
    dropout: float = 0.5
    # CoNLL-2003: 5 passes (3 minutes on 2 cores) reach dev F1 0.74, 15 passes 0.79
    # (docs/RESULTS.md); WNUT-17, a quarter of the sentences, needs about 30.
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3  # Adam, gradients clipped to norm 5
    seed: int = 1

    choices = {"features": ("glove", "elmo", "both")}


def add_arguments(parser):
    parser.add_argument("--train", required=True, help="CoNLL-2003 or word<TAB>tag file")
    parser.add_argument("--dev", required=True, help="the dev file, same format")
    parser.add_argument("--vectors", default=None, help="--features glove|both: vectors.txt")
    parser.add_argument("--elmo", default=None, help="--features elmo|both: a train elmo DIR")
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    add_config_arguments(parser, NERConfig)


def run(args):
    config = config_from_arguments(NERConfig, args)
    training.print_metrics(
        train(args.train, args.dev, args.out, config, vectors=args.vectors, elmo=args.elmo),
        indent=2,
    )


# === Data ===
def predict_tags(model, inputs_of, tags, sentences, batch_size=256):
    """The BIO tags `model` gives each of `sentences` (lists of words).

    `inputs_of(sentences)` gives the model's padded inputs (`feature_inputs`).
    """
    order = np.argsort([len(words) for words in sentences], kind="stable")
    predicted = [None] * len(sentences)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        words = [sentences[i] for i in rows]
        logits = model.predict_on_batch(inputs_of(words))  # (batch, seq, tags)
        best = np.asarray(logits).argmax(-1)
        for row, i in enumerate(rows):
            predicted[i] = [tags[t] for t in best[row, : len(words[row])]]
    return predicted


def _check_features(config, vectors, elmo):
    if config.features in ("glove", "both") and vectors is None:
        raise UserInputError(
            f"--vectors: --features {config.features} needs word vectors in GloVe's text "
            "format (e.g. `nlpkit train glove`'s vectors.txt). Received: no --vectors"
        )
    if config.features in ("elmo", "both") and elmo is None:
        raise UserInputError(
            f"--elmo: --features {config.features} needs a trained ELMo biLM (an `nlpkit "
            "train elmo` folder). Received: no --elmo"
        )


def load_bilm(elmo_dir):
    """The stateless biLM of an `nlpkit train elmo` folder."""
    training.read_run(elmo_dir, "elmo", "--elmo")  # an elmo run, not another recipe's
    path = Path(elmo_dir) / training.MODEL_FILE
    if not path.is_file():
        raise UserInputError(
            f"--elmo: not a finished `nlpkit train elmo` folder (no {training.MODEL_FILE}). "
            f"Received: {elmo_dir}"
        )
    bilm = keras.saving.load_model(path)
    if not isinstance(bilm, ELMoBiLM):
        raise UserInputError(
            f"--elmo: not an ELMo biLM (a `{type(bilm).__name__}`); give an `nlpkit train "
            f"elmo` folder. Received: {elmo_dir}"
        )
    return bilm


def parity_inputs(inputs_of, sentences, path):
    """`representative.npz`: dev sentences of one length (`tagging.save_parity_inputs`)."""
    lengths = [len(words) for words in sentences]
    return tagging.save_parity_inputs(inputs_of(sentences), lengths, path)


# === The features: the one place that knows which blocks `--features` means ===
def feature_inputs(config, word_vectors, bilm):
    """`inputs_of(sentences)` → the padded inputs of every feature block `--features` asks
    for: `EntityTaggerPreprocessor`'s `token_ids` and `case_ids` (`glove`),
    `character_ids` (`elmo`), or all three (`both`)."""
    return EntityTaggerPreprocessor(
        word_vectors.words if word_vectors is not None else None,
        max_characters=bilm.max_characters if bilm is not None else None,
    )


def feature_blocks(config, word_vectors, bilm):
    """The tagger's feature blocks for `--features`: `WordVectorFeatures` (`glove`),
    `ELMoFeatures` (`elmo`), or both."""
    blocks = []
    if word_vectors is not None:
        blocks.append(WordVectorFeatures.from_word_vectors(word_vectors, case_dim=config.case_dim))
    if bilm is not None:
        blocks.append(ELMoFeatures(bilm))
    return blocks


# === The recipe ===
def train(
    train_file,
    dev_file,
    out_dir,
    config=None,
    vectors=None,
    verbose=1,
    log=print,
    export_variants=EXPORT_VARIANTS,
    elmo=None,
):
    """Trains, saves, exports and scores the tagger; returns the metrics dict.

    `export_variants`: the TFLite variants written (the dev set is also tagged through
    `dynamic_int8` when it is one of them).
    """
    config = (config or NERConfig()).check()
    _check_features(config, vectors, elmo)
    start = time.perf_counter()
    train_set = read_conll(train_file, "--train")
    dev_set = read_conll(dev_file, "--dev")
    word_vectors = None
    if config.features in ("glove", "both"):
        word_vectors = WordVectors.load_text(vectors, "--vectors")
    bilm = load_bilm(elmo) if config.features in ("elmo", "both") else None
    tags = [OUTSIDE] + sorted({t for s in train_set for t in s.tags} - {OUTSIDE})
    tag_index = {tag: i for i, tag in enumerate(tags)}
    unseen = sorted({t for s in dev_set for t in s.tags} - set(tags))
    if unseen:
        log(f"The dev set has tags the training set lacks (never predicted): {unseen}")
    preprocessor = feature_inputs(config, word_vectors, bilm)
    log(f"{len(train_set):,} training and {len(dev_set):,} dev sentences, {len(tags)} tags")
    if word_vectors is not None:
        log(
            f"{len(word_vectors):,} vectors of {word_vectors.dim} dims cover "
            f"{preprocessor.coverage([s.words for s in train_set]):.1%} of the training words"
        )

    inputs = [train_file, dev_file]
    inputs += [vectors] if word_vectors is not None else []
    inputs += [Path(elmo) / training.MODEL_FILE] if bilm is not None else []
    out_dir = training.start_run(out_dir, RECIPE, config, inputs=inputs)
    keras.utils.set_random_seed(config.seed)
    preprocessor.save(out_dir)  # what the backup needs beside it
    atomic_write_json(out_dir / TAGS_FILE, tags)

    train_words = [s.words for s in train_set]
    tag_ids = np.zeros((len(train_set), max(map(len, train_words))), np.int32)
    for row, sentence in enumerate(train_set):
        tag_ids[row, : len(sentence.tags)] = [tag_index[t] for t in sentence.tags]
    lengths = np.array([len(words) for words in train_words], np.int32)
    data = tagging.tagged_dataset(
        preprocessor(train_words), tag_ids, lengths, config.batch_size, seed=config.seed
    )

    def predict(model, sentences):
        return predict_tags(model, preprocessor, tags, sentences)

    def build():
        model = EntityTagger(
            feature_blocks(config, word_vectors, bilm), len(tags), config.hidden, config.dropout
        )
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=5.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=False,  # sentence lengths vary by batch: XLA would compile each
        )
        return model

    trained = tagging.train_tagger(build, data, out_dir, config, predict, dev_set, verbose, log)
    if trained is None:  # process 0 writes the outputs
        return None
    model, fitted, dev = trained
    dev_words = [s.words for s in dev_set]
    metrics = {
        "features": config.features,
        "train_sentences": len(train_set),
        "dev_sentences": len(dev_set),
        "tags": tags,
        "vocabulary_size": preprocessor.vocabulary_size,
        "train_word_coverage": round(preprocessor.coverage(train_words), 4),
        "dev_word_coverage": round(preprocessor.coverage(dev_words), 4),
        "parameters": int(model.count_params()),
        "trainable_parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "epochs_run": fitted.epochs,
        "dev_f1_by_epoch": [round(f, 4) for f in fitted.history.get("val_f1", [])],
        "train_seconds": round(fitted.seconds, 1),
        "dev": tagging.rounded(dev),
    }
    representative = parity_inputs(preprocessor, dev_words, out_dir / "representative.npz")
    report = tagging.export_tagger(
        model,
        out_dir,
        export_variants,
        representative,
        {"task": "named entities", "tags": tags, "case_classes": CASE_CLASSES},
        (VOCABULARY_FILE, SETTINGS_FILE, TAGS_FILE),
        log,
        verbose,
    )
    if report is not None:
        metrics["export"] = training.export_figures(report)
        if ON_DEVICE_VARIANT in export_variants:
            on_device = on_device_tags(
                out_dir / "export", ON_DEVICE_VARIANT, preprocessor, tags, dev_words
            )
            scores = entity_scores([s.tags for s in dev_set], on_device)
            metrics[f"dev_{ON_DEVICE_VARIANT}"] = tagging.rounded(
                {key: value for key, value in scores.items() if key != "per_type"}
            )
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    atomic_write_json(out_dir / "metrics.json", metrics)
    training.finish(out_dir)
    return metrics


def on_device_tags(export_dir, variant, inputs_of, tags, sentences):
    """The tags the exported `variant` gives each sentence, one `serving_default` call each
    (batch 1, unpadded), as an app runs it."""
    lengths = [len(words) for words in sentences]
    logits = tagging.on_device_logits(export_dir, variant, inputs_of(sentences), lengths)
    return [[tags[t] for t in row.argmax(-1)] for row in logits]  # row: (words, tags)


# === Evaluation ===
def load(model_dir, argument="--model"):
    """`(model, inputs_of, tags)` of a `train ner` folder (`predict_tags`' arguments)."""
    model_dir = Path(model_dir)
    training.read_run(model_dir, RECIPE, argument)
    path = model_dir / training.MODEL_FILE
    if not path.is_file():
        raise UserInputError(
            f"{argument}: the run has not finished (no {training.MODEL_FILE}); rerun its "
            f"`nlpkit train ner` command. Received: {model_dir}"
        )
    tags = tagging.read_tags(model_dir, argument)
    inputs_of = EntityTaggerPreprocessor.load(model_dir, argument)
    return keras.saving.load_model(path), inputs_of, tags


def evaluate(model_dir, data_file, argument="--data"):
    """METRICS.md's entity scores of a `train ner` model on a tagged file, as a dict."""
    model, inputs_of, tags = load(model_dir)
    sentences = read_conll(data_file, argument)
    predicted = predict_tags(model, inputs_of, tags, [s.words for s in sentences])
    return tagging.file_scores(sentences, predicted)

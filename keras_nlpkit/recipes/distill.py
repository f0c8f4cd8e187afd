"""Distillation of a fine-tuned BERT classifier into a small LSTM student for the phone.

    nlpkit train distill --teacher runs/bert_sst2 --task sst2 --out runs/distill_sst2 \
        --vectors runs/glove/vectors.txt [--data DIR --temperature 2 --alpha 0.5 --augment 2 ...]
    nlpkit train distill --teacher runs/bert_trec --task trec_qc --out runs/distill_trec \
        --vectors runs/glove/vectors.txt

The teacher is a `nlpkit train bert-finetune` folder (`model.keras`, its preprocessor,
`labels.json`); its task is read from the files it was trained on (`recipe.json`'s
inputs: `train.tsv` is SST-2, `train.txt` TREC), and a teacher of another task than
`--task` is refused by name. `--data` defaults to the teacher's own data folder; TREC's
dev split is the teacher's (its `--dev-fraction`), so the teacher never saw a dev
question.

In one run, on the same words and from the same seed, two students with the same
architecture (`LSTMClassifier`: embedding → LSTM, or BiLSTM → Dense) are trained:

- `labels_only/`: cross-entropy on the training labels;
- `distilled/`: `DistillationLoss` (Hinton et al., 2015: α · CE on the labels +
  (1 − α) · T² · KL to the teacher's softened logits) on the training sentences and
  on `--augment` augmented copies of each (Tang et al., 2019: masking, n-gram
  sampling; `keras_nlpkit.text.augmentation`), which have no label and are learnt
  from the teacher alone.

The student's vocabulary is the `--vocabulary-size` most frequent training words
(`tokenizer.json`, `keras_nlpkit.ondevice.WordTokenizer`: an app tokenizes as
training did); its embedding starts from `--vectors` (GloVe text format), projected
onto their `--embedding-dim` principal axes. Both the size budget and the latency
are the teacher's / 10, in parameters and in int8 bytes: the table is most of a
student, so its rows and width are the levers.

The teacher's logits on every training, augmented and dev sentence are computed once
(batched, sentences of one length together) and kept in `teacher_logits.npz`; a
rerun resumes from them, and from each student's backup.

Each student is exported to builtin-only TFLite, int8 and dynamic-range int8
(`<student>/export/`: the LSTM is a WHILE loop, which every LiteRT client runs); the
teacher too, into `teacher_export/`, unless its folder holds both. The table has a
row per file (`distilled`: int8, `distilled_dynamic_int8`, ...), each compared with
the teacher's file of the same variant; the latency target compares the fastest
portable file of each. With `--fused-export yes`
each student is also exported with TFLite's fused LSTM kernel (`export_fused/`,
dynamic-range int8), a row of its own: one op for the whole recurrence, which only
the classic Interpreter runs (on SST-2 no faster than the portable loop, whose body
is 20 small ops a step). Dev accuracy is measured
with Keras and through each file in LiteRT (one sentence a call, unpadded, as an app
runs it), and the on-device milliseconds per dev sentence (the interpreter call
alone, tokenization excluded, the best of `--latency-rounds` passes, one thread).
OUT receives `recipe.json`, `tokenizer.json`, `augmented.txt`, `teacher_logits.npz`,
`representative.txt`, `labels_only/` and `distilled/` (each `model.keras`, `export/`,
`export_fused/`, TensorBoard `logs/`, `history.json`), `teacher_export/` and
`metrics.json` (the table); the table is printed.
"""

import collections
import dataclasses
import io
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.export import export
from keras_nlpkit.files import atomic_write_bytes
from keras_nlpkit.files import atomic_write_json
from keras_nlpkit.files import atomic_write_text
from keras_nlpkit.files import read_lines
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.models import BertPreprocessor
from keras_nlpkit.models import DistillationAccuracy
from keras_nlpkit.models import DistillationLoss
from keras_nlpkit.models import LSTMClassifier
from keras_nlpkit.models import WordVectors
from keras_nlpkit.models.distillation.distillation_loss import UNLABELLED
from keras_nlpkit.ondevice.model_folder import read_json
from keras_nlpkit.ondevice.model_folder import read_manifest
from keras_nlpkit.ondevice.model_folder import variant_file
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training
from keras_nlpkit.recipes.arguments import RecipeConfig
from keras_nlpkit.recipes.arguments import add_config_arguments
from keras_nlpkit.recipes.arguments import config_from_arguments
from keras_nlpkit.text.augmentation import MASK
from keras_nlpkit.text.augmentation import augment_sentences
from keras_nlpkit.text.classification import TASKS
from keras_nlpkit.text.classification import data_files
from keras_nlpkit.text.classification import read_sst2
from keras_nlpkit.text.classification import read_trec

RECIPE = "distill"
TEACHER_RECIPE = "bert-finetune"
STUDENTS = ("labels_only", "distilled")
# Sentences are batched with others of about their length (SST-2: 1 to 52 words).
LENGTH_BOUNDARIES = (8, 16, 24, 32, 48)
MAX_WORDS = 128  # longer sentences are cut (none in SST-2 or TREC)
FUSED_VARIANT = "dynamic_int8"
# The files every LiteRT client runs, each model in both: full int8 is the smaller,
# dynamic-range int8 (float activations) the faster for the LSTM's WHILE loop (no
# quantize ops a step) and for the BERT; the latency target compares the fastest.
PORTABLE_VARIANTS = ("int8", "dynamic_int8")
REPRESENTATIVE_SENTENCES = 200  # int8 calibration (every 5th held back for parity)
AUGMENTATION_SETTINGS = ("augment", "p_mask", "p_ngram", "max_ngram", "seed")


@dataclasses.dataclass
class DistillConfig(RecipeConfig):
    # The student: ≤ 1/10 of the tiny teacher's 1.44M parameters, most of it the table.
    vocabulary_size: int = 2500  # most frequent training words: 82% of SST-2 dev's words
    embedding_dim: int = 32  # GloVe's 100 dims projected onto their top principal axes
    # Forward only: as accurate here as Tang et al.'s BiLSTM of the same size (SST-2 dev,
    # within noise), and half the recurrence, which is what the latency on a phone is.
    encoder: str = "lstm"  # or "bilstm"
    hidden_dim: int = 64  # LSTM units (per direction)
    embedding: str = "trainable"  # or "frozen": the projected vectors as they are
    dropout: float = 0.2
    # Distillation: Hinton et al.'s loss; α weighs the hard labels (1: labels only).
    temperature: float = 2.0
    alpha: float = 0.5
    # Augmentation (Tang et al.: 20 copies; here what 2 shared cores label in minutes).
    augment: int = 2  # tries per training sentence (duplicates dropped); 0: none
    p_mask: float = 0.1
    p_ngram: float = 0.25
    max_ngram: int = 5
    # Training.
    epochs: int = 2  # SST-2 dev peaks at epoch 2 and falls after: the student overfits
    batch_size: int = 64
    learning_rate: float = 2e-3
    teacher_batch_size: int = 256  # sentences per teacher call, for its logits
    latency_rounds: int = 3  # passes over dev per model; the fastest counts
    # Also export each student with TFLite's fused LSTM kernel (dynamic-range int8: its
    # full-int8 form is slower here), for comparison: the classic Interpreter only.
    fused_export: str = "yes"
    seed: int = 1

    ranges = {
        "alpha": "[0, 1]",
        "p_mask": "[0, 1)",
        "p_ngram": "[0, 1]",
        "augment": "[0, inf)",
    }
    choices = {
        "encoder": ("bilstm", "lstm"),
        "embedding": ("trainable", "frozen"),
        "fused_export": ("yes", "no"),
    }
    resumable = ("epochs", "latency_rounds", "teacher_batch_size", "fused_export")


def add_arguments(parser):
    parser.add_argument(
        "--teacher", required=True, help="a `train bert-finetune` folder (sst2 or trec_qc)"
    )
    parser.add_argument("--task", choices=TASKS, required=True)
    parser.add_argument("--out", required=True, help="output folder (rerun to resume)")
    parser.add_argument(
        "--data", default=None, help="the task's data (default: the teacher's own data)"
    )
    parser.add_argument(
        "--vectors",
        default=None,
        help="word vectors in GloVe's text format for the student's table (default: random)",
    )
    add_config_arguments(parser, DistillConfig)


def run(args):
    config = config_from_arguments(DistillConfig, args)
    verbose = 1 if sys.stdout.isatty() else 2
    metrics = train(
        args.task,
        args.teacher,
        args.out,
        config,
        data=args.data,
        vectors=args.vectors,
        verbose=verbose,
    )
    if metrics is not None:
        print(format_table(metrics))


# === The teacher ===
def teacher_task(teacher_dir, run):
    """The task a `bert-finetune` folder was trained on, from the files it read."""
    if (Path(teacher_dir) / "tags.json").is_file():
        return "ner"
    names = {Path(path).name for path in run.get("inputs", {})}
    if "train.tsv" in names:
        return "sst2"
    if "train.txt" in names:
        return "trec_qc"
    return None


def check_teacher(teacher_dir, task):
    """(the teacher's `recipe.json`, its data folder) after checking it fits `task`."""
    run = training.read_run(teacher_dir, TEACHER_RECIPE, "--teacher")
    found = teacher_task(teacher_dir, run)
    if found != task:
        what = f"--task {found}" if found else "a task this recipe cannot tell"
        raise UserInputError(
            f"--teacher: the teacher was fine-tuned for {what}, not for --task {task}; "
            f"distil a {task} teacher (`nlpkit train bert-finetune --task {task}`). "
            f"Received: --teacher {teacher_dir} --task {task}"
        )
    for name in (training.MODEL_FILE, "labels.json", "preprocessor.json"):
        if not (Path(teacher_dir) / name).is_file():
            raise UserInputError(
                f"--teacher: no {name}: its `bert-finetune` run has not finished. "
                f"Received: {teacher_dir}"
            )
    train_file = next(Path(p) for p in run["inputs"] if Path(p).name.startswith("train."))
    return run, (train_file.parent if task == "sst2" else train_file)


def teacher_inputs(preprocessor, sentences, mask_pieces):
    """BERT's inputs of each sentence as id lists `[CLS] ... [SEP]`, `[MASK]` as one id.

    The WordPiece tokenizer splits the text `[MASK]` into pieces (`[`, `mask`, `]`);
    they are put back together as the teacher's `[MASK]` id.
    """
    rows = []
    limit = preprocessor.sequence_length - 2
    for start in range(0, len(sentences), 4096):
        for ids in word_pieces(preprocessor, sentences[start : start + 4096]):
            ids = _join_mask(ids, mask_pieces, preprocessor.mask_id)
            rows.append([preprocessor.cls_id, *ids[:limit], preprocessor.sep_id])
    return rows


def word_pieces(preprocessor, sentences):
    """The WordPiece ids of each sentence, as Python lists."""
    pieces = preprocessor.tokenize(tf.constant(sentences))
    return pieces.to_list() if hasattr(pieces, "to_list") else [list(p) for p in pieces]


def _join_mask(ids, pieces, mask_id):
    if mask_id in ids or pieces[0] not in ids:
        return ids
    out, i, n = [], 0, len(pieces)
    while i < len(ids):
        if ids[i : i + n] == pieces:
            out.append(mask_id)
            i += n
        else:
            out.append(ids[i])
            i += 1
    return out


def teacher_logits(model, rows, batch_size, verbose):
    """The teacher's logits of each id list, batched by length (no padding wasted)."""
    order = np.argsort([len(r) for r in rows], kind="stable")
    logits = np.zeros((len(rows), model.output_shape[-1]), np.float32)
    progress = None
    if verbose:  # a bar on a terminal, one line at the end in a log
        progress = keras.utils.Progbar(len(rows), verbose=verbose, unit_name="sentence")
    for start in range(0, len(rows), batch_size):
        batch = order[start : start + batch_size]
        length = max(len(rows[i]) for i in batch)
        ids = np.zeros((len(batch), length), np.int32)
        for row, i in enumerate(batch):
            ids[row, : len(rows[i])] = rows[i]
        inputs = {
            "token_ids": ids,
            "segment_ids": np.zeros_like(ids),
            "padding_mask": (ids != 0).astype(np.int32),
        }
        logits[batch] = keras.ops.convert_to_numpy(model(inputs, training=False))
        if progress is not None:
            progress.add(len(batch))
    return logits


# === The student ===
def student_vocabulary(sentences, size):
    """WordTokenizer's specials, then the `size` most frequent words (first seen first)."""
    counts = collections.Counter(w for s in sentences for w in WordTokenizer.split(s))
    counts.pop(MASK.lower(), None)
    words = [w for w, _ in counts.most_common(size) if w not in WordTokenizer.special_tokens]
    return list(WordTokenizer.special_tokens) + words


def embedding_table(vocabulary, vectors, dim, seed):
    """`(len(vocabulary), dim)`: each word's vector projected onto the top `dim`
    principal axes of `vectors`, rows scaled to a mean norm of 1; words without a
    vector get random rows of that scale, `<unk>` zeros. Without `vectors`, random."""
    rng = np.random.default_rng(seed)
    table = rng.normal(0.0, 1.0 / np.sqrt(dim), (len(vocabulary), dim)).astype(np.float32)
    found = 0
    if vectors is not None:
        if dim > vectors.dim:
            raise UserInputError(
                f"--embedding-dim must be at most the vectors' {vectors.dim} dims. Received: {dim}"
            )
        matrix = vectors.matrix - vectors.matrix.mean(axis=0)
        _, _, axes = np.linalg.svd(matrix[:50000], full_matrices=False)  # (dim, dim) rows
        projected = matrix @ axes[:dim].T  # (words, dim)
        rows = [(row, vectors.index[w]) for row, w in enumerate(vocabulary) if w in vectors.index]
        found = len(rows)
        if rows:
            picked = projected[[v for _, v in rows]]
            picked /= np.linalg.norm(picked, axis=1).mean()
            table[[r for r, _ in rows]] = picked
    table[WordTokenizer.unknown_id] = 0.0
    return table, found


def student_arrays(tokenizer, sentences):
    """`(ids (rows, longest), lengths)`: each sentence's word ids (at least one word)."""
    encoded = [tokenizer.encode(s)[:MAX_WORDS] or [tokenizer.unknown_id] for s in sentences]
    lengths = np.asarray([len(ids) for ids in encoded], np.int32)
    ids = np.zeros((len(encoded), int(lengths.max())), np.int32)
    for row, words in enumerate(encoded):
        ids[row, : len(words)] = words
    return ids, lengths


def student_dataset(ids, lengths, targets, batch_size, seed=None):
    """Batches `({"token_ids", "padding_mask"}, targets)` of sentences of about one length."""
    mask = (np.arange(ids.shape[1]) < lengths[:, None]).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((ids, mask, targets, lengths))
    if seed is not None:
        data = data.shuffle(len(lengths), seed=seed, reshuffle_each_iteration=True)

    def cut(x, m, y, n):
        return {"token_ids": x[:n], "padding_mask": m[:n]}, y

    data = data.map(cut).bucket_by_sequence_length(
        lambda x, y: tf.shape(x["token_ids"])[0],
        list(LENGTH_BOUNDARIES),
        [batch_size] * (len(LENGTH_BOUNDARIES) + 1),
    )
    return data.prefetch(2)


def train_student(name, build, loss, metric, train_data, dev_data, config, out_dir, verbose):
    """`(model, Fit)` of one student; a finished one (model saved, no backup) is loaded."""
    folder = out_dir / name
    model_file = folder / training.MODEL_FILE
    history_file = folder / training.HISTORY_FILE
    if model_file.is_file() and history_file.is_file() and not (folder / training.BACKUP).exists():
        model = keras.saving.load_model(model_file, compile=False)
        return model, training.Fit(**read_json(history_file, "--out"))
    plan = distribution.current()
    with plan.scope():
        keras.utils.set_random_seed(config.seed)  # both students start from the same weights
        model = build()
        model.compile(keras.optimizers.Adam(config.learning_rate), loss, metrics=[metric])
        fitted = training.fit(
            model,
            train_data,
            folder,
            epochs=config.epochs,
            verbose=verbose,
            validation_data=dev_data,
            learning_rate=config.learning_rate,
        )
    model = plan.local(model)
    if model is not None:
        save_model_atomically(model, model_file)
    return model, fitted


def keras_predictions(model, ids, lengths, batch_size=256):
    """Class ids of padded sentences, through the Keras model."""
    mask = (np.arange(ids.shape[1]) < lengths[:, None]).astype(np.int32)
    logits = model.predict({"token_ids": ids, "padding_mask": mask}, batch_size, verbose=0)
    return np.argmax(logits, axis=-1)


# === On the device ===
def student_sample(tokenizer, sentence):
    return {"token_ids": np.asarray([tokenizer.encode(sentence)[:MAX_WORDS] or [0]], np.int32)}


def row_name(model, variant):
    """The table's row of a model's file: the model's name for int8, else suffixed."""
    return model if variant == "int8" else f"{model}_{variant}"


def teacher_sample(row):
    ids = np.asarray([row], np.int32)
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}


def on_device(models, samples, rounds):
    """{name: (predicted classes, ms per sentence)}: each model's int8 file in LiteRT, one
    sentence a call; the passes alternate between models and the fastest one counts."""
    best = {name: float("inf") for name in models}
    predictions = {}
    for _ in range(rounds):
        for name, model in models.items():
            model.serve(**samples[name][0])  # the first call allocates the tensors
            start = time.perf_counter()
            logits = [model.serve(**sample)["logits"][0] for sample in samples[name]]
            best[name] = min(best[name], time.perf_counter() - start)
            predictions[name] = np.argmax(np.stack(logits), axis=-1)
    return {name: (predictions[name], 1e3 * best[name] / len(samples[name])) for name in models}


def teacher_export(teacher_dir, out_dir, teacher, preprocessor, rows, log):
    """The teacher's export folder with `PORTABLE_VARIANTS`: its own, else one written
    into OUT."""
    for folder in (Path(teacher_dir) / "export", out_dir / "teacher_export"):
        if (folder / "manifest.json").is_file():
            variants = read_manifest(folder, "--teacher").get("variants", {})
            if all(variant in variants for variant in PORTABLE_VARIANTS):
                return folder
    length = max(len(r) for r in rows)
    ids = np.zeros((len(rows), length), np.int32)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    representative = out_dir / "teacher_representative.npz"
    np.savez(
        representative,
        token_ids=ids,
        segment_ids=np.zeros_like(ids),
        padding_mask=(ids != preprocessor.pad_id).astype(np.int32),
    )
    folder = out_dir / "teacher_export"
    export(
        teacher,
        folder,
        quantize=list(PORTABLE_VARIANTS),
        representative_data=representative,
        log=log,
    )
    return folder


def cache_key(teacher_dir, config):
    """What the cached augmented sentences and teacher logits were made from."""
    settings = {name: getattr(config, name) for name in AUGMENTATION_SETTINGS}
    settings["teacher"] = training.file_digest(Path(teacher_dir) / training.MODEL_FILE)
    return json.dumps(settings, sort_keys=True)


def augmented_and_teacher_logits(
    teacher_dir, teacher, preprocessor, sentences, dev_sentences, out_dir, config, verbose, log
):
    """(augmented sentences, {"train", "augmented", "dev": the teacher's logits}).

    Kept in OUT (`augmented.txt`, `teacher_logits.npz` with the settings they were made
    from) and read back on a rerun with the same teacher and augmentation settings.
    """
    augmented_file = out_dir / "augmented.txt"
    cache = out_dir / "teacher_logits.npz"
    key = cache_key(teacher_dir, config)
    if cache.is_file() and augmented_file.is_file():
        cached = np.load(cache)
        augmented = read_lines(augmented_file, "--out") if augmented_file.stat().st_size else []
        # (A cache from another version, or other settings, is made again.)
        current = "key" in cached.files and str(cached["key"]) == key
        if current and len(cached["augmented"]) == len(augmented):
            log(f"{len(augmented):,} augmented sentences and the teacher's logits, from {cache}")
            return augmented, {name: cached[name] for name in ("train", "augmented", "dev")}
    augmented = []
    if config.augment:
        augmented = augment_sentences(
            sentences, config.augment, config.p_mask, config.p_ngram, config.max_ngram, config.seed
        )
    atomic_write_text(augmented_file, "".join(s + "\n" for s in augmented))
    log(f"{len(augmented):,} augmented sentences ({config.augment} tries each, duplicates dropped)")
    log("The teacher's logits on the training, augmented and dev sentences")
    start = time.perf_counter()
    mask_pieces = word_pieces(preprocessor, [MASK])[0]
    rows = teacher_inputs(preprocessor, sentences + augmented + dev_sentences, mask_pieces)
    logits = teacher_logits(teacher, rows, config.teacher_batch_size, verbose)
    n, m = len(sentences), len(augmented)
    soft = {"train": logits[:n], "augmented": logits[n : n + m], "dev": logits[n + m :]}
    buffer = io.BytesIO()
    np.savez(buffer, key=np.asarray(key), **soft)
    atomic_write_bytes(cache, buffer.getvalue())
    log(f"  {len(rows):,} sentences in {time.perf_counter() - start:.0f} s")
    return augmented, soft


# === The run ===
def read_task(task, data, teacher_run):
    if task == "sst2":
        return read_sst2(data)
    return read_trec(data, teacher_run["config"].get("dev_fraction", 0.1))


def train(task, teacher_dir, out_dir, config=None, data=None, vectors=None, verbose=2, log=print):
    """Distils the teacher into a student (and trains a labels-only one); the metrics dict."""
    if task not in TASKS:
        raise UserInputError(f"--task must be one of {list(TASKS)}. Received: {task!r}")
    config = (config or DistillConfig()).check()
    start = time.perf_counter()
    teacher_run, teacher_data = check_teacher(teacher_dir, task)
    data = data if data is not None else teacher_data
    train_set, dev_set = read_task(task, data, teacher_run)
    labels = json.loads((Path(teacher_dir) / "labels.json").read_text(encoding="utf-8"))
    label_ids = {label: i for i, label in enumerate(labels)}
    unknown = sorted({y for _, y in train_set + dev_set} - set(label_ids))
    if not train_set or not dev_set or unknown:
        raise UserInputError(
            f"--data: {len(train_set)} training and {len(dev_set)} dev examples, labels the "
            f"teacher lacks: {unknown}; the teacher's labels are {labels}. Received: {data}"
        )
    word_vectors = WordVectors.load_text(vectors, "--vectors") if vectors else None
    inputs = [*data_files(task, data), Path(teacher_dir) / training.MODEL_FILE]
    out_dir = training.start_run(
        out_dir, RECIPE, config, inputs=inputs + ([vectors] if vectors else [])
    )
    sentences = [s for s, _ in train_set]
    dev_sentences = [s for s, _ in dev_set]
    y_train = np.asarray([label_ids[y] for _, y in train_set], np.int32)
    y_dev = np.asarray([label_ids[y] for _, y in dev_set], np.int32)
    log(f"{task}: {len(train_set):,} training and {len(dev_set):,} dev sentences")

    # Augmented sentences and the teacher's logits, computed once.
    teacher = keras.saving.load_model(Path(teacher_dir) / training.MODEL_FILE)
    preprocessor = BertPreprocessor.load(teacher_dir)
    mask_pieces = word_pieces(preprocessor, [MASK])[0]
    augmented, soft = augmented_and_teacher_logits(
        teacher_dir, teacher, preprocessor, sentences, dev_sentences, out_dir, config, verbose, log
    )
    teacher_train_accuracy = float(np.mean(np.argmax(soft["train"], -1) == y_train))
    teacher_dev_accuracy = float(np.mean(np.argmax(soft["dev"], -1) == y_dev))

    # The student's words and table.
    tokenizer = WordTokenizer(student_vocabulary(sentences, config.vocabulary_size))
    atomic_write_json(out_dir / "tokenizer.json", tokenizer.get_config())
    table, with_vectors = embedding_table(
        tokenizer.vocabulary, word_vectors, config.embedding_dim, config.seed
    )
    dev_words = [w for s in dev_sentences for w in WordTokenizer.split(s)]
    coverage = float(np.mean([tokenizer.token_id(w) != 0 for w in dev_words]))
    log(
        f"Student: {len(tokenizer.vocabulary):,} words ({coverage:.1%} of dev's words), "
        f"{with_vectors:,} from --vectors, {config.embedding_dim} dims; {config.encoder} of "
        f"{config.hidden_dim} units"
    )

    def build():
        model = LSTMClassifier(
            len(tokenizer.vocabulary),
            config.embedding_dim,
            config.hidden_dim,
            len(labels),
            bidirectional=config.encoder == "bilstm",
            dropout=config.dropout,
            trainable_embedding=config.embedding == "trainable",
            name="student",
        )
        model.token_embedding.embeddings.assign(table)
        return model

    ids, lengths = student_arrays(tokenizer, sentences)
    dev_ids, dev_lengths = student_arrays(tokenizer, dev_sentences)
    students = {}
    students["labels_only"] = train_student(
        "labels_only",
        build,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        keras.metrics.SparseCategoricalAccuracy("accuracy"),
        student_dataset(ids, lengths, y_train, config.batch_size, config.seed),
        student_dataset(dev_ids, dev_lengths, y_dev, config.batch_size),
        config,
        out_dir,
        verbose,
    )
    log(f"labels-only student: {students['labels_only'][1].seconds:.0f} s")

    # Distilled: the training sentences with their labels, the augmented ones without.
    aug_ids, aug_lengths = student_arrays(tokenizer, augmented) if augmented else (None, None)
    targets = np.concatenate([y_train[:, None], soft["train"]], axis=1).astype(np.float32)
    if augmented:
        unlabelled = np.full((len(augmented), 1), UNLABELLED, np.float32)
        width = max(ids.shape[1], aug_ids.shape[1])
        ids = np.concatenate(
            [
                np.pad(ids, ((0, 0), (0, width - ids.shape[1]))),
                np.pad(aug_ids, ((0, 0), (0, width - aug_ids.shape[1]))),
            ]
        )
        lengths = np.concatenate([lengths, aug_lengths])
        targets = np.concatenate([targets, np.concatenate([unlabelled, soft["augmented"]], 1)])
    dev_targets = np.concatenate([y_dev[:, None], soft["dev"]], axis=1).astype(np.float32)
    students["distilled"] = train_student(
        "distilled",
        build,
        DistillationLoss(config.temperature, config.alpha),
        DistillationAccuracy(),
        student_dataset(ids, lengths, targets, config.batch_size, config.seed),
        student_dataset(dev_ids, dev_lengths, dev_targets, config.batch_size),
        config,
        out_dir,
        verbose,
    )
    log(f"distilled student: {students['distilled'][1].seconds:.0f} s")
    if any(model is None for model, _ in students.values()):
        return None  # a process other than 0 of a distributed run

    # Export: the students and (unless it has one) the teacher, `PORTABLE_VARIANTS`.
    quiet = log if verbose else (lambda *_: None)
    representative = out_dir / "representative.txt"
    picks = np.random.default_rng(config.seed).choice(
        len(sentences), min(REPRESENTATIVE_SENTENCES, len(sentences)), replace=False
    )
    atomic_write_text(representative, "".join(sentences[i] + "\n" for i in picks))
    files = {}  # row → (model, export folder, variant)
    for name, (model, _) in students.items():
        export(
            model,
            out_dir / name / "export",
            quantize=list(PORTABLE_VARIANTS),
            representative_data=representative,
            tokenizer=tokenizer,
            log=quiet,
        )
        for variant in PORTABLE_VARIANTS:
            files[row_name(name, variant)] = (name, out_dir / name / "export", variant)
        if config.fused_export == "yes":
            export(
                model,
                out_dir / name / "export_fused",
                quantize=[FUSED_VARIANT],
                representative_data=representative,  # real sentences for the parity check
                tokenizer=tokenizer,
                fused_lstm=True,
                log=quiet,
            )
            files[f"{name}_fused"] = (name, out_dir / name / "export_fused", FUSED_VARIANT)
    teacher_rows = teacher_inputs(preprocessor, [sentences[i] for i in picks], mask_pieces)
    folder = teacher_export(teacher_dir, out_dir, teacher, preprocessor, teacher_rows, quiet)
    files = {
        **{row_name("teacher", v): ("teacher", folder, v) for v in PORTABLE_VARIANTS},
        **files,
    }

    # Dev accuracy (Keras, and each file in LiteRT) and on-device latency.
    log("Dev accuracy through the TFLite files, and ms per sentence on the device")
    teacher_samples = [
        teacher_sample(r) for r in teacher_inputs(preprocessor, dev_sentences, mask_pieces)
    ]
    student_samples = [student_sample(tokenizer, s) for s in dev_sentences]
    samples = {
        row: teacher_samples if model == "teacher" else student_samples
        for row, (model, _, _) in files.items()
    }
    devices = {
        row: OnDeviceModel(folder, variant=variant, argument="--out")
        for row, (_, folder, variant) in files.items()
    }
    measured = on_device(devices, samples, config.latency_rounds)
    keras_accuracy = {"teacher": teacher_dev_accuracy}
    parameters = {"teacher": teacher.count_params()}
    for name, (model, _) in students.items():
        predicted = keras_predictions(model, dev_ids, dev_lengths)
        keras_accuracy[name] = float(np.mean(predicted == y_dev))
        parameters[name] = model.count_params()
    table_rows = {}
    for row, (model, folder, variant) in files.items():
        predicted, ms = measured[row]
        table_rows[row] = {
            "dev_accuracy": round(keras_accuracy[model], 4),
            "dev_accuracy_on_device": round(float(np.mean(predicted == y_dev)), 4),
            "variant": variant + (" (fused LSTM)" if row.endswith("_fused") else ""),
            "parameters": int(parameters[model]),
            "tflite_bytes": (folder / variant_file(variant)).stat().st_size,
            "ms_per_sentence": round(ms, 4),
            **(
                {"training_seconds": round(students[model][1].seconds, 1)}
                if model in students
                else {}
            ),
        }

    def fastest(model):  # ms per sentence of the model's fastest portable file
        return min(table_rows[row_name(model, v)]["ms_per_sentence"] for v in PORTABLE_VARIANTS)

    teacher_row, distilled = table_rows["teacher"], table_rows["distilled"]
    metrics = {
        "task": task,
        "teacher": str(teacher_dir),
        "train_examples": len(train_set),
        "dev_examples": len(dev_set),
        "augmented_sentences": len(augmented),
        "classes": labels,
        "teacher_train_accuracy": round(teacher_train_accuracy, 4),
        "student": {
            "architecture": f"{config.encoder} over a {config.embedding} table",
            "vocabulary": len(tokenizer.vocabulary),
            "dev_word_coverage": round(coverage, 4),
            "words_with_vectors": with_vectors,
            "vectors": str(vectors) if vectors else None,
            "embedding_dim": config.embedding_dim,
            "hidden_dim": config.hidden_dim,
            "temperature": config.temperature,
            "alpha": config.alpha,
            "epochs": students["distilled"][1].epochs,
        },
        "table": table_rows,
        # Each file against the teacher's of the same variant (fused: dynamic-range int8).
        "ratios_to_teacher": {
            row: {
                key: round(table_rows[row][key] / table_rows[row_name("teacher", variant)][key], 4)
                for key in ("parameters", "tflite_bytes", "ms_per_sentence")
            }
            for row, (model, _, variant) in files.items()
            if model != "teacher"
        },
        "target": {
            "distilled_beats_labels_only": distilled["dev_accuracy"]
            > table_rows["labels_only"]["dev_accuracy"],
            "within_1.5_points_of_teacher": teacher_row["dev_accuracy"] - distilled["dev_accuracy"]
            <= 0.015,
            "a_tenth_of_parameters": distilled["parameters"] * 10 <= teacher_row["parameters"],
            "a_tenth_of_int8_bytes": distilled["tflite_bytes"] * 10 <= teacher_row["tflite_bytes"],
            # The fastest portable file of each.
            "a_tenth_of_latency": fastest("distilled") * 10 <= fastest("teacher"),
        },
        "latency": "LiteRT's classic interpreter, 1 thread, one unpadded dev sentence a call, "
        f"tokenization excluded; the fastest of {config.latency_rounds} passes",
        "seconds": round(time.perf_counter() - start, 1),
    }
    if "distilled_fused" in table_rows:
        fused = table_rows["distilled_fused"]
        metrics["target"]["a_tenth_of_latency_fused"] = fused["ms_per_sentence"] * 10 <= fastest(
            "teacher"
        )
    atomic_write_json(out_dir / "metrics.json", metrics)
    for name in STUDENTS:
        training.finish(out_dir / name)
    return metrics


def format_table(metrics):
    """The metrics' table as aligned text."""
    columns = (
        ("dev_accuracy", "dev acc", "{:.4f}"),
        ("dev_accuracy_on_device", "device acc", "{:.4f}"),
        ("parameters", "params", "{:,}"),
        ("tflite_bytes", "bytes", "{:,}"),
        ("ms_per_sentence", "ms/sent", "{:.3f}"),
        ("variant", "variant", "{}"),
    )
    lines = [f"{'model':<26}" + "".join(f"{title:>13}" for _, title, _ in columns)]
    for name, row in metrics["table"].items():
        cells = "".join(f"{form.format(row[key]):>13}" for key, _, form in columns[:-1])
        lines.append(f"{name:<26}{cells}   {row['variant']}")
    lines.append(json.dumps(metrics["target"]))
    return "\n".join(lines)

"""What the named-entity recipes share: batches, the dev F1 callback, the scores, the device.

`nlpkit train ner` (a BiLSTM over words) and `nlpkit train bert-finetune --task ner`
(BERT over WordPieces) tag the same files, are scored by the same
`keras_nlpkit.evaluation.ner.entity_scores` (conlleval's definition), write the
same `tags.json` and the same `metrics.json` figures, and check their TFLite export
the same way: the dev set tagged through each exported file, one row at a time
at batch 1 and unpadded, as an app runs it. A row is what the model reads: a
sentence for the BiLSTM, a window of WordPieces for BERT.
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.evaluation.ner import entity_scores
from keras_nlpkit.export import export
from keras_nlpkit.files import save_model_atomically
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.recipes import distribution
from keras_nlpkit.recipes import training

TAGS_FILE = "tags.json"
EXPORT_VARIANTS = ("float32", "dynamic_int8")
ON_DEVICE_VARIANT = "dynamic_int8"
# Rows are batched with others of about their length, so that a batch holds little
# padding (CoNLL-2003: 1 to 124 words, most under 30; BERT's windows: up to 64 pieces).
LENGTH_BOUNDARIES = (8, 16, 24, 32, 48, 64)
PARITY_ROWS = 200  # rows in representative.npz (the export keeps every 5th for parity)


def tagged_dataset(inputs, tag_ids, lengths, batch_size, seed=None, weights=None):
    """Batches of (inputs, tag ids, weights) of rows of about one length.

    `inputs` are `{name: (rows, max_length, ...)}` arrays padded with 0, `tag_ids`
    `(rows, max_length)` and `weights` (default: 1 at every real position) likewise;
    each batch is cut to its longest row and weighs the padding 0. With a `seed` the
    rows are shuffled every epoch.
    """
    if weights is None:
        weights = (np.arange(tag_ids.shape[1]) < np.asarray(lengths)[:, None]).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((inputs, tag_ids, weights, lengths))
    if seed is not None:
        data = data.shuffle(len(lengths), seed=seed, reshuffle_each_iteration=True)

    def cut(x, y, w, n):
        return {k: v[:n] for k, v in x.items()}, y[:n], w[:n]

    data = data.map(cut).bucket_by_sequence_length(
        lambda x, y, w: tf.shape(y)[0],
        list(LENGTH_BOUNDARIES),
        [batch_size] * (len(LENGTH_BOUNDARIES) + 1),
    )
    return data.prefetch(tf.data.AUTOTUNE)


def batches_per_epoch(lengths, batch_size):
    """How many batches `tagged_dataset` makes of rows of these lengths (each bucket's
    rows in full batches and one last partial one)."""
    buckets = np.searchsorted(LENGTH_BOUNDARIES, np.asarray(lengths), side="right")
    return int(sum(-(-count // batch_size) for count in np.bincount(buckets) if count))


def rounded(scores, digits=4):
    """`entity_scores`' result with its fractions rounded for a JSON report."""
    result = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            value = rounded(value, digits)
        elif isinstance(value, float):
            value = round(value, digits)
        result[key] = value
    return result


def file_scores(sentences, predicted):
    """`nlpkit evaluate ner`'s JSON: the entity scores of `predicted` against the gold
    `TaggedSentence`s, with the numbers of sentences and tokens."""
    return {
        **rounded(entity_scores([s.tags for s in sentences], predicted)),
        "sentences": len(sentences),
        "tokens": sum(len(s.words) for s in sentences),
    }


class DevF1(keras.callbacks.Callback):
    """Adds the dev set's entity F1 to each epoch's logs (`val_f1`: progress line, history).

    `predict(model, sentences)` gives the BIO tags of each sentence (lists of words).
    """

    def __init__(self, predict, dev):
        super().__init__()
        self.predict, self.dev = predict, dev

    def on_epoch_end(self, epoch, logs=None):
        predicted = self.predict(self.model, [s.words for s in self.dev])
        if logs is not None:
            logs["val_f1"] = entity_scores([s.tags for s in self.dev], predicted)["f1"]


def train_tagger(build, data, out_dir, config, predict, dev_set, verbose, log):
    """Builds (`build()`: a compiled tagger) in the distribution's scope, fits it with the
    dev F1 after each epoch, saves `model.keras` and scores the dev set.

    Returns `(model, fit, dev_scores)`, or None on a process other than the chief (it
    writes nothing).
    """
    plan = distribution.current()
    with plan.scope():
        model = build()
        fitted = training.fit(
            model,
            data,
            out_dir,
            epochs=config.epochs,
            callbacks=[DevF1(predict, dev_set)],
            verbose=verbose,
            learning_rate=config.learning_rate,
        )
    model = plan.local(model)
    if model is None:
        return None
    save_model_atomically(model, Path(out_dir) / training.MODEL_FILE)
    dev = entity_scores([s.tags for s in dev_set], predict(model, [s.words for s in dev_set]))
    log(f"dev entity F1 {dev['f1']:.4f} (P {dev['precision']:.4f}, R {dev['recall']:.4f})")
    return model, fitted, dev


def export_tagger(model, out_dir, variants, representative, settings, side_files, log, verbose):
    """`out_dir/export`: the tagger's TFLite `variants`, calibrated and checked on
    `representative`, with `settings` in the manifest and the files `side_files` of
    `out_dir` beside it. Returns the export's report, or None on a backend that cannot
    export (the command that will is logged instead)."""
    out_dir = Path(out_dir)
    if not training.exports_here(
        log,
        f"KERAS_BACKEND=tensorflow nlpkit export {out_dir / training.MODEL_FILE} --out "
        f"{out_dir / 'export'} --quantize {','.join(variants)} "
        f"--representative-data {representative}",
    ):
        return None
    return export(
        model,
        out_dir / "export",
        quantize=list(variants),
        representative_data=representative,
        log=log if verbose else (lambda *_: None),
        settings=settings,
        side_files={name: (out_dir / name).read_bytes() for name in side_files},
    )


def save_parity_inputs(inputs, lengths, path):
    """`representative.npz`: up to `PARITY_ROWS` real rows of one length (the commonest
    from 8 up), cut to it, so each runs unpadded at batch 1 as on a device.

    `inputs`: `{name: (rows, max_length)}` padded arrays; `lengths`: each row's length.
    """
    lengths = np.asarray(lengths)
    counts = np.bincount(lengths)
    counts[:8] = 0
    length = int(counts.argmax()) if counts.any() else int(lengths.max())
    rows = np.flatnonzero(lengths == length)[:PARITY_ROWS]
    np.savez(path, **{name: np.asarray(x)[rows, :length] for name, x in inputs.items()})
    return path


def on_device_logits(export_dir, variant, inputs, lengths):
    """Each row's `logits` `(length, tags)` from the exported `variant`: one
    `serving_default` call a row, at batch 1 and unpadded, as an app runs it."""
    model = OnDeviceModel(export_dir, variant=variant)
    return [
        model.serve(**{name: np.asarray(x)[row : row + 1, :n] for name, x in inputs.items()})[
            "logits"
        ][0]
        for row, n in enumerate(lengths)
    ]


def read_tags(model_dir, argument="--model"):
    """The tag of each id, from a tagger's folder (`tags.json`)."""
    try:
        return json.loads((Path(model_dir) / TAGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserInputError(
            f"{argument}: {TAGS_FILE} is missing or unreadable. Received: {model_dir}"
        ) from None

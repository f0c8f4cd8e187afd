"""Every training recipe besides `lm` through `nlpkit train ... --distribution data`
on 2 CPU devices, on JAX and on TensorFlow (large: a subprocess per run, minutes in all).

The devices are made as in `tests/recipes/test_distribution.py` (its `nlpkit`
helper): `XLA_FLAGS=--xla_force_host_platform_device_count=2` on JAX, 2 logical CPU
devices on TensorFlow. The settings and the text are the tiny ones of each recipe's
own tests; every batch size is even, so that it splits over the 2 replicas.
"""

import json

import numpy as np
import pytest

from tests.corpora import QUERIES
from tests.corpora import planted_corpus
from tests.recipes.test_bert_recipes import ANIMALS
from tests.recipes.test_bert_recipes import BAD
from tests.recipes.test_bert_recipes import GOOD
from tests.recipes.test_bert_recipes import story
from tests.recipes.test_char_lm import TEXT as CHAR_TEXT
from tests.recipes.test_distribution import nlpkit
from tests.recipes.test_gpt_pretrain import LINES as GPT_LINES
from tests.tiny_recipes import TINY_QUERY_COMPLETION
from tests.tiny_recipes import tiny_spelling_config

pytestmark = pytest.mark.large

BACKENDS = ["jax", "tensorflow"]
NEEDS_TENSORFLOW = "the TFLite export needs TensorFlow"


def config_flags(config, names):
    """`--flag value` for the fields `names` of a recipe config (the tiny ones)."""
    flags = []
    for name in names:
        flags += ["--" + name.replace("_", "-"), getattr(config, name)]
    return flags


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The tiny inputs of every recipe, written once."""
    root = tmp_path_factory.mktemp("distribution_recipes")
    (root / "queries.txt").write_text("\n".join(f"{i}:{q}" for i, q in enumerate(QUERIES)) + "\n")
    (root / "chars.txt").write_text(CHAR_TEXT)
    # 290 co-occurrences: one batch of 291 rows (`glove_dataset` adds a padding pair),
    # which the recipe pads to split over 2 devices on JAX.
    (root / "planted.txt").write_text(planted_corpus(800) + "qq qq\n")
    rng = np.random.default_rng(0)
    (root / "stories.txt").write_text("\n".join(story(rng) for _ in range(300)) + "\n")
    sst2 = root / "sst2"
    sst2.mkdir()
    rng = np.random.default_rng(1)
    for name, count in (("train.tsv", 200), ("dev.tsv", 40)):
        rows = ["label\tsentence"]
        for _ in range(count):
            label = int(rng.integers(2))
            rows.append(
                f"{label}\tthe {rng.choice(ANIMALS)} was {rng.choice(GOOD if label else BAD)}"
            )
        (sst2 / name).write_text("\n".join(rows) + "\n")
    (root / "gpt.txt").write_text("\n".join(GPT_LINES))
    (root / "valid.txt").write_text(" the owl sees the cat , and the cat runs . \n \n")
    return root


def arguments(recipe, data, runs, backend):
    """The `nlpkit train RECIPE` flags of the tiny run (bar `--out`, `--distribution`)."""
    if recipe == "query-completion":
        tiny = ["vocabulary_size", "embedding_dim", "units", "projection_dim", "dropout"]
        return [
            "--corpus", data / "queries.txt", *config_flags(TINY_QUERY_COMPLETION, tiny),
            "--batch-size", 32, "--epochs", 2, "--learning-rate", 0.01, "--dev-fraction", 0.1,
        ]  # fmt: skip
    if recipe == "spelling":  # codespell's and symspell's lists: no ../shared/data
        return config_flags(
            tiny_spelling_config(steps_per_epoch=4),
            ["embedding_dim", "encoder_units", "decoder_units", "summary_dim", "lexicon_size",
             "synthetic_pairs", "steps_per_epoch", "epochs", "batch_size", "max_word_length",
             "known_words"],
        )  # fmt: skip
    if recipe == "char-lm":
        return [
            "--corpus", data / "chars.txt", "--sequence-length", 24, "--embedding-dim", 8,
            "--units", 16, "--batch-size", 16, "--epochs", 2, "--min-char-count", 1,
        ]  # fmt: skip
    if recipe == "glove":
        return [
            "--corpus", data / "planted.txt", "--dim", 8, "--min-count", 1, "--window", 4,
            "--epochs", 2, "--batch-size", 512, "--x-max", 10,
        ]  # fmt: skip
    if recipe == "bert-pretrain":
        return [
            "--corpus", data / "stories.txt", "--vocabulary-size", 60, "--vocabulary-lines", 300,
            "--sequence-length", 24, "--batch-size", 8, "--epochs", 1, "--steps-per-epoch", 4,
            "--pairs-held-out", 16,
        ]  # fmt: skip
    if recipe == "bert-finetune":  # from the bert-pretrain run of the same backend
        pretrained = runs(backend, "bert-pretrain")
        return [
            "--task", "sst2", "--data", data / "sst2", "--pretrained", pretrained,
            "--sequence-length", 16, "--batch-size", 16, "--epochs", 1, "--learning-rate", 1e-3,
            "--baseline-learning-rate", 3e-2,
        ]  # fmt: skip
    assert recipe == "gpt-pretrain", recipe
    return [
        "--corpus", data / "gpt.txt", "--eval-text", data / "valid.txt", "--vocabulary-size", 60,
        "--num-layers", 1, "--num-heads", 2, "--hidden-dim", 16, "--intermediate-dim", 32,
        "--sequence-length", 16, "--batch-size", 8, "--max-steps", 20, "--min-word-count", 1,
        "--warmup-steps", 5, "--learning-rate", 0.01,
    ]  # fmt: skip


# What each run writes on either backend (the on-device recipes' export: below).
OUTPUTS = {
    "query-completion": ["model.keras", "tokenizer.json", "data/train.txt", "data/dev.txt"],
    "spelling": ["model.keras", "lexicon.tsv", "heldout.tsv", "metrics.json"],
    "char-lm": ["model.keras", "tokenizer.json", "metrics.json"],
    "glove": ["vectors.txt", "vocabulary.tsv", "embedding.keras", "model.keras",
              "projector/tensors.tsv", "metrics.json"],
    "bert-pretrain": ["vocabulary.txt", "preprocessor.json", "backbone.keras", "model.keras",
                      "metrics.json"],
    "bert-finetune": ["model.keras", "baseline.keras", "vocabulary.txt", "preprocessor.json",
                      "labels.json", "metrics.json"],
    "gpt-pretrain": ["model.keras", "vocabulary.txt", "metrics.json"],
}  # fmt: skip
ON_DEVICE = {"query-completion", "spelling"}  # exported to TFLite by the training run
# Refused before any training, exit 2, with a message naming the way out.
REFUSED = {
    # GloVe's TF step computes per-word gradient sums over a whole word-sorted batch
    # (`GloVe.closed_form_gradients`); MirroredStrategy would split the batch.
    ("glove", "tensorflow"): "--distribution: GloVe's TensorFlow step sums a batch's "
    "gradients per word over the whole word-sorted batch, which MirroredStrategy would "
    "split over its replicas; train GloVe data parallel on JAX (KERAS_BACKEND=jax), or on "
    "one device (--distribution none). Received: --distribution data with 2 replicas",
}
RECIPES = list(OUTPUTS)


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    """`runs(backend, recipe)`: the training folder of that run, trained once and checked."""
    done = {}

    def run(backend, recipe):
        if (backend, recipe) in done:
            return done[backend, recipe]
        out = tmp_path_factory.mktemp(f"{recipe}-{backend}") / "out"
        argv = arguments(recipe, data, run, backend)
        refused = REFUSED.get((recipe, backend))
        result = nlpkit(
            backend, 2, "train", recipe, *argv, "--out", out, "--distribution", "data",
            check=refused is None,  # asserts exit code 0 (with the stderr's tail) unless refused
        )  # fmt: skip
        assert "nlpkit: training data parallel over 2 replicas" in result.stderr
        if refused:
            assert result.returncode == 2, result.stderr[-3000:]
            assert f"nlpkit: error: {refused}\n" in result.stderr
            assert not out.exists()
            return None
        for name in OUTPUTS[recipe]:
            assert (out / name).is_file(), (name, result.stderr[-3000:])
        printed = result.stdout + result.stderr
        assert "Your input ran out of data" not in printed  # no step count overshoots
        if recipe in ON_DEVICE and backend == "jax":
            assert NEEDS_TENSORFLOW in printed
            assert not (out / "export").exists()
            assert (out / "backup").is_dir()  # kept: a TensorFlow rerun resumes and exports
        else:
            assert NEEDS_TENSORFLOW not in printed
            assert not any(out.rglob("backup")), "the finished run keeps a backup"
        if recipe in ON_DEVICE and backend == "tensorflow":
            for name in ("manifest.json", "report.json", "model_float32.tflite"):
                assert (out / "export" / name).is_file(), name
        done[backend, recipe] = out
        return out

    return run


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_trains_data_parallel_on_two_devices(recipe, backend, runs):
    out = runs(backend, recipe)
    if recipe == "glove" and out is not None:  # the batch of 291 rows trained, padded
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["cooccurrences"] == 290 and metrics["epochs_run"] == 2


@pytest.mark.parametrize("recipe", ["query-completion", "spelling"])
def test_a_batch_that_does_not_split_is_refused_up_front_on_jax(recipe, data, runs, tmp_path):
    # Their streams (bucketed, a generator's) have no batch size that `training.fit`
    # can read: each batch of 31 would be skipped (spelling's run would never end).
    argv = arguments(recipe, data, runs, "jax")
    out = tmp_path / "odd"
    done = nlpkit("jax", 2, "train", recipe, *argv, "--batch-size", 31, "--out", out, check=False)
    assert done.returncode == 2, done.stderr[-3000:]
    assert (
        "nlpkit: error: --batch-size: a global batch of 31 rows does not split over 2 "
        "replicas; choose a multiple of 2. Received: 31\n"
    ) in done.stderr
    assert not out.exists()

"""The TypeScript runtime (`ondevice-js/`, LiteRT.js) against the Python one.

Both CLIs read the same typed prefixes (or words to correct) on stdin and print one
JSON array of suggestions (corrections) a line; on models exported inside this test
run, every line must be equal: same words, same order, at every keystroke, for plain
and typo-tolerant completion and for spelling correction. `python3 dev.py test` builds the
package (`npm ci && npm run build` in ondevice-js/) before the tests.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keras_nlpkit.evaluation.metrics import keystrokes
from tests.corpora import QUERIES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ondevice-js"
CLI = PACKAGE / "bin" / "nlpkit-ondevice.mjs"


@pytest.fixture(scope="module")
def node():
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed: the TypeScript runtime's tests need Node 20+")
    if not (PACKAGE / "dist" / "cli.js").is_file():
        pytest.fail("ondevice-js/ is not built: run `npm ci && npm run build` in ondevice-js/")
    return path


def strips(command, typed):
    result = subprocess.run(
        command, input="\n".join(typed) + "\n", capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_keystroke_gets_the_same_strip_in_both_runtimes(node, query_completion_run):
    _, out, _ = query_completion_run
    long = " ".join(QUERIES[:40]) + " "  # past MAX_PREVIOUS_WORDS: both read the last 64
    typed = keystrokes(QUERIES) + ["", " ", "zzzz", "new  york ", "NEW YORK c", long, long + "c"]
    python = strips(
        [sys.executable, "-m", "keras_nlpkit.cli", "complete", "--model", out, "--json"], typed
    )
    typescript = strips([node, CLI, "complete", "--model", out], typed)
    assert len(python) == len(typescript) == len(typed)
    differing = [(t, p, s) for t, p, s in zip(typed, python, typescript) if p != s]
    assert not differing, differing[:5]
    assert sum(bool(p) for p in python) > len(typed) // 2  # strips, not empty lists


def test_typo_tolerant_strips_are_the_same_in_both_runtimes(
    node, query_completion_run, spelling_run
):
    _, out, _ = query_completion_run
    # Misspelled previous words (repaired by the corrector) and prefixes one edit off.
    typed = keystrokes(["nwe york citty hall", "flihgts to bostn", "weather in sna francisco"])
    typed += keystrokes(QUERIES[:40]) + ["qzx ", "zzzzzzzz"]
    spelling = ["--spelling-model", str(spelling_run)]
    python = strips(
        [sys.executable, "-m", "keras_nlpkit.cli", "complete", "--model", out, "--json", *spelling],
        typed,
    )
    typescript = strips([node, CLI, "complete", "--model", out, *spelling], typed)
    differing = [(t, p, s) for t, p, s in zip(typed, python, typescript) if p != s]
    assert len(python) == len(typescript) == len(typed)
    assert not differing, differing[:5]


def test_corrections_are_the_same_in_both_runtimes(node, spelling_run):
    # Real misspellings, words already right, a capitalised and an upper-case one,
    # words no lexicon word is near (the beam search), nothing the model can spell.
    words = [
        "recieve", "definately", "seperate", "acommodate", "beleive", "occured",
        "untill", "wich", "teh", "becuase", "thier", "goverment", "enviroment",
        "the", "house", "running", "Recieve", "BELEIVE", "xqzvbnm", "aaaaaaaaaaaaaaaaaaaaaaaaa",
        "", "1234", "qwertyuiop", "spelingg", "misspeling", "accomodation", "tommorow",
    ]  # fmt: skip
    python = strips(
        [sys.executable, "-m", "keras_nlpkit.cli", "correct", "--model", spelling_run, "--json"],
        words,
    )
    typescript = strips([node, CLI, "correct", "--model", spelling_run], words)
    assert len(python) == len(typescript) == len(words)
    differing = [(w, p, s) for w, p, s in zip(words, python, typescript) if p != s]
    assert not differing, differing[:5]
    assert sum(len(p) == 5 for p in python) > len(words) // 2  # full lists, not empty ones
    assert python[words.index("Recieve")][0][:1].isupper()


def test_a_damaged_model_file_is_one_line_naming_it(node, query_completion_run, tmp_path):
    _, out, _ = query_completion_run
    copy = tmp_path / "model"
    shutil.copytree(out / "export", copy)
    (copy / "model_int8.tflite").write_bytes(b"not a model")
    result = subprocess.run(
        [node, CLI, "complete", "--model", copy], input="new\n", capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"nlpkit-ondevice: error: --model: model_int8.tflite is damaged (its size or checksum "
        f"differs from the manifest's). Received: {copy / 'model_int8.tflite'}"
    ]


def test_a_file_unlike_its_manifest_is_refused_by_both_runtimes(
    node, query_completion_run, tmp_path
):
    _, out, _ = query_completion_run
    copy = tmp_path / "model"
    shutil.copytree(out / "export", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tensors"]["int8"]["step"]["inputs"]["token"]["shape"] = [4]  # another export's
    (copy / "manifest.json").write_text(json.dumps(manifest))
    expected = (
        "--model: model_int8.tflite: step's input token is [1], the manifest declares [4]: "
        "the file and the manifest are of different exports"
    )
    for command, program in (
        ([sys.executable, "-m", "keras_nlpkit.cli", "complete", "--json"], "nlpkit"),
        ([node, CLI, "complete"], "nlpkit-ondevice"),
    ):
        result = subprocess.run(
            [*command, "--model", copy], input="new\n", capture_output=True, text=True
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines()[-1] == f"{program}: error: {expected}"


def test_a_file_litert_js_refuses_names_its_reason(node, query_completion_run, tmp_path):
    """A fused-LSTM file (variable tensors) with a manifest that vouches for it."""
    import hashlib

    from keras_nlpkit.export import export
    from keras_nlpkit.export import load_source

    _, out, _ = query_completion_run
    folder = tmp_path / "fused"
    export(
        load_source(out / "model.keras"),
        folder,
        quantize=["float32"],
        fused_lstm=True,
        log=lambda *_: None,
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("completion.bin", "tokenizer.json"):
        data = (out / "export" / name).read_bytes()
        (folder / name).write_bytes(data)
        manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest.update(
        kind="query-completion", settings={"ngram_weight": 0.5}, tokenizer="tokenizer.json"
    )
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = subprocess.run(
        [node, CLI, "complete", "--model", folder, "--variant", "float32"],
        input="new\n",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert "LiteRT.js cannot load it" in result.stderr
    assert "Variable tensors not yet supported" in result.stderr


@pytest.mark.parametrize("architecture", ["ffnn", "lstm"])
def test_a_stream_of_tokens_gets_the_same_log_probabilities_in_both_runtimes(
    node, tmp_path, architecture
):
    """`step` states of both kinds: float (h, c) and an int32 id window (FeedForwardLM)."""
    import numpy as np

    from keras_nlpkit.export import export
    from keras_nlpkit.ondevice import OnDeviceModel
    from keras_nlpkit.recipes import lm

    config = lm.LMConfig(architecture=architecture, context_size=3, embedding_dim=4, units=8)
    folder = tmp_path / architecture
    export(lm.build_model(config, 20), folder, quantize=["float32"], log=lambda *_: None)
    ids = [2, 5, 7, 3, 19, 0, 2, 11]
    model = OnDeviceModel(folder, variant="float32")
    logprobs, state = model.start(ids[:1])
    python = [logprobs]
    for token in ids[1:]:
        logprobs, state = model.advance([token], state)
        python.append(logprobs[0])
    runtime, location = (PACKAGE / "dist" / "index.js").as_uri(), json.dumps(str(folder))
    script = f"""
        import {{findExportFolder, OnDeviceModel}} from '{runtime}';
        const folder = await findExportFolder({location}, 'model');
        const model = await OnDeviceModel.load(folder, 'float32');
        const ids = {json.dumps(ids)};
        let {{logprobs, state}} = await model.start(ids.slice(0, 1));
        const rows = [Array.from(logprobs)];
        for (const token of ids.slice(1)) {{
          ({{logprobs, state}} = await model.advance(token, state));
          rows.push(Array.from(logprobs));
        }}
        process.stdout.write(JSON.stringify(rows));
    """  # fmt: skip
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    typescript = np.array(json.loads(result.stdout))
    np.testing.assert_allclose(typescript, np.stack(python), atol=1e-5)


def same_completions(node, model, typed, *flags):
    """Both runtimes' `complete` strips for `typed` with the same flags: equal line by
    line (the Python runtime's, returned)."""
    python_flags = [f if not isinstance(f, tuple) else f[0] for f in flags]
    typescript_flags = [f if not isinstance(f, tuple) else f[1] for f in flags]
    python = strips(
        [
            sys.executable,
            "-m",
            "keras_nlpkit.cli",
            "complete",
            "--model",
            model,
            "--json",
            *python_flags,
        ],
        typed,
    )
    typescript = strips([node, CLI, "complete", "--model", model, *typescript_flags], typed)
    differing = [(t, p, s) for t, p, s in zip(typed, python, typescript) if p != s]
    assert len(python) == len(typescript) == len(typed)
    assert not differing, differing[:5]
    return python


def test_strips_with_the_users_history_are_the_same_in_both_runtimes(
    node, query_completion_run, tmp_path
):
    _, out, _ = query_completion_run
    # Queries typed, submitted (a line ending in a tab), then typed again; one with a
    # word no lexicon holds, which only the history can suggest.
    queries = [*QUERIES[:30], "zanzibarx pizza", *QUERIES[:10], "zanzibarx pizza"]
    typed = []
    for query in queries:
        typed += keystrokes([query]) + [query + "\t"]
    files = tmp_path / "python.json", tmp_path / "typescript.json"
    python = same_completions(node, out, typed, "--history", files)
    assert json.loads(files[0].read_text()) == json.loads(files[1].read_text())
    first, second = [i for i, line in enumerate(typed) if line == "z"]
    assert "zanzibarx" not in python[first] and python[second][0] == "zanzibarx"  # learnt
    plain = strips(
        [sys.executable, "-m", "keras_nlpkit.cli", "complete", "--model", out, "--json"], typed
    )
    assert sum(p != q for p, q in zip(plain, python)) > len(typed) // 20  # it changes strips


def test_phrase_strips_are_the_same_in_both_runtimes(node, query_completion_run):
    _, out, _ = query_completion_run
    python = same_completions(node, out, keystrokes(QUERIES[:60]), "--phrases", "3")
    assert any(" " in entry for strip in python for entry in strip)  # phrases were shown


@pytest.mark.parametrize("architecture", ["transformer", "rnn"])
def test_translations_are_the_same_ids_in_both_runtimes(node, architecture):
    """The search alone (source ids fed from Python), greedy and at the export's widest
    beam; an RNN's encode gives two names one tensor (`c` is `initial_c`)."""
    import numpy as np

    from keras_nlpkit.ondevice import Translator
    from tests.translation_exports import SENTENCES
    from tests.translation_exports import SOURCE_LENGTH
    from tests.translation_exports import exported

    _, out, _ = exported(architecture)
    translator = Translator(out, variant="float32")
    rng = np.random.default_rng(4)
    sources = [translator.source_ids(s) for s in SENTENCES]
    sources += [rng.integers(4, 40, n).tolist() for n in (1, 3, 6, SOURCE_LENGTH)]
    beams = [1, translator.num_beams]
    python = {str(beam): [translator.translate_ids(s, beam) for s in sources] for beam in beams}
    runtime, location = (PACKAGE / "dist" / "index.js").as_uri(), json.dumps(str(out))
    script = f"""
        import {{Translator}} from '{runtime}';
        const translator = await Translator.load({location}, {{variant: 'float32'}});
        const found = {{}};
        for (const beam of {json.dumps(beams)}) {{
          found[beam] = [];
          for (const source of {json.dumps(sources)}) {{
            found[beam].push(await translator.translateIds(source, beam));
          }}
        }}
        process.stdout.write(JSON.stringify(found));
    """  # fmt: skip
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    typescript = json.loads(result.stdout)
    for beam in python:
        differing = [
            (s, p, t) for s, p, t in zip(sources, python[beam], typescript[beam]) if p != t
        ]
        assert not differing, (beam, differing[:3])
    assert python["1"] != python[str(beams[-1])]  # the beams change translations


def test_the_translate_command_gives_the_python_translations(node):
    from keras_nlpkit.ondevice import Translator
    from tests.translation_exports import NUM_BEAMS
    from tests.translation_exports import SENTENCES
    from tests.translation_exports import exported

    _, out, _ = exported("transformer")
    translator = Translator(out)
    for beam in (1, NUM_BEAMS):
        result = subprocess.run(
            [node, CLI, "translate", "--model", out, "--beam", str(beam)],
            input="\n".join(SENTENCES) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split("\n")[:-1] == [translator.translate(s, beam) for s in SENTENCES]
    result = subprocess.run(
        [node, CLI, "translate", "--model", out, "--beam", str(NUM_BEAMS + 1)],
        input="a dog\n",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"nlpkit-ondevice: error: --beam: from 1 to {NUM_BEAMS} (the export's num_beams). "
        f"Received: {NUM_BEAMS + 1}"
    )


def test_two_outputs_of_one_tensor_come_back_under_both_names(node):
    """`Signature` gives every output name of the file's SignatureDef: LiteRT.js reports
    the RNN's `encode` outputs `c` and `initial_c` (one tensor) as one name twice."""
    import numpy as np

    from keras_nlpkit.ondevice import Translator
    from tests.translation_exports import SOURCE_LENGTH
    from tests.translation_exports import exported

    _, out, _ = exported("rnn")
    source = [(4 + 7 * i) % 40 for i in range(SOURCE_LENGTH)]
    python = Translator(out, variant="float32")._encode(source_ids=np.array([source], np.int32))
    runtime, location = (PACKAGE / "dist" / "index.js").as_uri(), json.dumps(str(out))
    script = f"""
        import {{compileModel, findExportFolder, readListedFile, Signature}} from '{runtime}';
        const folder = await findExportFolder({location}, 'translation');
        const content = await readListedFile(folder, folder.manifest.variants.float32);
        const runner = (await compileModel(content, 'model')).signatures.encode;
        const outputs = await new Signature(runner, 'encode', 'model', content)
          .run({{source_ids: Int32Array.from({json.dumps(source)})}});
        process.stdout.write(JSON.stringify({{
          reported: runner.getOutputDetails().map((detail) => detail.name),
          outputs: Object.fromEntries([...outputs].map(([name, data]) => [name, Array.from(data)])),
        }}));
    """  # fmt: skip
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout)
    reported = found["reported"]
    assert len(set(reported)) < len(reported), f"LiteRT.js names each output now: {reported}"
    assert sorted(found["outputs"]) == sorted(python) and {"c", "initial_c"} <= set(python)
    assert found["outputs"]["c"] == found["outputs"]["initial_c"]
    for name, value in python.items():
        np.testing.assert_allclose(found["outputs"][name], value.ravel(), atol=1e-6, err_msg=name)


# Real-looking text for a context LM (repeated: n-grams seen once are dropped).
CONTEXT_TEXT = [
    "I want to buy a new phone.",
    "We want to buy a new car by the end of the week.",
    "Their house is bigger than ours.",
    "There is a house by the river.",
    "They're going to the store now.",
    "He is taller than his brother, and then he left.",
    "It's a nice day and the dog wagged its tail.",
    "Your car is over there; you're late.",
    "I know there is no time now.",
    "Turn off the light of the room.",
    "I can hear you from here.",
    "Where were you when we met?",
    "We don't know whether the weather will hold.",
    "She passed the house in the past week.",
    "The room was quiet, quite quiet.",
    "Don't lose the loose piece of peace.",
    "I know it too.",
    "I know it to be true.",
] * 3 + [
    # Words seen once: folded into <unk>, they make the OOV penalty > 0.
    "Zebras gallop across wide savannas quickly.",
    "Violins hum softly beneath candlelit arches.",
]
# Misspellings, real-word confusions, sentences left right, and what is not a word.
SENTENCES = [
    "i want to by a new phone", "I want to by a new Phnoe!", "We want to buy a new car.",
    "their is a house by the river", "There house is bigger then ours.",
    "they're going too the store know", "Their going to the store now.",
    "He is taller then his brother", "and than he left", "its a nice day",
    "the dog wagged it's tail", "you're car is over their", "your late",
    "I no there is know time", "turn of the light off the room", "I can here you from hear",
    "Were were you when we met?", "we don't know weather the whether will hold",
    "She past the house in the passed week", "the room was quite", "dont loose the peace",
    "teh weather is nice", "I recieve a new phnoe", "THEIR HOUSE IS BIGGER THEN OURS",
    "Their going too the store, I think.", "😀 i want to by a new phone", "it’s a nice day",
    "naïve café by the river", "", "   ", "1234 5678", "by", "x y z", "qwzxv by the rvier",
    "a-b c'd ‘quoted’ by2 to_by", "I know it to", "i know it too be true",
    "the hous by the rivr", "zebras gallop acros wide savanas", "I want too buy a new phoen",
    "I knew it", "the whole house is new",  # words the LM lacks: its OOV penalty decides
]  # fmt: skip


@pytest.fixture(scope="module")
def spelling_context_run(spelling_run, tmp_path_factory):
    from tests.tiny_recipes import with_context_lm

    root = tmp_path_factory.mktemp("spelling_context_parity")
    return with_context_lm(spelling_run, root, CONTEXT_TEXT)


def test_sentence_corrections_are_the_same_in_both_runtimes(node, spelling_context_run):
    model = str(spelling_context_run)
    python_cli = [sys.executable, "-m", "keras_nlpkit.cli", "correct", "--json"]
    python = strips([*python_cli, "--model", model, "--context"], SENTENCES)
    typescript = strips([node, CLI, "correct", "--model", model, "--context"], SENTENCES)
    assert len(python) == len(typescript) == len(SENTENCES)
    differing = [(p, s) for p, s in zip(python, typescript) if p != s]
    assert not differing, differing[:3]
    fixed = {p["text"]: p["corrected"] for p in python}
    assert fixed["i want to by a new phone"] == "i want to buy a new phone"  # the LM is used
    assert sum(bool(p["changes"]) for p in python) > len(SENTENCES) // 2


def test_a_model_without_the_context_lm_is_refused_by_both_runtimes(node, spelling_run):
    message = "--model: this export has no context_lm.bin"
    for command, program in (
        ([sys.executable, "-m", "keras_nlpkit.cli", "correct", "--context", "--json"], "nlpkit"),
        ([node, CLI, "correct", "--context"], "nlpkit-ondevice"),
    ):
        result = subprocess.run(
            [*command, "--model", spelling_run], input="a b\n", capture_output=True, text=True
        )
        assert result.returncode == 2 and not result.stdout, result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith(f"{program}: error: {message}")

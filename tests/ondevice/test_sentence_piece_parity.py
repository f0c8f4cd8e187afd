"""The TypeScript SentencePiece (`ondevice-js/src/sentence_piece.ts`) against Python's.

The translator's two runtimes must feed their models the same ids: on learnt unigram
models (the tiny ones of the translation exports, one learnt on varied text with
accents, digits, punctuation and non-Latin scripts, and variants of it without the
dummy prefix or whitespace removal) and on a hand-written one whose paths tie, every
sentence must encode to the ids of `EncodeAsIds` and decode to the text of `DecodeIds`;
its normalized text (the charsmap's rules, '▁' for spaces) must be that of `Normalize`,
as an unknown character's rules would not show in the ids.
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sentencepiece import SentencePieceProcessor
from sentencepiece import sentencepiece_model_pb2

from keras_nlpkit.tokenizers.sentence_piece_model import learn_sentence_piece_model
from tests.translation_exports import sentence_piece_models

PACKAGE = Path(__file__).resolve().parents[2] / "ondevice-js"

WORDS = {
    "english": "The quick brown fox jumps over the lazy dog while children play football "
    "outside near 3 old houses and a café on Main Street",
    "german": "Der schöne Hund läuft über die Straße während Kinder im Park spielen und "
    "Mädchen Äpfel für 12 Euro kaufen",
    "french": "Le garçon mange une crème brûlée à côté de l'église où les élèves étudient "
    "naïvement depuis 1998",
    "spanish": "El niño pequeño está en la montaña con su señora y ¿dónde está el baño?",
    "greek": "Ο άνθρωπος περπατά στον δρόμο με τον σκύλο του και τα παιδιά παίζουν",
    "russian": "Мальчик читает книгу в парке а девочка играет с собакой у реки",
}
PUNCTUATION = [".", ",", "!", "?", ";", ":", " -", "'s", '"', "(", ")", "..."]

# What a translator may be given: the edges of normalization and of the vocabulary.
SENTENCES = [
    "",
    " ",
    "     ",
    "\t",
    "\n",
    "The dog runs.",
    "  leading spaces",
    "trailing spaces   ",
    "  both  ends  and   inside  ",
    "tabs\tbetween\twords\t",
    "new\nlines\r\nand returns",
    "non\u00a0breaking\u2003em\u3000ideographic spaces",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "café naïve Mädchen Straße élève",  # composed
    "cafe\u0301 nai\u0308ve Ma\u0308dchen e\u0301le\u0300ve",  # decomposed
    "ＦＵＬＬ－ｗｉｄｔｈ ｌｅｔｔｅｒｓ ａｎｄ １２３４５",
    "ﬁne ﬂowers ½ Ⅻ ㎏ ™ ℃ ①",
    "ﾊﾝｶｸ ｶﾞｷﾞｸﾞ ﾊﾟ",  # half-width kana: 'ｶ' has a rule and so has the longer 'ｶﾞ'
    "unknown 漢字 and 😀🎉 and ✓✗ and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "한국어 텍스트 and \u1100\u1161\u11a8 jamo",
    "漢字",
    "😀",
    "x😀y😀😀z",
    "<unk> <s> </s> <pad> ⁇",
    "▁ already ▁▁ escaped",
    "digits 0123456789 3.14 1,000,000 42nd",
    "Ο άνθρωπος περπατά. Мальчик читает!",
    "¿Dónde está el baño? «Très bien», dit-il.",
    "control\u0007bell\u001bescape\u0000nul",
    "ALL CAPS SHOUTING AND MiXeD cAsE",
    "a" * 300,
    "The quick brown fox " * 20,
    # The hand-written model's pieces.
    "ab",
    "xy",
    "abab xy",
    "ab c abc bab cab ba",
    "  a b  c ",
    "bcbc",
]


def learnt_on_varied_text():
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(400):
        words = WORDS[rng.choice(list(WORDS))].split()
        chosen = rng.choice(words, rng.integers(3, 12))
        line = " ".join(w + (rng.choice(PUNCTUATION) if rng.random() < 0.2 else "") for w in chosen)
        if rng.random() < 0.3:
            line += f" {rng.integers(0, 10000)}"
        lines.append(line[0].upper() + line[1:] + rng.choice([".", "!", "?", ""]))
    return learn_sentence_piece_model(lines, 400), lines


def with_normalizer(model, **fields):
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model)
    for name, value in fields.items():
        setattr(proto.normalizer_spec, name, value)
    return proto.SerializeToString()


def hand_written():
    """Pieces whose paths tie ('▁ab' = '▁a' + 'b', '▁xy' = '▁x' + 'y' in float32 only), an
    unused piece, no charsmap."""
    proto = sentencepiece_model_pb2.ModelProto()
    kinds = sentencepiece_model_pb2.ModelProto.SentencePiece
    for text, kind in (("<pad>", kinds.CONTROL), ("<unk>", kinds.UNKNOWN)):
        proto.pieces.add(piece=text, score=0.0, type=kind)
    for text in ("<s>", "</s>"):
        proto.pieces.add(piece=text, score=0.0, type=kinds.CONTROL)
    pieces = [("▁", -3), ("▁a", -1), ("b", -1), ("▁ab", -2), ("ab", -1.5), ("c", -4)]
    pieces += [("▁c", -2.5), ("a", -2.25), ("▁b", -0.75), ("ba", -1.25), ("abc", -2.5)]
    # -1 + float32(-0.1) is above float32(-1.1) in doubles, equal to it in float32.
    pieces += [("▁x", -1), ("y", np.float32(-0.1)), ("▁xy", np.float32(-1.1))]
    for text, score in pieces:
        proto.pieces.add(piece=text, score=score, type=kinds.NORMAL)
    proto.pieces.add(piece="bc", score=0.0, type=kinds.UNUSED)
    proto.trainer_spec.model_type = sentencepiece_model_pb2.TrainerSpec.UNIGRAM
    proto.normalizer_spec.name = "identity"
    return proto.SerializeToString()


@pytest.fixture(scope="module")
def models():
    source, target = sentence_piece_models()
    varied, lines = learnt_on_varied_text()
    plain = {"add_dummy_prefix": False, "remove_extra_whitespaces": False}
    return {
        "source.spm": source,
        "target.spm": target,
        "varied.spm": varied,
        "varied-no-dummy-prefix.spm": with_normalizer(varied, add_dummy_prefix=False),
        "varied-spaces-kept.spm": with_normalizer(varied, **plain),
        "hand-written.spm": hand_written(),
        "hand-written-spaces-kept.spm": with_normalizer(hand_written(), **plain),
    }, lines


@pytest.fixture(scope="module")
def node():
    path = shutil.which("node")
    if path is None:
        pytest.fail("node is not installed: the TypeScript runtime's tests need Node 20+")
    if not (PACKAGE / "dist" / "sentence_piece.js").is_file():
        pytest.fail("ondevice-js/ is not built: run `npm ci && npm run build` in ondevice-js/")
    return path


SCRIPT = """
import {readFileSync} from 'node:fs';
const dist = (file) => new URL(file, %s);
const {SentencePieceModel} = await import(dist('sentence_piece.js'));
const {SentencePieceNormalizer} = await import(dist('sentence_piece_normalizer.js'));
const {parseModelProto} = await import(dist('sentence_piece_proto.js'));
const {models, sentences} = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = {};
for (const [name, path] of Object.entries(models)) {
  const bytes = readFileSync(path);
  const model = SentencePieceModel.fromBytes(bytes, name);
  const normalizer = new SentencePieceNormalizer(parseModelProto(bytes, name).normalizerSpec, name);
  results[name] = sentences.map((s) => {
    const ids = model.encode(s);
    return [ids, model.decode(ids), normalizer.normalize(s)];
  });
}
process.stdout.write(JSON.stringify(results));
"""


def typescript_results(node, tmp_path, models, sentences):
    paths = {}
    for name, data in models.items():
        paths[name] = str(tmp_path / name)
        (tmp_path / name).write_bytes(data)
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"models": paths, "sentences": sentences}))
    script = tmp_path / "encode.mjs"
    script.write_text(SCRIPT % json.dumps((PACKAGE / "dist").as_uri() + "/"))
    result = subprocess.run(
        [node, script, request], capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_ids_and_texts_are_those_of_python_sentencepiece(node, models, tmp_path):
    models, lines = models
    sentences = SENTENCES + lines[::8] + [line.lower() for line in lines[1::16]]
    typescript = typescript_results(node, tmp_path, models, sentences)
    for name, data in models.items():
        python = SentencePieceProcessor(model_proto=data)
        expected = [
            [ids := python.EncodeAsIds(s), python.DecodeIds(ids), python.Normalize(s)]
            for s in sentences
        ]
        differing = [(s, p, t) for s, p, t in zip(sentences, expected, typescript[name]) if p != t]
        assert not differing, (name, len(differing), differing[:3])
    # Not only easy cases: sentences with unknown ids, lines of many pieces.
    varied = SentencePieceProcessor(model_proto=models["varied.spm"])
    assert sum(1 in varied.EncodeAsIds(s) for s in SENTENCES) > 5
    assert max(len(varied.EncodeAsIds(s)) for s in lines) > 10

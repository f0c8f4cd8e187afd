"""The TypeScript SentencePiece against Python's on real sentences: the same ids?

    python benchmarks/sentence_piece_parity.py --export runs/translation-transformer/export
        [--data ../shared/data/translation/multi30k] [--train-lines 5000]

Encodes every val sentence and the first `--train-lines` train sentences of both
languages (`source.spm` on the source side, `target.spm` on the target side) with
`ondevice-js/src/sentence_piece.ts` in Node and with the `sentencepiece` package, and
prints, per language, the fraction of sentences whose ids are equal, of those whose
decoded ids give the same text, and of those that decode back to themselves (in
each runtime). Needs `npm ci && npm run build` in ondevice-js/; the small, fast
version of this check is tests/ondevice/test_sentence_piece_parity.py.
"""

import argparse
import gzip
import json
import subprocess
import tempfile
from pathlib import Path

from sentencepiece import SentencePieceProcessor

ROOT = Path(__file__).resolve().parents[1]
DIST = (ROOT / "ondevice-js" / "dist" / "index.js").as_uri()
ENCODER = f"""
import {{readFileSync}} from 'node:fs';
import {{SentencePieceModel}} from {json.dumps(DIST)};
const [model, sentences] = process.argv.slice(1);
const sentencePiece = SentencePieceModel.fromBytes(readFileSync(model), model);
const results = JSON.parse(readFileSync(sentences, 'utf8')).map((s) => {{
  const ids = sentencePiece.encode(s);
  return [ids, sentencePiece.decode(ids)];
}});
process.stdout.write(JSON.stringify(results));
"""


def read_lines(path, limit=None):
    with gzip.open(path, "rt", encoding="utf-8") as file:
        lines = [line.rstrip("\n") for line in file]
    return [line for line in lines if line][:limit]


def typescript(model, sentences):
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
        json.dump(sentences, file)
        file.flush()
        result = subprocess.run(
            ["node", "--input-type=module", "-e", ENCODER, str(model), file.name],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
        )
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared/data/translation/multi30k"
    )
    parser.add_argument("--languages", nargs=2, default=["en", "de"])
    parser.add_argument("--train-lines", type=int, default=5000)
    args = parser.parse_args()
    for language, model in zip(args.languages, ("source.spm", "target.spm")):
        val = read_lines(args.data / f"val.{language}.gz")
        sentences = val + read_lines(args.data / f"train.{language}.gz", args.train_lines)
        python = SentencePieceProcessor(model_file=str(args.export / model))
        expected = [[ids := python.EncodeAsIds(s), python.DecodeIds(ids)] for s in sentences]
        received = typescript(args.export / model, sentences)
        n = len(sentences)
        same_ids = sum(e[0] == r[0] for e, r in zip(expected, received))
        same_text = sum(e[1] == r[1] for e, r in zip(expected, received))
        python_back = sum(e[1] == s for e, s in zip(expected, sentences))
        typescript_back = sum(r[1] == s for r, s in zip(received, sentences))
        print(
            f"{language} ({model}, {len(val)} val + {n - len(val)} train sentences): "
            f"ids equal {same_ids}/{n} ({same_ids / n:.4f}); decode(encode(x)) equal "
            f"{same_text}/{n}; decode(encode(x)) == x: Python {python_back}/{n}, "
            f"TypeScript {typescript_back}/{n}"
        )
        for sentence, e, r in list(zip(sentences, expected, received))[:1000]:
            if e != r:
                print(f"  differs: {sentence!r}: Python {e}, TypeScript {r}")


if __name__ == "__main__":
    main()

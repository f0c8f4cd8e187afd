"""Which tokenization for query completion: words (the recipe) or characters?

Trains a character LSTM LM (the char-LM recipe: Embedding → our LSTM → Dense) on the
training split of a query-completion run, exports it, and measures it with the same
METRICS.md typing simulation as the word model, on the same dev queries. The character
completer runs a beam search over the exported `step` signature per keystroke,
constrained to the lexicon (the words of the training split) through the typed
characters; a word's score is the log-probability of its characters and the space or
newline after it.

    .venv/bin/python benchmarks/completion_tokenization.py --run runs/queries --limit 400
"""

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np

from keras_nlpkit.evaluation.metrics import simulate_typing
from keras_nlpkit.ondevice import Lexicon
from keras_nlpkit.ondevice import OnDeviceModel
from keras_nlpkit.ondevice import QueryCompleter
from keras_nlpkit.ondevice import load_tokenizer
from keras_nlpkit.text.queries import word_counts


class CharCompleter:
    def __init__(self, export_dir, lexicon_words, variant="int8", beam_width=8):
        self.model = OnDeviceModel(export_dir, variant=variant)
        self.lexicon = Lexicon(lexicon_words, [1] * len(lexicon_words))
        self.words = set(lexicon_words)
        self.beam_width = beam_width
        self.ends = [self.model.tokenizer.encode(c)[0] for c in (" ", "\n")]
        self._cache = collections.OrderedDict()

    def _state(self, text):
        """(log-probs, state) after reading `text`, extending the longest cached prefix."""
        if text in self._cache:
            return self._cache[text]
        if len(text) == 1:
            entry = self.model.start(self.model.encode(text))
        else:
            _, state = self._state(text[:-1])
            logprobs, state = self.model.advance(self.model.encode(text[-1]), state)
            entry = (logprobs[0], state)
        self._cache[text] = entry
        if len(self._cache) > 4096:
            self._cache.popitem(last=False)
        return entry

    def suggest(self, previous, prefix, k=3):
        text = "\n" + "".join(w + " " for w in previous) + prefix
        logprobs, state = self._state(text)
        beams = [(prefix, 0.0, logprobs, state)]
        finished = []
        for _ in range(24 - len(prefix)):
            candidates = []
            for row, (word, score, lp, _) in enumerate(beams):
                if word in self.words:
                    finished.append((score + max(lp[e] for e in self.ends), word))
                lo, hi = self.lexicon.range(word)
                nexts = {w[len(word)] for w in self.lexicon.words[lo:hi] if len(w) > len(word)}
                for char in nexts:
                    ids = self.model.tokenizer.encode(char)
                    if ids[0] != 0:
                        candidates.append((score + lp[ids[0]], row, word + char, ids[0]))
            candidates.sort(key=lambda c: -c[0])
            candidates = candidates[: self.beam_width]
            finished.sort(key=lambda f: -f[0])
            if not candidates or (len(finished) >= k and candidates[0][0] < finished[k - 1][0]):
                break
            rows = [c[1] for c in candidates]
            state = self.model.select(beams[0][3] if len(beams) == 1 else _stack(beams), rows)
            new_lp, new_state = self.model.advance([c[3] for c in candidates], state)
            beams = [
                (c[2], c[0], new_lp[i], {n: v[i : i + 1] for n, v in new_state.items()})
                for i, c in enumerate(candidates)
            ]
        finished.sort(key=lambda f: -f[0])
        out = []
        for _, word in finished:
            if word not in out:
                out.append(word)
        return out[:k]


def _stack(beams):
    return {name: np.concatenate([b[3][name] for b in beams]) for name in beams[0][3]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="a `nlpkit train query-completion` folder")
    parser.add_argument("--char-model", default=None, help="reuse a trained char-LM folder")
    parser.add_argument("--units", type=int, default=384)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--limit", type=int, default=400)
    args = parser.parse_args(argv)

    from keras_nlpkit.export import export
    from keras_nlpkit.export import load_source
    from keras_nlpkit.recipes import char_lm

    run = Path(args.run)
    train = (run / "data" / "train.txt").read_text(encoding="utf-8").splitlines()
    dev = (run / "data" / "dev.txt").read_text(encoding="utf-8").splitlines()[: args.limit]
    char_dir = Path(args.char_model or run / "char_lm")
    if args.char_model is None:
        config = char_lm.CharLMConfig(
            units=args.units,
            epochs=args.epochs,
            batch_size=128,
            sequence_length=64,
            min_char_count=20,
        )
        metrics = char_lm.train(["\n".join(train) + "\n"], char_dir, config, verbose=2)
        print(json.dumps(metrics), file=sys.stderr)
        samples = char_dir / "representative.txt"
        samples.write_text("\n".join(train[:600]) + "\n", encoding="utf-8")
        export(
            load_source(char_dir / "model.keras"),
            char_dir / "export",
            representative_data=samples,
            tokenizer=load_tokenizer(char_dir / "tokenizer.json"),
        )
    words = sorted(word_counts(train))
    chars = CharCompleter(char_dir / "export", words)
    # The word network alone (a fair match for the character network) and as shipped,
    # mixed with the trigram counts.
    word_model = QueryCompleter(run, variant="int8", ngram_weight=0.0)
    shipped = QueryCompleter(run, variant="int8")
    result = {}
    for name, completer in (
        ("characters", chars),
        ("words", word_model),
        ("words + counts", shipped),
    ):
        if name == "characters":
            suggest = completer.suggest
        else:
            suggest = lambda p, x, c=completer: [w for w, _ in c.suggest_words(p, x, 3)]
        figures = simulate_typing(dev, suggest, k=3)
        size = completer.model.path.stat().st_size
        result[name] = {
            "ksr": figures["ksr"],
            "next_word@3": figures["next_word_accuracy@3"],
            "latency": figures["latency"],
            "int8_bytes": size,
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

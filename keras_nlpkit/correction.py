"""On-device spelling correction: a seq2seq export decoded over a lexicon trie.

Like `keras_nlpkit.runtime` it needs only NumPy and `ai_edge_litert`, and reads
only the export folder written by `nlpkit train spelling` (`model_<variant>.tflite`
with the signatures `encode` and `decode_step`, `spelling.json`, `lexicon.txt`):

    from keras_nlpkit.correction import SpellingCorrector

    corrector = SpellingCorrector("runs/spelling/export", variant="int8")
    corrector.correct("speling", k=3)   # [("spelling", -0.9), ("spewing", -7.1), ...]
    "spelling" in corrector.vocabulary  # the words it can answer

How a word is corrected: `encode` reads its characters once; then a beam search
asks `decode_step` for the next character of every beam at once (one call per
output character, beams batched). A beam may only follow an edge of the lexicon
trie, so every answer is a known word, and the score of a word w is

    score(w) = log P_model(w | typo) + λ · log P_freq(w)

(λ: `prior_weight`). To rank unfinished beams, the prior term uses the best
log-frequency of any word below the beam's trie node (a look-ahead that never
underestimates), so the search can stop as soon as k finished words score above
every live beam.
"""

import json
from pathlib import Path

import numpy as np

from keras_nlpkit.runtime import OnDeviceModel
from keras_nlpkit.runtime import log_softmax


# Full-integer int8 `encode` fails to prepare under XNNPACK (the default delegate), so
# the default is dynamic-range int8: int8 weights, float activations.
DEFAULT_VARIANT = "dynamic_int8"


class Trie:
    """A character trie over a lexicon `{word: count}`, as flat arrays.

    Node 0 is the root. For node n: `child_chars[n]` / `child_nodes[n]` (int
    arrays, the edges), `word_logp[n]` (log relative frequency of the word ending
    at n, or -inf) and `best_logp[n]` (the best `word_logp` in n's subtree).

    Args:
        lexicon: `{word: count}`.
        char_ids: `{character: id}` of the model's vocabulary; words with other
            characters are left out.
    """

    def __init__(self, lexicon, char_ids):
        total = float(sum(lexicon.values())) or 1.0
        children = [{}]
        word_logp = [-np.inf]
        words = [None]
        for word, count in lexicon.items():
            if not word or any(c not in char_ids for c in word):
                continue
            node = 0
            for c in word:
                child = children[node].get(char_ids[c])
                if child is None:
                    child = len(children)
                    children[node][char_ids[c]] = child
                    children.append({})
                    word_logp.append(-np.inf)
                    words.append(None)
                node = child
            word_logp[node] = max(word_logp[node], float(np.log(max(count, 1) / total)))
            words[node] = word
        self.word_logp = np.asarray(word_logp)
        self.words = words
        self.child_chars = [np.fromiter(c.keys(), np.int64, len(c)) for c in children]
        self.child_nodes = [np.fromiter(c.values(), np.int64, len(c)) for c in children]
        # Children always have larger ids than their parent: one backward sweep.
        best = self.word_logp.copy()
        for node in range(len(children) - 1, -1, -1):
            if len(self.child_nodes[node]):
                best[node] = max(best[node], best[self.child_nodes[node]].max())
        self.best_logp = best
        self._char_ids = char_ids

    def __len__(self):
        return sum(w is not None for w in self.words)

    def find(self, word):
        """The node of `word` (a word or a prefix), or None."""
        node = 0
        for c in word:
            i = self._char_ids.get(c)
            if i is None:
                return None
            hits = np.flatnonzero(self.child_chars[node] == i)
            if not hits.size:
                return None
            node = int(self.child_nodes[node][hits[0]])
        return node

    def __contains__(self, word):
        node = self.find(word)
        return node is not None and self.words[node] is not None


def read_lexicon(path):
    """`{word: count}` from `lexicon.txt` (`word<TAB>count` lines)."""
    lexicon = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition("\t")
        if word:
            lexicon[word] = int(count or 1)
    return lexicon


class SpellingCorrector:
    """Corrects single words with an exported spelling model, on the device.

    Args:
        export_dir: the export folder (`model_<variant>.tflite`, `spelling.json`,
            `lexicon.txt`), or the training folder holding it as `export/`.
        variant: `"dynamic_int8"` (default), `"float32"`, `"float16"` or `"int8"`.
        num_threads: interpreter threads (a keyboard uses one).
        beam_width, prior_weight, length_penalty: override the decoding settings
            stored in `spelling.json` at training time.

    Attributes:
        vocabulary: `{word: count}`, every word `correct` can return.
    """

    def __init__(self, export_dir, variant=DEFAULT_VARIANT, num_threads=1, beam_width=None,
                 prior_weight=None, length_penalty=None):
        export_dir = Path(export_dir)
        if (export_dir / "export" / "spelling.json").is_file():  # a training folder
            export_dir = export_dir / "export"
        settings_path = export_dir / "spelling.json"
        if not settings_path.is_file() or not (export_dir / "lexicon.txt").is_file():
            raise ValueError(
                "Not a spelling export (needs spelling.json and lexicon.txt). "
                f"Received: {export_dir}"
            )
        settings = json.loads(settings_path.read_text(encoding="utf-8"))
        self.settings = settings
        self.model = OnDeviceModel(export_dir, variant=variant, num_threads=num_threads)
        missing = {"encode", "decode_step"} - set(self.model.runners)
        if missing:
            raise ValueError(f"{self.model.path} lacks the signatures {sorted(missing)}")
        self._encode = self.model.runners["encode"]
        self._decode = self.model.runners["decode_step"]
        vocabulary = settings["vocabulary"]
        self.char_ids = {c: i for i, c in enumerate(vocabulary) if i > 0}
        self.start_id = settings["start_id"]
        self.end_id = settings["end_id"]
        self.beam_width = int(beam_width or settings.get("beam_width", 6))
        self.prior_weight = float(settings.get("prior_weight", 0.3)
                                  if prior_weight is None else prior_weight)
        self.length_penalty = float(settings.get("length_penalty", 0.0)
                                    if length_penalty is None else length_penalty)
        self.vocabulary = read_lexicon(export_dir / "lexicon.txt")
        self.trie = Trie(self.vocabulary, self.char_ids)
        details = self._decode.get_input_details()
        self.units = int(details["decoder_lstm_h"]["shape_signature"][-1])
        self.pad_id = settings["pad_id"]
        self.max_length = int(self._encode.get_input_details()["chars"]["shape_signature"][1])

    def encode(self, word):
        """Encoder outputs `(1, T, d)` and summary `(1, s)` of one word.

        `encode` reads a fixed length: the word is padded (a longer one is cut),
        and the outputs of the padding are dropped.
        """
        ids = [self.char_ids[c] for c in word if c in self.char_ids][: self.max_length]
        chars = np.full((1, self.max_length), self.pad_id, np.int32)
        chars[0, : len(ids)] = ids
        out = self._encode(chars=chars)
        return out["encoder_outputs"][:, : len(ids)], out["summary"]

    def correct(self, word, k=5):
        """Up to k lexicon words for `word`, best first: `[(word, score), ...]`.

        Scores are log-probabilities plus λ·log-frequency (higher is better). The
        input is lower-cased; the answers follow its case (Title, UPPER).
        """
        text = word.strip()
        lowered = text.lower()
        if not any(c in self.char_ids for c in lowered):
            return []
        results = self._search(lowered, k)
        if text[:1].isupper():
            shape = str.upper if len(text) > 1 and text.isupper() else str.capitalize
            results = [(shape(w), s) for w, s in results]
        return results

    def _search(self, word, k):
        trie, prior, width = self.trie, self.prior_weight, self.beam_width
        encoder_outputs, summary = self.encode(word)
        encoder_outputs = np.repeat(encoder_outputs, width, axis=0)
        summary = np.repeat(summary, width, axis=0)
        h = np.zeros((width, self.units), np.float32)
        c = np.zeros((width, self.units), np.float32)
        tokens = np.full((width,), self.start_id, np.int32)
        beams = [(0, 0.0)]  # (trie node, log P_model of its characters)
        finished = []  # (score, node)
        max_steps = len(word) + 6
        for step in range(1, max_steps + 1):
            out = self._decode(token=tokens, decoder_lstm_h=h, decoder_lstm_c=c,
                               encoder_outputs=encoder_outputs, summary=summary)
            logprobs = log_softmax(out["logits"][: len(beams)])
            rows, nodes, chars, totals = [], [], [], []
            for row, (node, total) in enumerate(beams):
                if trie.words[node] is not None:
                    model_score = total + logprobs[row, self.end_id]
                    finished.append((self._score(model_score, step, trie.word_logp[node]), node))
                children = trie.child_nodes[node]
                if children.size:
                    rows.append(np.full(children.size, row))
                    nodes.append(children)
                    chars.append(trie.child_chars[node])
                    totals.append(total + logprobs[row, trie.child_chars[node]])
            if not rows:
                break
            rows, nodes = np.concatenate(rows), np.concatenate(nodes)
            chars, totals = np.concatenate(chars), np.concatenate(totals)
            ranks = self._score(totals, step, trie.best_logp[nodes])
            if len(finished) >= k:
                kth = sorted((s for s, _ in finished), reverse=True)[k - 1]
                if kth >= ranks.max() and self.length_penalty == 0:
                    break  # no live beam can beat the k-th finished word
            keep = np.argsort(-ranks)[:width] if ranks.size > width else np.argsort(-ranks)
            beams = [(int(nodes[i]), float(totals[i])) for i in keep]
            source_rows = np.zeros(width, np.int64)
            source_rows[: keep.size] = rows[keep]
            tokens = np.full((width,), self.start_id, np.int32)
            tokens[: keep.size] = chars[keep]
            h = out["decoder_lstm_h"][source_rows]
            c = out["decoder_lstm_c"][source_rows]
        finished.sort(key=lambda item: -item[0])
        return [(trie.words[node], float(score)) for score, node in finished[:k]]

    def _score(self, model_logp, length, prior_logp):
        if self.length_penalty:
            model_logp = model_logp / (length ** self.length_penalty)
        return model_logp + self.prior_weight * prior_logp


__all__ = ["SpellingCorrector", "Trie", "read_lexicon"]

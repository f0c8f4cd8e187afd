"""On-device spelling correction: a seq2seq export decoded over a lexicon trie.

Like `keras_nlpkit.runtime` it needs only NumPy and `ai_edge_litert`, and reads
only the export folder written by `nlpkit train spelling` (`model_<variant>.tflite`
with the signatures `encode` and `decode_step`, `spelling.json`, `lexicon.txt`):

    from keras_nlpkit.correction import SpellingCorrector

    corrector = SpellingCorrector("runs/spelling/export", variant="int8")
    corrector.correct("speling", k=3)   # [("spelling", -0.9), ("spewing", -7.1), ...]
    "spelling" in corrector.vocabulary  # the words it can answer

How a word is corrected (the reranker, the default): the candidates are the lexicon
words within Damerau-Levenshtein distance 2 of the input (a SymSpell-style deletes
index built at load time, `DeletesIndex`; the 8 closest, then most frequent) and the
input itself when it is a lexicon word. `encode` reads the input once and
`decode_step` scores every candidate teacher-forced, all candidates in one batch per
character (candidates sharing a prefix share a row), so

    score(w) = log P_model(w | typo) + λ · log P_freq(w) - μ · distance(w) + b · [w = typo]

(`prior_weight`, `distance_weight`, `input_bonus`). When no word is that close, the
beam search below proposes the candidates. `edit_distance=0` turns the reranker off
and leaves the beam search alone (score = log P_model + λ · log P_freq).

The beam search: `encode` reads its characters once; then a beam search
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


# The reranker's defaults (a "rerank" object in spelling.json overrides them, by the
# same names in lower case): candidates within EDIT_DISTANCE (Damerau-Levenshtein),
# the MAX_CANDIDATES closest; score = log P_model + λ·log P_freq (PRIOR_WEIGHT)
# - μ·distance (DISTANCE_WEIGHT) + b for the input itself (INPUT_BONUS, nats); a
# beam search of BEAM_WIDTH beams proposes words when none is within the distance.
# Tuned on 2,000 held-out pairs of the /tmp/spfull run (its heldout.tsv): acc@1 .821,
# kept-correct 1.0 there (beam search alone: .712 / .979).
EDIT_DISTANCE = 2
MAX_CANDIDATES = 8
INPUT_BONUS = 1.0
PRIOR_WEIGHT = 0.8
DISTANCE_WEIGHT = 7.0
BEAM_WIDTH = 3


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


def deletes(text, max_distance):
    """`text` and every string made from it by deleting up to `max_distance` characters."""
    found, frontier = {text}, {text}
    for _ in range(max_distance):
        frontier = {x[:i] + x[i + 1:] for x in frontier for i in range(len(x))}
        found |= frontier
    return found


def osa_distances(word, candidates):
    """Damerau-Levenshtein (optimal string alignment) distances, vectorised over words.

    Args:
        word: a string.
        candidates: a list of strings.

    Returns:
        An int array, one distance per candidate.
    """
    if not candidates:
        return np.zeros(0, np.int64)
    lengths = np.fromiter((len(c) for c in candidates), np.int64, len(candidates))
    width = int(lengths.max())
    codes = np.full((len(candidates), width), -1, np.int64)
    for row, candidate in enumerate(candidates):
        codes[row, : len(candidate)] = [ord(ch) for ch in candidate]
    steps = np.arange(width + 1)
    previous2 = None
    previous = np.broadcast_to(steps, (len(candidates), width + 1)).copy()
    for i, ch in enumerate(word, start=1):
        ch = ord(ch)
        cost = (codes != ch).astype(np.int64)
        current = np.empty_like(previous)
        current[:, 0] = i
        # Deletion and substitution first; insertions are a running minimum.
        current[:, 1:] = np.minimum(previous[:, 1:] + 1, previous[:, :-1] + cost)
        if previous2 is not None and width > 1:
            swap = (codes[:, :-1] == ch) & (codes[:, 1:] == ord(word[i - 2]))
            current[:, 2:] = np.where(swap, np.minimum(current[:, 2:], previous2[:, :-2] + 1),
                                      current[:, 2:])
        current = np.minimum.accumulate(current - steps, axis=1) + steps
        previous2, previous = previous, current
    return previous[np.arange(len(candidates)), lengths]


class DeletesIndex:
    """SymSpell-style candidates: lexicon words within an edit distance of a word.

    Every word's first `prefix_length` characters, with up to `max_distance`
    characters deleted, point to the word; a query looks up its own deletes and
    keeps the words whose Damerau-Levenshtein (OSA) distance is small enough.

    Args:
        words: the lexicon words (a list; answers are indices into it).
        max_distance: the largest edit distance `lookup` answers.
        prefix_length: how much of each word the index keys on.
    """

    def __init__(self, words, max_distance=2, prefix_length=7):
        self.words = words
        self.max_distance = max_distance
        self.prefix_length = prefix_length
        index = {}
        by_prefix = {}
        for i, word in enumerate(words):
            by_prefix.setdefault(word[:prefix_length], []).append(i)
        for prefix, ids in by_prefix.items():
            for key in deletes(prefix, max_distance):
                index.setdefault(key, []).extend(ids)
        self.index = index

    def lookup(self, word, max_distance=None):
        """`[(word index, distance), ...]` of the lexicon words within `max_distance`."""
        max_distance = self.max_distance if max_distance is None else max_distance
        found = set()
        for key in deletes(word[: self.prefix_length], max_distance):
            found.update(self.index.get(key, ()))
        ids = [i for i in found if abs(len(self.words[i]) - len(word)) <= max_distance]
        distances = osa_distances(word, [self.words[i] for i in ids])
        return [(i, int(d)) for i, d in zip(ids, distances) if d <= max_distance]


class SpellingCorrector:
    """Corrects single words with an exported spelling model, on the device.

    Args:
        export_dir: the export folder (`model_<variant>.tflite`, `spelling.json`,
            `lexicon.txt`), or the training folder holding it as `export/`.
        variant: `"dynamic_int8"` (default), `"float32"`, `"float16"` or `"int8"`.
        num_threads: interpreter threads (a keyboard uses one).
        beam_width, prior_weight, length_penalty: override the decoding settings
            stored in `spelling.json` at training time (with the reranker on,
            `prior_weight` is its λ; the beam search keeps the stored one).
        edit_distance: candidates within this edit distance are reranked (0: the
            beam search alone, as before the reranker).
        input_bonus, distance_weight, max_candidates: the reranker's b, μ and
            candidate cap (defaults: the module constants, or spelling.json's
            "rerank").

    Attributes:
        vocabulary: `{word: count}`, every word `correct` can return.
    """

    def __init__(self, export_dir, variant=DEFAULT_VARIANT, num_threads=1, beam_width=None,
                 prior_weight=None, length_penalty=None, edit_distance=None, input_bonus=None,
                 max_candidates=None, distance_weight=None):
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
        rerank = settings.get("rerank", {})
        self.edit_distance = int(rerank.get("edit_distance", EDIT_DISTANCE)
                                 if edit_distance is None else edit_distance)
        # The beam search keeps its own λ (the one it was tuned with, alone).
        self.search_prior_weight = float(settings.get("prior_weight", 0.3))
        if self.edit_distance:
            default_width, default_prior = rerank.get("beam_width", BEAM_WIDTH), \
                rerank.get("prior_weight", PRIOR_WEIGHT)
        else:
            default_width, default_prior = settings.get("beam_width", 6), \
                self.search_prior_weight
        self.beam_width = int(beam_width or default_width)
        self.prior_weight = float(default_prior if prior_weight is None else prior_weight)
        if not self.edit_distance:
            self.search_prior_weight = self.prior_weight
        self.input_bonus = float(rerank.get("input_bonus", INPUT_BONUS)
                                 if input_bonus is None else input_bonus)
        self.distance_weight = float(rerank.get("distance_weight", DISTANCE_WEIGHT)
                                     if distance_weight is None else distance_weight)
        self.max_candidates = int(rerank.get("max_candidates", MAX_CANDIDATES)
                                  if max_candidates is None else max_candidates)
        self.length_penalty = float(settings.get("length_penalty", 0.0)
                                    if length_penalty is None else length_penalty)
        self.vocabulary = read_lexicon(export_dir / "lexicon.txt")
        self.trie = Trie(self.vocabulary, self.char_ids)
        # Words the model can spell (every character in its vocabulary), with their
        # log-frequencies, for the edit-distance candidates.
        self._words = [w for w in self.trie.words if w is not None]
        total = float(sum(self.vocabulary.values())) or 1.0
        self._word_logp = {w: float(np.log(max(self.vocabulary[w], 1) / total))
                           for w in self._words}
        self.index = DeletesIndex(self._words, self.edit_distance) if self.edit_distance else None
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

        Scores are log-probabilities plus λ·log-frequency, minus μ per edit, plus
        b for the input itself (higher is better; see the module docstring). The
        input is lower-cased; the answers follow its case (Title, UPPER).
        """
        text = word.strip()
        lowered = text.lower()
        if not any(c in self.char_ids for c in lowered):
            return []
        results = [(w, score) for w, score, _ in self.candidates(lowered, k)[:k]]
        if text[:1].isupper():
            shape = str.upper if len(text) > 1 and text.isupper() else str.capitalize
            results = [(shape(w), s) for w, s in results]
        return results

    def candidates(self, word, k=5):
        """Every candidate for a lower-case `word`, best first: `[(w, score, parts)]`.

        Candidates are the lexicon words within `edit_distance` of `word` (the
        `max_candidates` closest, then most frequent) and `word` itself when it is
        in the lexicon, or the beam search's words when no word is that close.
        Each is scored with the model's teacher-forced log P(w | word): score =
        log P_model + λ · log P_freq - μ · distance + b · [w == word]. `parts` is
        `(log P_model, log P_freq, distance or None)`, for tuning.
        """
        near = self.index.lookup(word) if self.index is not None else []
        if near:
            # Words within the edit distance exist: the beam search would add little
            # (0.2 points of held-out accuracy) for most of the time.
            found, (encoder_outputs, summary) = {}, self.encode(word)
        else:
            found, encoder_outputs, summary = self._search(word, k)
        extra = []
        if self.index is not None:
            near.sort(key=lambda item: (item[1], -self._word_logp[self._words[item[0]]]))
            distance = {self._words[i]: d for i, d in near}
            extra = [self._words[i] for i, _ in near[: self.max_candidates]]
            if word in self._word_logp and word not in extra:
                extra.append(word)
            extra = [w for w in extra if w not in found]
        else:
            distance = {}
        if extra:
            for w, logp in zip(extra, self._teacher_forced(encoder_outputs, summary, extra)):
                found[w] = float(logp)
        if self.edit_distance:
            far = [w for w in found if w not in distance]
            distance.update(zip(far, osa_distances(word, far).tolist()))
        scored = []
        for w, model_logp in found.items():
            prior = self._word_logp[w]
            score = self._score(model_logp, len(w) + 1, prior)
            if self.edit_distance:
                score -= self.distance_weight * distance[w]
                if w == word:
                    score += self.input_bonus
            scored.append((w, float(score), (model_logp, prior, distance.get(w))))
        scored.sort(key=lambda item: -item[1])
        return scored

    def _teacher_forced(self, encoder_outputs, summary, words):
        """log P_model(w | typo) of each word, one `decode_step` call per character
        position; words sharing a prefix share its rows."""
        logp = np.zeros(len(words))
        members = [list(range(len(words)))]
        tokens = np.array([self.start_id], np.int32)
        h = np.zeros((1, self.units), np.float32)
        c = np.zeros((1, self.units), np.float32)
        end, char_ids = self.end_id, self.char_ids
        step = 0
        while members:
            rows = len(members)
            out = self._decode(token=tokens, decoder_lstm_h=h, decoder_lstm_c=c,
                               encoder_outputs=np.repeat(encoder_outputs, rows, axis=0),
                               summary=np.repeat(summary, rows, axis=0))
            logprobs = log_softmax(out["logits"])
            next_members, next_tokens, sources = [], [], []
            for row, ids in enumerate(members):
                groups = {}
                for i in ids:
                    w = words[i]
                    if len(w) == step:
                        logp[i] += logprobs[row, end]
                    else:
                        char = char_ids[w[step]]
                        logp[i] += logprobs[row, char]
                        groups.setdefault(char, []).append(i)
                for char, group in groups.items():
                    next_members.append(group)
                    next_tokens.append(char)
                    sources.append(row)
            members = next_members
            tokens = np.array(next_tokens, np.int32)
            h = out["decoder_lstm_h"][sources]
            c = out["decoder_lstm_c"][sources]
            step += 1
        return logp

    def _search(self, word, k):
        """The beam search: `({word: log P_model}, encoder_outputs, summary)`."""
        trie, width = self.trie, self.beam_width
        encoder_outputs, summary = self.encode(word)
        single = encoder_outputs, summary
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
                    finished.append((self._score(model_score, step, trie.word_logp[node],
                                                 self.search_prior_weight), node,
                                     float(model_score)))
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
            ranks = self._score(totals, step, trie.best_logp[nodes], self.search_prior_weight)
            if len(finished) >= k:
                kth = sorted((item[0] for item in finished), reverse=True)[k - 1]
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
        return {trie.words[node]: logp for _, node, logp in finished}, *single

    def _score(self, model_logp, length, prior_logp, prior_weight=None):
        if self.length_penalty:
            model_logp = model_logp / (length ** self.length_penalty)
        prior_weight = self.prior_weight if prior_weight is None else prior_weight
        return model_logp + prior_weight * prior_logp


__all__ = ["DeletesIndex", "SpellingCorrector", "Trie", "osa_distances", "read_lexicon"]

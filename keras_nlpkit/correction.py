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
index built at load time, `DeletesIndex`) and the input itself when it is a lexicon
word or a known word (`known_words.txt`: more dictionary words, accepted when typed
but suggested only when no lexicon word is within distance 2). `encode` reads the
input once and `decode_step` scores every candidate teacher-forced, all candidates
in one batch per character (candidates sharing a prefix share a row), so

    score(w) = log P_model(w | typo) + λ · log P_freq(w) + γ · log P_channel(typo | w)
               - μ · distance(w) + b · [w = typo]

(`prior_weight`, `channel_weight`, `distance_weight`, `input_bonus`). P_channel is a
noisy channel (`ChannelModel`, `channel.json`): how likely each edit is, counted in
real misspellings. Up to 8 candidates are scored: the best by the same score without
the model. Exports without `channel.json` use γ = 0, μ = 7 and the 8 closest, then
most frequent words. When no word is that close, the beam search below proposes the
candidates. `edit_distance=0` turns the reranker off and leaves the beam search
alone (score = log P_model + λ · log P_freq).

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
# With a channel model (`channel.json` in the export): score = log P_model + λ·log P_freq
# + γ·log P_channel(typo | w) + b·[w = typo], the MAX_CANDIDATES best by λ·log P_freq +
# γ·log P_channel (the same score without the model) reranked. The distance penalty is
# then 0: the channel prices every edit. λ and γ were chosen on the 1,209 real
# (codespell) pairs of the /tmp/spfull run's heldout.tsv, which the channel model is not
# counted on: acc@1 .941 there (without the channel: .910), flat within ±0.5 point for
# λ in 0.8-2 and γ in 1.5-4; b, the cap and the smoothing were left as they were.
CHANNEL_PRIOR_WEIGHT = 1.2
CHANNEL_WEIGHT = 2.5
CHANNEL_DISTANCE_WEIGHT = 0.0


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
    return osa_distances_encoded(word, *character_codes(candidates))


def character_codes(words):
    """`(codes, lengths)`: the words' code points in a -1-padded int array, and lengths."""
    lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
    codes = np.full((len(words), max(int(lengths.max(initial=0)), 1)), -1, np.int32)
    for row, w in enumerate(words):
        codes[row, : len(w)] = [ord(ch) for ch in w]
    return codes, lengths


def osa_distances_encoded(word, codes, lengths):
    """`osa_distances` of words given as `character_codes` (rows of a larger array may
    be passed: columns past the longest length are ignored)."""
    if not len(lengths):
        return np.zeros(0, np.int64)
    width = max(int(lengths.max()), 1)
    codes = codes[:, :width]
    steps = np.arange(width + 1)
    previous2 = None
    previous = np.broadcast_to(steps, (len(lengths), width + 1)).copy()
    for i, ch in enumerate(word, start=1):
        ch = ord(ch)
        cost = (codes != ch).astype(np.int64)
        current = np.empty_like(previous)
        current[:, 0] = i
        # Deletion and substitution first; insertions are a running minimum.
        current[:, 1:] = np.minimum(previous[:, 1:] + 1, previous[:, :-1] + cost)
        if previous2 is not None and width > 1:
            swap = (codes[:, :-1] == ch) & (codes[:, 1:] == ord(word[i - 2]))
            if swap.any():
                rows, cols = np.nonzero(swap)
                current[rows, cols + 2] = np.minimum(current[rows, cols + 2],
                                                     previous2[rows, cols] + 1)
        current = np.minimum.accumulate(current - steps, axis=1) + steps
        previous2, previous = previous, current
    return previous[np.arange(len(lengths)), lengths]


def edit_operations(typo, word):
    """The edits that turn `word` into `typo`, from an optimal (fewest edits) OSA alignment.

    Returns `[(kind, a, b), ...]` in word order: `("sub", x, y)` x written y;
    `("del", p, x)` x (after p) left out; `("ins", p, y)` y typed after p; `("tra", x,
    y)` xy written yx. `p` is `"^"` at the start of the word.
    """
    # Align only what differs: the common prefix and suffix are kept as they are.
    start = 0
    while start < min(len(typo), len(word)) and typo[start] == word[start]:
        start += 1
    stop = 0
    while (stop < min(len(typo), len(word)) - start
           and typo[len(typo) - 1 - stop] == word[len(word) - 1 - stop]):
        stop += 1
    t, w = typo[start:len(typo) - stop], word[start:len(word) - stop]
    n, m = len(w), len(t)
    d = [[i + j if not i * j else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (w[i - 1] != t[j - 1]))
            if i > 1 and j > 1 and w[i - 1] == t[j - 2] and w[i - 2] == t[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)

    def before(i):  # the character of `word` before w[i - 1]
        return word[start + i - 2] if start + i >= 2 else "^"

    edits, i, j = [], n, m
    while i or j:
        if i and j and w[i - 1] == t[j - 1] and d[i][j] == d[i - 1][j - 1]:
            i, j = i - 1, j - 1
        elif (i > 1 and j > 1 and w[i - 1] == t[j - 2] and w[i - 2] == t[j - 1]
              and d[i][j] == d[i - 2][j - 2] + 1):
            edits.append(("tra", w[i - 2], w[i - 1]))
            i, j = i - 2, j - 2
        elif i and j and d[i][j] == d[i - 1][j - 1] + 1:
            edits.append(("sub", w[i - 1], t[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            edits.append(("del", before(i), w[i - 1]))
            i -= 1
        else:
            edits.append(("ins", before(i + 1), t[j - 1]))
            j -= 1
    return edits[::-1]


class ChannelModel:
    """How people misspell: log P(typo | word), a noisy channel over single-character edits.

    The edit probabilities are counted in real (misspelling, word) pairs, as in
    Kernighan, Church & Gale (1990): P(x written y) = sub[x, y] / count(x);
    P(x after p left out) = del[p, x] / count(px); P(y typed after p) = ins[p, y] /
    count(p); P(xy written yx) = tra[x, y] / count(xy), the counts taken over the
    correct words of the pairs, add-`alpha` smoothed. log P(typo | word) is the sum
    over the most probable alignment (a weighted Damerau-Levenshtein / OSA
    alignment), so a word is 0 away from itself and every edit costs what it is
    rare: "e" for "a" costs far less than "q" for "a".

    Args:
        alphabet: the characters (other characters share one symbol).
        counts: `{"sub", "del", "ins", "tra": (A, A) arrays, "unigram": (A,),
            "bigram": (A, A)}` over the symbols `"^" + alphabet + "?"` (A of them).
        alpha: add-alpha smoothing of every edit count.
    """

    START = "^"

    def __init__(self, alphabet, counts, alpha=0.5):
        self.alphabet = alphabet
        self.alpha = float(alpha)
        self.symbols = {c: i for i, c in enumerate(self.START + alphabet)}
        self.other = len(alphabet) + 1
        size = len(alphabet) + 2
        self.counts = {name: np.asarray(counts[name], np.float64)
                       for name in ("sub", "del", "ins", "tra", "unigram", "bigram")}
        for name, value in self.counts.items():
            expected = (size,) if name == "unigram" else (size, size)
            if value.shape != expected:
                raise ValueError(f"`counts[{name!r}]` must have the shape {expected} for "
                                 f"{size} symbols. Received: {value.shape}")
        c, a = self.counts, self.alpha

        def cost(edits, context):
            return -np.log((edits + a) / (context + a * size))

        unigram = c["unigram"][:, None]
        self.sub_cost = cost(c["sub"], unigram)
        np.fill_diagonal(self.sub_cost, 0.0)
        self.ins_cost = cost(c["ins"], unigram)
        self.del_cost = cost(c["del"], c["bigram"])
        self.tra_cost = cost(c["tra"], c["bigram"])
        # By the typed character y: the costs of keeping or substituting each character
        # for y, and of typing y after it, next to the unit costs of the same edits.
        self._sub_by_typed = np.ascontiguousarray(np.stack(
            [self.sub_cost.T, 1.0 - np.eye(size)], axis=1))
        self._ins_by_typed = np.ascontiguousarray(np.stack(
            [self.ins_cost.T, np.ones((size, size))], axis=1))

    def codes(self, text):
        return [self.symbols.get(ch, self.other) for ch in text]

    @classmethod
    def from_pairs(cls, pairs, alphabet, max_distance=2, alpha=0.5):
        """Counts the edits of (misspelling, word) pairs `max_distance` or fewer edits apart."""
        model = cls(alphabet, {name: np.zeros((len(alphabet) + 2,) * (1 + (name != "unigram")))
                               for name in ("sub", "del", "ins", "tra", "unigram", "bigram")},
                    alpha)
        c = model.counts
        used = 0
        for typo, word in pairs:
            edits = edit_operations(typo, word)
            if not edits or len(edits) > max_distance:
                continue
            used += 1
            for kind, a, b in edits:
                c[kind][model.codes(a)[0], model.codes(b)[0]] += 1
            codes = model.codes(cls.START + word)
            np.add.at(c["unigram"], codes, 1)
            np.add.at(c["bigram"], (codes[:-1], codes[1:]), 1)
        model = cls(alphabet, c, alpha)
        model.pairs = used
        return model

    def to_json(self):
        return {"alphabet": self.alphabet, "alpha": self.alpha,
                "pairs": int(getattr(self, "pairs", 0)),
                "counts": {name: value.astype(np.int64).tolist()
                           for name, value in self.counts.items()}}

    @classmethod
    def from_json(cls, data):
        model = cls(data["alphabet"], data["counts"], data.get("alpha", 0.5))
        model.pairs = data.get("pairs", 0)
        return model

    def encode_words(self, words):
        """`(codes, lengths)` of `words`: a padded int array of symbol ids and the lengths."""
        lengths = np.fromiter((len(w) for w in words), np.int64, len(words))
        codes = np.full((len(words), max(int(lengths.max(initial=0)), 1)), self.other, np.int64)
        for row, w in enumerate(words):
            codes[row, : len(w)] = self.codes(w)
        return codes, lengths

    def log_probs(self, typo, words):
        """log P(typo | w) for each of `words` (an array), all words at once."""
        if not len(words):
            return np.zeros(0)
        return self.log_probs_encoded(typo, *self.encode_words(words))

    def log_probs_encoded(self, typo, codes, lengths, with_distances=False):
        """`log_probs` of words given as `encode_words` codes (rows of a larger array
        may be passed: columns past the longest length are ignored); with
        `with_distances`, also their OSA distances (`osa_distances`), from the same
        pass: `(log_probs, distances)`.

        The weighted OSA alignment, one row of the table per character of `typo`
        and vectorised over the words: deletions (moving along a word) are a running
        minimum over cumulative deletion costs.
        """
        n = len(lengths)
        if not n:
            return (np.zeros(0), np.zeros(0, np.int64)) if with_distances else np.zeros(0)
        width = max(int(lengths.max()), 1)
        # Two tables side by side, [0] with the channel's costs and [1] with unit costs
        # (the OSA distance), of shape (2, prefix length j + 1, word): row j + 1 is
        # w[:j], and row 0 is +inf, so that one expression covers every row.
        shifted = np.zeros((width + 1, n), codes.dtype)  # shifted[j] = w[j - 1] ("^": 0)
        shifted[1:] = codes[:, :width].T
        codes = shifted[1:]
        deleted = np.empty((2, width + 1, n))
        deleted[0, 0] = 0.0
        np.cumsum(self.del_cost[shifted[:-1], codes], axis=0, out=deleted[0, 1:])
        deleted[1] = np.arange(width + 1)[:, None]
        table = np.empty((2, width + 2, n))
        table[:, 0] = np.inf
        table[:, 1:] = deleted  # typed nothing yet: every character of w left out
        before = None  # the table one typed character back, for transpositions
        symbols = len(self.symbols) + 1
        pairs = codes[:-1] * symbols + codes[1:]  # (w[j], w[j + 1]), to find swaps
        has_pair = np.zeros(symbols * symbols, bool)
        has_pair[pairs] = True
        typed = self.codes(typo)
        for i, y in enumerate(typed):
            # Substitute (or keep) w[j - 1] for y, or type y after w[j - 1] (or "^").
            base = np.minimum(table[:, :-1] + self._sub_by_typed[y].take(shifted, axis=1),
                              table[:, 1:] + self._ins_by_typed[y].take(shifted, axis=1))
            if i and has_pair[y * symbols + typed[i - 1]]:  # w[j - 2:j] is typo[i - 1:i + 1]
                cols, rows = np.nonzero(pairs == y * symbols + typed[i - 1])
                swapped = before[:, cols + 1, rows]
                swapped[0] += self.tra_cost[codes[cols, rows], codes[cols + 1, rows]]
                swapped[1] += 1
                base[:, cols + 2, rows] = np.minimum(base[:, cols + 2, rows], swapped)
            # Leaving out w[j - 1] (a deletion) is a running minimum down the rows: a
            # prefix minimum of base - deleted, in doubling steps.
            base -= deleted
            step = 1
            while step <= width:
                np.minimum(base[:, step:], base[:, :-step], out=base[:, step:])
                step *= 2
            before, table = table, np.empty_like(table)
            table[:, 0] = np.inf
            np.add(base, deleted, out=table[:, 1:])
        words = np.arange(n)
        logp = -table[0, lengths + 1, words]
        if with_distances:
            return logp, np.rint(table[1, lengths + 1, words]).astype(np.int64)
        return logp


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
        self.codes, self.lengths = character_codes(words)

    def reachable(self, word, max_distance=None):
        """The indices of the words `lookup` measures: sharing a delete with `word`, and
        of a length within `max_distance` (an int array)."""
        max_distance = self.max_distance if max_distance is None else max_distance
        found = set()
        for key in deletes(word[: self.prefix_length], max_distance):
            found.update(self.index.get(key, ()))
        ids = np.fromiter(found, np.int64, len(found))
        return ids[np.abs(self.lengths[ids] - len(word)) <= max_distance]

    def lookup(self, word, max_distance=None):
        """`[(word index, distance), ...]` of the lexicon words within `max_distance`."""
        max_distance = self.max_distance if max_distance is None else max_distance
        ids = self.reachable(word, max_distance)
        distances = osa_distances_encoded(word, self.codes[ids], self.lengths[ids])
        keep = distances <= max_distance
        return list(zip(ids[keep].tolist(), distances[keep].tolist()))


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
        channel_weight: γ, the weight of the channel model's log P(typo | w)
            (used when the export has `channel.json`; 0 turns it off).

    Attributes:
        vocabulary: `{word: count}`, the lexicon: the words `correct` suggests.
        known: `{word: count}`, more words accepted as correctly spelled
            (`known_words.txt`): typed, they are candidates like lexicon words;
            suggested for another input only when no lexicon word is within
            `edit_distance` of it.
        channel: the `ChannelModel` of `channel.json`, or None.
    """

    def __init__(self, export_dir, variant=DEFAULT_VARIANT, num_threads=1, beam_width=None,
                 prior_weight=None, length_penalty=None, edit_distance=None, input_bonus=None,
                 max_candidates=None, distance_weight=None, channel_weight=None):
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
        channel_path = export_dir / "channel.json"
        self.channel = ChannelModel.from_json(json.loads(channel_path.read_text(
            encoding="utf-8"))) if channel_path.is_file() else None
        self.edit_distance = int(rerank.get("edit_distance", EDIT_DISTANCE)
                                 if edit_distance is None else edit_distance)
        self.channel_weight = float(rerank.get("channel_weight", CHANNEL_WEIGHT)
                                    if channel_weight is None else channel_weight)
        if self.channel is None or not self.edit_distance:
            self.channel_weight = 0.0  # the beam search alone keeps its own score
        # The beam search keeps its own λ (the one it was tuned with, alone).
        self.search_prior_weight = float(settings.get("prior_weight", 0.3))
        if self.edit_distance:
            default_width, default_prior = rerank.get("beam_width", BEAM_WIDTH), \
                rerank.get("prior_weight",
                           CHANNEL_PRIOR_WEIGHT if self.channel_weight else PRIOR_WEIGHT)
        else:
            default_width, default_prior = settings.get("beam_width", 6), \
                self.search_prior_weight
        self.beam_width = int(beam_width or default_width)
        self.prior_weight = float(default_prior if prior_weight is None else prior_weight)
        if not self.edit_distance:
            self.search_prior_weight = self.prior_weight
        self.input_bonus = float(rerank.get("input_bonus", INPUT_BONUS)
                                 if input_bonus is None else input_bonus)
        self.distance_weight = float(rerank.get(
            "distance_weight", CHANNEL_DISTANCE_WEIGHT if self.channel_weight else DISTANCE_WEIGHT)
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
        known_path = export_dir / "known_words.txt"
        self.known = {w: n for w, n in read_lexicon(known_path).items()
                      if w not in self._word_logp and all(c in self.char_ids for c in w)} \
            if known_path.is_file() else {}
        # Counted on the same scale as the lexicon (both are symspell counts).
        self._known_logp = {w: float(np.log(max(n, 1) / total)) for w, n in self.known.items()}
        # Candidates come from the lexicon; from the known words only when no lexicon
        # word is within the edit distance (before the beam search).
        self._shelves = [self._shelf(self._words, self._word_logp)]
        if self.known:
            self._shelves.append(self._shelf(list(self.known), self._known_logp))
        self.index = self._shelves[0]["index"]
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
        `max_candidates` best: by λ · log P_freq + γ · log P_channel with a channel
        model, else the closest, then most frequent) and `word` itself when it is a
        lexicon or known word, or the beam search's words when no word is that
        close. Each is scored with the model's teacher-forced log P(w | word):
        score = log P_model + λ · log P_freq + γ · log P_channel - μ · distance +
        b · [w == word]. `parts` is `(log P_model, log P_freq, distance or None,
        log P_channel or None)`, for tuning.
        """
        typed = self.index is not None and (word in self._word_logp or word in self._known_logp)
        # The typed word, when it is a word, is one of the max_candidates.
        extra, distance, channel = self._near(word, self.max_candidates - typed)
        if extra or typed:
            # Words within the edit distance exist: the beam search would add little
            # (0.2 points of held-out accuracy) for most of the time.
            found, (encoder_outputs, summary) = {}, self.encode(word)
        else:
            found, encoder_outputs, summary = self._search(word, k)
        if typed:
            extra.append(word)
            distance[word] = 0
            channel[word] = 0.0
        if extra:
            for w, logp in zip(extra, self._teacher_forced(encoder_outputs, summary, extra)):
                found[w] = float(logp)
        if self.edit_distance:
            far = [w for w in found if w not in distance]
            distance.update(zip(far, osa_distances(word, far).tolist()))
        if self.channel_weight:
            far = [w for w in found if w not in channel]
            channel.update(zip(far, self.channel.log_probs(word, far).tolist()))
        scored = []
        for w, model_logp in found.items():
            prior = self._word_logp.get(w)
            prior = self._known_logp[w] if prior is None else prior
            score = self._score(model_logp, len(w) + 1, prior)
            if self.edit_distance:
                score -= self.distance_weight * distance[w]
                if w == word:
                    score += self.input_bonus
            if self.channel_weight:
                score += self.channel_weight * channel[w]
            scored.append((w, float(score), (model_logp, prior, distance.get(w), channel.get(w))))
        scored.sort(key=lambda item: -item[1])
        return scored

    def _shelf(self, words, logp):
        """What `_near` needs to search `words` (log-frequencies `logp`)."""
        shelf = {"words": words, "logp": logp, "index": None}
        if self.edit_distance:
            shelf["index"] = DeletesIndex(words, self.edit_distance)
        if self.channel is not None:
            shelf["codes"], shelf["lengths"] = self.channel.encode_words(words)
            shelf["logp_array"] = np.array([logp[w] for w in words])
        return shelf

    def _near(self, word, count):
        """The `count` best words within `edit_distance` of `word`, itself left out:
        `([w, ...], {w: distance}, {w: log P_channel})`, best first (by λ · log P_freq
        + γ · log P_channel - μ · distance with a channel, else the closest, then most
        frequent). Lexicon words, or known words when no lexicon word is that close."""
        if self.index is None or count <= 0:
            return [], {}, {}
        for shelf in self._shelves:
            found = self._near_in(shelf, word, count)
            if found[0]:
                break
        return found

    def _near_in(self, shelf, word, count):
        words, index = shelf["words"], shelf["index"]
        if not self.channel_weight:
            logp = shelf["logp"]
            near = [(i, d) for i, d in index.lookup(word) if words[i] != word]
            near.sort(key=lambda item: (item[1], -logp[words[item[0]]]))
            return [words[i] for i, _ in near[:count]], {words[i]: d for i, d in near[:count]}, {}
        # The edit distances and log P_channel of the reachable words in one pass.
        ids = index.reachable(word)
        logp, distances = self.channel.log_probs_encoded(
            word, shelf["codes"][ids], shelf["lengths"][ids], with_distances=True)
        keep = np.flatnonzero(distances <= self.edit_distance)
        ids, logp, distances = ids[keep], logp[keep], distances[keep]
        rank = (self.prior_weight * shelf["logp_array"][ids] + self.channel_weight * logp
                - self.distance_weight * distances)
        order = [j for j in np.argsort(-rank, kind="stable")[: count + 1].tolist()
                 if words[ids[j]] != word][:count]
        found = [words[ids[j]] for j in order]
        return (found, dict(zip(found, distances[order].tolist())),
                dict(zip(found, logp[order].tolist())))

    def _teacher_forced(self, encoder_outputs, summary, words):
        """log P_model(w | typo) of each word, one `decode_step` call per character
        position; words sharing a prefix share its rows."""
        end, char_ids = self.end_id, self.char_ids
        spelt = [[char_ids[ch] for ch in w] + [end] for w in words]  # the targets
        members = [list(range(len(words)))]
        tokens = np.array([self.start_id], np.int32)
        h = np.zeros((1, self.units), np.float32)
        c = np.zeros((1, self.units), np.float32)
        # Never more rows than words: repeat the encoding once, then take leading rows.
        encoder_outputs = np.repeat(encoder_outputs, len(words), axis=0)
        summary = np.repeat(summary, len(words), axis=0)
        # The logits of every step, and which (word, row of them, character) to read:
        # normalised and summed once at the end.
        logits, word_ids, word_rows, word_chars = [], [], [], []
        step = offset = 0
        while members:
            rows = len(members)
            out = self._decode(token=tokens, decoder_lstm_h=h, decoder_lstm_c=c,
                               encoder_outputs=encoder_outputs[:rows], summary=summary[:rows])
            logits.append(out["logits"])
            next_members, next_tokens, sources = [], [], []
            for row, ids in enumerate(members):
                groups = {}
                for i in ids:
                    char = spelt[i][step]
                    word_ids.append(i)
                    word_rows.append(offset + row)
                    word_chars.append(char)
                    if char != end:
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
            offset += rows
        logits = np.concatenate(logits).astype(np.float64)
        top = logits.max(axis=1)
        normaliser = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        picked = logits[word_rows, word_chars] - normaliser[word_rows]
        return np.bincount(word_ids, weights=picked, minlength=len(words))

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


__all__ = ["ChannelModel", "DeletesIndex", "SpellingCorrector", "Trie", "edit_operations",
           "osa_distances", "read_lexicon"]

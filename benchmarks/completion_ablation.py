"""Query-completion ablation: what moves KSR@3 and next-word@3 against the trigram peer.

Every row is measured with the library's `simulate_typing` (METRICS.md) on the same
queries as the stupid-backoff trigram peer, in the same run. The network is the
exported int8 TFLite model read through `QueryCompleter` (its vocabulary
distribution only); everything the rows change (the count model, how the two are
mixed, how `<unk>` is spread, the lexicon, extra query text) is computed here, so
the script needs nothing but a trained `nlpkit train query-completion` folder.

    python benchmarks/completion_ablation.py --model runs/queries \\
        --queries runs/queries/data/dev.txt [--extra-queries FILE ...] \\
        [--rows baseline,mkn,dictionary,...] [--limit N] [--json OUT]

Rows (each alone on top of `baseline`; `all` stacks the ones named in --all):
  baseline      the shipped runtime: constant weight 0.65, absolute discount 0.75,
                bigram and trigram raw counts, `<unk>` spread by count
  weight=X      another constant weight
  bins          a weight per (highest n-gram order matched, log2 count of that context)
                (table from --bins-json, e.g. one fitted by EM on held-out TRAIN)
  renorm        each component renormalised over the words matching the typed prefix
  mkn           interpolated modified Kneser-Ney: continuation counts one level down,
                three discounts per level from the count-of-counts (Chen & Goodman)
  4gram         4-gram counts (with mkn)
  oov-context   `<unk>` spread like the counts spread their mass over OOV words
  oracle        not a completer: each word typed with whichever constant weight in
                ORACLE_WEIGHTS (0 = the network alone, 1 = the counts alone) costs it
                the fewest keystrokes, chosen in hindsight. An upper bound for any
                context- or prefix-dependent mixing of these two models.
  savings       the strip ranked by expected keystrokes saved, p(w) * (len(w) - typed),
                instead of by p(w) (the peer is measured ranked the same way too)
  dictionary    the lexicon extended with symspellpy's English frequency list
                (words not in training; scaled priors below every training word)
  extra         --extra-queries added to the counts and the lexicon (the peer is
                measured both on the training split alone and with the same extra text)
  all           the rows named by --all together
"""

import argparse
import bisect
import collections
import json
import math
import os
import sys
import time

import numpy as np

from keras_nlpkit.evaluation.metrics import simulate_typing
from keras_nlpkit.evaluation.trigram_completer import TrigramCompleter
from keras_nlpkit.ondevice.lexicon import Lexicon
from keras_nlpkit.ondevice.prefix_completer import top_in_range
from keras_nlpkit.ondevice.query_completer import QueryCompleter
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer
from keras_nlpkit.text.queries import read_queries
from keras_nlpkit.text.queries import word_counts

START, END = "<s>", "</s>"


def count_ngrams(queries, order):
    """Counts of every 1..order-gram of `<s>`*(order-1) query `</s>` (as the recipe's)."""
    counts = collections.Counter()
    for query in queries:
        words = [START] * (order - 1) + query.split() + [END]
        for n in range(1, order + 1):
            for i in range(order - 1, len(words)):
                counts[tuple(words[i - n + 1 : i + 1])] += 1
    return counts


class SortedLexicon:
    def __init__(self, counts):
        self.words = sorted(counts)
        self.counts = np.asarray([counts[w] for w in self.words], dtype=np.float64)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.lengths = np.asarray([len(w) for w in self.words], dtype=np.float64)

    def __len__(self):
        return len(self.words)

    def range(self, prefix):
        if not prefix:
            return 0, len(self.words)
        lo = bisect.bisect_left(self.words, prefix)
        return lo, bisect.bisect_left(self.words, prefix + "\U0010ffff", lo)


class CountModel:
    """Interpolated absolute discounting over the lexicon, any order.

    discount 0.75 / kn=False / order 3 is the shipped `InterpolatedNgram`; "mkn" with
    kn=True is interpolated modified Kneser-Ney. `stats` of a context: (highest order
    matched, count of that context, its distinct followers).
    """

    def __init__(self, lexicon, queries, order=3, discount=0.75, kn=False, prior=None):
        self.lexicon, self.order, self.top = lexicon, order, order - 1
        counts = count_ngrams(queries, order)
        raw = collections.defaultdict(dict)
        for gram, c in counts.items():
            if len(gram) >= 2:
                raw[gram[:-1]][gram[-1]] = c
        if kn:  # continuation counts below the top level (contexts not starting with <s>)
            cont = collections.defaultdict(collections.Counter)
            for gram in counts:
                if len(gram) >= 3 and gram[1] != START:
                    cont[gram[1:-1]][gram[-1]] += 1
            for ctx in list(raw):
                if len(ctx) < self.top and ctx[0] != START and ctx in cont:
                    raw[ctx] = dict(cont[ctx])
        self.followers = dict(raw)
        self.discounts = {}
        for length in range(1, self.top + 1):
            if discount == "mkn":
                cc = collections.Counter(
                    c
                    for ctx, f in self.followers.items()
                    if len(ctx) == length
                    for c in f.values()
                    if c <= 4
                )
                n1, n2, n3, n4 = (cc[i] for i in (1, 2, 3, 4))
                y = n1 / (n1 + 2 * n2)
                self.discounts[length] = (
                    1 - 2 * y * n2 / n1,
                    2 - 3 * y * n3 / n2,
                    3 - 4 * y * n4 / n3,
                )
            else:
                self.discounts[length] = (discount,) * 3
        left = np.zeros(len(lexicon))
        for gram in counts:
            if len(gram) == 2 and gram[-1] in lexicon.index:
                left[lexicon.index[gram[-1]]] += 1
        if prior is not None:
            left = left + prior
        left += 1e-3
        self.unigram = left / left.sum()
        self._tables = {}

    def _table(self, ctx):
        t = self._tables.get(ctx)
        if t is None:
            fol = self.followers[ctx]
            d1, d2, d3 = self.discounts[len(ctx)]

            def d(c):
                return np.where(c == 1, d1, np.where(c == 2, d2, d3))

            total = float(sum(fol.values()))
            known = [(self.lexicon.index[w], c) for w, c in fol.items() if w in self.lexicon.index]
            index = np.asarray([i for i, _ in known], dtype=np.int64)
            c = np.asarray([c for _, c in known], dtype=np.float64)
            allc = np.asarray(list(fol.values()), dtype=np.float64)
            t = self._tables[ctx] = (
                index,
                (c - d(c)) / total,
                float(d(allc).sum()) / total,
                total,
                len(fol),
            )
        return t

    def probabilities(self, previous_words):
        context = (START,) * self.top + tuple(previous_words)
        p, stats = self.unigram, (0, 0.0, 0)
        for n in range(1, self.top + 1):
            key = context[len(context) - n :]
            if key in self.followers:
                index, shares, backoff, total, distinct = self._table(key)
                p = p * backoff
                p[index] += shares
                stats = (n, total, distinct)
        return p, stats


def bin_of(stats):
    matched, total, _ = stats
    return f"{matched},{min(int(math.log2(total)), 7) if total else -1}"


class Completer:
    """The network (int8 TFLite, via `QueryCompleter`) mixed with a `CountModel`."""

    def __init__(
        self,
        network,
        lexicon,
        counts,
        weight=0.65,
        bins=None,
        renorm=False,
        oov="count",
        savings=False,
    ):
        self.network, self.lexicon, self.counts = network, lexicon, counts
        self.weight, self.bins, self.renorm, self.oov = weight, bins, renorm, oov
        self.savings = savings
        tok = network.tokenizer
        ids = np.asarray([tok.token_id(w) for w in lexicon.words])
        self.ids, self.oov_mask = ids, ids == WordTokenizer.unknown_id
        share = np.where(self.oov_mask, np.maximum(lexicon.counts, 1e-9), 0.0)
        self.count_share = share / share.sum()
        self._last = (None, None)

    def components(self, prev):
        if self._last[0] != prev:
            pv = np.exp(network_logprobs(self.network, prev))
            pc, stats = self.counts.probabilities(prev)
            share = self.count_share
            if self.oov == "context":
                s = np.where(self.oov_mask, pc, 0.0)
                share = s / s.sum()
            pn = np.where(self.oov_mask, pv[WordTokenizer.unknown_id] * share, pv[self.ids])
            cum = (np.concatenate([[0.0], np.cumsum(pn)]), np.concatenate([[0.0], np.cumsum(pc)]))
            self._last = (prev, (pn, pc, stats, cum))
        return self._last[1]

    def word_logprob(self, previous_words, word):
        """log p(word | previous words, the next token is a lexicon word): the strip's
        mixture at an empty prefix, renormalised over the lexicon (`</s>` and words
        outside it are not shown, so they are left out of the perplexity)."""
        pn, pc, stats, _ = self.components(tuple(previous_words))
        lam = self.weight if self.bins is None else self.bins.get(bin_of(stats), self.weight)
        mixed = (1 - lam) * pn + lam * pc
        return math.log(mixed[self.lexicon.index[word]] / mixed.sum())

    def suggest(self, previous_words, prefix, k=3):
        pn, pc, stats, (cn, cc) = self.components(tuple(previous_words))
        lo, hi = self.lexicon.range(prefix)
        if hi <= lo:
            return []
        zn = zc = 1.0
        if self.renorm:
            zn, zc = max(cn[hi] - cn[lo], 1e-300), max(cc[hi] - cc[lo], 1e-300)
        lam = self.weight if self.bins is None else self.bins.get(bin_of(stats), self.weight)
        s = np.log(np.maximum((1 - lam) * pn[lo:hi] / zn + lam * pc[lo:hi] / zc, 1e-300))
        if self.savings:
            s = s + keystrokes_saved(self.lexicon.lengths[lo:hi], len(prefix))
        return [self.lexicon.words[lo + i] for i in top_in_range(s, 0, hi - lo, k)]


def keystrokes_saved(lengths, typed):
    """log of what tapping each word saves: its untyped characters and the space, less
    the tap (a word already typed in full still counts half a keystroke, so it stays
    rankable)."""
    return np.log(np.maximum(lengths - typed, 0.5))


def peer_by_savings(peer):
    """`suggest(previous, prefix, k)` of the peer, its strip ranked by expected
    keystrokes saved (its scores as log-probabilities)."""
    words = peer.lexicon.words
    lengths = np.asarray([len(words[i]) for i in range(len(words))], dtype=np.float64)

    def suggest(previous, prefix, k):
        lo, hi = peer.lexicon.range(prefix)
        if hi <= lo:
            return []
        s = peer.scores(tuple(previous))[lo:hi] + keystrokes_saved(lengths[lo:hi], len(prefix))
        return [words[lo + i] for i in top_in_range(s, 0, hi - lo, k)]

    return suggest


def network_logprobs(network, prev):
    return network.next_word_logprobs(tuple(prev))


def dictionary_prior(known, size, scale):
    """symspellpy's English frequency list, words not in `known`: {word: prior in (0, scale]}."""
    import symspellpy

    path = os.path.join(os.path.dirname(symspellpy.__file__), "frequency_dictionary_en_82_765.txt")
    freq = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            w, c = line.split()
            freq[w] = int(c)
    new = [w for w in sorted(freq, key=lambda w: (-freq[w], w)) if w not in known][: size or None]
    return {w: scale * freq[w] / freq[new[0]] for w in new}


def peer_with_dictionary(queries, size, scale):
    """The trigram peer with the same dictionary words in its lexicon, their unigram
    score from the same pseudo-counts (below every training word)."""
    peer = TrigramCompleter(queries)
    counts = dict(word_counts(queries))
    counts.update(dictionary_prior(counts, size, scale))
    words = sorted(counts)
    peer.lexicon = Lexicon(words, [counts[w] for w in words])
    peer.index = {w: i for i, w in enumerate(words)}  # the peer's word -> lexicon index
    peer.unigram_scores = math.log(peer.backoff**2) + np.log(peer.lexicon.counts / peer.total)
    return peer


def measure(suggest, queries, k):
    r = simulate_typing(queries, lambda prev, prefix: suggest(prev, prefix, k), k)
    return {
        "ksr": r["ksr"],
        "next_word@1": r["next_word_accuracy@1"],
        "next_word@3": r[f"next_word_accuracy@{k}"],
    }


def lexicon_perplexity(completer, queries):
    """exp of the mean -log p(w | previous words) over the query words in the
    completer's lexicon (`Completer.word_logprob`), and the share of words covered."""
    total, covered, count = 0.0, 0, 0
    for query in queries:
        words = query.split()
        for i, word in enumerate(words):
            count += 1
            if word in completer.lexicon.index:
                total -= completer.word_logprob(words[:i], word)
                covered += 1
    return round(math.exp(total / covered), 2), round(covered / count, 4)


def fmt(x):
    return "–" if x is None else f"{x:.4f}"


ORACLE_WEIGHTS = (0.0, 0.2, 0.4, 0.65, 0.8, 1.0)


def tapped_at(suggest, previous, word, k):
    """How many characters of `word` are typed before it is shown (and tapped), or None
    if it never is: `simulate_typing`'s loop over one word (METRICS.md)."""
    for p in range(len(word)):
        if word in suggest(previous, word[:p], k)[:k]:
            return p
    return None


def oracle(completers, queries, k):
    """KSR and next-word@k when every word takes, in hindsight, whichever completer
    types it in the fewest keystrokes (the context before it is the query's own, so
    words are independent and the per-word choice is the best any switching rule
    between these completers could do)."""
    keystrokes = characters = words = nextk = 0
    for query in queries:
        tokens = query.split()
        characters += len(" ".join(tokens))
        for i, word in enumerate(tokens):
            taps = [tapped_at(c.suggest, tuple(tokens[:i]), word, k) for c in completers]
            typed = len(word) + (0 if i == len(tokens) - 1 else 1)  # typed out, no tap
            keystrokes += min(typed if p is None else p + 1 for p in taps)
            nextk += 0 in taps  # shown before its first character
            words += 1
    return {"ksr": 1 - keystrokes / characters, "next_word@1": None, "next_word@3": nextk / words}


DEFAULT_ROWS = "baseline,weight=0,weight=1,mkn,4gram,renorm,oov-context,dictionary,extra,all"


def strip_of(peer):
    """`suggest(previous, prefix, k)` of a `PrefixCompleter` (the peer), words only."""
    return lambda previous, prefix, k: [w for w, _ in peer.suggest_words(previous, prefix, k)]


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", required=True, help="a query-completion training folder")
    p.add_argument("--queries", required=True, help="the dev queries (e.g. DIR/data/dev.txt)")
    p.add_argument("--train", help="the training split (default: DIR/data/train.txt)")
    p.add_argument("--extra-queries", nargs="*", default=[], help="more real query text")
    p.add_argument("--rows", default=DEFAULT_ROWS)
    p.add_argument("--all", default="mkn,dictionary,extra", help="the rows stacked by `all`")
    p.add_argument("--bins-json", help='{"order,log2count": weight} for the `bins` row')
    p.add_argument("--dictionary-size", type=int, default=0, help="0: every word")
    p.add_argument("--dictionary-scale", type=float, default=0.1)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--limit", type=int)
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)

    queries = read_queries([args.queries], argument="--queries")[: args.limit or None]
    train = read_queries([args.train or os.path.join(args.model, "data", "train.txt")])
    dev = set(queries)
    extra = [q for f in args.extra_queries for q in read_queries([f]) if q not in dev]
    network = QueryCompleter(args.model, ngram_weight=0.0, cache_size=64)
    tflite = network.model.path
    bins = json.load(open(args.bins_json)) if args.bins_json else None

    peer = {}
    peer_train = TrigramCompleter(train)
    peer["train"] = measure(strip_of(peer_train), queries, args.k)
    print(f"peer (stupid-backoff trigram, training split): {peer['train']}", flush=True)
    if "savings" in args.rows.split(",") or "savings" in args.all.split(","):
        peer["train+savings"] = measure(peer_by_savings(peer_train), queries, args.k)
        print(f"peer (trigram ranked by keystrokes saved): {peer['train+savings']}", flush=True)
    if extra:
        peer_extra = TrigramCompleter(train + extra)
        peer["train+extra"] = measure(strip_of(peer_extra), queries, args.k)
        print(f"peer (trigram, training split + extra): {peer['train+extra']}", flush=True)

    rows_wanted = args.rows.split(",")
    wants_dictionary = any(r == "dictionary" for r in rows_wanted) or (
        "all" in rows_wanted and "dictionary" in args.all.split(",")
    )
    if wants_dictionary:
        for name, text in (("train+dictionary", train), ("train+extra+dictionary", train + extra)):
            if name == "train+extra+dictionary" and not extra:
                continue
            peer_d = peer_with_dictionary(text, args.dictionary_size, args.dictionary_scale)
            peer[name] = measure(strip_of(peer_d), queries, args.k)
            print(f"peer ({name}): {peer[name]}", flush=True)

    def build(features):
        text = train + (extra if "extra" in features else [])
        lex = dict(word_counts(text))
        prior = None
        if "dictionary" in features:
            add = dictionary_prior(lex, args.dictionary_size, args.dictionary_scale)
            lex.update(add)
        lexicon = SortedLexicon(lex)
        if "dictionary" in features:
            prior = np.asarray([add.get(w, 0.0) for w in lexicon.words])
        mkn = "mkn" in features or "4gram" in features
        counts = CountModel(
            lexicon,
            text,
            order=4 if "4gram" in features else 3,
            discount="mkn" if mkn else 0.75,
            kn=mkn,
            prior=prior,
        )
        weight = 0.65
        for f in features:
            if f.startswith("weight="):
                weight = float(f.split("=")[1])
        return Completer(
            network,
            lexicon,
            counts,
            weight=weight,
            bins=bins if "bins" in features else None,
            renorm="renorm" in features,
            oov="context" if "oov-context" in features else "count",
            savings="savings" in features,
        )

    rows = []
    for row in args.rows.split(","):
        features = args.all.split(",") if row == "all" else ([] if row == "baseline" else [row])
        t = time.time()
        if row == "oracle":
            completer = build([])
            weights = [
                Completer(network, completer.lexicon, completer.counts, weight=w)
                for w in ORACLE_WEIGHTS
            ]
            r = oracle(weights, queries, args.k)
            r["perplexity"] = r["lexicon_coverage"] = None
        else:
            completer = build(features)
            r = measure(completer.suggest, queries, args.k)
            r["perplexity"], r["lexicon_coverage"] = lexicon_perplexity(completer, queries)
        same = peer["train+extra"] if "extra" in features and extra else peer["train"]
        r.update(
            row=row,
            features=features,
            lexicon=len(completer.lexicon),
            vs_peer_ksr=round(r["ksr"] - same["ksr"], 4),
            vs_peer_next_word3=round(r["next_word@3"] - same["next_word@3"], 4),
            seconds=round(time.time() - t, 1),
        )
        line = (
            f"{row:14s} KSR {r['ksr']:.4f}  next-word@1 {fmt(r['next_word@1'])}  "
            f"@3 {r['next_word@3']:.4f}  vs peer (same text) {r['vs_peer_ksr']:+.4f} / "
            f"{r['vs_peer_next_word3']:+.4f}  perplexity {r['perplexity']}"
        )
        if "savings" in features:
            gap = round(r["ksr"] - peer["train+savings"]["ksr"], 4)
            r["vs_peer_with_savings_ksr"] = gap
            line += f"  (vs the peer ranked the same way {gap:+.4f})"
        if "dictionary" in features:
            key = "train+extra+dictionary" if "extra" in features and extra else "train+dictionary"
            r["vs_peer_with_dictionary_ksr"] = round(r["ksr"] - peer[key]["ksr"], 4)
            gap = r["vs_peer_with_dictionary_ksr"]
            line += f"  (vs the peer given the same dictionary {gap:+.4f})"
        rows.append(r)
        print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            summary = {"model": args.model, "tflite": str(tflite), "queries": args.queries}
            summary.update(extra_queries=args.extra_queries, peer=peer, rows=rows)
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

"""`QueryCompleter`: search-query completion on the device (the recipe's runtime half).

How a suggestion strip is computed (`QueryCompleter.suggest`):

1. The words before the one being typed are fed to the exported word-level language
   model, one `step` (LSTM) or `decode` (GPT) call per word, from a cached state: a
   keystroke inside a word costs no model call, a space costs one.
2. The model's next-word distribution is spread over the *lexicon*, every word seen
   in training with its count: a word in the model's vocabulary gets its own
   probability; a rarer one shares the `<unk>` probability in proportion to its
   count. So rare words (names, places) can still be completed, which a fixed
   6k-word softmax alone could not. It is then mixed with a count model of the
   training queries shipped beside it (`NgramTable`, in `completion.bin` with the
   lexicon), which remembers popular queries word for word where the network blurs
   them. The file is memory-mapped and binary-searched where it lies: loading builds
   nothing per word or n-gram.
3. The suggestions are the k most probable lexicon words that start with the typed
   characters (a binary search over the sorted lexicon, then a partial sort). With
   word tokens the beam search over the step signature that the recipe calls for is
   exact at width k: one step scores every candidate word at once.

Typo tolerance (`QueryCompleter(..., corrector=...)`): previous words outside the
model's vocabulary are first repaired by the spelling model (`SpellingCorrector`),
and the typed prefix also matches lexicon words whose beginning is one edit
(substitution, insertion, deletion, transposition) away, at a fixed log-probability
penalty.
"""

import collections

import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.lexicon import LEXICON_FILE
from keras_nlpkit.ondevice.lexicon import Lexicon
from keras_nlpkit.ondevice.lexicon import parse_lexicon
from keras_nlpkit.ondevice.local_history import END
from keras_nlpkit.ondevice.model_folder import find_export_dir
from keras_nlpkit.ondevice.model_folder import map_listed_file
from keras_nlpkit.ondevice.model_folder import read_listed_file
from keras_nlpkit.ondevice.ngram_table import NgramTable
from keras_nlpkit.ondevice.ngram_table import ngram_table_bytes
from keras_nlpkit.ondevice.ngram_table import parse_ngrams
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.ondevice.on_device_model import log_softmax
from keras_nlpkit.ondevice.prefix_completer import PrefixCompleter
from keras_nlpkit.ondevice.word_tokenizer import WordTokenizer

KIND = "query-completion"
# The lexicon, the counts and each word's model id, as sorted arrays (`NgramTable`).
COMPLETION_FILE = "completion.bin"
LEGACY_NGRAM_FILE = "ngrams.tsv.gz"  # with `lexicon.tsv`: exports before 0.4
# Queries average under 3 words; past this many, earlier words are not read (a
# keystroke after 20,000 words took seconds when every word was).
MAX_PREVIOUS_WORDS = 64


class QueryCompleter(PrefixCompleter):
    """Query completion through the exported model in the LiteRT interpreter.

    Args:
        model_dir: a folder written by `nlpkit train query-completion` (or its
            `export/` folder).
        variant: which TFLite file: `"int8"` (default), `"dynamic_int8"`,
            `"float16"` or `"float32"`.
        corrector: optional spelling corrector (`correct(word, k)`, e.g. a
            `SpellingCorrector`) for typo tolerance; with it, typed prefixes also
            match one edit away.
        typo_penalty: log-probability subtracted from a candidate matched one
            edit away (default: the export's setting).
        ngram_weight: the count model's weight in the mixture, 0 for the network
            alone (default: the export's setting).
        num_threads: interpreter threads.
        cache_size: how many contexts (previous words) keep their model state and
            scores (about 0.4 MB each with a 45k-word lexicon).
        history: optional `LocalHistory`, the user's own queries, mixed in (its
            words outside the lexicon are suggested too).
        argument: how error messages name `model_dir`.

    Example:
    ```python
    from keras_nlpkit.ondevice import QueryCompleter

    completer = QueryCompleter("runs/queries")
    completer.suggest("flights to bo")   # ['boston', ...]
    ```
    """

    def __init__(
        self,
        model_dir,
        variant="int8",
        corrector=None,
        typo_penalty=None,
        ngram_weight=None,
        num_threads=1,
        cache_size=32,
        history=None,
        argument="--model",
    ):
        export_dir, manifest = find_export_dir(model_dir, KIND, argument)
        settings = manifest["settings"]
        if corrector is not None and typo_penalty is None:
            typo_penalty = settings["typo_penalty"]
        table = self._table(export_dir, manifest, argument)
        super().__init__(
            Lexicon.from_sorted(table.words, table.counts),
            typo_penalty=typo_penalty if corrector is not None else None,
        )
        self.model = OnDeviceModel(
            export_dir, variant=variant, num_threads=num_threads, argument=argument
        )
        self.tokenizer = self.model.tokenizer
        if not isinstance(self.tokenizer, WordTokenizer):
            raise UserInputError(
                f"{argument}: the model has no word tokenizer. Received: {model_dir}"
            )
        self.corrector = corrector
        # Lexicon word → model id, and each out-of-vocabulary word's share of <unk>.
        model_ids = table.extra("model_ids")
        if model_ids is None:  # a 0.3 export: computed here
            model_ids = [self.tokenizer.token_id(w) for w in self.lexicon.words]
        self.token_ids = np.asarray(model_ids, dtype=np.int64)
        oov = self.token_ids == WordTokenizer.unknown_id
        self.oov = oov
        self.oov_share = np.where(
            oov,
            np.log(
                np.maximum(self.lexicon.counts, 1e-9) / max(self.lexicon.counts[oov].sum(), 1.0)
            ),
            0.0,
        )
        self.ngram_weight = float(
            settings["ngram_weight"] if ngram_weight is None else ngram_weight
        )
        self.ngram = table if self.ngram_weight > 0.0 else None
        # Model id → lexicon index (-1: none), for `confident_next`'s few candidates.
        self.lexicon_of_token = np.full(self.tokenizer.vocabulary_size, -1, dtype=np.int64)
        self.lexicon_of_token[self.token_ids[~oov]] = np.flatnonzero(~oov)
        self._cache = collections.OrderedDict()  # previous words -> [state, logprobs, scores]
        self._cache_size = cache_size
        self._corrections = {}
        self.history = history
        self._personal = (None, None)  # ((context, history version), scores)

    @staticmethod
    def _table(export_dir, manifest, argument):
        """The export's `NgramTable`: mapped from `completion.bin`, or built in memory
        from a 0.3 export's `lexicon.tsv` and `ngrams.tsv.gz` (slowly)."""
        if COMPLETION_FILE in manifest.get("files", {}):
            return NgramTable(
                map_listed_file(export_dir, manifest, COMPLETION_FILE, argument),
                f"{argument}: {COMPLETION_FILE}",
            )
        lexicon = parse_lexicon(
            read_listed_file(export_dir, manifest, LEXICON_FILE, argument),
            f"{argument}: {LEXICON_FILE}",
        )
        counts = parse_ngrams(
            read_listed_file(export_dir, manifest, LEGACY_NGRAM_FILE, argument),
            f"{argument}: {LEGACY_NGRAM_FILE}",
        )
        return NgramTable(ngram_table_bytes(lexicon, counts), f"{argument}: {LEGACY_NGRAM_FILE}")

    def context_ids(self, previous_words):
        """Model ids of the previous words; with a corrector, unknown words are repaired."""
        ids = []
        for word in previous_words:
            token = self.tokenizer.token_id(word)
            if token == WordTokenizer.unknown_id and self.corrector is not None:
                token = self.tokenizer.token_id(self._correct(word))
            ids.append(token)
        return ids

    def _correct(self, word):
        if word not in self._corrections:
            best = self.corrector.correct(word, k=1)
            self._corrections[word] = best[0][0] if best else word
        return self._corrections[word]

    def _bounded(self, previous_words):
        """The previous words the model reads: the last `MAX_PREVIOUS_WORDS` (fewer for
        a model of a fixed length, a KV cache), so a keystroke's work is bounded."""
        limit = MAX_PREVIOUS_WORDS
        if self.model.max_length:
            limit = min(limit, self.model.max_length - 2)
        return tuple(previous_words)[-limit:]

    def next_word_logprobs(self, previous_words):
        """log P(next word | `<s>` previous words) over the model's vocabulary."""
        return self._context(self._bounded(previous_words))[1]

    def _context(self, previous_words):
        """The cache entry of a context, advancing the model from its longest cached prefix."""
        known = len(previous_words)
        while known >= 0 and previous_words[:known] not in self._cache:
            known -= 1
        if known < 0:
            logprobs, state = self.model.start([WordTokenizer.start_id])
            entry = self._remember((), [state, logprobs, None])
            known = 0
        else:
            entry = self._cache[previous_words[:known]]
            self._cache.move_to_end(previous_words[:known])
        for length in range(known + 1, len(previous_words) + 1):
            token = self.context_ids(previous_words[length - 1 : length])
            logprobs, state = self.model.advance(token, entry[0])
            entry = self._remember(previous_words[:length], [state, logprobs[0], None])
        return entry

    def _remember(self, context, entry):
        self._cache[context] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return entry

    def scores(self, previous_words):
        """log P(next word = each lexicon word | previous words), cached per context."""
        previous_words = self._bounded(previous_words)
        entry = self._context(previous_words)
        if entry[2] is None:
            counts = None if self.ngram is None else self.ngram.probabilities(previous_words)
            entry[2] = self._mixed(entry[1], counts)
        if self.history is None or not len(self.history):
            return entry[2]
        return self._personalized(previous_words, entry[2])[0]

    def _mixed(self, logprobs, counts, index=slice(None)):
        """The score of lexicon words `index` (all by default): the network's
        log-probability (an out-of-vocabulary word its share of `<unk>`'s), mixed with
        `counts`, their count-model probabilities (None: the network alone)."""
        scores = np.where(
            self.oov[index],
            logprobs[WordTokenizer.unknown_id] + self.oov_share[index],
            logprobs[self.token_ids[index]],
        )
        if counts is None:
            return scores
        mixed = (1.0 - self.ngram_weight) * np.exp(scores) + self.ngram_weight * counts
        return np.log(np.maximum(mixed, 1e-30))

    def _personalized(self, previous_words, scores):
        """`(scores, extra)` with the user's history mixed in, cached per context and
        history version: log((1 − μ) P + μ P_user) for the user's words, log(1 − μ)
        added to the others (their order is kept), and `extra`, the user's words outside
        the lexicon as `(word, log(μ · P_user))`."""
        key = (previous_words, self.history.version)
        if self._personal[0] != key:
            mu, personal = self.history.mixture(previous_words)
            extra = []
            if mu > 0.0:
                scores = scores + np.log1p(-mu)
                for word, p in personal.items():
                    i = self.lexicon.index_of(word)
                    if i >= 0:
                        scores[i] = np.logaddexp(scores[i], np.log(mu * p))
                    elif word != END:
                        extra.append((word, float(np.log(mu * p))))
            self._personal = (key, (scores, extra))
        return self._personal[1]

    def suggest_words(self, previous_words, prefix, k=3):
        """As `PrefixCompleter.suggest_words`, plus the user's own words outside the lexicon."""
        best = super().suggest_words(previous_words, prefix, k)
        if self.history is None or not len(self.history):
            return best
        bounded = self._bounded(previous_words)
        _, extra = self._personalized(bounded, self.scores(bounded))
        extra = [(word, score) for word, score in extra if word.startswith(prefix)]
        if not extra:
            return best
        return sorted(best + extra, key=lambda item: (-item[1], item[0]))[:k]

    def confident_next(self, previous_words, confidence):
        """As `PrefixCompleter.confident_next`, without scoring the whole lexicon.

        A word whose mixed probability reaches `confidence` has it under the network
        or under the counts (the mixture is convex), so only those few words are
        scored, each by `scores`' own formula.
        """
        previous = self._bounded(previous_words)
        entry = self._context(previous)
        if entry[2] is not None or (self.history is not None and len(self.history)):
            return super().confident_next(previous, confidence)
        threshold = np.log(confidence)
        logprobs = entry[1]
        unknown = logprobs[WordTokenizer.unknown_id]
        net = self.lexicon_of_token[np.flatnonzero(logprobs >= threshold)]
        net = net[net >= 0]
        oov = np.flatnonzero(self.oov & (unknown + self.oov_share >= threshold))
        likely = [] if self.ngram is None else self.ngram.likely(previous, confidence)
        candidates = np.union1d(np.union1d(net, oov), likely).astype(np.int64)
        if not len(candidates):
            return None
        counts = None
        if self.ngram is not None:
            counts = self.ngram.probabilities_of(previous, candidates)
        scores = self._mixed(logprobs, counts, candidates)
        best = int(np.argmax(scores))  # the first of equal scores: the lowest index
        return (int(candidates[best]), float(scores[best])) if scores[best] >= threshold else None

    def sequence_logprobs(self, query):
        """log P of each token of `<s> query </s>` after `<s>` (perplexity's terms)."""
        ids = [WordTokenizer.start_id] + self.tokenizer.encode(query) + [WordTokenizer.end_id]
        logits = self.model.logits(ids[:-1])  # (seq, vocab), one serving_default call
        logprobs = log_softmax(logits)
        return logprobs[np.arange(len(ids) - 1), ids[1:]]

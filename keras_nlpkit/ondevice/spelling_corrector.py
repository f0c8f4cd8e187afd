"""`SpellingCorrector`: single-word spelling correction on the device (the recipe's runtime half).

It reads only the export folder of `nlpkit train spelling` (`manifest.json`,
`model_<variant>.tflite` with the signatures `encode` and `decode_step`,
`tokenizer.json`, `lexicon.tsv`, `known_words.tsv`, `channel.json`):

    from keras_nlpkit.ondevice import SpellingCorrector

    corrector = SpellingCorrector("runs/spelling")
    corrector.correct("speling", k=3)   # [("spelling", -0.9), ("spewing", -7.1), ...]
    "spelling" in corrector.vocabulary  # the words it can answer

How a word is corrected (the reranker, the default): the candidates are the lexicon
words within Damerau-Levenshtein distance 2 of the input (a SymSpell-style deletes
index built at load time, `DeletesIndex`) and the input itself when it is a lexicon
word or a known word (`known_words.tsv`: more dictionary words, accepted when typed
but suggested only when no lexicon word is within distance 2). `encode` reads the
input once and `decode_step` scores every candidate teacher-forced, all candidates
in one batch per character (candidates sharing a prefix share a row); the score is
`CorrectorSettings`' formula, P_channel being a noisy channel (`ChannelModel`,
`channel.json`): how likely each edit is, counted in real misspellings.

When no word is that close, a beam search proposes the candidates: `encode` reads
the characters once; then `decode_step` gives the next character of every beam at
once (one call per output character, beams batched). A beam may only follow an
edge of the lexicon trie, so every answer is a known word, scored log P_model(w |
typo) + λ_search · log P_freq(w). To rank unfinished beams, the prior term uses the
best log-frequency of any word below the beam's trie node (a look-ahead that never
underestimates), so the search can stop as soon as k finished words score above
every live beam.

Sentences (`correct_sentence`, `nlpkit correct --context`): `SentenceCorrector`
rescores each word's candidates with the export's word trigram LM
(`context_lm.bin`, written when the model was trained with `--context-corpus`)
over the words before and after it, and offers real-word confusions ("by" →
"buy"). An export without the file corrects words as before; sentence mode then
says which file is missing.
"""

import dataclasses
import json

import numpy as np

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.ondevice.channel_model import CHANNEL_FILE
from keras_nlpkit.ondevice.channel_model import ChannelModel
from keras_nlpkit.ondevice.confusion_sets import CONFUSION_SETS
from keras_nlpkit.ondevice.confusion_sets import MANIFEST_KEY as CONFUSION_SETS_KEY
from keras_nlpkit.ondevice.confusion_sets import confusion_index
from keras_nlpkit.ondevice.confusion_sets import parse_confusion_sets
from keras_nlpkit.ondevice.corrector_settings import CorrectorSettings
from keras_nlpkit.ondevice.deletes_index import DeletesIndex
from keras_nlpkit.ondevice.edit_distance import osa_distances
from keras_nlpkit.ondevice.lexicon import KNOWN_WORDS_FILE
from keras_nlpkit.ondevice.lexicon import LEXICON_FILE
from keras_nlpkit.ondevice.lexicon import parse_lexicon
from keras_nlpkit.ondevice.lexicon_trie import LexiconTrie
from keras_nlpkit.ondevice.model_folder import find_export_dir
from keras_nlpkit.ondevice.model_folder import map_listed_file
from keras_nlpkit.ondevice.model_folder import read_listed_file
from keras_nlpkit.ondevice.ngram_table import NgramTable
from keras_nlpkit.ondevice.on_device_model import OnDeviceModel
from keras_nlpkit.ondevice.on_device_model import log_softmax
from keras_nlpkit.ondevice.sentence_corrector import CONTEXT_LM_FILE
from keras_nlpkit.ondevice.sentence_corrector import DEFAULTS as CONTEXT_DEFAULTS
from keras_nlpkit.ondevice.sentence_corrector import SentenceCorrector

KIND = "spelling"
# Full-integer int8 `encode` fails to prepare under XNNPACK (the default delegate), so
# the default is dynamic-range int8: int8 weights, float activations.
DEFAULT_VARIANT = "dynamic_int8"


class SpellingCorrector:
    """Corrects single words with an exported spelling model, on the device.

    Args:
        model_dir: the export folder, or the training folder holding it as `export/`.
        variant: `"dynamic_int8"` (default), `"float32"`, `"float16"` or `"int8"`.
        num_threads: interpreter threads (a keyboard uses one).
        argument: how error messages name `model_dir`.
        **settings: overrides of the export's `CorrectorSettings` (e.g.
            `edit_distance=0` for the beam search alone, `channel_weight=0`).

    Attributes:
        settings: the `CorrectorSettings` in use.
        vocabulary: `{word: count}`, the lexicon: the words `correct` suggests.
        known: `{word: count}`, more words accepted as correctly spelled
            (`known_words.tsv`): typed, they are candidates like lexicon words;
            suggested for another input only when no lexicon word is within
            `edit_distance` of it.
        channel: the `ChannelModel` of `channel.json`.

    Example:
    ```python
    from keras_nlpkit.ondevice import SpellingCorrector

    corrector = SpellingCorrector("runs/spelling")
    [word for word, _ in corrector.correct("recieve", k=3)]   # ['receive', ...]
    ```
    """

    def __init__(
        self, model_dir, variant=DEFAULT_VARIANT, num_threads=1, argument="--model", **settings
    ):
        export_dir, manifest = find_export_dir(model_dir, KIND, argument)
        self.export_dir, self.manifest, self._argument = export_dir, manifest, argument
        self._context_lm = self._sentence_corrector = None
        stored = manifest["settings"]

        def listed(name):
            return read_listed_file(export_dir, manifest, name, argument)

        self.settings = dataclasses.replace(
            CorrectorSettings.from_dict(stored["decoding"], f"{argument}: manifest.json"),
            **settings,
        )
        if not self.settings.edit_distance:  # the beam search alone keeps its own score
            self.settings = dataclasses.replace(self.settings, channel_weight=0.0)
        self.model = OnDeviceModel(
            export_dir, variant=variant, num_threads=num_threads, argument=argument
        )
        missing = {"encode", "decode_step"} - set(self.model.runners)
        if missing:
            raise UserInputError(
                f"{argument}: {self.model.path.name} lacks the signatures "
                f"{sorted(missing)}. Received: {export_dir}"
            )
        self._encode = self.model.runners["encode"]
        self._decode = self.model.runners["decode_step"]
        vocabulary = self.model.tokenizer.vocabulary
        self.char_ids = {c: i for i, c in enumerate(vocabulary) if i > 0}
        self.pad_id, self.start_id, self.end_id = (
            stored["pad_id"],
            stored["start_id"],
            stored["end_id"],
        )
        try:
            self.channel = ChannelModel.from_json(json.loads(listed(CHANNEL_FILE)))
        except (ValueError, KeyError, TypeError) as error:
            raise UserInputError(
                f"{argument}: {CHANNEL_FILE} is not a channel model "
                f"({error}). Received: {export_dir}"
            ) from None
        self.vocabulary = parse_lexicon(listed(LEXICON_FILE), f"{argument}: {LEXICON_FILE}")
        self.trie = LexiconTrie(self.vocabulary, self.char_ids)
        # Words the model can spell (every character in its vocabulary), in lexicon
        # order (most frequent first: equal ranks go to the earlier word), with their
        # log-frequencies, for the edit-distance candidates.
        spellable = set(self.trie.words) - {None}
        self._words = [w for w in self.vocabulary if w in spellable]
        total = float(sum(self.vocabulary.values())) or 1.0
        self._word_logp = {
            w: float(np.log(max(self.vocabulary[w], 1) / total)) for w in self._words
        }
        known = {}
        if KNOWN_WORDS_FILE in manifest["files"]:
            known = parse_lexicon(listed(KNOWN_WORDS_FILE), f"{argument}: {KNOWN_WORDS_FILE}")
        self.known = {
            w: n
            for w, n in known.items()
            if w not in self._word_logp and all(c in self.char_ids for c in w)
        }
        # Counted on the same scale as the lexicon (both are word-frequency counts).
        self._known_logp = {w: float(np.log(max(n, 1) / total)) for w, n in self.known.items()}
        # Candidates come from the lexicon; from the known words only when no lexicon
        # word is within the edit distance (before the beam search).
        self._shelves = [self._shelf(self._words, self._word_logp)]
        if self.known:
            self._shelves.append(self._shelf(list(self.known), self._known_logp))
        self.index = self._shelves[0]["index"]
        self._longest = max(map(len, [*self._words, *self.known]), default=0)
        details = self._decode.get_input_details()
        self.units = int(details["decoder_lstm_h"]["shape_signature"][-1])
        self.max_length = int(self._encode.get_input_details()["chars"]["shape_signature"][1])
        # Files before 0.3 declare `decode_step` for any batch and the word's own
        # length, without `chars`: every row in one call, the encoding cut to the word.
        self._any_batch = "chars" not in details

    def encode(self, word):
        """The inputs `decode_step` reads about one word, batch 1: `encoder_outputs`,
        `summary` and the padded `chars` (a longer word is cut to `max_length`)."""
        ids = [self.char_ids[c] for c in word if c in self.char_ids][: self.max_length]
        chars = np.full((1, self.max_length), self.pad_id, np.int32)
        chars[0, : len(ids)] = ids
        out = self._encode(chars=chars)
        if self._any_batch:
            return {
                "encoder_outputs": out["encoder_outputs"][:, : len(ids)],
                "summary": out["summary"],
            }
        return {
            "encoder_outputs": out["encoder_outputs"],
            "summary": out["summary"],
            "chars": chars,
        }

    def _step(self, tokens, h, c, encoded):
        """`decode_step` for each row: `(logits, h, c)`, one row each. The file declares
        batch 1 (LiteRT.js runs only declared shapes), so it runs once a row."""
        if self._any_batch:
            rows = len(tokens)
            shared = {name: np.repeat(value, rows, axis=0) for name, value in encoded.items()}
            out = self._decode(token=tokens, decoder_lstm_h=h, decoder_lstm_c=c, **shared)
        else:
            outs = [
                self._decode(
                    token=tokens[i : i + 1],
                    decoder_lstm_h=h[i : i + 1],
                    decoder_lstm_c=c[i : i + 1],
                    **encoded,
                )
                for i in range(len(tokens))
            ]
            out = {name: np.concatenate([o[name] for o in outs]) for name in outs[0]}
        return out["logits"], out["decoder_lstm_h"], out["decoder_lstm_c"]

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

    def is_word(self, word):
        """Whether a lower-case `word` is a lexicon or known word (typed, it is kept)."""
        return word in self._word_logp or word in self._known_logp

    def context_lm(self):
        """The export's word trigram LM (`NgramTable` of `context_lm.bin`), mapped once.

        An export written without `--context-corpus` has none: a `UserInputError`
        names the file and how to get it.
        """
        if self._context_lm is None:
            argument, export_dir = self._argument, self.export_dir
            if CONTEXT_LM_FILE not in self.manifest.get("files", {}):
                raise UserInputError(
                    f"{argument}: this export has no {CONTEXT_LM_FILE} (the word LM that "
                    "sentence correction needs); train or re-export it with "
                    "`nlpkit train spelling --context-corpus FILE[,FILE...]`. "
                    f"Received: {export_dir}"
                )
            data = map_listed_file(export_dir, self.manifest, CONTEXT_LM_FILE, argument)
            self._context_lm = NgramTable(data, f"{argument}: {CONTEXT_LM_FILE}")
        return self._context_lm

    def sentence_corrector(self, context=True, **settings):
        """A `SentenceCorrector` over this corrector's candidates.

        Args:
            context: with the context LM (False: each word alone, the word-by-word
                baseline: a non-word gets its best candidate, a word is kept).
            **settings: overrides of the export's context settings
                (`sentence_corrector.DEFAULTS`, stored in the manifest as
                `settings["context"]`), e.g. `lm_weight=0.5`.

        The real-word confusion sets are the manifest's (`settings["context"]
        ["confusion_sets"]`); an export written before it carried them gets
        `confusion_sets.CONFUSION_SETS`.
        """
        stored = dict(self.manifest["settings"].get("context", {}))
        sets = parse_confusion_sets(
            stored.pop(CONFUSION_SETS_KEY, CONFUSION_SETS), f"{self._argument}: manifest.json"
        )
        merged = {**CONTEXT_DEFAULTS, **stored, **settings}
        unknown = set(merged) - set(CONTEXT_DEFAULTS)
        if unknown:
            raise ValueError(
                f"unknown context settings {sorted(unknown)}; known: {sorted(CONTEXT_DEFAULTS)}"
            )
        prior_share = float(merged.pop("prior_share"))
        prior_weight = self.settings.prior_weight if self.settings.edit_distance else 0.0

        def candidates(word):
            if not all(c in self.char_ids for c in word):
                return []  # a word the model cannot spell is left as typed
            k = merged["max_candidates"]
            # The LM knows frequency too: `prior_share` of the unigram prior may go.
            return [
                (w, score - prior_share * prior_weight * parts[1])
                for w, score, parts in self.candidates(word, k)[:k]
            ]

        lm = self.context_lm() if context else None
        return SentenceCorrector(
            candidates, self.is_word, lm, confusions=confusion_index(sets), **merged
        )

    def correct_sentence(self, text):
        """`text` with its words corrected in context (`SentenceCorrector`).

        Example (with a model trained with `--context-corpus`):

            corrector.correct_sentence("I want to by a new phone")
            # 'I want to buy a new phone'
        """
        return self._sentences().correct(text)

    def sentence_decisions(self, text):
        """Per-word decisions of `correct_sentence` (`SentenceCorrector.decisions`)."""
        return self._sentences().decisions(text)

    def _sentences(self):
        if self._sentence_corrector is None:
            self._sentence_corrector = self.sentence_corrector()
        return self._sentence_corrector

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
        # No word is near a typo longer than every word plus the edits: none is looked for.
        word = word[: self._longest + self.settings.edit_distance + 1]
        typed = self.index is not None and (word in self._word_logp or word in self._known_logp)
        # The typed word, when it is a word, is one of the max_candidates.
        extra, distance, channel = self._near(word, self.settings.max_candidates - typed)
        if extra or typed:
            # Words within the edit distance exist: the beam search would add little
            # (0.2 points of held-out accuracy) for most of the time.
            found, encoded = {}, self.encode(word)
        else:
            found, encoded = self._search(word, k)
        if typed:
            extra.append(word)
            distance[word] = 0
            channel[word] = 0.0
        if extra:
            for w, logp in zip(extra, self._teacher_forced(encoded, extra)):
                found[w] = float(logp)
        if self.settings.edit_distance:
            far = [w for w in found if w not in distance]
            distance.update(zip(far, osa_distances(word, far).tolist()))
        if self.settings.channel_weight:
            far = [w for w in found if w not in channel]
            channel.update(zip(far, self.channel.log_probs(word, far).tolist()))
        # The beam search alone (edit_distance 0) keeps its own frequency weight.
        prior_weight = (
            self.settings.prior_weight
            if self.settings.edit_distance
            else self.settings.search_prior_weight
        )
        scored = []
        for w, model_logp in found.items():
            prior = self._word_logp.get(w)
            prior = self._known_logp[w] if prior is None else prior
            score = self._score(model_logp, len(w) + 1, prior, prior_weight)
            if self.settings.edit_distance:
                score -= self.settings.distance_weight * distance[w]
                if w == word:
                    score += self.settings.input_bonus
            if self.settings.channel_weight:
                score += self.settings.channel_weight * channel[w]
            scored.append((w, float(score), (model_logp, prior, distance.get(w), channel.get(w))))
        scored.sort(key=lambda item: -item[1])
        return scored

    def _shelf(self, words, logp):
        """What `_near` needs to search `words` (log-frequencies `logp`)."""
        shelf = {"words": words, "logp": logp, "index": None}
        if self.settings.edit_distance:
            shelf["index"] = DeletesIndex(words, self.settings.edit_distance)
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
        if not self.settings.channel_weight:
            logp = shelf["logp"]
            near = [(i, d) for i, d in index.lookup(word) if words[i] != word]
            near.sort(key=lambda item: (item[1], -logp[words[item[0]]]))
            return [words[i] for i, _ in near[:count]], {words[i]: d for i, d in near[:count]}, {}
        # The edit distances and log P_channel of the reachable words in one pass.
        ids = index.reachable(word)
        logp, distances = self.channel.log_probs_encoded(
            word, shelf["codes"][ids], shelf["lengths"][ids], with_distances=True
        )
        keep = np.flatnonzero(distances <= self.settings.edit_distance)
        ids, logp, distances = ids[keep], logp[keep], distances[keep]
        settings = self.settings
        rank = (
            settings.prior_weight * shelf["logp_array"][ids]
            + settings.channel_weight * logp
            - settings.distance_weight * distances
        )
        order = [
            j
            for j in np.argsort(-rank, kind="stable")[: count + 1].tolist()
            if words[ids[j]] != word
        ][:count]
        found = [words[ids[j]] for j in order]
        return (
            found,
            dict(zip(found, distances[order].tolist())),
            dict(zip(found, logp[order].tolist())),
        )

    def _teacher_forced(self, encoded, words):
        """log P_model(w | typo) of each word, one `decode_step` row per distinct
        prefix: words sharing a prefix share its rows."""
        end, char_ids = self.end_id, self.char_ids
        spelt = [[char_ids[ch] for ch in w] + [end] for w in words]  # the targets
        members = [list(range(len(words)))]
        tokens = np.array([self.start_id], np.int32)
        h = np.zeros((1, self.units), np.float32)
        c = np.zeros((1, self.units), np.float32)
        # The logits of every step, and which (word, row of them, character) to read:
        # normalised and summed once at the end.
        logits, word_ids, word_rows, word_chars = [], [], [], []
        step = offset = 0
        while members:
            rows = len(members)
            step_logits, h, c = self._step(tokens, h, c, encoded)
            logits.append(step_logits)
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
            h, c = h[sources], c[sources]
            step += 1
            offset += rows
        logits = np.concatenate(logits).astype(np.float64)
        top = logits.max(axis=1)
        normaliser = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
        picked = logits[word_rows, word_chars] - normaliser[word_rows]
        return np.bincount(word_ids, weights=picked, minlength=len(words))

    def _search(self, word, k):
        """The beam search: `({word: log P_model}, encoded)`."""
        trie, width = self.trie, self.settings.beam_width
        encoded = self.encode(word)
        h = np.zeros((1, self.units), np.float32)
        c = np.zeros((1, self.units), np.float32)
        tokens = np.full((1,), self.start_id, np.int32)
        beams = [(0, 0.0)]  # (trie node, log P_model of its characters)
        finished = []  # (score, node)
        max_steps = min(len(word), self._longest) + 6
        for step in range(1, max_steps + 1):
            step_logits, h, c = self._step(tokens, h, c, encoded)
            logprobs = log_softmax(step_logits)
            rows, nodes, chars, totals = [], [], [], []
            for row, (node, total) in enumerate(beams):
                if trie.words[node] is not None:
                    model_score = total + logprobs[row, self.end_id]
                    finished.append(
                        (
                            self._score(
                                model_score,
                                step,
                                trie.word_logp[node],
                                self.settings.search_prior_weight,
                            ),
                            node,
                            float(model_score),
                        )
                    )
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
            ranks = self._score(
                totals, step, trie.best_logp[nodes], self.settings.search_prior_weight
            )
            if len(finished) >= k:
                kth = sorted((item[0] for item in finished), reverse=True)[k - 1]
                if kth >= ranks.max() and self.settings.length_penalty == 0:
                    break  # no live beam can beat the k-th finished word
            keep = np.argsort(-ranks, kind="stable")[:width]  # equal ranks: the earlier child
            beams = [(int(nodes[i]), float(totals[i])) for i in keep]
            tokens = chars[keep].astype(np.int32)
            h, c = h[rows[keep]], c[rows[keep]]
        return {trie.words[node]: logp for _, node, logp in finished}, encoded

    def _score(self, model_logp, length, prior_logp, prior_weight):
        if self.settings.length_penalty:
            model_logp = model_logp / (length**self.settings.length_penalty)
        return model_logp + prior_weight * prior_logp

"""`LocalHistory`: what this user searched, learnt on the device and mixed into completion.

People repeat searches. The shipped model knows what everybody types; this small
model knows what *this* user typed: the n-grams of their accepted and submitted
queries, with counts that fade (a half-life in queries), capped in size, kept in
one JSON file on the device that is replaced atomically, and deleted by `clear()`.
Nothing in it is ever sent anywhere: no code here opens a connection.

Mixing (Witten-Bell's rule, applied to the user's counts): for the typed context,
the longer of (u v) and (v) the user has followed with something sets

    P(w) = (1 − μ) · P_shipped(w) + μ · c_user(h w) / c_user(h),
    μ = c_user(h) / (c_user(h) + β · N₁₊(h)),

so a context the user always ends the same way trusts the user, and one they end in
many ways trusts the shipped model more. Every word the user never typed after h
keeps its order: its score only moves by log(1 − μ). One-word contexts and the
query's start (`<s> <s>`) are shared by many different queries, so they get a larger
β (`backoff_beta`): with β = 1 there, repeats gained but first typings of new queries
lost 0.006 KSR on the TREC dev split; the user's words alone (no context) are not
used at all (they cost 0.015).

The file: `{"format": "nlpkit-local-history", "format_version": 1, "clock": t,
"grams": [[context words..., word, weight at clock t], ...]}`. A file that is not
that, or is larger than `max_bytes`, is discarded with a warning (never an error:
a keyboard must keep working).
"""

import json
import math
import os
import tempfile
import warnings
from pathlib import Path

FORMAT = "nlpkit-local-history"
START, END = "<s>", "</s>"


class LocalHistory:
    """The user's own query n-grams, with decay, for `QueryCompleter(..., history=...)`.

    Args:
        path: the JSON file it lives in (None: in memory only).
        half_life: after this many learnt queries, a count weighs half.
        max_grams: the most (context, word) entries kept; the lightest go first.
        max_bytes: a larger file is discarded at load, with a warning.
        beta: β of the mixing weight μ after two typed words (larger trusts the
            user less).
        backoff_beta: β after one word, and at the start of a query.

    Example:
    ```python
    from keras_nlpkit.ondevice.local_history import LocalHistory

    history = LocalHistory()                  # or LocalHistory("history.json")
    history.learn("pizza delivery hoboken")
    weight, words = history.mixture(("pizza", "delivery"))
    words                                     # {'hoboken': 1.0}
    ```
    """

    def __init__(
        self,
        path=None,
        half_life=500,
        max_grams=20000,
        max_bytes=2_000_000,
        beta=1.0,
        backoff_beta=30.0,
    ):
        if half_life <= 0:
            raise ValueError(f"`half_life` must be > 0. Received: half_life={half_life}")
        if max_grams < 1:
            raise ValueError(f"`max_grams` must be >= 1. Received: max_grams={max_grams}")
        for name, value in (("beta", beta), ("backoff_beta", backoff_beta)):
            if value <= 0:
                raise ValueError(f"`{name}` must be > 0. Received: {name}={value}")
        self.path = None if path is None else Path(path)
        self.half_life = half_life
        self.max_grams = max_grams
        self.max_bytes = max_bytes
        self.beta = beta
        self.backoff_beta = backoff_beta
        self.version = 0  # bumped by every change: completers cache by it
        self._clock = 0.0  # weights are stored scaled by 2^(clock / half_life)
        self._followers = {}  # context tuple -> {word: scaled weight}
        self._size = 0  # entries in `_followers`: asked at every keystroke, so kept
        if self.path is not None and self.path.exists():
            self._load()

    def __len__(self):
        return self._size

    def learn(self, query):
        """Remember a query the user accepted or submitted (then saves, with a path)."""
        words = query.lower().split()
        if not words:
            return
        self._clock += 1.0
        scale = self._unit()
        padded = [START, START, *words, END]
        for i in range(2, len(padded)):
            for order in (1, 2):
                context = tuple(padded[i - order : i])
                row = self._followers.setdefault(context, {})
                self._size += padded[i] not in row
                row[padded[i]] = row.get(padded[i], 0.0) + scale
        if scale > 1e100:  # rescale before the weights overflow
            self._rescale()
        self._cap()
        self.version += 1
        if self.path is not None:
            self.save()

    def mixture(self, previous_words):
        """`(μ, {word: P_user(word | h)})` for the longest context h the user has used."""
        context = (START, START, *previous_words)[-2:]
        shared = context == (START, START)
        for h, beta in (
            (context, self.backoff_beta if shared else self.beta),
            (context[1:], self.backoff_beta),
        ):
            row = self._followers.get(h)
            if row:
                total = sum(row.values())
                mu = total / (total + beta * len(row) * self._unit())
                return mu, {w: c / total for w, c in row.items()}
        return 0.0, {}

    def _unit(self):
        """What one count weighs now, in the stored scale."""
        return 2.0 ** (self._clock / self.half_life)

    def clear(self):
        """Forget everything, and delete the file."""
        self._followers.clear()
        self._size = 0
        self._clock = 0.0
        self.version += 1
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def save(self):
        """Writes the file atomically: a temporary file beside it, then a rename."""
        grams = [
            [*context, word, weight]
            for context, row in self._followers.items()
            for word, weight in row.items()
        ]
        data = json.dumps(
            {"format": FORMAT, "format_version": 1, "clock": self._clock, "grams": grams},
            separators=(",", ":"),
        ).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _load(self):
        try:
            if self.path.stat().st_size > self.max_bytes:
                raise ValueError(f"larger than max_bytes={self.max_bytes}")
            data = json.loads(self.path.read_bytes())
            if data.get("format") != FORMAT or data.get("format_version") != 1:
                raise ValueError("not a local history file of format version 1")
            clock = float(data["clock"])
            followers = {}
            for *context, word, weight in data["grams"]:
                if not 1 <= len(context) <= 2 or not isinstance(word, str) or not weight > 0:
                    raise ValueError(f"bad entry {[*context, word, weight]!r}")
                followers.setdefault(tuple(context), {})[word] = float(weight)
            if not math.isfinite(clock) or clock < 0:
                raise ValueError(f"bad clock {clock!r}")
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            warnings.warn(
                f"{self.path}: the local history is unreadable ({error}); starting afresh",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        self._clock, self._followers = clock, followers
        self._size = sum(len(row) for row in followers.values())
        self._cap()

    def _rescale(self):
        unit = self._unit()
        for row in self._followers.values():
            for word in row:
                row[word] /= unit
        self._clock = 0.0

    def _cap(self):
        """Past `max_grams` entries, drops the lightest down to 90% of it (so that
        the sort runs once every many queries, not at each)."""
        if len(self) <= self.max_grams:
            return
        excess = len(self) - int(0.9 * self.max_grams)
        entries = sorted(
            (weight, context, word)
            for context, row in self._followers.items()
            for word, weight in row.items()
        )
        for _, context, word in entries[:excess]:
            del self._followers[context][word]
            self._size -= 1
            if not self._followers[context]:
                del self._followers[context]

"""`ELMoBiLM`: ELMo's bidirectional language model over character-encoded words."""

import keras
from keras import ops

from keras_nlpkit.api_export import nlpkit_export
from keras_nlpkit.checks import check_positive_int
from keras_nlpkit.layers import LSTM
from keras_nlpkit.layers import AdaptiveSoftmax
from keras_nlpkit.layers import CharacterWordEncoder
from keras_nlpkit.text.word_characters import NUM_CHARACTERS
from keras_nlpkit.text.word_characters import character_ids

DIRECTIONS = ("forward", "backward")
# The word the text is cut into lines with (`WordTokenizer.end_id`'s word): the
# biLM reads it between lines, so a sentence starts from the state it leaves.
BOUNDARY = "</s>"
# 512 filters at widths 1-6, about Kim et al.'s small character CNN (525), a quarter
# of ELMo's 2,048.
SMALL_FILTERS = ((1, 32), (2, 32), (3, 64), (4, 128), (5, 128), (6, 128))


@nlpkit_export("keras_nlpkit.models.ELMoBiLM")
class ELMoBiLM(keras.Model):
    """ELMo's biLM: a character CNN under a forward and a backward LSTM language model.

    Peters et al. (2018), scaled down. Each word is read from its characters
    (`CharacterWordEncoder`: a CNN, `highway_layers` highway layers and a projection
    to `projection_dim`), so a word outside the softmax vocabulary still has its
    own input vector. The forward LM reads the text left to right and predicts the
    next word; the backward LM reads it right to left and predicts the previous one.
    Each is `num_layers` `LSTM(units)` layers, each followed by a linear projection
    to `projection_dim`, with a residual connection from the second layer on. The
    two directions share the token encoder and the softmax (an `AdaptiveSoftmax`
    over a frequency-sorted vocabulary), as in the paper.

    Unlike ELMo's LSTMP cells, whose projected state is also the recurrent input,
    the projection here acts on the outputs of our `LSTM`: its recurrence runs on
    the full `units`-wide state.

    Training (`call`): the inputs are a dict of `{direction}_characters`
    `(batch, seq, max_characters)` and `{direction}_targets` `(batch, seq)` for one
    or both directions, or, to encode each distinct word of a batch once (the
    recipe's batches), `spellings` `(words, max_characters)` and `{direction}_words`
    `(batch, seq)`, rows of it. The backward inputs are already in reading order (the
    text reversed), so that with `stateful=True` each direction is truncated
    back-propagation through its own stream and the state carries from one batch to
    the next. The model returns each target's log-probability
    `{direction: (batch, seq)}` and adds the mean of the directions' NLLs as its
    loss (`compile(optimizer)`, no `loss`); `forward_loss` and `backward_loss` are
    logged as metrics.

    Downstream (`representations`): for a batch of sentences, the L + 1 layers
    `(batch, seq, 2 * projection_dim)` that `ScalarMix` mixes (see
    `ELMoEmbedding`).

    Args:
        vocabulary_size: words of the softmax, most frequent first.
        cutoffs: `AdaptiveSoftmax` cluster boundaries (`[]`: a full softmax).
        max_characters: character ids per word the model was trained with.
        character_dim, filters, highway_layers: the token encoder
            (`CharacterWordEncoder(encoder="cnn", ...)`).
        units: LSTM units of each layer and direction.
        projection_dim: size of the token encoding and of each layer's projection.
        num_layers: LSTM layers per direction (ELMo: 2).
        stateful: carry the LSTM states across calls (truncated BPTT); needs
            `batch_size`.
        batch_size: the fixed batch of a stateful model; None otherwise.
        **kwargs: `keras.Model` arguments (`name`, `dtype`, ...).

    Example:
    ```python
    import numpy as np
    from keras_nlpkit.models import ELMoBiLM
    from keras_nlpkit.text.word_characters import character_ids

    bilm = ELMoBiLM(vocabulary_size=20, filters=[[1, 8], [2, 8]], units=16,
                    projection_dim=8, max_characters=10)
    chars = character_ids([["the", "cat", "sat"]], max_characters=10)  # (1, 3, 10)
    targets = np.array([[4, 5, 2]])
    log_probs = bilm({"forward_characters": chars, "forward_targets": targets})
    tuple(log_probs["forward"].shape)  # (1, 3)
    layers = bilm.representations(chars)  # 3 x (1, 3, 16): [x; x], then [f_j; b_j]
    ```

    References:
        - [Peters et al., 2018](https://arxiv.org/abs/1802.05365)
        - [Kim et al., 2016](https://arxiv.org/abs/1508.06615)
        - [Jozefowicz et al., 2016](https://arxiv.org/abs/1602.02410)
    """

    def __init__(
        self,
        vocabulary_size,
        cutoffs=(),
        max_characters=50,
        character_dim=16,
        filters=SMALL_FILTERS,
        highway_layers=2,
        units=512,
        projection_dim=128,
        num_layers=2,
        stateful=False,
        batch_size=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("max_characters", max_characters)
        if max_characters < 3:
            raise ValueError(
                "`max_characters` must be at least 3 (two marks and a byte). "
                f"Received: max_characters={max_characters}"
            )
        check_positive_int("units", units)
        check_positive_int("projection_dim", projection_dim)
        check_positive_int("num_layers", num_layers)
        check_positive_int("batch_size", batch_size, allow_none=True)
        if stateful and batch_size is None:
            raise ValueError(
                "`stateful=True` needs a fixed `batch_size`. Received: batch_size=None"
            )
        kwargs.setdefault("name", "elmo_bilm")
        # Set once the sublayers exist, so that `trainable=False` (a frozen biLM's
        # config) reaches them: TensorFlow's attribute tracking skips `x.trainable =
        # False` when it already reads False.
        trainable = kwargs.pop("trainable", True)
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.cutoffs = list(cutoffs)
        self.max_characters = max_characters
        self.character_dim = character_dim
        self.filters = [list(pair) for pair in filters]
        self.highway_layers = highway_layers
        self.units = units
        self.projection_dim = projection_dim
        self.num_layers = num_layers
        self.stateful = bool(stateful)
        self.batch_size = batch_size

        # === Layers ===
        policy = self.dtype_policy
        self.token_encoder = CharacterWordEncoder(
            num_characters=NUM_CHARACTERS,
            character_dim=character_dim,
            encoder="cnn",
            filters=self.filters,
            highway_layers=highway_layers,
            output_dim=projection_dim,
            cnn_activation="relu",  # ELMo's; Kim et al. used tanh
            dtype=policy,
            name="token_encoder",
        )
        self.lstms, self.projections = {}, {}
        for direction in DIRECTIONS:
            self.lstms[direction] = [
                LSTM(
                    units,
                    return_sequences=True,
                    stateful=self.stateful,
                    dtype=policy,
                    name=f"{direction}_lstm_{j + 1}",
                )
                for j in range(num_layers)
            ]
            self.projections[direction] = [
                keras.layers.Dense(
                    projection_dim, dtype=policy, name=f"{direction}_projection_{j + 1}"
                )
                for j in range(num_layers)
            ]
        self.softmax = AdaptiveSoftmax(
            vocabulary_size, cutoffs=self.cutoffs, dtype=policy, name="softmax"
        )
        self.nll_trackers = {d: keras.metrics.Mean(name=f"{d}_loss") for d in DIRECTIONS}

        # === Weights: the shapes are known, so they exist from the start ===
        self.build()
        self.trainable = trainable

    def build(self, input_shape=None):
        sequence = (self.batch_size, None, self.projection_dim)
        wanted = [(self.token_encoder, (None, None, self.max_characters))]
        for direction in DIRECTIONS:
            wanted += [(lstm, sequence) for lstm in self.lstms[direction]]
            wanted += [(p, (None, None, self.units)) for p in self.projections[direction]]
        wanted.append((self.softmax, (None, None, self.projection_dim)))
        for layer, shape in wanted:
            if not layer.built:  # (load_model builds again)
                layer.build(shape)
        self.built = True

    # --- the language models ------------------------------------------------------
    def _stack(self, x, direction, mask=None, initial_states=None):
        """Each layer's output `(batch, seq, projection_dim)` of one direction's stack,
        `x` in that direction's reading order."""
        outputs = []
        for j, (lstm, projection) in enumerate(
            zip(self.lstms[direction], self.projections[direction])
        ):
            state = None if initial_states is None else initial_states[j]
            y = projection(lstm(x, initial_state=state, mask=mask))  # (batch, seq, P)
            x = y if j == 0 else x + y  # residual from the second layer on
            outputs.append(x)
        return outputs

    def call(self, inputs, training=False):
        log_probs = {}
        encoded = None
        for direction in DIRECTIONS:
            targets = inputs.get(f"{direction}_targets")
            if targets is None:
                continue
            if "spellings" in inputs:  # each distinct word of the batch encoded once
                if encoded is None:
                    encoded = self.token_encoder(inputs["spellings"])  # (words, P)
                x = ops.take(encoded, inputs[f"{direction}_words"], axis=0)  # (batch, seq, P)
            else:
                x = self.token_encoder(inputs[f"{direction}_characters"])  # (batch, seq, P)
            top = self._stack(x, direction)[-1]
            log_probs[direction] = self.softmax.log_prob(top, targets)  # (batch, seq)
        if not log_probs:
            raise ValueError(
                "`ELMoBiLM` reads `forward_targets` and/or `backward_targets` with their "
                f"words' characters. Received: inputs with keys {sorted(inputs)}"
            )
        nll = [-ops.mean(value) for value in log_probs.values()]
        self.add_loss(sum(nll) / len(nll))
        return log_probs

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        for direction, tracker in self.nll_trackers.items():
            if direction in y_pred:
                tracker.update_state(-ops.mean(y_pred[direction]))
        return super().compute_metrics(x, y, y_pred, sample_weight)

    def reset_states(self):
        """Zeroes the carried states of a stateful model (a new pass over the text)."""
        for direction in DIRECTIONS:
            for lstm in self.lstms[direction]:
                lstm.reset_state()

    # --- downstream -----------------------------------------------------------------
    def boundary_states(self, batch_size):
        """`{direction: [[h, c] per layer]}` after reading `</s>` from a zero state, each
        `(batch_size, units)`: where a sentence starts, in both reading orders."""
        ids = character_ids([BOUNDARY], self.max_characters)[None]  # (1, 1, max_characters)
        x = self.token_encoder(ops.convert_to_tensor(ids))[:, 0]  # (1, P)
        states = {}
        for direction in DIRECTIONS:
            h_in, states[direction] = x, []
            for j, (lstm, projection) in enumerate(
                zip(self.lstms[direction], self.projections[direction])
            ):
                h, (h, c) = lstm.step(h_in, lstm.get_initial_state(1))
                y = projection(h)
                h_in = y if j == 0 else h_in + y
                shape = (batch_size, self.units)
                states[direction].append([ops.broadcast_to(h, shape), ops.broadcast_to(c, shape)])
        return states

    def representations(self, character_ids, mask=None):
        """ELMo's L + 1 layers of each word of each sentence, for a downstream task.

        Each direction reads the sentence alone, from the state `</s>` leaves
        (`boundary_states`): the forward LM from the first word on, the backward LM
        from the last real word back. Layer 0 is the token encoding twice,
        `[x; x]`; layer j ≥ 1 is `[forward_j; backward_j]`. Padded words (all ids 0,
        or `mask` False) are zeros and change no other word's layers.

        Args:
            character_ids: `(batch, seq, max_characters)` int ids
                (`keras_nlpkit.text.word_characters.character_ids` of sentences).
            mask: optional `(batch, seq)` boolean, True at real words; by default
                the words with a non-zero id.

        Returns:
            a list of `num_layers + 1` tensors `(batch, seq, 2 * projection_dim)`.
        """
        if self.stateful:
            raise ValueError(
                "`representations` reads each sentence from its start: use a stateless "
                "copy, `bilm.with_state(False)`. Received: stateful=True"
            )
        x = self.token_encoder(character_ids)  # (batch, seq, P)
        if mask is None:
            mask = self.token_encoder.compute_mask(character_ids)
        mask = ops.cast(mask, "bool")
        start = self.boundary_states(ops.shape(x)[0])
        forward = self._stack(x, "forward", mask, start["forward"])
        backward = self._stack(ops.flip(x, axis=1), "backward", ops.flip(mask, axis=1),
                                start["backward"])  # fmt: skip
        layers = [ops.concatenate([x, x], axis=-1)]
        for f, b in zip(forward, backward):
            layers.append(ops.concatenate([f, ops.flip(b, axis=1)], axis=-1))
        keep = ops.expand_dims(mask, -1)
        return [ops.where(keep, layer, ops.zeros_like(layer)) for layer in layers]

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            cutoffs=list(self.cutoffs),
            max_characters=self.max_characters,
            character_dim=self.character_dim,
            filters=[list(pair) for pair in self.filters],
            highway_layers=self.highway_layers,
            units=self.units,
            projection_dim=self.projection_dim,
            num_layers=self.num_layers,
            stateful=self.stateful,
            batch_size=self.batch_size,
        )
        return config

    def with_state(self, stateful, batch_size=None):
        """A copy with the same weights, stateful at `batch_size` or stateless."""
        config = {**self.get_config(), "stateful": stateful, "batch_size": batch_size}
        copy = type(self).from_config(config)
        copy.set_weights(self.get_weights())
        return copy

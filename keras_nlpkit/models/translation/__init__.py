"""Translation: `TransformerTranslator` (and the RNN one), and the searches they share.

Both translators answer `encode` / `start_decoding` / `decode_step`; `greedy_search`
and `beam_search` decode through those alone (plus a row gather of the state), so
the on-device runtime runs the same algorithm on the exported signatures.
`nlpkit train translation` (`keras_nlpkit/recipes/translation.py`) trains them.
"""

from keras_nlpkit.models.translation.beam_search import beam_search  # noqa: F401
from keras_nlpkit.models.translation.greedy_search import greedy_search  # noqa: F401
from keras_nlpkit.models.translation.label_smoothed_cross_entropy import LabelSmoothedCrossEntropy  # noqa: F401
from keras_nlpkit.models.translation.rnn_translator import RNNTranslator  # noqa: F401
from keras_nlpkit.models.translation.transformer_translator import TransformerTranslator  # noqa: F401
from keras_nlpkit.models.translation.warmup_inverse_sqrt_decay import WarmupInverseSqrtDecay  # noqa: F401

from keras_nlpkit.models.gpt.beam_sampler import BeamSampler  # noqa: F401
from keras_nlpkit.models.gpt.gpt_backbone import GPTBackbone  # noqa: F401
from keras_nlpkit.models.gpt.gpt_causal_lm import GPTCausalLM  # noqa: F401

"""`nlpkit generate`: continue a prompt with a trained char-lm or gpt-pretrain model.

    nlpkit generate --model DIR [--length N] [--temperature T]
                    [--sampler greedy|beam|top_k|top_p|random --top-k K --top-p P
                     --num-beams B] PROMPT

The folder's `recipe.json` says which: a character LSTM continues through
`LSTM.step` (greedy, or sampled at `--temperature`); a GPT through
`GPTCausalLM.generate` with the keras-hub sampler (or our beam search) the flags name.
"""

from pathlib import Path

import keras_hub

from keras_nlpkit.errors import UserInputError
from keras_nlpkit.models import BeamSampler
from keras_nlpkit.ondevice.model_folder import RECIPE_FILE
from keras_nlpkit.ondevice.model_folder import read_json
from keras_nlpkit.recipes import char_lm
from keras_nlpkit.recipes import gpt_pretrain
from keras_nlpkit.recipes.arguments import number
from keras_nlpkit.recipes.arguments import positive_integer


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="a char-lm or gpt-pretrain folder")
    parser.add_argument(
        "--length",
        type=positive_integer,
        default=80,
        help="new characters (char LM) or subword tokens (GPT)",
    )
    parser.add_argument("--temperature", type=number, default=0.0)
    parser.add_argument(
        "--sampler",
        default=None,
        choices=["greedy", "beam", "top_k", "top_p", "random"],
        help="GPT only (default: greedy, or random with --temperature)",
    )
    parser.add_argument("--top-k", type=positive_integer, default=10)
    parser.add_argument("--top-p", type=number, default=0.9)
    parser.add_argument("--num-beams", type=positive_integer, default=4)
    parser.add_argument("prompt")


def gpt_sampler(args):
    """The keras-hub (or our beam) sampler that the flags ask for."""
    name = args.sampler or ("random" if args.temperature > 0 else "greedy")
    temperature = args.temperature if args.temperature > 0 else 1.0
    if name == "top_p" and not 0 < args.top_p <= 1:
        raise UserInputError(f"--top-p must be in (0, 1]. Received: {args.top_p}")
    return {
        "greedy": lambda: keras_hub.samplers.GreedySampler(),
        "beam": lambda: BeamSampler(num_beams=args.num_beams),
        "top_k": lambda: keras_hub.samplers.TopKSampler(k=args.top_k, temperature=temperature),
        "top_p": lambda: keras_hub.samplers.TopPSampler(p=args.top_p, temperature=temperature),
        "random": lambda: keras_hub.samplers.RandomSampler(temperature=temperature),
    }[name]()


def run(args):
    manifest = Path(args.model) / RECIPE_FILE
    recipe = read_json(manifest, "--model").get("recipe") if manifest.is_file() else None
    if recipe == gpt_pretrain.RECIPE:
        generator = gpt_pretrain.load(args.model)
        print(
            args.prompt
            + " "
            + generator.generate(args.prompt, length=args.length, sampler=gpt_sampler(args))
        )
    elif recipe == char_lm.RECIPE:
        generator = char_lm.load(args.model)
        print(
            args.prompt
            + generator.generate(args.prompt, length=args.length, temperature=args.temperature)
        )
    else:
        raise UserInputError(
            f"--model: not a `train char-lm` or `train gpt-pretrain` folder "
            f"(its {RECIPE_FILE} says {recipe!r}). Received: {args.model}"
        )

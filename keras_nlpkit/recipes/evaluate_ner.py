"""`nlpkit evaluate ner`: entity-level precision, recall and F1 of a tagger on a tagged file.

    nlpkit evaluate ner --model DIR --data FILE

DIR is an `nlpkit train ner` folder (the BiLSTM tagger) or an `nlpkit train
bert-finetune --task ner` one (BERT, read at each word's first WordPiece): its
`recipe.json` says which. FILE is a CoNLL-2003 or `word<TAB>tag` file (its tags are
the gold ones). Prints one JSON object: `precision`, `recall`, `f1`, `correct`,
`predicted`, `gold` (entity counts), `per_type` (the same for each type),
`sentences` and `tokens`. The definitions are docs/METRICS.md's "Named entities"
(conlleval's: exact span and type).
"""

import json
from pathlib import Path

from keras_nlpkit.ondevice.model_folder import RECIPE_FILE
from keras_nlpkit.ondevice.model_folder import read_json
from keras_nlpkit.recipes import bert_finetune_ner
from keras_nlpkit.recipes import ner


def add_arguments(parser):
    parser.add_argument(
        "--model", required=True, help="an `nlpkit train ner` or `bert-finetune --task ner` folder"
    )
    parser.add_argument("--data", required=True, help="a CoNLL-2003 or word<TAB>tag file")


def tagger_recipe(model_dir):
    """The recipe module that reads `model_dir`: `bert_finetune_ner` for a `bert-finetune`
    folder, else `ner` (whose `load` names what else the folder is)."""
    manifest = Path(model_dir) / RECIPE_FILE
    recipe = read_json(manifest, "--model").get("recipe") if manifest.is_file() else None
    return bert_finetune_ner if recipe == bert_finetune_ner.RECIPE else ner


def run(args):
    print(json.dumps(tagger_recipe(args.model).evaluate(args.model, args.data), indent=2))

"""`nlpkit export`: a model file → SavedModel + builtin-only TFLite + manifest + report.

    nlpkit export MODEL --out DIR [--quantize float32,float16,dynamic_int8,int8]
                  [--representative-data FILE] [--tokenizer FILE] [--allow-flex]
                  [--fused-lstm] [--unsafe-load] [--num-beams N]

MODEL is a `.keras` file, a tf-keras `.h5` file or a SavedModel folder; or the
training folder of `nlpkit train translation` (or its `model.keras`): its
`translation.json` and `.spm` files go with it, and `encode`/`decode_step` are
served at batch `--num-beams` for `keras_nlpkit.ondevice.Translator`. A SavedModel
or a legacy `.h5` file is a program: export only files you trust. Before loading one,
its config or graph is read for code (a `Lambda`'s bytecode, ops that write files or
call Python) and refused, naming it, unless `--unsafe-load`
(`keras_nlpkit.export.untrusted`). `--out` must be new, empty or an earlier export:
a folder of other files is refused, not replaced. Re-exporting a recipe's model into
its export folder keeps the recipe's side files and settings.

Every file is run in both LiteRT clients, the classic Interpreter and the
CompiledModel API (what Android's Kotlin API and LiteRT.js wrap); a file of our
layers that the CompiledModel API refuses fails the export (`--fused-lstm` opts
into TFLite's fused LSTM kernel, which only the Interpreter runs).
"""

from pathlib import Path

from keras_nlpkit.export import export
from keras_nlpkit.export import load_source
from keras_nlpkit.export.translation import export_translation_folder
from keras_nlpkit.export.translation import is_translation_folder
from keras_nlpkit.ondevice.model_folder import VARIANTS
from keras_nlpkit.ondevice.tokenizer_file import TOKENIZER_FILE
from keras_nlpkit.ondevice.tokenizer_file import load_tokenizer
from keras_nlpkit.recipes.arguments import positive_integer


def add_arguments(parser):
    parser.add_argument(
        "model",
        help="a .keras or tf-keras .h5 file, a SavedModel folder, or a translation training folder",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output folder: new, empty, or an earlier export (replaced whole)",
    )
    parser.add_argument(
        "--quantize",
        default=None,
        help=f"comma-separated variants from {','.join(VARIANTS)} (default: all "
        "four with --representative-data, else the first three)",
    )
    parser.add_argument(
        "--representative-data",
        default=None,
        help="real inputs: a UTF-8 text file (one sample a line) or a .npz",
    )
    parser.add_argument(
        "--tokenizer", default=None, help="tokenizer.json (default: the one beside MODEL, if any)"
    )
    parser.add_argument(
        "--sequence-length",
        type=positive_integer,
        default=64,
        help="longest sample taken from a text file, in tokens",
    )
    parser.add_argument(
        "--unsafe-load",
        action="store_true",
        help="load a legacy file or SavedModel whose code or file-writing ops were refused "
        "(they run: only for files you trust)",
    )
    parser.add_argument(
        "--allow-flex",
        action="store_true",
        help="write files that need Flex ops anyway, with a warning",
    )
    parser.add_argument(
        "--num-beams",
        type=positive_integer,
        default=4,
        help="translation models: the rows decode_step reads, the widest beam on the device",
    )
    parser.add_argument(
        "--fused-lstm",
        action="store_true",
        help="our LSTM as TFLite's fused kernel in serving_default: the classic "
        "Interpreter only (LiteRT's CompiledModel API and LiteRT.js refuse its "
        "variable tensors)",
    )


def run(args):
    quantize = None  # export's default: all variants, int8 only with representative data
    if args.quantize is not None:
        quantize = [q.strip() for q in args.quantize.split(",") if q.strip()]
    model_path = Path(args.model)
    if is_translation_folder(model_path):
        export_translation_folder(
            model_path if model_path.is_dir() else model_path.parent,
            args.out,
            model_path=None if model_path.is_dir() else model_path,
            num_beams=args.num_beams,
            quantize=quantize,
            representative_data=args.representative_data,
        )
        return
    tokenizer_path = args.tokenizer
    if tokenizer_path is None:
        beside = (model_path if model_path.is_dir() else model_path.parent) / TOKENIZER_FILE
        tokenizer_path = beside if beside.is_file() else None
    tokenizer = load_tokenizer(tokenizer_path) if tokenizer_path is not None else None
    export(
        load_source(model_path, allow_unsafe=args.unsafe_load),
        args.out,
        quantize=quantize,
        representative_data=args.representative_data,
        tokenizer=tokenizer,
        allow_flex=args.allow_flex,
        sequence_length=args.sequence_length,
        fused_lstm=args.fused_lstm,
    )

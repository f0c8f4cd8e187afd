"""What `from_keras_hub` / `to_keras_hub` of every backbone share.

`load_keras_hub_backbone` turns the argument a user passes (a keras-hub backbone,
a keras-hub task holding one, or a local preset folder) into the keras-hub
backbone, refusing other architectures with an error that names what it got;
`arguments_of` reads the constructor arguments the two libraries share.
"""

import json
import os
from pathlib import Path

ARGUMENT = "model_or_preset_dir"


def arguments_of(model, names):
    """`{name: model.name}` for `names`: constructor arguments read off a model."""
    return {name: getattr(model, name) for name in names}


def is_preset_dir(value):
    """Whether `value` names a folder (a path), not a model object."""
    return isinstance(value, (str, bytes)) or isinstance(value, os.PathLike)


def load_keras_hub_backbone(model_or_preset_dir, hub_class):
    """The keras-hub `hub_class` backbone that `model_or_preset_dir` stands for.

    Args:
        model_or_preset_dir: a `hub_class` instance, a keras-hub task whose
            `backbone` is one (e.g. `BertTextClassifier`, `GPT2CausalLM`), or a
            local preset folder written by `save_to_preset` whose config.json
            registers exactly `hub_class` (not a relative such as DistilBERT's).
            Nothing is downloaded.
        hub_class: the keras-hub backbone class, e.g. `keras_hub.models.BertBackbone`.

    Returns:
        The `hub_class` instance.

    Raises:
        ValueError: naming `model_or_preset_dir` and what it was, for anything else.
    """
    expected = hub_class.__name__
    model = model_or_preset_dir
    if is_preset_dir(model):
        path = Path(os.fsdecode(model))
        config_file = path / "config.json"
        if not config_file.is_file():
            raise ValueError(
                f"`{ARGUMENT}` must be a keras-hub {expected} (or a task holding one) or a "
                "local preset folder written by `save_to_preset` (with a config.json). "
                f"Received: {ARGUMENT}={str(path)!r}"
            )
        config = json.loads(config_file.read_text())
        registered = str(config.get("registered_name") or config.get("class_name"))
        found = registered.split(">")[-1]
        if found != expected:
            raise ValueError(
                f"`{ARGUMENT}` must hold a keras-hub {expected} preset. Received: "
                f"{ARGUMENT}={found} (from the preset {str(path)!r}, a {registered} preset)"
            )
        return hub_class.from_preset(str(path))
    if not isinstance(model, hub_class) and isinstance(getattr(model, "backbone", None), hub_class):
        model = model.backbone  # a keras-hub task, e.g. BertTextClassifier or GPT2CausalLM
    if not isinstance(model, hub_class):
        raise ValueError(
            f"`{ARGUMENT}` must be a keras-hub {expected} (or a task holding one, or a "
            f"preset folder of one). Received: {ARGUMENT}={type(model).__name__}"
        )
    return model

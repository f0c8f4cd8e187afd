"""The one registration decorator, and the public API lists derived from it."""

import importlib
import pkgutil

import keras

_PUBLIC = {}


def nlpkit_export(path):
    """Registers `symbol` for Keras serialisation and under the public name `path`.

    `path` is the full public name, e.g. `"keras_nlpkit.layers.LSTM"`. Keras
    classes (those with `get_config`) are registered with
    `keras.saving.register_keras_serializable(package="keras_nlpkit")` so that
    `.keras` files load without `custom_objects`; other symbols are only published.
    """

    def decorator(symbol):
        if isinstance(symbol, type) and hasattr(symbol, "get_config"):  # a Keras object
            keras.saving.register_keras_serializable(package="keras_nlpkit")(symbol)
        _PUBLIC[path] = symbol
        return symbol

    return decorator


def export_public(package_name, namespace):
    """Imports every module of a package and publishes its registered symbols.

    Called at the end of a package `__init__`: the names in `__all__` are exactly the
    symbols decorated with `nlpkit_export("<package_name>.<Name>")`, no hand-kept list.
    """
    package = importlib.import_module(package_name)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package_name}.{module.name}")
    prefix = package_name + "."
    names = {
        path[len(prefix) :]: symbol
        for path, symbol in _PUBLIC.items()
        if path.startswith(prefix) and "." not in path[len(prefix) :]
    }
    namespace.update(names)
    namespace["__all__"] = sorted(names)

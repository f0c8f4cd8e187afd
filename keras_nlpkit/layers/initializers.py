"""Initializer helpers shared by composite layers (not public)."""


def clone_initializer(initializer):
    """A fresh copy of an initializer object, one per sublayer.

    Seeded initializers would otherwise give every sublayer the same values.
    """
    return initializer.__class__.from_config(initializer.get_config())

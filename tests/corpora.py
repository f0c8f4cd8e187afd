"""Text made here for the tests (fast tests need no shared data)."""

import numpy as np


def planted_corpus(lines=3000, seed=0):
    """Words of one group share every context: cat/dog/cow and apple/pear/plum."""
    rng = np.random.default_rng(seed)
    animals, fruits = ["cat", "dog", "cow"], ["apple", "pear", "plum"]
    animal_contexts = [
        "the {} barked at the farmer",
        "a hungry {} slept in the barn",
        "my {} ran across the field",
    ]
    fruit_contexts = [
        "she ate a ripe {} for lunch",
        "the {} tree grew sweet juice",
        "we picked a {} from the orchard",
    ]
    out = []
    for _ in range(lines):
        if rng.random() < 0.5:
            out.append(rng.choice(animal_contexts).format(rng.choice(animals)))
        else:
            out.append(rng.choice(fruit_contexts).format(rng.choice(fruits)))
    return "\n".join(out) + "\n"


# Search queries from a small grammar with repeats, so a language model has something
# to learn.
_PLACES = ("new york", "boston", "san diego", "chicago", "paris")
_THINGS = ("hotels", "weather", "pizza", "flights to", "jobs in")
QUERIES = [f"{thing} {place}" for thing in _THINGS for place in _PLACES] * 12 + [
    f"{place} {thing}" for place in _PLACES for thing in _THINGS[:3]
] * 6

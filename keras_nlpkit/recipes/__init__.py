"""Recipes: what `nlpkit` runs, one module a command (the table is `keras_nlpkit.cli`).

A command module holds orchestration only: its config dataclass (a
`RecipeConfig`, checked by one rule set), `add_arguments(parser)` and `run(args)`,
and the steps that join the library's pieces — read the data (`keras_nlpkit.text`),
build a model (`keras_nlpkit.models`), train it (`training.fit`), export it
(`keras_nlpkit.export`), measure it (`keras_nlpkit.evaluation`), or run it on the
device (`keras_nlpkit.ondevice`). Each opens with the commands that run it.
"""

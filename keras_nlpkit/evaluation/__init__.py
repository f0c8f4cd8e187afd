"""Evaluation: the metrics of docs/METRICS.md and the peers each recipe is measured against.

metrics              the definitions, in code
query_completion     KSR & co. of an exported completer and of `TrigramCompleter`
spelling             accuracy, kept-correct, latency of a corrector and of its peers
word_vectors         analogy accuracy and word similarity of a vectors file
ner                  entity-level precision, recall, F1 (conlleval's exact spans)
trigram_completer    the stupid-backoff trigram peer
spelling_peers       SymSpell and pyspellchecker
"""

"""`LexiconTrie`: the lexicon as a character trie, for the corrector's constrained beam search."""

import numpy as np


class LexiconTrie:
    """A character trie over a lexicon `{word: count}`, as flat arrays.

    Node 0 is the root. For node n: `child_chars[n]` / `child_nodes[n]` (int
    arrays, the edges), `word_logp[n]` (log relative frequency of the word ending
    at n, or -inf) and `best_logp[n]` (the best `word_logp` in n's subtree).

    Args:
        lexicon: `{word: count}`.
        char_ids: `{character: id}` of the model's vocabulary; words with other
            characters are left out.
    """

    def __init__(self, lexicon, char_ids):
        total = float(sum(lexicon.values())) or 1.0
        children = [{}]
        word_logp = [-np.inf]
        words = [None]
        for word, count in lexicon.items():
            if not word or any(c not in char_ids for c in word):
                continue
            node = 0
            for c in word:
                child = children[node].get(char_ids[c])
                if child is None:
                    child = len(children)
                    children[node][char_ids[c]] = child
                    children.append({})
                    word_logp.append(-np.inf)
                    words.append(None)
                node = child
            word_logp[node] = max(word_logp[node], float(np.log(max(count, 1) / total)))
            words[node] = word
        self.word_logp = np.asarray(word_logp)
        self.words = words
        self.child_chars = [np.fromiter(c.keys(), np.int64, len(c)) for c in children]
        self.child_nodes = [np.fromiter(c.values(), np.int64, len(c)) for c in children]
        # Children always have larger ids than their parent: one backward sweep.
        best = self.word_logp.copy()
        for node in range(len(children) - 1, -1, -1):
            if len(self.child_nodes[node]):
                best[node] = max(best[node], best[self.child_nodes[node]].max())
        self.best_logp = best
        self._char_ids = char_ids

    def __len__(self):
        return sum(w is not None for w in self.words)

    def find(self, word):
        """The node of `word` (a word or a prefix), or None."""
        node = 0
        for c in word:
            i = self._char_ids.get(c)
            if i is None:
                return None
            hits = np.flatnonzero(self.child_chars[node] == i)
            if not hits.size:
                return None
            node = int(self.child_nodes[node][hits[0]])
        return node

    def __contains__(self, word):
        node = self.find(word)
        return node is not None and self.words[node] is not None

"""Stanford GloVe's training loop, one pair at a time, as a quality reference (numba).

Not part of the library: `benchmarks/glove.py --peer reference` runs it on the
same counts as ours, to compare similarity scores with the algorithm of
`glove.c` when its binary is not at hand. The update is the paper's AdaGrad as
glove.c applies it per pair: gradients scaled by eta, then divided by the root
of the running sum of squared (scaled) gradients, which starts at 1; gradients
clipped at 100; pairs shuffled once and visited in that order every epoch; the
saved vector of a word is w_i + w~_i. Single-threaded (glove.c runs Hogwild on
several threads; the order of updates, not their rule, differs).
"""

import numpy as np


def train_reference(
    rows, cols, values, vocab_size, dim=100, epochs=15, x_max=100.0, alpha=0.75, eta=0.05, seed=0
):
    """Returns the (vocab, dim) vectors w + w~ after `epochs` passes of per-pair AdaGrad."""
    import numba

    @numba.njit(cache=False, fastmath=False)
    def epoch(order, rows, cols, values, W, C, bw, bc, gW, gC, gbw, gbc, x_max, alpha, eta):
        cost = 0.0
        dim = W.shape[1]
        u1 = np.empty(dim, np.float64)
        u2 = np.empty(dim, np.float64)
        for n in order:
            i, j, x = rows[n], cols[n], values[n]
            diff = bw[i] + bc[j] - np.log(x)
            for b in range(dim):
                diff += W[i, b] * C[j, b]
            fdiff = diff if x > x_max else (x / x_max) ** alpha * diff
            cost += 0.5 * fdiff * diff
            for b in range(dim):
                t1 = min(max(fdiff * C[j, b], -100.0), 100.0) * eta
                t2 = min(max(fdiff * W[i, b], -100.0), 100.0) * eta
                u1[b] = t1 / np.sqrt(gW[i, b])
                u2[b] = t2 / np.sqrt(gC[j, b])
                gW[i, b] += t1 * t1
                gC[j, b] += t2 * t2
            for b in range(dim):
                W[i, b] -= u1[b]
                C[j, b] -= u2[b]
            step = fdiff * eta
            bw[i] -= step / np.sqrt(gbw[i])
            bc[j] -= step / np.sqrt(gbc[j])
            gbw[i] += step * step
            gbc[j] += step * step
        return cost

    rng = np.random.default_rng(seed)
    W = (rng.random((vocab_size, dim)) - 0.5) / dim
    C = (rng.random((vocab_size, dim)) - 0.5) / dim
    bw = (rng.random(vocab_size) - 0.5) / dim
    bc = (rng.random(vocab_size) - 0.5) / dim
    gW, gC = np.ones_like(W), np.ones_like(C)
    gbw, gbc = np.ones_like(bw), np.ones_like(bc)
    order = rng.permutation(len(values))
    values = values.astype(np.float64)
    for _ in range(epochs):
        epoch(order, rows, cols, values, W, C, bw, bc, gW, gC, gbw, gbc, x_max, alpha, eta)
    return (W + C).astype(np.float32)

"""An equilibrium (deep equilibrium, implicit) layer: its output is the fixed point x* = tanh(W x* + U u).

The loop iterates the map until the largest change is below 1e-12; it is marked ``# s2sad: fixed-point``, so
its gradient does not tape the iterations: the reverse pass solves the adjoint equation of the converged state,
lambda = x_bar + (dg/dx)^T lambda, by the same kind of iteration (implicit function theorem), and memory does not
grow with the number of iterations. The map is contracting when W is small (here its norm is below 1).
"""

import numpy as np


def equilibrium_loss(W, U, u, target):
    x = np.zeros(len(target))
    change = 1.0
    # s2sad: fixed-point
    while change > 1e-12:
        x_new = np.tanh(W @ x + U @ u)
        change = np.max(np.abs(x_new - x))
        x = x_new
    return 0.5 * np.sum((x - target) ** 2)

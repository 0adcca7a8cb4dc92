"""The benchmark's cases: the point each gradient is taken at, and the adjoint a careful person writes by hand.

Every tool's gradient is checked against these adjoints before it is timed, and every ratio is given beside the
hand-written adjoint's, measured in the same run. They follow the textbook recipe: run forward keeping what the
reverse sweep needs, then sweep backwards, using what a person knows about the function (the closed form of
softmax + cross-entropy, a linear function's constant adjoints). Shared with the Tangent interpreter
(Python 3.7, NumPy 1.21): plain Python, no newer syntax.
"""

from __future__ import annotations

from math import cos, exp, sin

import numpy as np

SCALAR = ("domke", "network", "loop")
ARRAYS = ("rosenbrock", "rnn", "mlp")
STEPS = 200  #: the scalar loop's trip count (examples/loop.py's ``n``)
HIDDEN, INPUTS, T = 64, 32, 50  #: the RNN's sizes: hidden 64, inputs 32, 50 steps


def inputs(case):
    """The arguments of ``f`` for ``case``; the same in every process (seeded)."""
    rng = np.random.default_rng(0)
    if case == "domke":
        return (0.3,)
    if case == "network":
        return (0.7,)
    if case == "loop":
        return (0.3, 0.9, STEPS)
    if case == "rosenbrock":
        return (rng.normal(size=1000),)
    if case == "rnn":
        return (
            0.1 * rng.normal(size=(HIDDEN, HIDDEN)),
            0.1 * rng.normal(size=(HIDDEN, INPUTS)),
            rng.normal(size=HIDDEN),
            rng.normal(size=(T, INPUTS)),
        )
    if case == "mlp":
        X = rng.normal(size=(64, 784))
        Y = np.eye(10)[rng.integers(0, 10, 64)]
        return (0.05 * rng.normal(size=(784, 128)), np.zeros(128), 0.1 * rng.normal(size=(128, 10)), np.zeros(10), X, Y)
    if case == "gmm":
        return (rng.normal(size=(8, 16)), 0.1 * rng.normal(size=8), rng.normal(size=(2000, 16)) + 0.5)
    raise KeyError(case)


#: which parameters are differentiated (by position), as every tool is asked
WRT = {
    "domke": (0,),
    "network": (0,),
    "loop": (0, 1),
    "rosenbrock": (0,),
    "rnn": (0, 1, 2),
    "mlp": (0, 1, 2, 3),
    "gmm": (0, 1),
}


def domke(x):
    """examples/domke.py: a = exp(x), c = a + a**2, f = exp(c) + sin(c)."""
    a = exp(x)
    c = a + a**2
    c_bar = exp(c) + cos(c)
    return c_bar * (1.0 + 2.0 * a) * a


def network(a):
    """examples/network.py: b1 = 2a, b2 = 3a + b1, c = 4 b1 + 5 b2. Linear: the adjoints are constants."""
    b2_bar = 5.0
    b1_bar = 4.0 + b2_bar
    return 3.0 * b2_bar + 2.0 * b1_bar


def loop(x, y, n):
    """examples/loop.py's f: x = sin(x) * y + 0.5 * x, n times. Record each overwritten x, sweep backwards."""
    xs = []
    for i in range(n):
        xs.append(x)
        x = sin(x) * y + 0.5 * x
    x_bar = 1.0
    y_bar = 0.0
    for x in reversed(xs):
        y_bar += x_bar * sin(x)
        x_bar *= y * cos(x) + 0.5
    return x_bar, y_bar


def rosenbrock(x):
    """sum(100 (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2): two slice updates of one zero array."""
    head = x[:-1]
    d = x[1:] - head**2
    g = np.zeros_like(x)
    g[1:] = 200.0 * d
    g[:-1] += -400.0 * d * head - 2.0 * (1.0 - head)
    return g


def rnn(W, U, h0, xs):
    """h = tanh(W @ h + U @ xs[t]) for 50 steps, loss sum(h * h): keep every h, sweep backwards."""
    hs = [h0]
    h = h0
    for t in range(T):
        h = np.tanh(W @ h + U @ xs[t])
        hs.append(h)
    gh = 2.0 * h
    gW = np.zeros_like(W)
    gU = np.zeros_like(U)
    for t in range(T - 1, -1, -1):
        da = gh * (1.0 - hs[t + 1] ** 2)
        gW += np.outer(da, hs[t])
        gU += np.outer(da, xs[t])
        gh = W.T @ da
    return gW, gU, gh


def mlp(W1, b1, W2, b2, X, Y):
    """examples/mlp.py: sigmoid hidden layer, softmax, mean cross-entropy; its adjoint is (p - Y) / n."""
    h = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
    z = h @ W2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    dz = (p - Y) / X.shape[0]
    da = (dz @ W2.T) * h * (1.0 - h)
    return X.T @ da, da.sum(axis=0), h.T @ dz, dz.sum(axis=0)


def gmm(means, log_weights, data):
    """bench/arrays.py's Gaussian mixture: with r the responsibilities (the softmax over the components of
    each point's log-density), the means' adjoint is sum_n r (x_n - mu), the log-weights' sum_n r - N w."""
    from scipy.special import logsumexp

    diff = data[:, None, :] - means[None, :, :]
    z = log_weights - logsumexp(log_weights) - 0.5 * np.einsum("nkd,nkd->nk", diff, diff)
    r = np.exp(z - logsumexp(z, axis=1, keepdims=True))
    weights = np.exp(log_weights - logsumexp(log_weights))
    return np.einsum("nk,nkd->kd", r, diff), r.sum(axis=0) - data.shape[0] * weights


HAND = {"domke": domke, "network": network, "loop": loop, "rosenbrock": rosenbrock, "rnn": rnn, "mlp": mlp, "gmm": gmm}

"""The cases under Google's Tangent (0.1.9, 2018), in the interpreter Tangent still runs on (Python 3.7).

Not run by hand: ``competitors.tangent`` starts it as ``TANGENT_PYTHON bench/tangent_cases.py RUNS ROUNDS TARGET``
and reads one JSON object from its output: per case, per run, the best times of f, the hand-written adjoint
and Tangent's gradient, measured here, interleaved, in this interpreter. Tangent reads the source of what it
differentiates, so the functions live in this file; they compute what the cases of ``scalars.py`` and
``arrays.py`` compute, in what Tangent knows: ``np.dot`` for ``@`` (Tangent has no adjoint for the operator),
adjoints for ``math.exp``/``math.sin`` registered with Tangent's own ``@adjoint`` (it ships NumPy's only), and
``np.max`` (the softmax shift, whose gradient contribution is exactly zero) declared non-differentiable.
Every gradient is checked against the hand-written adjoint before it is timed; one that disagrees is reported
under ``"wrong"`` and not timed.
"""

import json
import math
import platform
import sys

import common  # noqa: F401  (one thread, before NumPy)
import numpy as np
import tangent
from tangent import grads, non_differentiable
from tangent.grads import adjoint

import cases


@adjoint(math.exp)
def _exp(y, x):
    d[x] = y * d[y]  # noqa: F821 (Tangent's template language)


@adjoint(math.sin)
def _sin(y, x):
    d[x] = d[y] * math.cos(x)  # noqa: F821


for _fn in (math.exp, math.sin):
    grads.UNIMPLEMENTED_ADJOINTS.discard(_fn)
non_differentiable.register_non_differentiable_functions(np.max)


def domke(x):
    a = math.exp(x)
    b = a**2
    c = a + b
    d = math.exp(c)
    e = math.sin(c)
    return d + e


def network(a):
    b1 = 2 * a
    b2 = 3 * a + b1
    return 4 * b1 + 5 * b2


def loop(x, y, n):
    for i in range(n):
        x = math.sin(x) * y + 0.5 * x
    return x


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rnn(W, U, h0, xs):
    h = h0
    for t in range(50):
        h = np.tanh(np.dot(W, h) + np.dot(U, xs[t]))
    return np.sum(h * h)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=1, keepdims=True)


def cross_entropy(p, Y):
    return -np.mean(np.sum(Y * np.log(p), axis=1))


def mlp(W1, b1, W2, b2, X, Y):
    h = sigmoid(np.dot(X, W1) + b1)
    p = softmax(np.dot(h, W2) + b2)
    return cross_entropy(p, Y)


FUNCTIONS = {"domke": domke, "network": network, "loop": loop, "rosenbrock": rosenbrock, "rnn": rnn, "mlp": mlp}


def main():
    runs, rounds, target = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    chosen = sys.argv[4].split(",") if len(sys.argv) > 4 else list(FUNCTIONS)
    prepared, wrong = {}, {}
    for case in chosen:
        f, args, hand = FUNCTIONS[case], cases.inputs(case), cases.HAND[case]
        g = tangent.grad(f, wrt=cases.WRT[case])
        try:
            common.check("Tangent", case, g(*args), hand(*args))
        except common.Disagreement as e:  # Tangent's own bug: reported, never timed
            wrong[case] = str(e)
            continue
        prepared[case] = [(f, args), (hand, args), (g, args)]
    times = {case: [] for case in prepared}
    for _ in range(runs):
        for case in prepared:
            times[case].append(common.best_times(prepared[case], rounds, target))
    versions = {"python": platform.python_version(), "numpy": np.__version__, "tangent": _version()}
    print(json.dumps({"versions": versions, "times": times, "wrong": wrong}))


def _version():
    try:
        import pkg_resources

        return pkg_resources.get_distribution("tangent").version
    except Exception:  # noqa: BLE001 (a version string is a courtesy)
        return "?"


if __name__ == "__main__":
    main()

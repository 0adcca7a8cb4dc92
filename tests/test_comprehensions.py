"""Comprehensions over zip and enumerate, generators read by sum, min and max, and comprehensions in a module
without NumPy (examples/least_squares.py). Each row is differentiated correctly or refused."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from soundness import Case, verdict

_MATH = "import math\n\n\n"
_NP = "import numpy as np\n\n\n"


def row(
    id: str,
    body: str,
    *at: object,
    family: str,
    expect: str = "correct",
    code: str | None = None,
    numpy: bool = False,
    wrt: tuple[str, ...] | None = None,
) -> Case:
    text = (_NP if numpy else _MATH) + textwrap.dedent(body)
    return Case(id, {"m.py": text}, tuple(at), wrt=wrt, expect=expect, code=code, family=family)


TS = np.array([0.0, 0.5, 1.0, 1.5])
YS = np.array([1.0, 0.7, 0.4, 0.3])

CASES = [
    row(
        "zip-in-a-comprehension-without-numpy",
        """
        def f(a, b, ts, ys):
            residuals = [a * math.exp(-b * t) - y for t, y in zip(ts, ys)]
            return sum(r * r for r in residuals)
        """,
        1.1,
        0.6,
        TS,
        YS,
        family="zip",
        wrt=("a", "b"),
    ),
    row(
        "zip-of-unequal-lengths-stops-at-the-shortest",
        """
        def f(a, ts, ys):
            return sum([a * t - y for t, y in zip(ts, ys)])
        """,
        1.1,
        TS,
        YS[:3],
        family="zip",
        wrt=("a",),
    ),
    row(
        "zip-of-three-with-numpy",
        """
        def f(w, xs, ys, zs):
            return np.sum(np.array([w[0] * x + w[1] * y - z for x, y, z in zip(xs, ys, zs)]) ** 2)
        """,
        np.array([0.3, -0.8]),
        TS,
        YS,
        TS * YS,
        family="zip",
        numpy=True,
        wrt=("w",),
    ),
    row(
        "zip-over-a-differentiated-array",
        """
        def f(x, ys):
            return sum([a * b for a, b in zip(x, ys)])
        """,
        np.array([0.3, -0.8, 1.5, 2.0]),
        YS,
        family="zip",
        numpy=True,
        wrt=("x",),
    ),
    row(
        "enumerate-in-a-comprehension",
        """
        def f(x):
            return sum([i * v * v for i, v in enumerate(x)])
        """,
        np.array([0.3, -0.8, 1.5]),
        family="enumerate",
        numpy=True,
    ),
    row(
        "generator-in-sum",
        """
        def f(x, n):
            return sum(x ** k for k in range(n))
        """,
        0.7,
        4,
        family="generator",
        wrt=("x",),
    ),
    row(
        "generator-in-max",
        """
        def f(x):
            return max(v * v for v in x)
        """,
        np.array([0.3, -1.8, 1.5]),
        family="generator",
        numpy=True,
    ),
    row(
        "generator-in-min-without-numpy",
        """
        def f(a, ts):
            return min(a * t + math.sin(t) for t in ts)
        """,
        1.1,
        TS + 0.1,
        family="generator",
        wrt=("a",),
    ),
    row(
        "generator-as-np-array-refused",  # np.array of a generator is an array of one object
        """
        def f(x):
            return np.sum(np.array(v * v for v in x))
        """,
        np.array([0.3, -0.8]),
        family="generator",
        numpy=True,
        expect="refused",
        code="unsupported-syntax",
    ),
    row(
        "generator-assigned-refused",
        """
        def f(x):
            g = (v * v for v in x)
            return sum(g)
        """,
        np.array([0.3, -0.8]),
        family="generator",
        numpy=True,
        expect="refused",
        code="unsupported-syntax",
    ),
    row(
        "comprehension-unpacking-rows-refused",
        """
        def f(x, pairs):
            return sum([x * a * b for a, b in pairs])
        """,
        0.7,
        np.array([[1.0, 2.0], [0.5, 0.3]]),
        family="unpack",
        wrt=("x",),
        expect="refused",
        code="unsupported-syntax",
    ),
    row(
        "list-that-grows-without-numpy-still-refused",
        """
        def f(x):
            xs = [x]
            xs.append(x * x)
            return sum(xs)
        """,
        0.7,
        family="grow",
        expect="refused",
        code="unsupported-syntax",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_comprehensions(case: Case, tmp_path) -> None:
    verdict(case, tmp_path)

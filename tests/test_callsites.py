"""Versions of a helper for what a call site decides (s2sad/frontend/callsites.py): tuples passed to a helper,
and ``param=None`` defaults tested with ``is None``. Each row is differentiated correctly or refused."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import s2sad
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


TUPLES = [
    row(
        "tuple-display-to-a-helper-that-unpacks",
        """
        def h(p, k):
            a, b = p
            return a * math.sin(b) * k

        def f(x, y):
            return h((x * y, y), 2.0) + h((y, x), x)
        """,
        0.7,
        1.3,
        family="tuple-argument",
    ),
    row(
        "tuple-variable-through-two-helpers",  # rk4.py's state and params
        """
        def rate(state, params):
            u, v = state
            a, b = params
            return (a * u - b * u * v, b * u * v - a * v)

        def step(state, params, dt):
            u, v = state
            du, dv = rate(state, params)
            ku, kv = rate((u + 0.5 * dt * du, v + 0.5 * dt * dv), params)
            return (u + dt * ku, v + dt * kv)

        def f(a, b, u0):
            params = (a, b)
            state = (u0, 1.0)
            for _ in range(3):
                state = step(state, params, 0.1)
            u, v = state
            return u * u + v
        """,
        0.9,
        0.4,
        1.2,
        family="tuple-argument",
    ),
    row(
        "tuple-indexed-and-measured-in-the-helper",
        """
        def h(t):
            return t[0] * t[-1] + len(t) * t[1]

        def f(x, y):
            return h((x, y, x * y))
        """,
        0.7,
        1.3,
        family="tuple-argument",
    ),
    row(
        "tuple-iterated-in-the-helper",
        """
        def h(t):
            s = 0.0
            for v in t:
                s = s + v * v
            return s

        def f(x, y):
            return h((x, math.exp(y))) * h((y,))
        """,
        0.7,
        0.3,
        family="tuple-argument",
    ),
    row(
        "one-helper-given-tuples-of-two-lengths",
        """
        def total(t):
            return sum(t)

        def f(x, y):
            return total((x, y)) * total((x, y, x * y))
        """,
        0.7,
        1.3,
        family="tuple-argument",
    ),
    row(
        "tuple-as-a-keyword-argument",
        """
        def h(x, pair):
            a, b = pair
            return a * x + b

        def f(x, y):
            return h(x, pair=(y, x * y))
        """,
        0.7,
        1.3,
        family="tuple-argument",
    ),
    row(
        "results-of-a-helper-passed-on-whole",
        """
        def polar(r, t):
            return r * math.cos(t), r * math.sin(t)

        def norm2(p):
            a, b = p
            return a * a + b * b

        def f(r, t):
            return norm2(polar(r, t))
        """,
        0.7,
        1.3,
        family="tuple-argument",
    ),
    row(
        "constant-tuple-as-a-shape",
        """
        def h(x, shape):
            return np.sum(np.ones(shape) * x)

        def f(x):
            return h(x, (2, 3)) * x
        """,
        0.7,
        family="tuple-argument",
        numpy=True,
    ),
    row(
        "tuple-and-array-to-the-same-helper",
        """
        def h(p):
            return p[0] * p[1]

        def f(x, y):
            return h((x, y)) + h(np.array([x, 2.0 * y]))
        """,
        0.7,
        1.3,
        family="tuple-argument",
        numpy=True,
    ),
    row(
        "tuple-parameter-reassigned-in-the-helper",  # no version: the tuple is built, and has no rule
        """
        def h(t):
            t = (t[1], t[0])
            return t[0] * 2.0

        def f(x, y):
            return h((x, y))
        """,
        0.7,
        1.3,
        family="tuple-argument",
        expect="refused",
        code="no-rule",
    ),
]

NONE = [
    row(
        "none-default-left-out-and-given",
        """
        def h(x, w=None):
            if w is None:
                w = 2.0
            return w * x * x

        def f(x, y):
            return h(x) + h(x, 3.0 * y) + h(x, None)
        """,
        0.7,
        1.3,
        family="is-none",
    ),
    row(
        "none-default-given-a-name-stays-a-branch",
        """
        def h(x, w=None):
            if w is None:
                w = 2.0
            return w * x * x

        def f(x, y):
            return h(x, y)
        """,
        0.7,
        1.3,
        family="is-none",
    ),
    row(
        "is-not-none-with-an-else",
        """
        def h(x, scale=None):
            if scale is not None:
                y = x * scale
            else:
                y = math.sin(x)
            return y * x

        def f(x, y):
            return h(x) * h(x, scale=y + 1.0)
        """,
        0.7,
        1.3,
        family="is-none",
    ),
    row(
        "none-in-a-conditional-expression",
        """
        def h(x, w=None):
            w = 1.5 if w is None else w
            return w * x

        def f(x, y):
            return h(x) + h(y, x * y)
        """,
        0.7,
        1.3,
        family="is-none",
    ),
    row(
        "none-test-after-the-parameter-is-reassigned",
        """
        def h(x, w=None):
            if w is None:
                w = x
            if w is None:
                return 0.0
            return w * x

        def f(x):
            return h(x) + h(x, 2.0 * x)
        """,
        0.7,
        family="is-none",
    ),
    row(
        "none-test-in-a-loop-that-assigns-it",
        """
        def h(x, w=None):
            s = 0.0
            for i in range(3):
                if w is None:
                    w = x
                else:
                    w = w * x
                s = s + w
            return s

        def f(x):
            return h(x) + h(x, 0.5 * x)
        """,
        0.7,
        family="is-none",
    ),
    row(
        "none-decides-an-early-return",
        """
        def h(x, w=None):
            if w is None:
                return x * x
            return w * x

        def f(x, y):
            return h(x) + h(x, y * 2.0)
        """,
        0.7,
        1.3,
        family="is-none",
    ),
    row(
        "none-branch-with-an-array-default",
        """
        def weighted(x, w=None):
            if w is None:
                w = np.ones(x.shape[0])
            return np.sum(w * x ** 2)

        def f(x):
            return weighted(x) + weighted(x, 2.0 * x)
        """,
        np.array([0.5, -1.0, 2.0]),
        family="is-none",
        numpy=True,
    ),
]

CASES = TUPLES + NONE


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_callsites(case: Case, tmp_path) -> None:
    verdict(case, tmp_path)


def test_a_tuple_passed_makes_one_parameter_per_element():
    text = _MATH + "def h(p):\n    a, b = p\n    return a * b\n\n\ndef f(x, y):\n    return h((x, y))\n"
    out = s2sad.generate(text, "m.py", "f")
    assert "def h(p_0, p_1):" in out or "(p_0, p_1" in out, out


def test_a_decided_none_test_leaves_no_branch():
    text = _MATH + (
        "def h(x, w=None):\n    if w is None:\n        w = 2.0\n    return w * x\n\n\n"
        "def f(x):\n    return h(x) + h(x, 3.0)\n"
    )
    out = s2sad.generate(text, "m.py", "f")
    assert "is None" not in out, out

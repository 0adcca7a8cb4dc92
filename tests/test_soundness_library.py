"""Soundness of issue 14's last library rules: joins of lists of arrays, contractions, np.cross, the tuple
results of np.linalg.slogdet and np.linalg.eigh, solve_triangular. Every row is differentiated correctly
(against central finite differences of the user's own function) or refused with a located diagnostic; where a
guess would be easy (a list whose length is not known, a tuple result kept whole, keywords the rules do not
know), the row expects the refusal.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from soundness import Case, verdict

_HEADER = "import numpy as np\nimport scipy.linalg\nfrom typing import Annotated\n\n\n"


def case(id: str, body: str, at: tuple, expect: str = "correct", code: str | None = None, wrt=None) -> Case:
    return Case(id, {"m.py": _HEADER + textwrap.dedent(body)}, at, wrt=wrt, expect=expect, code=code)


_rng = np.random.default_rng(14)


def randn(*shape: int) -> np.ndarray:
    return _rng.uniform(0.2, 0.9, shape)


def matrix(n: int) -> np.ndarray:
    return randn(n, n) + n * np.eye(n)


JOINS = [
    case("concatenate-display", "def f(a, b):\n    return np.sum(np.concatenate([a, b]) ** 3)\n", (randn(3), randn(2))),
    case(
        "concatenate-axis-1-annotated",
        'def f(a: Annotated[np.ndarray, "n 2"], b: Annotated[np.ndarray, "n 3"]):\n'
        "    return np.sum(np.sin(np.concatenate((a, b), axis=1)) * np.arange(5.0))\n",
        (randn(4, 2), randn(4, 3)),
    ),
    case(
        "concatenate-same-array-twice",
        "def f(a):\n    return np.sum(np.concatenate([a, a, 2.0 * a]) ** 2)\n",
        (randn(3),),
    ),
    case(
        "concatenate-tuple-variable",
        "def f(a, b):\n    t = (a, b)\n    if np.sum(a) > 0:\n        t = (b, a)\n    return np.sum(np.concatenate(t) * np.arange(6.0))\n",
        (randn(3), randn(3)),
    ),
    case("stack-axis", "def f(a, b):\n    return np.sum(np.stack([a, b], axis=-1) ** 3)\n", (randn(2, 3), randn(2, 3))),
    case("hstack-scalars", "def f(a, b):\n    return np.sum(np.hstack([a, b, a * b]) ** 2)\n", (0.3, 0.7)),
    case(
        "vstack-vectors", "def f(a, b):\n    return np.sum(np.vstack([a, b]) @ np.arange(3.0))\n", (randn(3), randn(3))
    ),
    case(
        "column-stack-mixed",
        "def f(a, B):\n    return np.sum(np.column_stack([a, B]) ** 2 * np.arange(3.0))\n",
        (randn(4), randn(4, 2)),
    ),
    case(
        "concatenate-growing-list",
        "def f(a):\n    xs = []\n    for i in range(3):\n        xs.append(a * i)\n    return np.sum(np.concatenate(xs))\n",
        (randn(2),),
        expect="refused",
    ),
    case(
        "concatenate-parameter-list",
        "def f(a, xs):\n    return np.sum(np.concatenate(xs) * a)\n",
        (randn(2), [randn(2), randn(2)]),
        expect="refused",
        code="no-rule",
        wrt=["a", "xs"],
    ),
    case(
        "concatenate-unknown-keyword",
        "def f(a, b):\n    return np.sum(np.concatenate([a, b], dtype=float))\n",
        (randn(2), randn(2)),
        expect="refused",
        code="no-rule",
    ),
    case(
        "flatten-then-write",
        "def f(A):\n    y = A.flatten()\n    y[1] = 0.0\n    return np.sum(y ** 2) + np.sum(A ** 3)\n",
        (randn(2, 2),),
    ),
]

CONTRACTIONS = [
    case("tensordot-int", "def f(a, b):\n    return np.sum(np.tensordot(a, b, 1) ** 2)\n", (randn(2, 3), randn(3, 4))),
    case(
        "tensordot-pairs",
        "def f(a, b):\n    return np.sum(np.tanh(np.tensordot(a, b, axes=([2, 0], [0, 1]))))\n",
        (randn(2, 3, 4), randn(4, 2)),
    ),
    case("inner-stack", "def f(a, b):\n    return np.sum(np.inner(a, b) ** 2)\n", (randn(2, 3), randn(4, 3))),
    case("vdot-matrices", "def f(a, b):\n    return np.vdot(a, b) ** 2\n", (randn(2, 3), randn(3, 2))),
    case("kron", "def f(a, b):\n    return np.sum(np.kron(a, b) ** 2)\n", (randn(2, 2), randn(3))),
    case("cross-vectors", "def f(a, b):\n    return np.sum(np.cross(a, b) ** 2)\n", (randn(3), randn(3))),
    case(
        "cross-broadcast", "def f(a, b):\n    return np.sum(np.cross(a, b) * np.arange(3.0))\n", (randn(4, 3), randn(3))
    ),
    case(
        "cross-axis-keyword",
        "def f(a, b):\n    return np.sum(np.cross(a, b, axisa=0))\n",
        (randn(3, 2), randn(2, 3)),
        expect="refused",
        code="no-rule",
    ),
]

LINALG = [
    case(
        "slogdet-unpacked",
        "def f(A):\n    sign, logdet = np.linalg.slogdet(A)\n    return sign * logdet\n",
        (matrix(3),),
    ),
    case("slogdet-indexed", "def f(A):\n    return np.linalg.slogdet(A)[1] ** 2\n", (matrix(3),)),
    case(
        "eigh-values-and-vectors",
        "def f(A):\n    w, V = np.linalg.eigh(A + A.T)\n    return np.sum(w ** 2) + np.sum(V ** 2 * np.arange(3.0))\n",
        (randn(3, 3) + np.diag([0.0, 1.0, 2.0]),),
    ),
    case(
        "eigh-tuple-kept",
        "def f(A):\n    t = np.linalg.eigh(A)\n    return np.sum(t[0])\n",
        (matrix(3),),
        expect="refused",
    ),
    case(
        "eigh-uplo",
        "def f(A):\n    w, V = np.linalg.eigh(A, UPLO='U')\n    return np.sum(w)\n",
        (matrix(3),),
        expect="refused",
    ),
    case(
        "solve-triangular-lower",
        "def f(L, b):\n    return np.sum(scipy.linalg.solve_triangular(L, b, lower=True) ** 2)\n",
        (np.tril(matrix(3)), randn(3)),
    ),
    case(
        "solve-triangular-trans",
        "def f(U, B):\n    return np.sum(scipy.linalg.solve_triangular(U, B, trans='T') ** 2)\n",
        (np.triu(matrix(3)), randn(3, 2)),
    ),
    case(
        "solve-triangular-unit-diagonal",
        "def f(U, b):\n    return np.sum(scipy.linalg.solve_triangular(U, b, unit_diagonal=True))\n",
        (np.triu(matrix(3)), randn(3)),
        expect="refused",
        code="no-rule",
    ),
]

HYGIENE = [  # the user's own names equal to the support functions' (names.SUPPORT_NAMES reserves them)
    case(
        "user-names-like-support",
        "def eigh_values(x):\n    return 2.0 * x\n\n\ndef concatenate_adjoint(x):\n    return x + 1.0\n\n\n"
        "def f(A, b):\n    w, V = np.linalg.eigh(A + A.T)\n    c = np.concatenate([w, eigh_values(b)])\n"
        "    return np.sum(concatenate_adjoint(c) ** 2)\n",
        (randn(3, 3) + np.diag([0.0, 1.0, 2.0]), randn(2)),
    ),
]

CASES = [*JOINS, *CONTRACTIONS, *LINALG, *HYGIENE]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_library_soundness(case: Case, tmp_path) -> None:
    verdict(case, tmp_path)

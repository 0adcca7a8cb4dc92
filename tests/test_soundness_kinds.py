"""Soundness of what the value analysis proves (s2sad.values): wherever the generated code leaves out generic
machinery (unbroadcast, a run-time ndim check, zeros_like, the matmul support functions) because a value is
known to be a number or an array of a rank, a wrong assumption would be a silently wrong gradient. Every row
is differentiated correctly (against central finite differences of the user's own function) or refused with
a located diagnostic.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from soundness import Case, gradient_function, run_cli, verdict, write_project

_HEADER = "import math\nfrom typing import Annotated\n\nimport numpy as np\n\n\n"


def case(id: str, body: str, at: tuple, expect: str = "correct", code: str | None = None, wrt=None) -> Case:
    return Case(id, {"m.py": _HEADER + textwrap.dedent(body)}, at, wrt=wrt, expect=expect, code=code)


_rng = np.random.default_rng(12)


def randn(*shape: int) -> np.ndarray:
    return _rng.uniform(0.2, 0.9, shape)


def A(dims: str) -> str:
    return f'Annotated[np.ndarray, "{dims}"]'


BROADCASTING = [
    case("math-arg-times-array", "def f(x, W):\n    return math.sin(x) * np.sum(W * x)\n", (0.3, randn(3, 2))),
    case("unknown-vector-plus-matrix", "def f(b, W):\n    return np.sum(np.tanh(W + b))\n", (randn(2), randn(3, 2))),
    case("unknown-scalar-plus-matrix", "def f(b, W):\n    return np.sum(np.tanh(W + b))\n", (0.4, randn(3, 2))),
    case(
        "annotated-row-of-ones",
        f"def f(b: {A('1 m')}, W: {A('n m')}):\n    return np.sum(np.tanh(W * b))\n",
        (randn(1, 2), randn(3, 2)),
    ),
    case(
        "annotated-column-of-ones",
        f"def f(b: {A('n 1')}, W: {A('n m')}):\n    return np.sum(np.tanh(W * b))\n",
        (randn(3, 1), randn(3, 2)),
    ),
    case(
        "annotated-vector-against-matrix",
        f"def f(b: {A('m')}, W: {A('n m')}):\n    return np.sum(np.tanh(W - b))\n",
        (randn(2), randn(3, 2)),
    ),
    case(
        "annotated-same-dims", f"def f(x: {A('n')}, y: {A('n')}):\n    return np.sum(x * y * x)\n", (randn(3), randn(3))
    ),
    case(
        "annotated-different-symbols-equal-at-run-time",
        f"def f(x: {A('n')}, y: {A('m')}):\n    return np.sum(x * y)\n",
        (randn(3), randn(3)),
    ),
    case(
        "annotated-different-symbols-broadcast-at-run-time",
        f"def f(x: {A('n')}, y: {A('m')}):\n    return np.sum(x * y)\n",
        (randn(1), randn(3)),
    ),
    case("float-annotation-broadcast", "def f(x: float, W):\n    return np.sum(W * x)\n", (0.3, randn(2, 2))),
    case(
        "keepdims-reduction",
        f"def f(X: {A('n k')}):\n    s = np.sum(X, axis=1, keepdims=True)\n    return np.sum((X / s) ** 2)\n",
        (randn(3, 2),),
    ),
    case(
        "reduction-over-axis",
        f"def f(X: {A('n k')}, w: {A('k')}):\n    return np.mean(np.sum(X * w, axis=1) ** 2)\n",
        (randn(3, 2), randn(2)),
    ),
]

ZERO_D = [
    case("0d-in-scalar-code", "def f(x):\n    return math.sin(x) * x\n", (np.array(0.4),)),
    case("0d-math-arg-in-numpy-code", "def f(x, W):\n    return np.sum(W) * math.exp(x)\n", (np.array(0.4), randn(3))),
    case("0d-times-array", "def f(x, W):\n    return np.sum(W * x) + math.sin(x)\n", (np.array(0.4), randn(3))),
    case("sum-of-a-number", "def f(x, W):\n    return np.sum(math.sin(x)) * np.sum(W)\n", (0.4, randn(3))),
    case("mean-of-a-number", "def f(x, W):\n    return np.mean(math.sin(x) * W) + np.mean(x)\n", (0.4, randn(3))),
]

INTEGERS = [
    case("int-power", "def f(x, n):\n    return x ** n + np.sum(np.ones(3) * x)\n", (0.5, 3), wrt=("x",)),
    case(
        "int-trip-count",
        "def f(x, n):\n    s = 0.0\n    for i in range(n):\n        s = s + math.sin(x * i)\n    return s\n",
        (0.5, 3),
        wrt=("x",),
    ),
    case("int-annotation", "def f(x: int, W):\n    return np.sum(W) * x\n", (2, randn(3))),
    case("int-index-into-array", "def f(W, i: int):\n    return W[i] * W[i]\n", (randn(3), 1), wrt=("W",)),
]

TUPLES = [
    case(
        "tuple-of-number-and-array", "def f(x, W):\n    t = (x, W)\n    return np.sum(t[1] * t[0])\n", (0.3, randn(3))
    ),
    case(
        "tuple-swapped-in-loop",
        "def f(x, W):\n    t = (math.sin(x), W)\n    for i in range(3):\n        t = (t[1], t[0])\n"
        "    return np.sum(t[0] * t[1])\n",
        (0.3, randn(3)),
    ),
]

JOINS = [
    case(
        "number-then-array-in-loop",
        "def f(x, W):\n    z = math.sin(x)\n    for i in range(2):\n        z = z * W\n    return np.sum(z)\n",
        (0.3, randn(3)),
    ),
    case(
        "number-or-array-in-branch",
        "def f(x, W):\n    if x > 0:\n        z = W * x\n    else:\n        z = math.cos(x)\n    return np.sum(z)\n",
        (0.3, randn(3)),
    ),
    case(
        "number-or-array-in-branch-other-side",
        "def f(x, W):\n    if x > 0:\n        z = W * x\n    else:\n        z = math.cos(x)\n    return np.sum(z) * x\n",
        (-0.3, randn(3)),
    ),
    case(  # x reaches math.sin only on one path: on the other it may be an array
        "math-arg-on-one-path-only",
        "def f(x, W, c):\n    if c > 0:\n        y = math.sin(x)\n    else:\n        y = np.sum(x * W)\n    return y\n",
        (randn(3), randn(3), -1.0),
        wrt=("x", "W"),
    ),
    case(
        "math-arg-in-a-loop-that-does-not-run",
        "def f(x, W, n):\n    y = np.sum(x * W)\n    for i in range(n):\n        y = y + math.sin(x)\n    return y\n",
        (randn(3), randn(3), 0),
        wrt=("x", "W"),
    ),
    case(
        "scalar-code-helper-called-with-arrays",
        "def sq(z):\n    return z * z\n\n\ndef f(x):\n    return np.sum(sq(x) + x)\n",
        (randn(3),),
    ),
    case(
        "math-helper-called-with-a-number",
        "def g(z):\n    return math.sin(z) * z\n\n\ndef f(x, W):\n    return np.sum(W) * g(x)\n",
        (0.3, randn(3)),
    ),
    case(
        "helper-called-with-number-and-array",
        "def sq(z):\n    return z * z\n\n\ndef f(x, W):\n    return np.sum(sq(W)) * sq(math.sin(x))\n",
        (0.3, randn(3)),
    ),
]

PRODUCTS = [
    case(
        "matmul-2-2",
        f"def f(A: {A('n m')}, B: {A('m k')}):\n    return np.sum(np.tanh(A @ B))\n",
        (randn(3, 2), randn(2, 4)),
    ),
    case(
        "matmul-1-2",
        f"def f(a: {A('m')}, B: {A('m k')}):\n    return np.sum(np.tanh(a @ B))\n",
        (randn(2), randn(2, 4)),
    ),
    case(
        "matmul-2-1",
        f"def f(A: {A('n m')}, b: {A('m')}):\n    return np.sum(np.tanh(A @ b))\n",
        (randn(3, 2), randn(2)),
    ),
    case("matmul-1-1", f"def f(a: {A('m')}, b: {A('m')}):\n    return np.tanh(a @ b)\n", (randn(3), randn(3))),
    case(
        "dot-2-1",
        f"def f(A: {A('n m')}, b: {A('m')}):\n    return np.sum(np.dot(A, b) ** 2)\n",
        (randn(3, 2), randn(2)),
    ),
    case("dot-1-1", f"def f(a: {A('m')}, b: {A('m')}):\n    return np.dot(a, b) ** 2\n", (randn(3), randn(3))),
    case("matmul-unknown-ranks", "def f(A, b):\n    return np.sum(np.tanh(A @ b))\n", (randn(2, 3, 2), randn(2))),
    case(
        "matmul-batch",
        f"def f(A: {A('b n m')}, B: {A('m k')}):\n    return np.sum(A @ B)\n",
        (randn(2, 3, 2), randn(2, 2)),
    ),
    case(
        "transpose-known",
        f"def f(A: {A('n m')}, B: {A('n m')}):\n    return np.sum(A.T @ B)\n",
        (randn(3, 2), randn(3, 2)),
    ),
]

RESULTS = [
    case(
        "returns-an-annotated-array",
        f"def f(x: {A('n')}):\n    return x * 2.0\n",
        (randn(3),),
        expect="refused",
        code="non-scalar-return",
    ),
    case("reduction-with-axis-of-unknown", "def f(x):\n    return np.sum(x, axis=0)\n", (randn(3),)),
    case("scalar-code-result", "def f(x, y):\n    return x * y + math.exp(x)\n", (0.3, 0.5)),
]

CASES = BROADCASTING + ZERO_D + INTEGERS + TUPLES + JOINS + PRODUCTS + RESULTS


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_case(c: Case, tmp_path) -> None:
    verdict(c, tmp_path)


def test_an_inplace_update_in_scalar_code_is_checked_at_run_time(tmp_path) -> None:
    """In a NumPy module, scalar code keeps the contract of a module without NumPy: ``z += ...`` on a value
    that may share an array is differentiated for numbers and checked when the gradient runs (the parameter
    taken for a number is checked first, see s2sad.number_guards)."""
    c = case("inplace-scalar-code", "def f(x):\n    z = x\n    z += x * x\n    return z\n", (0.5,))
    verdict(c, tmp_path)
    write_project(c, tmp_path)
    outcome = run_cli(["grad", c.target], tmp_path)
    grad = gradient_function(outcome.stdout)
    with pytest.raises(TypeError, match="'x' must be a number, not an array"):
        grad(np.array([0.5, 0.25]))


def test_an_inplace_update_in_array_code_is_refused(tmp_path) -> None:
    body = "def f(x):\n    z = x\n    z += x * x\n    return np.sum(z)\n"
    c = case("inplace-array-code", body, (randn(2),), expect="refused", code="inplace-alias")
    outcome = verdict(c, tmp_path)
    assert outcome.refused and "[inplace-alias]" in outcome.stderr

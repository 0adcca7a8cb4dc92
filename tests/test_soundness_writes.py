"""Soundness of writes into arrays (issue 13, item 1): every row is differentiated correctly (against central
finite differences of the user's own function) or refused with a located diagnostic, never silently wrong.

A write is differentiated where the array was created in the function and nothing else refers to it; writes
that may change another name's value, a view's, or the caller's array are refused (``inplace-alias``)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from soundness import Case, gradient_function, run_cli, verdict, write_project

_HEADER = "import math\nimport numpy as np\n\n\n"
_rng = np.random.default_rng(131)
V4 = _rng.standard_normal(4)
V5 = _rng.standard_normal(5)
M23 = _rng.standard_normal((2, 3))


def case(
    id: str, body: str, at: tuple, expect: str = "correct", code: str | None = None, header: str = _HEADER
) -> Case:
    return Case(id, {"m.py": header + textwrap.dedent(body).lstrip()}, at, expect=expect, code=code)


HOSTILE = [
    case(
        "into-a-parameter",
        """
        def f(x):
            x[0] = 2.0 * x[1]
            return np.sum(x * x)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "augmented-into-a-parameter",
        """
        def f(x):
            x[1:] += x[0]
            return np.sum(x * x)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "into-an-alias",
        """
        def f(x):
            y = x * 1.0
            z = y
            z[0] = 5.0 * x[0]
            return np.sum(y * x)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "into-a-view-of-a-parameter",
        """
        def f(X):
            r = X[0]
            r[1] = 3.0 * X[1, 2]
            return np.sum(X * X)
        """,
        (M23,),
        "refused",
        "inplace-alias",
    ),
    case(
        "into-a-view-of-a-fresh-array",
        """
        def f(x):
            A = x * 1.0
            r = A[0:2]
            r[0] = 3.0 * x[1]
            return np.sum(A * x)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "older-name-read-after-the-write",
        """
        def f(x):
            y = x * 1.0
            old = y
            y[0] = 0.0
            return np.sum(old * x)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "view-read-after-the-write",
        """
        def f(x):
            y = x * 1.0
            v = y[0:2]
            y[0] = 3.0
            return np.sum(v * x[0:2])
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "reshaped-view-read-after-the-write",
        """
        def f(x):
            y = x * 1.0
            t = y.reshape(2, 2)
            y[0] = x[1] ** 2
            return np.sum(t * t)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "transposed-view",
        """
        def f(X):
            Y = X * 1.0
            T = Y.T
            Y[0, 1] = X[1, 0] ** 2
            return np.sum(T * X.T)
        """,
        (M23,),
        "refused",
        "inplace-alias",
    ),
    case(
        "ravel-view",
        """
        def f(X):
            Y = np.ravel(X)
            Y[0] = 2.0
            return np.sum(Y * Y)
        """,
        (M23,),
        "refused",
        "inplace-alias",
    ),
    case(
        "row-kept-across-writes",
        """
        def f(x):
            out = np.zeros((3, 2))
            prev = out[0:1]
            for i in range(3):
                out[i] = prev + x[i]
                prev = out[i:i + 1]
            return np.sum(out * out)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "helper-returns-its-argument",
        """
        def h(a):
            return a


        def f(x):
            y = h(x)
            y[0] = 2.0 * x[1]
            return np.sum(y * x)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "helper-sees-the-array-before-a-write",
        """
        def h(a):
            return np.sum(a * a)


        def f(x):
            y = x * 1.0
            s = h(y)
            y[0] = s
            return np.sum(y * x)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "helper-writes-into-its-parameter",
        """
        def h(a, v):
            a[0] = v
            return np.sum(a * a)


        def f(x):
            y = x * 1.0
            return h(y, x[1])
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "element-of-an-element",
        """
        def f(X):
            Y = X * 1.0
            Y[0][1] = X[1, 1]
            return np.sum(Y * Y)
        """,
        (M23,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "attribute-view-write",
        """
        def f(X):
            Y = X * 1.0
            Y.T[0] = X[1, 1]
            return np.sum(Y * Y)
        """,
        (M23,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "into-a-global",
        """
        G = 2.0


        def f(x):
            G[0] = x[0]
            return np.sum(x) * G
        """,
        (V4,),
        "refused",
    ),
    case(
        "into-a-tuple",
        """
        def f(x):
            t = (x[0], x[1])
            t[0] = x[2]
            return t[0] * t[1]
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "without-numpy",
        """
        def f(x, y):
            t = [x, y]
            t[0] = y * y
            return t[0] * t[1]
        """,
        (0.3, 0.7),
        "refused",
        "unsupported-syntax",
        header="import math\n\n\n",
    ),
    case(
        "index-from-a-differentiated-value",
        """
        def f(x):
            y = np.zeros(3)
            y[int(x[0] * 0.0 + 1.5)] = x[1]
            return np.sum(y * y)
        """,
        (V4,),
        "refused",
        "discrete-on-differentiated",
    ),
    case(
        "index-is-a-differentiated-parameter",
        """
        def f(x, idx):
            y = np.zeros(4)
            y[idx] = x[0:2]
            return np.sum(y * x)
        """,
        (V4, np.array([0.0, 2.0])),
        "refused",
        "no-rule",
    ),
    case(
        "ifexp-of-two-arrays",
        """
        def f(x):
            a = x * 1.0
            b = x * 2.0
            y = a if x[0] > 0 else b
            y[0] = 0.0
            return np.sum(a * b * y)
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
]

SUPPORTED = [
    case(
        "value-read-before-the-write",
        """
        def f(x):
            y = x * 1.0
            s = np.sum(y * y)
            y[0] = 0.0
            return s + np.sum(y * x)
        """,
        (V4,),
    ),
    case(
        "scalar-broadcast-into-a-row",
        """
        def f(x):
            y = np.zeros((2, 3))
            y[0] = x[0]
            y[1, 1:] = x[1:3] * x[0]
            return np.sum(np.sin(y) * y)
        """,
        (V4,),
    ),
    case(
        "overlapping-copy-within-the-array",
        """
        def f(x):
            y = x * 2.0
            y[1:] = y[:-1]
            return np.sum(y * x)
        """,
        (V4,),
    ),
    case(
        "fancy-index-without-repeats",
        """
        def f(x):
            y = np.zeros(4)
            y[[0, 2]] = x[1:3] ** 2
            y[[1, 3]] = y[[2, 0]] * x[0]
            return np.sum(y * x)
        """,
        (V4,),
    ),
    case(
        "boolean-mask",
        """
        def f(x):
            y = x * 1.0
            y[x > 0] = 3.0 * x[x > 0] ** 2
            return np.sum(y * y)
        """,
        (V4,),
    ),
    case(
        "write-in-a-branch",
        """
        def f(x):
            y = np.ones(4)
            if x[0] > 0:
                y[1] = x[2] * x[3]
            else:
                y[2] = x[1]
            y[3] = y[1] * y[2]
            return np.sum(y * x)
        """,
        (V4,),
    ),
    case(
        "write-in-a-while",
        """
        def f(x):
            y = x * 1.0
            i = 0
            while i < 3:
                y[i + 1] = y[i] * x[i + 1] + 0.5
                i = i + 1
            return np.sum(y ** 2)
        """,
        (V4,),
    ),
    case(
        "rebound-and-written-in-a-loop",
        """
        def f(x):
            y = np.zeros(4)
            for i in range(4):
                y = y * 0.5
                y[i] = x[i] * y[i - 1] + x[i]
            return np.sum(y * y)
        """,
        (V4,),
    ),
    case(
        "fresh-array-every-iteration",
        """
        def f(x):
            s = 0.0
            for i in range(3):
                row = np.zeros(2)
                row[0] = x[i]
                row[1] = row[0] * x[i + 1]
                s = s + np.sum(row * row)
            return s
        """,
        (V4,),
    ),
    case(
        "helper-writes-into-its-own-array",
        """
        def h(a):
            out = np.zeros(2)
            out[0] = a[0] * a[1]
            out[1] = out[0] + a[2]
            return np.sum(out * out)


        def f(x):
            s = 0.0
            for i in range(2):
                s = s + h(x * (i + 1.0))
            return s
        """,
        (V4,),
    ),
    case(
        "array-handed-to-a-helper-after-the-last-write",
        """
        def h(a):
            return np.sum(a * a)


        def f(x):
            y = np.zeros(3)
            y[0] = x[0]
            y[1:] = x[2:] * x[1]
            return h(y) + y[0]
        """,
        (V4,),
    ),
    case(
        "nested-loops-read-neighbours",
        """
        def f(x):
            A = np.zeros((3, 3))
            for i in range(3):
                for j in range(3):
                    A[i, j] = x[i] * x[j] + A[i - 1, j] * 0.5
            return np.sum(A * A)
        """,
        (V4,),
    ),
    case(
        "multiplied-in-place-entry",
        """
        def f(x):
            y = x.copy()
            for k in range(3):
                y[k] *= y[k + 1]
            return np.sum(y)
        """,
        (V4,),
    ),
    case(
        "divided-slice",
        """
        def f(x):
            y = np.copy(x)
            y[1:3] /= y[0] + 2.0
            y[0] -= y[3]
            return np.sum(y ** 3)
        """,
        (V4 + 3.0,),
    ),
    case(
        "zeros-like",
        """
        def f(x):
            y = np.zeros_like(x)
            y[0] = x[0] ** 2
            y[-1] = x[-1] * y[0]
            return np.sum(y) + x[1]
        """,
        (V4,),
    ),
    case(
        "tuple-written",
        """
        def f(x):
            y = np.zeros(3)
            y[0:2] = (x[0], x[1] * x[2])
            return np.sum(y * y)
        """,
        (V4,),
        "either",
    ),
]

LISTS = [
    case(
        "list-alias-appended",
        """
        def f(x):
            xs = []
            ys = xs
            xs.append(x[0])
            return sum(ys) * x[1]
        """,
        (V4,),
        "refused",
    ),
    case(
        "list-parameter-appended",
        """
        def f(xs, x):
            xs.append(x[0])
            return np.sum(np.array(xs))
        """,
        ([1.0, 2.0], V4),
        "refused",
    ),
    case(
        "list-concatenated",
        """
        def f(x):
            xs = []
            xs.append(x[0])
            ys = xs + [x[1]]
            return np.sum(np.array(ys))
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "list-repeated",
        """
        def f(x):
            xs = []
            xs.append(x[0])
            return np.sum(np.stack(xs * 2))
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "list-augmented",
        """
        def f(x):
            xs = []
            xs.append(x[0])
            xs += [x[1]]
            return np.sum(np.array(xs))
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "list-handed-to-a-helper",
        """
        def h(a):
            return np.sum(a) * 2.0


        def f(x):
            xs = []
            xs.append(x[0])
            return h(xs)
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "list-written-into",
        """
        def f(x):
            xs = []
            xs.append(x[0])
            xs.append(x[1])
            xs[0] = x[2]
            return np.sum(np.array(xs))
        """,
        (V4,),
        "correct",  # an element of a list the function makes is replaced (frontend/writes.py)
    ),
    case(
        "array-appended-then-written",
        """
        def f(x):
            xs = []
            row = np.zeros(2)
            xs.append(row)
            row[0] = x[0]
            return np.sum(np.stack(xs)) * x[1]
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "list-without-numpy",
        """
        def f(x, y):
            xs = []
            xs.append(x * y)
            return sum(xs)
        """,
        (0.3, 0.7),
        "refused",
        "unsupported-syntax",
        header="import math\n\n\n",
    ),
    case(
        "comprehension-with-a-condition",
        """
        def f(x):
            ys = [v * v for v in x if v > 0]
            return sum(ys)
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "nested-comprehension",
        """
        def f(x):
            ys = [x[i] * x[j] for i in range(2) for j in range(2)]
            return sum(ys)
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "comprehension-variable-shadows-a-local",
        """
        def f(x):
            v = x[0] * 3.0
            ys = [v * 2.0 for v in x]
            return sum(ys) * v
        """,
        (V4,),
    ),
    case(
        "comprehension-reads-the-list-it-replaces",
        """
        def f(x):
            ys = [x[i] for i in range(3)]
            ys = [y * ys[0] for y in ys]
            return sum(ys)
        """,
        (V4,),
    ),
    case(
        "element-of-a-list-kept-while-it-grows",
        """
        def f(x):
            hs = []
            hs.append(x * 2.0)
            first = hs[0]
            for i in range(3):
                hs.append(hs[-1] * x[i])
            return np.sum(first * hs[-1])
        """,
        (V4,),
    ),
    case(
        "rows-of-an-array-kept-by-a-comprehension",
        """
        def f(x):
            X = np.zeros((2, 2))
            rows = [v for v in X]
            X[0, 0] = x[0]
            return np.sum(np.stack(rows)) * x[1]
        """,
        (V4,),
        "refused",
        "inplace-alias",
    ),
    case(
        "comprehension-over-a-growing-list",
        """
        def f(x):
            xs = []
            xs.append(x[0] * x[1])
            ys = [np.sin(v) for v in xs]
            xs.append(sum(ys))
            return np.sum(np.array(xs) ** 2)
        """,
        (V4,),
    ),
    case(
        "slice-of-a-list-repeated",
        """
        def f(x):
            xs = []
            for i in range(3):
                xs.append(x[i])
            ys = xs[0:2]
            return np.sum(np.array(ys * 2))
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "comprehension-concatenated",
        """
        def f(x):
            return np.sum(np.array([v * v for v in x] + [x[0]]))
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "comprehension-repeated",
        """
        def f(x):
            return sum(2 * [v * v for v in x])
        """,
        (V4,),
        "refused",
        "unsupported-syntax",
    ),
    case(
        "comprehension-inline",
        """
        def f(x):
            return sum([v * v for v in x]) + np.sum(np.stack([np.sin(x) * v for v in x]))
        """,
        (V4,),
    ),
    case(
        "list-in-a-while",
        """
        def f(x):
            xs = []
            i = 0
            while i < 3:
                xs.append(x[i] * x[i + 1])
                i = i + 1
            return np.sum(np.array(xs) ** 2)
        """,
        (V4,),
    ),
    case(
        "list-in-a-nested-loop",
        """
        def f(x):
            total = 0.0
            for i in range(2):
                xs = []
                for j in range(3):
                    xs.append(x[j] * x[i])
                total = total + np.sum(np.stack(xs) ** 2) * len(xs)
            return total
        """,
        (V4,),
    ),
]

ALL = [(c, "hostile") for c in HOSTILE] + [(c, "supported") for c in SUPPORTED] + [(c, "lists") for c in LISTS]


@pytest.mark.parametrize("c", [c for c, _ in ALL], ids=[f"{fam}/{c.id}" for c, fam in ALL])
def test_case(c: Case, tmp_path) -> None:
    verdict(c, tmp_path)


def _gradient(body: str, tmp_path):
    c = case("runtime", body, ())
    write_project(c, tmp_path)
    outcome = run_cli(["grad", c.target, "--wrt", "x"], tmp_path)
    assert outcome.status == 0, outcome.stderr
    return gradient_function(outcome.stdout)


def test_a_fancy_index_that_repeats_is_refused_at_run_time(tmp_path) -> None:
    grad = _gradient(
        """
        def f(x, idx):
            y = np.zeros(4)
            y[idx] = x[0:2]
            return np.sum(y * x)
        """,
        tmp_path,
    )
    x0, x1, x2, _ = V4  # y = [x0, 0, x1, 0]: f = x0 * x0 + x1 * x2
    np.testing.assert_allclose(grad(V4, np.array([0, 2])), [2.0 * x0, x2, x1, 0.0])
    with pytest.raises(ValueError, match="index repeats"):
        grad(V4, np.array([1, 1]))


def test_a_float_written_into_an_integer_array_is_refused_at_run_time(tmp_path) -> None:
    grad = _gradient(
        """
        def f(x, n):
            y = np.arange(n)
            y[0] = x[0]
            return np.sum(y * x)
        """,
        tmp_path,
    )
    with pytest.raises(ValueError, match="integers"):
        grad(V4, 4)


def test_a_row_bound_to_a_name_before_a_write_is_refused_at_run_time(tmp_path) -> None:
    """``prev = out[i]`` may be an element (accepted) or a row, a view that later writes change: the gradient
    checks that it is a number."""
    body = """
        def f(x):
            out = np.zeros(SHAPE)
            prev = out[0]
            for i in range(3):
                out[i] = prev + x[i]
                prev = out[i]
            return np.sum(out * out)
        """
    grad = _gradient(body.replace("SHAPE", "3"), tmp_path / "vector")
    np.testing.assert_allclose(
        grad(V4),
        [6 * V4[0] + 4 * V4[1] + 2 * V4[2], 4 * V4[0] + 4 * V4[1] + 2 * V4[2], 2 * (V4[0] + V4[1] + V4[2]), 0.0],
    )
    grad = _gradient(body.replace("SHAPE", "(3, 2)"), tmp_path / "matrix")
    with pytest.raises(ValueError, match="must be a number"):
        grad(V4)

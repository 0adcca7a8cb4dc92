"""Writing into arrays (issue 13, item 1): programs in the style numerical code is written in, each compared
with central finite differences of the user's own function (through the soundness harness) and with autograd
on a functional rewrite of it (autograd does not differentiate writes into arrays)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from soundness import Case, gradient_function, run_cli, verdict, write_project

_HEADER = "import math\nimport numpy as np\n\n\n"
_rng = np.random.default_rng(13)


def _cholesky(q: Any, v: Any, d: int) -> Any:
    rows, k, logdet = [], 0, 0.0
    for i in range(d):
        row = [q[k + j] for j in range(i)]
        k += i
        row.append(anp.exp(q[k]))
        logdet = logdet + anp.log(row[-1])
        k += 1
        rows.append(anp.stack(row + [0.0 * q[0]] * (d - i - 1)))
    L = anp.stack(rows)
    y = anp.dot(L.T, v)
    return logdet - 0.5 * anp.sum(y * y)


def _rows(x: Any, w: Any) -> Any:
    rows = []
    prev = anp.zeros(3)
    for i in range(4):
        row = anp.tanh(w * x[i] + prev)
        rows.append(row)
        prev = row
    out = anp.stack(rows)
    return anp.sum(out * out) + anp.sum(out[1:] * out[:-1])


def _columns(a: Any, v: Any) -> Any:
    cols = [a[:, j] + v * (j + 1) for j in range(3)]
    return anp.sum(anp.sin(anp.stack(cols, axis=1)))


def _copied(x: Any) -> Any:
    y0 = x[1] * x[2]
    y12 = x[1:3] + y0 * x[0:2]
    y2 = y12[1] * y12[0]
    y = anp.stack([y0, y12[0], y2, x[3]])
    return anp.sum(y * x)


def _read_back(x: Any) -> Any:
    vals = [x[0]]
    for i in range(1, 5):
        vals.append(anp.sin(vals[i - 1]) * x[i] + 0.5 * vals[i - 1])
    return anp.sum(anp.stack(vals) ** 2)


def _twice(x: Any) -> Any:
    a = x[0] * x[1:3]
    b = x[2] * a + x[3]
    y = anp.stack([x[0], a[0], b[0], b[1], x[4]])
    return anp.sum(y**3)


def _rk4(y0: Any, k: Any) -> Any:
    def rhs(y: Any) -> Any:
        return anp.stack([y[1], -k * anp.sin(y[0])])

    h, y, traj = 0.1, y0, [y0]
    for _ in range(8):
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * h * k1)
        k3 = rhs(y + 0.5 * h * k2)
        k4 = rhs(y + h * k3)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        traj.append(y)
    return anp.sum(anp.stack(traj) ** 2)


#: name -> (the program, as written with writes; the point; a functional rewrite for autograd)
PROGRAMS: dict[str, tuple[str, tuple, Callable[..., Any]]] = {
    "cholesky-fill": (
        """
        def f(q, v, d):
            L = np.zeros((d, d))
            logdet = 0.0
            k = 0
            for i in range(d):
                for j in range(i):
                    L[i, j] = q[k]
                    k = k + 1
                L[i, i] = np.exp(q[k])
                logdet = logdet + np.log(L[i, i])
                k = k + 1
            y = L.T @ v
            return logdet - 0.5 * np.sum(y * y)
        """,
        (_rng.standard_normal(6), _rng.standard_normal(3), 3),
        _cholesky,
    ),
    "rows-in-a-loop": (
        """
        def f(x, w):
            out = np.zeros((4, 3))
            prev = np.zeros(3)
            for i in range(4):
                row = np.tanh(w * x[i] + prev)
                out[i, :] = row
                prev = row
            return np.sum(out * out) + np.sum(out[1:] * out[:-1])
        """,
        (_rng.standard_normal(4), _rng.standard_normal(3)),
        _rows,
    ),
    "column-add": (
        """
        def f(a, v):
            b = a.copy()
            for j in range(3):
                b[:, j] += v * (j + 1)
            return np.sum(np.sin(b))
        """,
        (_rng.standard_normal((2, 3)), _rng.standard_normal(2)),
        _columns,
    ),
    "copy-of-a-parameter": (
        """
        def f(x):
            y = x.copy()
            y[0] = y[1] * y[2]
            y[1:3] += y[0] * x[0:2]
            y[2] *= y[1]
            return np.sum(y * x)
        """,
        (_rng.standard_normal(4),),
        _copied,
    ),
    "read-back-in-the-loop": (
        """
        def f(x):
            v = np.zeros(5)
            v[0] = x[0]
            for i in range(1, 5):
                v[i] = np.sin(v[i - 1]) * x[i] + 0.5 * v[i - 1]
            return np.sum(v ** 2)
        """,
        (_rng.standard_normal(5),),
        _read_back,
    ),
    "slice-overwritten-twice": (
        """
        def f(x):
            y = x * 1.0
            y[1:3] = x[0] * x[1:3]
            y[2:4] = x[2] * y[1:3] + x[3]
            return np.sum(y ** 3)
        """,
        (_rng.standard_normal(5),),
        _twice,
    ),
    "rk4-trajectory": (
        """
        def rhs(y, k):
            return np.array([y[1], -k * np.sin(y[0])])


        def f(y0, k):
            h = 0.1
            traj = np.zeros((9, 2))
            traj[0] = y0
            y = y0
            for t in range(8):
                k1 = rhs(y, k)
                k2 = rhs(y + 0.5 * h * k1, k)
                k3 = rhs(y + 0.5 * h * k2, k)
                k4 = rhs(y + h * k3, k)
                y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
                traj[t + 1] = y
            return np.sum(traj ** 2)
        """,
        (_rng.standard_normal(2), 0.7),
        _rk4,
    ),
}


def _case(name: str) -> Case:
    body, at, _ = PROGRAMS[name]
    return Case(name, {"m.py": _HEADER + textwrap.dedent(body).lstrip()}, at, expect="correct", family="writes")


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_against_finite_differences(name: str, tmp_path) -> None:
    verdict(_case(name), tmp_path)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_against_autograd(name: str, tmp_path) -> None:
    case = _case(name)
    write_project(case, tmp_path)
    outcome = run_cli(["grad", case.target], tmp_path)
    assert outcome.status == 0, outcome.stderr
    grad = gradient_function(outcome.stdout)
    reference = PROGRAMS[name][2]
    params = [p for p, a in zip(range(len(case.at)), case.at) if not isinstance(a, int)]
    got = grad(*case.at)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(params)
    for k, value in zip(params, got):
        expected = autograd.grad(reference, k)(*case.at)
        np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12)


def test_the_forward_pass_writes_in_place_and_records_only_the_entries_written(tmp_path) -> None:
    case = _case("cholesky-fill")
    write_project(case, tmp_path)
    text = run_cli(["grad", case.target], tmp_path).stdout
    assert "L[i, j] = q[k]" in text and "L_old = np.copy(L[i, j])" in text
    assert "L_stack" not in text  # the array itself is never pushed, only the entries a write replaces
    assert "L[i, j] = L_old" in text  # the reverse pass puts them back

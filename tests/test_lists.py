"""Lists (issue 13, item 3): ``xs = []`` and ``xs.append(v)`` in loops, literals, comprehensions over ranges,
lists and rows, indexing, ``len``, ``sum``, ``np.array`` / ``np.stack`` of scalars or arrays, a list of arrays
carried through a loop. Each program is compared with central finite differences of the user's own function
(the soundness harness) and with autograd running the same source (autograd differentiates Python lists)."""

from __future__ import annotations

import textwrap

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from soundness import Case, gradient_function, run_cli, verdict, write_project

_HEADER = "import math\nimport numpy as np\n\n\n"
_rng = np.random.default_rng(3)

#: name -> (source, point)
PROGRAMS: dict[str, tuple[str, tuple]] = {
    "append-scalars": (
        """
        def f(x):
            xs = []
            for i in range(4):
                xs.append(np.sin(x[i]) * x[i + 1])
            return np.sum(np.array(xs) ** 2) + sum(xs) * xs[1] + len(xs)
        """,
        (_rng.standard_normal(5),),
    ),
    "state-list-of-an-rnn": (
        """
        def f(x, W):
            hs = []
            h = np.zeros(3)
            for t in range(4):
                h = np.tanh(W @ h + x[t])
                hs.append(h)
            H = np.stack(hs)
            return np.sum(H * H) + np.sum(hs[-1] * hs[0])
        """,
        (_rng.standard_normal(4), 0.5 * _rng.standard_normal((3, 3))),
    ),
    "least-squares-comprehension": (
        """
        def model(p, t):
            return p[0] * np.exp(-p[1] * t) + p[2]


        def f(p, ts, ys):
            residuals = [model(p, ts[i]) - ys[i] for i in range(len(ts))]
            return 0.5 * sum([r * r for r in residuals])
        """,
        (_rng.standard_normal(3), np.linspace(0.0, 1.0, 5), _rng.standard_normal(5)),
    ),
    "comprehension-over-a-list": (
        """
        def f(x):
            ys = [x[i] * x[i + 1] for i in range(3)]
            zs = [np.exp(y) for y in ys]
            return np.sum(np.array(zs)) + np.mean(zs)
        """,
        (_rng.standard_normal(4),),
    ),
    "comprehension-over-rows": (
        """
        def f(X, w):
            scores = [np.tanh(np.sum(row * w)) for row in X]
            return np.sum(np.array(scores) ** 2)
        """,
        (_rng.standard_normal((4, 3)), _rng.standard_normal(3)),
    ),
    "literal-then-append": (
        """
        def f(x):
            res = [2.0 * x[0], x[1]]
            res.append(x[2] ** 2)
            return np.sum(np.array(res) * x[0:3])
        """,
        (_rng.standard_normal(3),),
    ),
    "sum-of-arrays-in-a-branchy-loop": (
        """
        def f(x):
            parts = []
            for i in range(4):
                if x[i] > 0.0:
                    parts.append(x * x[i])
                else:
                    parts.append(np.sin(x))
            total = sum(parts)
            return np.sum(total * total)
        """,
        (_rng.standard_normal(4),),
    ),
    "list-read-back-in-the-loop": (
        """
        def f(x):
            vals = [x[0]]
            for i in range(1, 4):
                vals.append(np.cos(vals[i - 1]) * x[i] + vals[-1])
            return np.sum(np.stack(vals))
        """,
        (_rng.standard_normal(4),),
    ),
}


def _case(name: str) -> Case:
    body, at = PROGRAMS[name]
    return Case(name, {"m.py": _HEADER + textwrap.dedent(body).lstrip()}, at, expect="correct", family="lists")


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
    namespace: dict = {"np": anp, "math": __import__("math")}
    exec(textwrap.dedent(PROGRAMS[name][0]), namespace)
    header = outcome.stdout.split("with respect to ", 1)[1].split(".", 1)[0]
    params = list(namespace["f"].__code__.co_varnames[: namespace["f"].__code__.co_argcount])
    wrt = [params.index(w.strip()) for w in header.split(",")]
    got = grad(*case.at)
    got = got if len(wrt) > 1 else (got,)
    for k, value in zip(wrt, got):
        expected = autograd.grad(namespace["f"], k)(*case.at)
        np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12)


def test_appends_are_undone_by_pops(tmp_path) -> None:
    case = _case("state-list-of-an-rnn")
    write_project(case, tmp_path)
    text = run_cli(["grad", case.target], tmp_path).stdout
    assert "hs.append(h)" in text and "hs.pop()" in text
    assert "hs_stack" not in text  # the list itself is never recorded

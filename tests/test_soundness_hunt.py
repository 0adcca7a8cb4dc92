"""Adversarial sweeps of the value analysis and the speed paths (issue 12): the bugs
``tests/sweep_values.py`` found, one row each (reduced by hand), and a seeded slice of its random programs.

Every row is checked as the sweep checks: one module per mode (``grad``, ``jvp``, ``hvp``), run at every point
given, right against central finite differences of the program (``grad``), against the generated gradient
(``jvp``: <gradient, v>; ``hvp``: central differences of the gradient along v), or refused with a located
diagnostic. See :mod:`shape_programs`.
"""

from __future__ import annotations

import numpy as np
import pytest

from shape_programs import SHAPES, check, points, program
from slice_programs import slice_points, slice_program

_NP = "import numpy as np\n\n\n"
_X = [(np.array([0.3, -0.5, 0.7]),), (np.array([0.4]),), (np.array([0.2, 0.9]),)]


def _row(id: str, body: str, at: list, modes=("grad", "jvp", "hvp"), xfail: str = "", wrt: tuple[str, ...] = ()):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(_NP + body, at, modes, wrt, id=id, marks=marks)


FOUND = [
    # hvp: the tangent of 'x_bar = x_bar + scatter(1.0, x, 0)' (the scatter's own tangent zero) was
    # np.broadcast_to(x_bar_dot, ...), a read-only view, then added into in place ('x_bar_dot += ...',
    # np.add.at): "output array is read-only". x_bar owns its array there; its tangent must too.
    _row(
        "hvp-tangent-of-owned-adjoint-is-a-view",
        "def f(x):\n    a = np.sum(x[:, None] * x)\n    return a + x[0] + np.sum(x * x)\n",
        _X,
    ),
    # the same, where propagation wrote 'x_bar = t_bar + scatter(...)' (t = x, an alias): an owned array made
    # from another adjoint
    _row(
        "hvp-tangent-of-owned-adjoint-from-an-alias",
        "def f(x):\n    t2 = np.sin(x) * x\n    t3 = np.cos(x[None, :] @ t2)\n    t4 = x\n"
        "    return np.sum(t2) + np.sum(t3) + np.sum(t4)\n",
        _X,
    ),
]


_XS = [(np.array([0.3, -0.5, 0.7]), 0.6), (np.array([0.4]), 0.9)]
SCALAR_CODE = [
    # A function with no array operation is scalar code: its values are numbers, so 'x * s' needs no
    # unbroadcast. But sum() of it proves it is not a number (sum(0.5) raises): x is an array, and s_bar was
    # g * x, an array, for a number s.
    _row("sum-of-arithmetic-in-scalar-code", "def f(x, s):\n    return sum(x * s)\n", _XS),
    _row("sum-of-arithmetic-two-steps", "def f(x, s):\n    t = x * s\n    u = t + s\n    return sum(u) * s\n", _XS),
    # Lists joined with +: the adjoint of 'xs + ys' is taken as a broadcast sum's, so ys_bar had xs + ys's
    # length (silently wrong); now xs and ys are checked to be no lists at run time (s2sad.list_guards)
    _row(
        "sum-of-concatenated-lists",
        "def f(xs, ys):\n    return sum(xs + ys)\n",
        [([0.1, 0.2], [0.3]), ([0.1], [0.3, 0.5])],
        ("grad",),
    ),
]


# Shape keys (the rosen branch): x[i] and x[j] were given one key for any integers i, j, which holds for an
# array but not for a list or tuple of arrays of different shapes (xs[0] (3, 1), xs[1] (3,)): 'a * xs[1]' was
# then taken to have a's shape, and a's adjoint was not summed back (a wrong d/ds, exit 0, or a broadcast error)
_RAGGED = [([np.array([[0.3], [-0.5], [0.7]]), np.array([0.2, 0.4, -0.6])], 0.7)]
KEYS = [
    _row(
        "items-of-a-ragged-list",
        "def f(xs, s: float):\n    a = xs[0] * s\n    c = np.sin(a * xs[1])\n    return np.sum(c) + np.sum(a * a)\n",
        _RAGGED,
        ("grad", "jvp", "hvp"),
        wrt=("s",),
    ),
    # a NumPy function converts a list, so np.sin(xs[1:]) has shape (1, 3) and np.cos(xs[:-1]) (1, 3, 1) for
    # xs = [(3, 1), (3,)], yet they had one key (x[1:] and x[:-1] alike holds for arrays, not for lists of two):
    # a parameter whose slices the keys compare is now checked at run time to be no list (list_guards)
    _row(
        "numpy-function-of-slices-of-a-ragged-list",
        "def f(xs, s: float):\n    a = np.sin(xs[1:]) * s\n    c = np.cos(a * np.cos(xs[:-1]))\n"
        "    return np.sum(c) + np.sum(a * a)\n",
        _RAGGED,
        ("grad",),
        wrt=("s",),
    ),
    _row(
        "items-of-a-ragged-list-read-back",
        "def f(xs, s: float):\n    a = xs[0] * s\n    c = a * xs[1]\n    return np.sum(c) + a[0, 0] * 3.0\n",
        _RAGGED,
        ("grad", "jvp", "hvp"),
        wrt=("s",),
    ),
]


def _xms(*shapes: tuple[int, int]) -> list:
    rng = np.random.default_rng(0)
    return [(rng.uniform(-1, 1, n), rng.uniform(-1, 1, (m, n)), float(rng.uniform(0.3, 1))) for n, m in shapes]


@pytest.mark.parametrize("source, at, modes, wrt", FOUND + SCALAR_CODE + KEYS)
def test_found(source: str, at: list, modes: tuple[str, ...], wrt: tuple[str, ...]) -> None:
    result = check(source, at, modes, wrt)
    assert result.verdict == "right" or result.verdict.startswith("refused"), f"{result.verdict}\n{result.detail}"


#: a seeded slice of the sweep (tests/sweep_values.py runs thousands offline): grad on all, jvp and hvp on some
SLICE = range(9000, 9012)


@pytest.mark.parametrize("seed", SLICE)
def test_random_program(seed: int) -> None:
    p = program(seed)
    modes = ("grad", "jvp", "hvp") if seed % 3 == 0 else ("grad",)
    result = check(p.source, points(p, seed), modes)
    assert not result.verdict.startswith("BUG"), f"{p.source}\n{result.verdict}\n{result.detail}"


@pytest.mark.parametrize("seed", range(9000, 9004))
def test_random_slices_of_unknown_rank(seed: int) -> None:
    """Slices of an unannotated x (shape keys): arrays of ranks 1 to 3, and a list."""
    source = slice_program(seed)
    result = check(source, slice_points(seed), ("grad", "jvp", "hvp") if seed % 2 else ("grad",))
    assert not result.verdict.startswith("BUG"), f"{source}\n{result.verdict}\n{result.detail}"


def test_the_shapes_include_ones() -> None:
    """Broadcasting differs where a dimension is 1: the sweep checks each program there too."""
    assert {(1, 1), (1, 2), (2, 1)} <= set(SHAPES)


def test_vjp_of_scalar_code_called_with_an_array(tmp_path) -> None:
    """A function with no array operation is scalar code: its parameters are taken for numbers. Called with an
    array x, its VJP left s_bar unsummed; the parameters taken for numbers are now checked (s2sad.number_guards):
    it raises, or is right."""
    from soundness import Case, run_cli, write_project

    write_project(Case("vjp", {"m.py": "def f(x, s):\n    return x * s + s\n"}, ()), tmp_path)
    out = run_cli(["vjp", "m.py::f"], tmp_path)
    assert out.status in (0, 2), out.stderr
    if out.status == 2:
        return  # refused: allowed
    namespace: dict = {}
    exec(compile(out.stdout, "<vjp>", "exec"), namespace)
    x, s, g = np.array([0.3, -0.5, 0.7]), 0.6, np.array([1.0, 2.0, -1.0])
    try:
        x_bar, s_bar = namespace["vjp_f"](x, s, g)
    except TypeError as err:
        assert "'x' must be a number" in str(err)
        return  # refused at run time: allowed
    np.testing.assert_allclose(x_bar, g * s)
    assert np.shape(s_bar) == () and np.isclose(s_bar, np.sum(g * x) + np.sum(g)), s_bar

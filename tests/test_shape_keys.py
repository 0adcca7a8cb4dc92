"""Shape keys (s2sad.shape_keys): values proved to have one shape though their rank is unknown.

``x[1:]`` and ``x[:-1]`` have one shape for any ``x`` that can be sliced, so Rosenbrock's gradient needs no
``unbroadcast`` even unannotated. Each claim the keys make, and each they must not make, is checked twice: in
the analysis (``Values.alike``) and in the generated gradient, JVP and HVP against central differences of the
user's own function, on inputs of several ranks (and a list where the function accepts one). The rows marked
"risk" broadcast two slices that a wrong claim would take for alike: the gradient would come out silently wrong.
"""

from __future__ import annotations

import re

import ast
import inspect
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from s2sad import values
from s2sad.pipeline import _lowered
from soundness import Case, _default_wrt, run_cli, user_function, verdict, write_project

_HEADER = "import numpy as np\n\n\n"
_rng = np.random.default_rng(12)


def _values(body: str, name: str = "f") -> values.Values:
    source = _HEADER + textwrap.dedent(body)
    lowered = _lowered(source, "m.py", name, None)
    return values.program(lowered.main, lowered.helpers)[name]


def _alike(body: str, a: str, b: str) -> bool:
    known = _values(body)
    assert known.keys is not None
    for name in (a, b):
        assert name in known.env, f"{name} is not a name of the function: {sorted(known.env)}"
    return known.alike(a, b)


# ------------------------------------------------------------------------------------------------------------
# The analysis: which names are alike
# ------------------------------------------------------------------------------------------------------------
ALIKE = [
    ("one-dropped-each-end", "def f(x):\n    a = x[1:]\n    b = x[:-1]\n    return np.sum(a * b)\n", "a", "b"),
    ("two-dropped", "def f(x):\n    a = x[2:]\n    b = x[1:-1]\n    return np.sum(a * b)\n", "a", "b"),
    ("two-dropped-at-the-end", "def f(x):\n    a = x[:-2]\n    b = x[1:-1]\n    return np.sum(a * b)\n", "a", "b"),
    ("2-d-slices", "def f(X):\n    a = X[1:, :]\n    b = X[:-1, :]\n    return np.sum(a * b)\n", "a", "b"),
    ("2-d-and-1-d-spelling", "def f(X):\n    a = X[1:]\n    b = X[:-1, :]\n    return np.sum(a * b)\n", "a", "b"),
    ("2-d-both-axes", "def f(X):\n    a = X[1:, :-1]\n    b = X[:-1, 1:]\n    return np.sum(a * b)\n", "a", "b"),
    ("whole-slice", "def f(x):\n    a = x[:]\n    b = x * 2.0\n    return np.sum(a * b)\n", "a", "b"),
    ("integer-indices", "def f(X: np.ndarray):\n    a = X[0]\n    b = X[1]\n    return np.sum(a * b)\n", "a", "b"),
    ("integer-after-slice", "def f(X):\n    a = X[1:, 0]\n    b = X[:-1, 2]\n    return np.sum(a * b)\n", "a", "b"),
    (
        "elementwise-chain",
        "def f(x):\n    a = x[1:] - x[:-1] ** 2\n    b = 1 - x[:-1]\n    c = 100.0 * a ** 2 + np.sin(b)\n"
        "    return np.sum(c)\n",
        "c",
        "b",
    ),
    ("like-rule", "def f(x):\n    a = np.zeros_like(x[1:])\n    b = x[:-1]\n    return np.sum(a * b)\n", "a", "b"),
    ("parameter-scaled", "def f(x):\n    x = x * 2.0\n    y = x[1:] - x[:-1]\n    return np.sum(y ** 2)\n", "x", "x_1"),
    (
        "branches-that-agree",
        "def f(x):\n    if np.sum(x) > 0:\n        a = x[1:]\n    else:\n        a = x[:-1]\n    b = x[:-1]\n"
        "    return np.sum(a * b)\n",
        "a",
        "b",
    ),
    (
        "loop-keeping-the-shape",
        "def f(x):\n    a = x[1:]\n    for i in range(3):\n        a = a * 0.5 + x[:-1]\n    b = x[:-1]\n"
        "    return np.sum(a * b)\n",
        "a",
        "b",
    ),
    (
        "parameter-reassigned-in-a-loop-keeping-its-shape",
        "def f(x):\n    w = x * 1.0\n    for i in range(2):\n        x = np.sin(x)\n    return np.sum(x * w)\n",
        "x",
        "w",
    ),
    (
        "top-level-name-of-unknown-shape",
        "def f(A, v):\n    y = A @ v\n    z = y * 2.0 - 1.0\n    return np.sum(z * y)\n",
        "y",
        "z",
    ),
]

NOT_ALIKE = [
    ("one-and-two-dropped", "def f(x):\n    a = x[1:]\n    b = x[:-2]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    ("step-two", "def f(x):\n    a = x[::2]\n    b = x[1:]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    ("negative-start", "def f(x):\n    a = x[-1:]\n    b = x[:-1]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    ("positive-stop", "def f(x):\n    a = x[:1]\n    b = x[1:]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    # X may be a list of arrays of different shapes (xs[0] (3, 1), xs[1] (3,)): only an array's are alike
    ("integer-indices-of-a-list", "def f(X):\n    a = X[0]\n    b = X[1]\n    return np.sum(a * b)\n", "a", "b"),
    ("integer-and-slice", "def f(x):\n    a = x[0]\n    b = x[1:]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    ("new-axis", "def f(x):\n    a = x[1:, None]\n    b = x[:-1]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    ("two-parameters", "def f(x, y):\n    a = x[1:]\n    b = y[1:]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    ("variable-bound", "def f(x, k):\n    a = x[k:]\n    b = x[1:]\n    return np.sum(a) + np.sum(b)\n", "a", "b"),
    (
        "reassigned-in-a-loop",
        "def f(x):\n    a = x[1:]\n    for i in range(2):\n        a = a[1:]\n    b = x[:-1]\n"
        "    return np.sum(a) + np.sum(b)\n",
        "a",
        "b",
    ),
    (
        "reassigned-in-a-branch",
        "def f(x):\n    if x[0] > 0:\n        a = x[1:]\n    else:\n        a = x[:-2]\n    b = x[:-1]\n"
        "    return np.sum(a) + np.sum(b)\n",
        "a",
        "b",
    ),
    (
        "parameter-reassigned-in-a-loop",
        "def f(x):\n    w = x * 1.0\n    for i in range(1):\n        x = x[1:]\n    return np.sum(x) + np.sum(w)\n",
        "x",
        "w",
    ),
    (
        "broadcast-against-an-unknown-operand",
        "def f(x, z):\n    a = x[1:] * z\n    b = x[:-1]\n    return np.sum(a) + np.sum(b)\n",
        "a",
        "b",
    ),
    (
        "comparison-of-operands",  # == of two lists is one bool: comparisons prove nothing
        "def f(x):\n    a = np.where(x[1:] > x[:-1], 1.0, 0.0)\n    b = x[:-1]\n    return np.sum(a) + np.sum(b)\n",
        "a",
        "b",
    ),
    (
        "tuple-concatenation",  # + of two tuples concatenates
        "def f(x):\n    t = (x, 2.0 * x)\n    a = t[1:] + t[:-1]\n    return np.sum(np.array(a))\n",
        "a",
        "t_1_to_end",
    ),
]


@pytest.mark.parametrize("id, body, a, b", ALIKE, ids=[row[0] for row in ALIKE])
def test_alike(id: str, body: str, a: str, b: str) -> None:
    assert _alike(body, a, b)


@pytest.mark.parametrize("id, body, a, b", NOT_ALIKE, ids=[row[0] for row in NOT_ALIKE])
def test_not_alike(id: str, body: str, a: str, b: str) -> None:
    assert not _alike(body, a, b)


def test_an_appended_list_has_no_key_of_its_own() -> None:
    """``xs.append`` grows the list a name holds after its definition: its shape is not the one it had."""
    known = _values(
        "def f(x):\n    xs = []\n    xs.append(x)\n    xs.append(2.0 * x)\n    return np.sum(np.array(xs))\n"
    )
    assert known.keys is not None
    assert "xs" not in known.keys.env


def test_a_dimension_is_an_int_whatever_the_rank() -> None:
    """``n, d = x.shape`` with ``x`` of unknown rank: ``n`` and ``d`` are ints (the lattice's, not a key's)."""
    known = _values("def f(x):\n    n, d = x.shape\n    s = x.shape[1:]\n    return np.sum(x) * n / d + len(s)\n")
    assert known.of("n") == known.of("d") == values.Scalar("int")
    assert not isinstance(known.of("s"), values.Scalar)


def test_scalar_code_has_no_keys() -> None:
    known = _values("def f(x):\n    return x * x\n")
    assert known.scalar_code and known.keys is None and known.alike("x", "x")


# ------------------------------------------------------------------------------------------------------------
# Rosenbrock: unannotated, the same code as annotated, in every mode
# ------------------------------------------------------------------------------------------------------------
_ROSENBROCK = "def rosenbrock(x):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)\n"
_ANNOTATED = "from typing import Annotated\n\nimport numpy as np\n\n\n" + _ROSENBROCK.replace(
    "(x)", '(x: Annotated[np.ndarray, "n"])'
)


@pytest.mark.parametrize("mode", ["grad", "vjp", "jvp", "hvp"])
def test_rosenbrock_unannotated_reads_like_annotated(mode: str, tmp_path: Path) -> None:
    write_project(Case("r", {"plain.py": _HEADER + _ROSENBROCK, "annotated.py": _ANNOTATED}, ()), tmp_path)
    plain = run_cli([mode, "plain.py::rosenbrock"], tmp_path)
    annotated = run_cli([mode, "annotated.py::rosenbrock"], tmp_path)
    assert plain.status == annotated.status == 0, plain.stderr + annotated.stderr
    body = lambda text: text.split("\n", 2)[2]  # noqa: E731 (the header names the file)
    # the one difference: x, of unknown kind, is checked to be no list (on a list of arrays of different
    # shapes x[1:] and x[:-1] differ in shape: s2sad.list_guards)
    check = re.compile(r"    if isinstance\(x, \(list, tuple\)\):\n        raise TypeError\(\n.*\n        \)\n")
    assert len(check.findall(plain.stdout)) == 1
    assert check.sub("", body(plain.stdout)) == body(annotated.stdout)
    assert "unbroadcast" not in plain.stdout
    if mode == "grad":
        assert "broadcast_to" not in plain.stdout


# ------------------------------------------------------------------------------------------------------------
# Soundness: gradient, JVP and HVP against central differences
# ------------------------------------------------------------------------------------------------------------
def case(id: str, body: str, *points: tuple[Any, ...], family: str = "") -> list[Case]:
    """One row per point (``id@shape``): each input rank is its own case."""
    out = []
    for at in points:
        shape = "x".join("list" if isinstance(a, list) else "x".join(map(str, np.shape(a))) or "scalar" for a in at)
        out.append(
            Case(f"{id}@{shape}", {"m.py": _HEADER + textwrap.dedent(body)}, at, expect="correct", family=family)
        )
    return out


def randn(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


AGREE = [
    *case("rosenbrock", _ROSENBROCK.replace("rosenbrock", "f"), (randn(6),), (randn(4, 3),), (randn(1),), (randn(2),)),
    *case(
        "ufuncs-of-slices",
        "def f(x):\n    return np.sum(np.sin(x[1:]) * np.cos(x[:-1]))\n",
        (randn(5),),
        (randn(3, 2),),
    ),  # a list: refused at run time (test_a_list_whose_slices_are_compared_is_refused_at_run_time)
    *case(
        "two-dropped",
        "def f(x):\n    return np.sum(np.sin(x[2:]) * x[1:-1] + x[:-2] ** 2)\n",
        (randn(6),),
        (randn(5, 2),),
        (randn(2),),
    ),
    *case(
        "2-d-slices",
        "def f(X):\n    d = X[1:, :] - X[:-1, :]\n    return np.sum(d ** 2 * X[1:])\n",
        (randn(4, 3),),
        (randn(4, 1),),
        (randn(3, 2, 2),),
    ),
    *case(
        "integer-indices",
        "def f(X):\n    return np.sum(X[0] * X[1] - X[2] ** 2)\n",
        (randn(3),),
        (randn(3, 4),),
        (list(randn(3)),),
    ),
    *case(
        "branches-that-agree",
        "def f(x):\n    if np.sum(x) > 0:\n        a = x[1:]\n    else:\n        a = x[:-1]\n    b = x[:-1]\n"
        "    return np.sum(a * b + a)\n",
        (np.abs(randn(5)),),
        (-np.abs(randn(4, 2)),),
    ),
    *case(
        "loop-keeping-the-shape",
        "def f(x):\n    a = x[1:]\n    for i in range(3):\n        a = a * 0.5 + x[:-1] ** 2\n"
        "    return np.sum(a ** 2)\n",
        (randn(5),),
        (randn(3, 3),),
    ),
    *case(
        "parameter-scaled",
        "def f(x):\n    x = x * 2.0\n    y = x[1:] - x[:-1]\n    return np.sum(y ** 2)\n",
        (randn(5),),
        (randn(3, 2),),
    ),
    *case(
        "parameter-reassigned-in-a-loop-keeping-its-shape",
        "def f(x):\n    w = x * 1.0\n    for i in range(2):\n        x = np.sin(x)\n    return np.sum(x * w)\n",
        (randn(4),),
        (randn(2, 3),),
    ),
    *case(
        "dimensions-of-unknown-rank",
        "def f(x):\n    n = x.shape[0]\n    k = x.shape[-1]\n"
        "    return np.sum(x ** 2) / n + n * k * np.sum(np.sin(x))\n",
        (randn(4),),
        (randn(3, 2),),
    ),
]

#: Slices of different lengths that broadcast (one of them has length 1): a claim that they are alike would skip
#: the sum over the broadcast axis, a silently wrong gradient.
RISK = [
    *case("one-and-two-dropped", "def f(x):\n    return np.sum(np.sin(x[1:] * x[:-2]))\n", (randn(3),), (randn(3, 2),)),
    *case("step-two", "def f(x):\n    return np.sum(np.sin(x[::2] * x[2:]))\n", (randn(3),), (randn(3, 2),)),
    *case("negative-start", "def f(x):\n    return np.sum(np.sin(x[-1:] * x[:-1]))\n", (randn(3),), (randn(3, 2),)),
    *case("positive-stop", "def f(x):\n    return np.sum(np.sin(x[:1] * x[1:]))\n", (randn(3),), (randn(3, 2),)),
    *case("integer-and-slice", "def f(x):\n    return np.sum(np.sin(x[0] * x[1:]))\n", (randn(4),), (randn(4, 2),)),
    *case("new-axis", "def f(x):\n    return np.sum(np.sin(x[1:] * x[:-1, None]))\n", (randn(4),)),
    *case("row-against-column-0", "def f(X):\n    return np.sum(np.sin(X[1:] * X[:-1, 0]))\n", (randn(4, 3),)),
    *case(
        "column-against-vector",
        "def f(x, y):\n    return np.sum(np.sin(x[1:] * y[:-1]))\n",
        (randn(4, 1), randn(4)),
        (randn(4), randn(4, 1)),
    ),
    *case(
        "broadcast-against-an-unknown-operand",
        "def f(x, z):\n    a = x[1:] * z\n    b = x[:-1]\n    return np.sum(np.sin(a * b))\n",
        (randn(4), randn(3, 1)),
        (randn(4), randn(1)),
    ),
    *case(
        "reassigned-in-a-loop",
        "def f(x):\n    a = x[1:]\n    for i in range(2):\n        a = a[1:]\n    return np.sum(np.sin(a * x[:-1]))\n",
        (randn(4),),
        (randn(4, 2),),
    ),
    *case(
        "reassigned-in-a-branch",
        "def f(x):\n    if x[0] > 0:\n        a = x[1:]\n    else:\n        a = x[:-2]\n    b = x[:-1]\n"
        "    return np.sum(np.sin(a * b))\n",
        (np.array([-1.0, 0.5, 0.7]),),
        (np.array([1.0, 0.5, 0.7]),),
    ),
    *case(
        "parameter-reassigned-in-a-loop",
        "def f(x):\n    w = x * 1.0\n    for i in range(1):\n        x = x[1:]\n    return np.sum(np.sin(x * w))\n",
        (randn(2),),
    ),
]

SHAPE_KEYS = AGREE + RISK


@pytest.mark.parametrize("case", SHAPE_KEYS, ids=[c.id for c in SHAPE_KEYS])
def test_gradient(case: Case, tmp_path: Path) -> None:
    verdict(case, tmp_path)


def test_a_list_whose_slices_are_compared_is_refused_at_run_time(tmp_path: Path) -> None:
    """On a list of arrays of different shapes, x[1:] and x[:-1] differ in shape (np.sin([b]) (1, 3, 1) against
    np.cos([a]) (1, 3)): the gradient, which takes them as one shape, checks x is no list (list_guards)."""
    (row,) = case("ufuncs-of-slices", "def f(x):\n    return np.sum(np.sin(x[1:]) * np.cos(x[:-1]))\n", (randn(5),))
    grad, _ = _generated("grad", row, tmp_path)
    for x in (list(randn(5)), [randn(3, 1), randn(3)], tuple(randn(2))):
        with pytest.raises(TypeError, match="must be a NumPy array, not a list or tuple"):
            grad(x)


def _generated(mode: str, case: Case, root: Path) -> Any:
    write_project(case, root)
    out = run_cli([mode, case.target], root)
    assert out.status == 0, out.stderr
    tree = ast.parse(out.stdout)
    name = next(s.name for s in tree.body if isinstance(s, ast.FunctionDef) and s.name.startswith(f"{mode}_"))
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(out.stdout, "<generated>", "exec"), namespace)
    return namespace[name], out.stdout


_ARRAYS = [c for c in SHAPE_KEYS if not any(isinstance(a, list) for a in c.at)]


@pytest.mark.parametrize("case", _ARRAYS, ids=[c.id for c in _ARRAYS])
def test_jvp_and_hvp(case: Case, tmp_path: Path) -> None:
    """The JVP against central differences of f along a direction; the HVP against central differences of
    the generated gradient along it (the gradient itself is checked above)."""
    grad, text = _generated("grad", case, tmp_path / "grad")
    wrt = _default_wrt(text, [])
    f = user_function(tmp_path / "grad", case.target)
    params = list(inspect.signature(f).parameters)
    index = [params.index(w) for w in wrt]
    v = [_rng.standard_normal(np.shape(case.at[i])) for i in index]
    h = 1e-6
    up, down = list(case.at), list(case.at)
    for i, d in zip(index, v):
        up[i], down[i] = case.at[i] + h * d, case.at[i] - h * d

    jvp, _ = _generated("jvp", case, tmp_path / "jvp")
    dots = list(inspect.signature(jvp).parameters)[-len(index) :]
    value, tangent = jvp(*case.at, **dict(zip(dots, v)))
    np.testing.assert_allclose(value, f(*case.at), rtol=1e-12)
    np.testing.assert_allclose(tangent, (f(*up) - f(*down)) / (2 * h), rtol=1e-5, atol=1e-7)

    hvp, _ = _generated("hvp", case, tmp_path / "hvp")
    dots = list(inspect.signature(hvp).parameters)[-len(index) :]
    got = hvp(*case.at, **dict(zip(dots, v)))
    got = [got] if len(index) == 1 else list(got)
    g_up, g_down = grad(*up), grad(*down)
    g_up, g_down = ([g_up], [g_down]) if len(index) == 1 else (list(g_up), list(g_down))
    for hv, a, b in zip(got, g_up, g_down):
        assert np.shape(hv) == np.shape(a)
        np.testing.assert_allclose(hv, (np.asarray(a) - np.asarray(b)) / (2 * h), rtol=1e-4, atol=1e-5)

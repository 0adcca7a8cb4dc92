"""Values taken for numbers (s2sad.scalar_uses) and their run-time checks (s2sad.number_guards): every mode of
scalar code called with arrays raises or is right, never silently wrong; a differentiated parameter used as a
number beside an indexed data parameter gets scalar code and the right derivative; adversarial data."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest
from soundness import Case, verdict

from s2sad import modes


def _generated(source: str, mode: str, wrt: tuple[str, ...] | None = None) -> tuple[str, dict[str, Any]]:
    text = modes.get(mode).generate(textwrap.dedent(source), "m.py", "f", wrt, None, None).text  # type: ignore[union-attr]
    space: dict[str, Any] = {}
    exec(compile(text, "<generated>", "exec"), space)
    return text, space


def _entry(space: dict[str, Any], mode: str) -> Any:
    return space[f"{mode}_f"]


# ------------------------------------------------------------------------------------------------------------
# Scalar code called with arrays: every mode raises (each parameter is checked at the top)
# ------------------------------------------------------------------------------------------------------------
SCALAR = "def f(x, s):\n    return x * s + s\n"
X = np.array([0.3, -0.5, 0.7])
#: the extra arguments each mode takes after f's (tangents, a cotangent)
EXTRA = {"grad": (), "vjp": (np.array([1.0, 2.0, -1.0]),), "jvp": (1.0, 1.0), "hvp": (1.0, 1.0), "jacobian": ()}


@pytest.mark.parametrize("mode", sorted(modes.MODES))
@pytest.mark.parametrize("where", ["x", "s"])
def test_scalar_code_called_with_an_array_raises(mode: str, where: str) -> None:
    _, space = _generated(SCALAR, mode)
    args = (X, 0.6) if where == "x" else (0.6, X)
    with pytest.raises(TypeError, match=f"'{where}' must be a number, not an array"):
        _entry(space, mode)(*args, *EXTRA[mode])


@pytest.mark.parametrize("mode", sorted(modes.MODES))
@pytest.mark.parametrize("bad", [[0.3, 0.5], (0.3, 0.5), np.array([0.3]), np.ones((1, 1))], ids=repr)
def test_a_list_a_tuple_or_an_array_of_one_element_is_no_number(mode: str, bad: Any) -> None:
    _, space = _generated(SCALAR, mode)
    with pytest.raises(TypeError, match="'x' must be a number"):
        _entry(space, mode)(bad, 2, *((1.0,) if mode == "vjp" else EXTRA[mode]))


@pytest.mark.parametrize(
    "number",
    [0.3, 3, True, np.float64(0.3), np.float32(0.3), np.int64(3), np.array(0.3), np.array(0.3, dtype=np.float32)],
    ids=repr,
)
def test_every_kind_of_number_is_accepted(number: Any) -> None:
    _, space = _generated(SCALAR, "grad")
    x_bar, s_bar = space["grad_f"](number, 0.6)
    assert np.isclose(x_bar, 0.6) and np.isclose(s_bar, float(number) + 1.0)
    assert np.ndim(x_bar) == 0 and np.ndim(s_bar) == 0


def test_vjp_of_scalar_code_called_with_an_array_raises_where_it_was_silently_wrong() -> None:
    """Before: s_bar = out_bar + out_bar * x, an array where a number is due (the sum of it)."""
    _, space = _generated(SCALAR, "vjp")
    with pytest.raises(TypeError, match="'x' must be a number"):
        space["vjp_f"](X, 0.6, np.array([1.0, 2.0, -1.0]))


def test_the_check_imports_nothing() -> None:
    text, _ = _generated(SCALAR, "grad")
    assert "import" not in text and 'getattr(x, "ndim", 0)' in text


# ------------------------------------------------------------------------------------------------------------
# Per value: parameters used as numbers beside an indexed data parameter (RK4's shape)
# ------------------------------------------------------------------------------------------------------------
FIT = """\
def step(x, a, b, dt):
    return x + dt * (a * x - b * x * x)


def f(a, b, x0, observed, dt, n):
    x = x0
    loss = 0.0
    for obs in observed:
        for _ in range(n):
            x = step(x, a, b, dt)
        loss += (x - obs) ** 2
    return loss
"""
PAIRS = """\
def f(a, x0, observed, dt):
    x = x0
    loss = 0.0
    for obs_x, obs_y in observed:
        x = x + dt * a * x
        loss += (x - obs_x) ** 2 + (a * x - obs_y) ** 2
    return loss
"""
ROWS = np.array([1.1, 1.3, 1.2, 0.9])
PAIR_ROWS = np.array([[1.1, 0.9], [1.3, 0.8], [1.2, 1.0]])


def test_numbers_beside_data_get_scalar_code() -> None:
    text, _ = _generated(FIT, "grad", ("a", "b", "x0"))
    assert "unbroadcast" not in text and "numpy" not in text and "zeros" not in text
    assert 'check_number(obs, "obs", "f", "observed")' in text  # the message: see test_rows_that_are_arrays_raise


CORRECT = [
    Case("fit-array-rows", {"m.py": FIT}, (0.4, 0.1, 1.0, ROWS, 0.05, 3), wrt=("a", "b", "x0"), expect="correct"),
    Case("fit-list-rows", {"m.py": FIT}, (0.4, 0.1, 1.0, list(ROWS), 0.05, 3), wrt=("a", "b", "x0"), expect="correct"),
    Case("pairs-array", {"m.py": PAIRS}, (0.4, 1.0, PAIR_ROWS, 0.05), wrt=("a", "x0"), expect="correct"),
    Case(
        "pairs-tuples",
        {"m.py": PAIRS},
        (0.4, 1.0, [tuple(r) for r in PAIR_ROWS], 0.05),
        wrt=("a", "x0"),
        expect="correct",
    ),
    # a helper receiving a number and a row it reduces: the row keeps its unknown kind, the number is one
    Case(
        "helper-number-and-array-row",
        {
            "m.py": "import numpy as np\n\n\ndef g(a, v):\n    return a * np.sum(v * v)\n\n\n"
            "def f(p, rows):\n    t = 0.0\n    for r in rows:\n        t = t + g(p, r)\n    return t * p\n"
        },
        (0.7, np.arange(6.0).reshape(3, 2)),
        wrt=("p",),
        expect="correct",
    ),
    # a helper receiving a number and an item it uses as a number: both taken for numbers
    Case(
        "helper-number-and-number-row",
        {
            "m.py": "def h(a, b):\n    return a * b + a * a\n\n\ndef f(p, rows):\n    t = 0.0\n    for r in rows:\n"
            "        t = t + h(p, r)\n    return t\n"
        },
        (0.7, np.array([0.5, -1.0, 2.0])),
        wrt=("p",),
        expect="correct",
    ),
]


@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.id)
def test_numbers_beside_data_are_right(case: Case, tmp_path) -> None:
    verdict(case, tmp_path)


def test_float32_rows_are_numbers() -> None:
    """np.float32 is no float subclass: its items pass the check (finite differences in float32 would not
    tell, so the gradient is compared with float64 rows')."""
    _, space = _generated(FIT, "grad", ("a", "b", "x0"))
    wide = space["grad_f"](0.4, 0.1, 1.0, ROWS, 0.05, 3)
    narrow = space["grad_f"](0.4, 0.1, 1.0, ROWS.astype(np.float32), 0.05, 3)
    np.testing.assert_allclose(narrow, wide, rtol=1e-5)


# ------------------------------------------------------------------------------------------------------------
# Adversarial: arrays where numbers were taken
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["grad", "hvp", "jvp"])
def test_rows_that_are_arrays_raise(mode: str) -> None:
    """observed of shape (n, 2, k): obs_x is an array, the loss too; the item's check stops the gradient."""
    _, space = _generated(PAIRS, mode, ("a", "x0"))
    rows = np.ones((3, 2, 4))
    with pytest.raises(TypeError, match="'obs_x' \\(read from 'observed'\\) must be a number"):
        _entry(space, mode)(0.4, 1.0, rows, 0.05, *((1.0, 1.0) if mode != "grad" else ()))


def test_an_array_row_whose_value_the_result_drops_raises() -> None:
    """Only the last iteration's r reaches the result: a check of the result alone would pass, and the zero
    adjoint of the first row's array would be added into p_bar unsummed."""
    source = "def f(p, obs):\n    r = 0.0\n    for o in obs:\n        r = (p - o) ** 2\n    return r\n"
    _, space = _generated(source, "grad", ("p",))
    assert np.isclose(space["grad_f"](0.5, [1.0, 2.0]), 2 * (0.5 - 2.0))
    with pytest.raises(TypeError, match="'o' \\(read from 'obs'\\) must be a number"):
        space["grad_f"](0.5, [np.array([1.0, 3.0]), 2.0])


def test_a_tuple_parameter_of_numbers() -> None:
    source = "def f(p, pair):\n    a, b = pair\n    return p * a + b * p * p\n"
    _, space = _generated(source, "grad", ("p",))
    assert np.isclose(space["grad_f"](0.5, (2.0, 3.0)), 2.0 + 2 * 3.0 * 0.5)
    with pytest.raises(TypeError, match="'pair_0' \\(read from 'pair'\\)|read from 'pair'"):
        space["grad_f"](0.5, (np.array([1.0, 2.0]), 3.0))


BRANCH = "def f(p, x, flag):\n    if flag:\n        return p * x[0]\n    return p * x\n"


def test_a_parameter_indexed_on_one_branch_keeps_its_unknown_kind() -> None:
    """x is indexed on one branch: not a number, on the other branch an array times the number p; the VJP
    sums p's adjoint."""
    text, space = _generated(BRANCH, "vjp", ("p", "x"))
    x, g = np.array([0.3, -0.5, 0.7]), np.array([1.0, 2.0, -1.0])
    p_bar, x_bar = space["vjp_f"](0.6, x, False, g)
    assert np.ndim(p_bar) == 0 and np.isclose(p_bar, np.sum(g * x))
    np.testing.assert_allclose(x_bar, g * 0.6)
    p_bar, x_bar = space["vjp_f"](0.6, x, True, 2.0)
    assert np.isclose(p_bar, 2.0 * 0.3)
    np.testing.assert_allclose(x_bar, [1.2, 0.0, 0.0])
    with pytest.raises(TypeError, match="'p' must be a number"):
        space["vjp_f"](x, x, False, g)


def test_an_unannotated_array_parameter_used_in_numpy_stays_generic() -> None:
    """w meets np.sum: never taken for a number, even though b beside it is."""
    source = "import numpy as np\n\n\ndef f(w, b, X):\n    return np.sum((X * w + b) ** 2)\n"
    _, space = _generated(source, "grad", ("w", "b"))
    X, w = np.arange(6.0).reshape(3, 2), np.array([0.5, -0.2])
    w_bar, b_bar = space["grad_f"](w, 0.3, X)
    r = X * w + 0.3
    np.testing.assert_allclose(w_bar, np.sum(2 * r * X, axis=0))
    assert np.isclose(b_bar, np.sum(2 * r))


def test_annotating_the_parameter_makes_it_array_code() -> None:
    """The way out the message names: 'x: np.ndarray' differentiates x * s + s as array code."""
    source = "import numpy as np\n\n\ndef f(x: np.ndarray, s):\n    return x * s + s\n"
    _, space = _generated(source, "vjp")
    g = np.array([1.0, 2.0, -1.0])
    x_bar, s_bar = space["vjp_f"](X, 0.6, g)
    np.testing.assert_allclose(x_bar, g * 0.6)
    assert np.isclose(s_bar, np.sum(g * X) + np.sum(g))


def test_a_sum_of_data_in_scalar_code_that_is_an_array() -> None:
    """Scalar code took sum(xs) for a number unchecked: with xs of shape (3, 2) the result is an array and the
    gradient returned sum(xs), an array, without complaint. sum(xs) is checked where it is bound."""
    _, space = _generated("def f(x, xs):\n    return x * sum(xs)\n", "grad", ("x",))
    assert np.isclose(space["grad_f"](0.5, [1.0, 2.0]), 3.0)
    with pytest.raises(TypeError, match="'sum_xs' \\(read from 'xs'\\) must be a number"):
        space["grad_f"](0.5, np.ones((3, 2)))


def test_a_user_name_check_number_keeps_the_check() -> None:
    """The support function's name is fresh: parameters named check_number and check_number_1 stay the user's."""
    source = "def f(x, check_number_1, check_number):\n    return check_number_1 * x * x + check_number * x\n"
    _, space = _generated(source, "grad", ("x",))
    assert np.isclose(space["grad_f"](0.5, 2.0, 3.0), 2 * 2.0 * 0.5 + 3.0)
    with pytest.raises(TypeError, match="'x' must be a number, not an array, a list or a tuple: 'f' uses it"):
        space["grad_f"](np.ones(2), 2.0, 3.0)
    with pytest.raises(TypeError, match="'check_number' must be a number"):
        space["grad_f"](0.5, 2.0, [3.0])

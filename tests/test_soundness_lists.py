"""A list passed where the function does array arithmetic: on a list ``+`` concatenates and ``*`` repeats, so
the generated code (which reads them as NumPy arithmetic) checks its parameter and raises ``TypeError`` rather
than return the derivative of arithmetic the function did not do (see :mod:`s2sad.list_guards`). Every mode;
arrays still get the right derivative (central finite differences of the user's function)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from s2sad import modes
from soundness import Case, finite_differences, verdict

CONCATENATE = """
import numpy as np
def f(x):
    y = x[1:] + x[:-1]
    return np.sum(np.asarray(y) ** 2)
"""

REPEAT = """
import numpy as np
def f(x):
    z = 2 * x[:1]
    return np.sum(np.asarray(z) ** 2) + np.sum(np.asarray(x) ** 2)
"""

AUGMENTED = """
import numpy as np
def f(x):
    y = x[:]
    y += x
    return np.sum(np.asarray(y) ** 3)
"""  # refused as it is written: 'y' may share the parameter's array (a list's '+=' would extend it)

SLICES = """
import numpy as np
def f(x):
    return np.sum(np.sin(x[1:]) * np.cos(x[:-1]))
"""  # x[1:] and x[:-1] have one shape for an array (shape keys), not for a list of arrays of different shapes

DOUBLE = """
import numpy as np
def f(x):
    y = x + x
    return np.sum(np.asarray(y) ** 2)
"""  # on a list, x + x concatenates it with itself

BRANCH = """
import numpy as np
def f(x, c):
    y = x[1:] if c > 0 else x
    return np.sum(np.asarray(y + y) ** 2)
"""

NEEDS_NONE = {  # '-' and '**' raise on a list, an array or a float operand makes NumPy do arithmetic
    "float-times": "import numpy as np\ndef f(x):\n    return np.sum(np.sin(2.0 * x))\n",
    "plus-number": "import numpy as np\ndef f(x):\n    return np.sum(np.sin(x + 1))\n",
    "plus-array": "import numpy as np\ndef f(x):\n    y = np.sin(x)\n    return np.sum(y + x)\n",
    "annotated": "import numpy as np\ndef f(x: np.ndarray):\n    return np.sum((x[1:] + x[:-1]) ** 2)\n",
    "augmented-fresh-array": "import numpy as np\ndef f(x):\n    y = np.zeros(3)\n    y += x\n    return np.sum(y ** 3)\n",
    "scalar-code": "def f(x):\n    return x * x + x\n",
    "square": "import numpy as np\ndef f(r):\n    return np.mean(r * r)\n",  # list * list raises
    "one-slice": "import numpy as np\ndef f(x):\n    return np.sum(np.tanh(x[1:]))\n",  # compared with nothing
}

PROGRAMS = {
    "concatenate": (CONCATENATE, 1),
    "repeat": (REPEAT, 1),
    "branch": (BRANCH, 2),
    "slices": (SLICES, 1),
    "double": (DOUBLE, 1),
}


def _generated(source: str, mode: str) -> tuple[str, dict[str, object]]:
    text = modes.get(mode).generate(textwrap.dedent(source), "m.py", "f", None, None, None).text
    space: dict[str, object] = {}
    exec(compile(text, "<generated>", "exec"), space)
    return text, space


def _user(source: str) -> object:
    space: dict[str, object] = {}
    exec(compile(source, "m.py", "exec"), space)
    return space["f"]


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_a_list_is_refused_at_run_time(program: str, mode: str) -> None:
    source, n = PROGRAMS[program]
    _, space = _generated(source, mode)
    fn = space[f"{modes.get(mode).prefix}f"]
    point = [[1.0, 2.0, 0.5], *[1.0] * (n - 1)]
    extra = {"jvp": [np.ones(3)], "hvp": [np.ones(3)], "vjp": [1.0]}.get(mode, [])
    with pytest.raises(TypeError, match="np.asarray"):
        fn(*point, *extra)  # type: ignore[operator]
    point[0] = (1.0, 2.0, 0.5)
    with pytest.raises(TypeError, match="must be a NumPy array"):
        fn(*point, *extra)  # type: ignore[operator]


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_an_array_is_differentiated(program: str, mode: str) -> None:
    source, n = PROGRAMS[program]
    _, space = _generated(source, mode)
    fn = space[f"{modes.get(mode).prefix}f"]
    f = _user(source)
    x = np.array([1.0, 2.0, 0.5])
    point = [x, *[1.0] * (n - 1)]
    grad = finite_differences(f, point, 0)
    v = np.array([0.3, -1.0, 2.0])
    if mode == "grad":
        got = fn(*point)  # type: ignore[operator]
        np.testing.assert_allclose(got, grad, rtol=1e-5, atol=1e-6)
    elif mode == "vjp":
        got = fn(*point, 1.0)  # type: ignore[operator]
        np.testing.assert_allclose(got, grad, rtol=1e-5, atol=1e-6)
    elif mode == "jacobian":
        got = fn(*point)  # type: ignore[operator]
        np.testing.assert_allclose(np.ravel(got), grad, rtol=1e-5, atol=1e-6)
    elif mode == "jvp":
        dots = [v]  # the result depends on x only: c gets no tangent
        _, tangent = fn(*point, *dots)  # type: ignore[operator]
        np.testing.assert_allclose(tangent, grad @ v, rtol=1e-5, atol=1e-6)
    else:  # hvp: the derivative of the gradient along v, by central differences of the gradient
        dots = [v]  # the result depends on x only: c gets no tangent
        got = fn(*point, *dots)  # type: ignore[operator]
        _, g_space = _generated(source, "grad")
        g = g_space["grad_f"]

        def first(y: np.ndarray) -> np.ndarray:
            out = g(y, *point[1:])  # type: ignore[operator]
            return np.asarray(out)

        h = 1e-5
        expected = (first(x + h * v) - first(x - h * v)) / (2 * h)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_soundness_harness_agrees(program: str, tmp_path) -> None:
    source, n = PROGRAMS[program]
    at = (np.array([1.0, 2.0, 0.5]), *[1.0] * (n - 1))
    verdict(Case(program, {"m.py": source}, at, expect="correct"), tmp_path)


@pytest.mark.parametrize("program", sorted(NEEDS_NONE))
@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_no_check_where_none_is_needed(program: str, mode: str) -> None:
    text, _ = _generated(NEEDS_NONE[program], mode)
    assert "must be a NumPy array, not a list or tuple" not in text  # a number's own check may be there


@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_slices_compared_by_shape_keys_are_checked(mode: str) -> None:
    """Rosenbrock: 'x[1:] - x[:-1] ** 2' needs no unbroadcast because the two slices have one shape, which
    holds for an array, not for a list of arrays of different shapes ([(3, 1), (3,)]): x is checked."""
    rosenbrock = (
        "import numpy as np\ndef f(x):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)\n"
    )
    text, _ = _generated(rosenbrock, mode)
    assert "isinstance(x, (list, tuple))" in text and "unbroadcast" not in text


def test_augmented_assignment_on_a_parameters_slice_stays_refused(tmp_path) -> None:
    verdict(
        Case("augmented", {"m.py": AUGMENTED}, (np.array([1.0, 2.0]),), expect="refused", code="inplace-alias"),
        tmp_path,
    )


def test_augmented_assignment_on_a_fresh_array_is_right_for_a_list_too() -> None:
    source = NEEDS_NONE["augmented-fresh-array"]
    _, space = _generated(source, "grad")
    expected = finite_differences(_user(source), [np.array([1.0, 2.0, 0.5])], 0)
    np.testing.assert_allclose(space["grad_f"]([1.0, 2.0, 0.5]), expected, rtol=1e-5, atol=1e-6)


ITEMS = """
import numpy as np
def f(p):
    a, b = p
    return np.sum(np.asarray(a + b) ** 2)
"""

LOOP = """
import numpy as np
def f(p):
    s = p[0]
    for i in range(1, len(p)):
        s = s + p[i]
    return np.sum(np.asarray(s) ** 2)
"""


@pytest.mark.parametrize("source", [ITEMS, LOOP], ids=["unpacked", "loop"])
def test_an_item_of_a_parameter_is_checked_where_it_is_read(source: str) -> None:
    """A tuple (or list) of arrays is a supported argument; a tuple of lists would concatenate its items."""
    _, space = _generated(source, "grad")
    grad = space["grad_f"]
    with pytest.raises(TypeError, match="an item of 'p'"):
        grad(([1.0, 2.0], [3.0, 1.0]))  # type: ignore[operator]
    at = [np.array([[1.0, 2.0], [3.0, 1.0]])]
    expected = finite_differences(_user(source), at, 0)
    np.testing.assert_allclose(grad(at[0]), expected, rtol=1e-5, atol=1e-6)  # type: ignore[operator]
    items = (np.array([1.0, 2.0]), np.array([3.0, 1.0]))
    np.testing.assert_allclose(grad(items), expected, rtol=1e-5, atol=1e-6)  # type: ignore[operator]


# --------------------------------------------------------------------------------------------------------------
# Through helpers: the parameter reaches '+' or '*' inside a helper (or a helper's helper), and the check is made
# where the caller's value enters, in the function generated
# --------------------------------------------------------------------------------------------------------------
THROUGH = {
    "helper": """
import numpy as np
def h(a):
    return a[1:] + a[:-1]
def f(x):
    y = h(x)
    return y[0] ** 2
""",  # on a list: f = 4 and the gradient [0, 4]; the array arithmetic's gradient is [4, 6, 0]
    "helper-of-helper": """
import numpy as np
def g(a):
    return a + a
def h(a):
    return g(a[1:])
def f(x):
    return np.sum(np.asarray(h(x)) ** 2)
""",
    "helper-in-loop": """
import numpy as np
def h(a):
    return 2 * a
def f(x):
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.asarray(h(x[i:])) ** 2)
    return s
""",
    "helper-twice": """
import numpy as np
def h(a, k):
    return a * k
def f(x):
    return np.sum(np.asarray(h(x, 2)) ** 2) + np.sum(np.asarray(h(0.5, x)))
""",
    "helper-returns-it": """
import numpy as np
def h(a):
    return a[1:]
def f(x):
    y = h(x)
    return np.sum(np.asarray(y + y) ** 2)
""",
    "helper-several-values": """
import numpy as np
def h(a):
    return a[1:], a[:-1]
def f(x):
    u, v = h(x)
    return np.sum(np.asarray(u + v) ** 2)
""",
    "helper-several-values-second": """
import numpy as np
def h(a):
    return np.sum(np.asarray(a)), a * 3
def f(x):
    s, v = h(x)
    return s * np.sum(np.asarray(v) ** 2)
""",
    "helper-tuple-built-by-caller": """
import numpy as np
def h(p):
    a, b = p
    return a + b
def f(x):
    return np.sum(np.asarray(h((x[1:], x[:-1]))) ** 2)
""",
}
PROGRAMS.update({name: (source, 1) for name, source in THROUGH.items()})


@pytest.mark.parametrize("program", sorted(THROUGH))
@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_through_helpers_a_list_is_refused_at_run_time(program: str, mode: str) -> None:
    test_a_list_is_refused_at_run_time(program, mode)


@pytest.mark.parametrize("program", sorted(THROUGH))
@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_through_helpers_an_array_is_differentiated(program: str, mode: str) -> None:
    test_an_array_is_differentiated(program, mode)


@pytest.mark.parametrize("program", sorted(THROUGH))
def test_through_helpers_soundness_harness_agrees(program: str, tmp_path) -> None:
    test_soundness_harness_agrees(program, tmp_path)

ITEMS_THROUGH = {
    "helper-unpacks": """
import numpy as np
def h(p):
    a, b = p
    return a + b
def f(p):
    return np.sum(np.asarray(h(p)) ** 2)
""",
    "helper-indexes": """
import numpy as np
def h(p):
    return p[0] + p[1]
def f(p):
    return np.sum(np.asarray(h(p)) ** 2)
""",
    "helper-loops-over-items": """
import numpy as np
def h(p):
    s = p[0]
    for i in range(1, len(p)):
        s = s + p[i]
    return s
def f(p):
    return np.sum(np.asarray(h(p)) ** 2)
""",
    "helper-returns-an-item": """
import numpy as np
def h(p):
    return p[1]
def f(p):
    b = h(p)
    return np.sum(np.asarray(b + b) ** 2)
""",
    "item-passed-to-helper": """
import numpy as np
def h(a, b):
    return a + b
def f(p):
    return np.sum(np.asarray(h(p[0], p[1])) ** 2)
""",
}


@pytest.mark.parametrize("program", sorted(ITEMS_THROUGH))
@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_an_item_reaching_a_helper_is_checked(program: str, mode: str) -> None:
    """A tuple of arrays is a supported argument; a tuple of lists, whose items a helper adds, is not."""
    source = ITEMS_THROUGH[program]
    _, space = _generated(source, mode)
    fn = space[f"{modes.get(mode).prefix}f"]
    extra = {"jvp": [np.ones((2, 2))], "hvp": [np.ones((2, 2))], "vjp": [1.0]}.get(mode, [])
    with pytest.raises(TypeError, match="must be a NumPy array"):
        fn(([1.0, 2.0], [3.0, 1.0]), *extra)  # type: ignore[operator]
    if mode != "grad":
        return
    at = [np.array([[1.0, 2.0], [3.0, 1.0]])]
    expected = finite_differences(_user(source), at, 0)
    np.testing.assert_allclose(fn(at[0]), expected, rtol=1e-5, atol=1e-6)  # type: ignore[operator]
    items = (np.array([1.0, 2.0]), np.array([3.0, 1.0]))
    np.testing.assert_allclose(fn(items), expected, rtol=1e-5, atol=1e-6)  # type: ignore[operator]


def test_the_briefs_program_raises_rather_than_return_neither_gradient() -> None:
    _, space = _generated(THROUGH["helper"], "grad")
    with pytest.raises(TypeError, match="'x' must be a NumPy array"):
        space["grad_f"]([1.0, 2.0])  # type: ignore[operator]


NEEDS_NONE_THROUGH = {
    "helper-adds-a-float": "import numpy as np\ndef h(a):\n    return a + 1.0\ndef f(x):\n    return np.sum(h(x) ** 2)\n",
    "helper-given-an-array": (
        "import numpy as np\ndef h(a):\n    return a[1:] + a[:-1]\ndef f(x):\n    return np.sum(h(np.sin(x)) ** 2)\n"
    ),
}
NEEDS_NONE.update(NEEDS_NONE_THROUGH)


@pytest.mark.parametrize("program", sorted(NEEDS_NONE_THROUGH))
@pytest.mark.parametrize("mode", sorted(modes.MODES))
def test_through_helpers_no_check_where_none_is_needed(program: str, mode: str) -> None:
    test_no_check_where_none_is_needed(program, mode)

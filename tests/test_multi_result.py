"""A helper returning several values runs once (issue 12, item 3).

In reverse mode (``grad``, ``vjp``) a helper ending in ``return a, b`` is one function: the caller's forward pass
calls ``forward_h`` once for all its values and what its adjoint reads, and the reverse pass calls ``adjoint_h``
once with the adjoints of the values the callers use (a zero where one call site does not use a value another
does). Every mode keeps the helper one function (forward mode's ``jvp_h`` returns the values' tuple and
its tangents' tuple). Every program here is checked in every mode of :data:`s2sad.modes.MODES` against central finite differences (``s2sad.gradcheck``), and the gradient
against HIPS autograd on the same source where autograd is installed.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from s2sad.api import _compile, _generate
from s2sad.gradcheck import run_gradcheck
from s2sad.modes import MODES

ROOT = Path(__file__).resolve().parent.parent

_TWO = """
import math


def pair(x, y):
    s = x * y
    return s + math.sin(x), s * y


def f(x, y):
    a, b = pair(x, y)
    return a * b + a
"""

_THREE_ONE_UNUSED = """
import math


def three(x, y):
    s = x + 2.0 * y
    return s * x, s * y, math.exp(0.3 * s)


def f(x, y):
    a, _, c = three(x, y)
    return a + c * y
"""

_UNUSED = """
def pair(x, y):
    return x * y, x - y


def f(x, y):
    a, b = pair(x, y)
    return a * x
"""

_USED_TWICE = """
def pair(x, y):
    return x * y, x + y * y


def f(x, y):
    a, b = pair(x, y)
    return a * a + b * a + b
"""

_TUPLE_VARIABLE = """
import math


def pair(x, y):
    return x * math.cos(y), y * math.sin(x)


def f(x, y):
    t = pair(x, y)
    u = pair(t[1], t[0])
    return t[0] * u[1] + pair(y, x)[1]
"""

_SAME_VALUE_TWICE = """
def twice(x, y):
    s = x * y
    return s, s, 2.0


def f(x, y):
    a, b, c = twice(x, y)
    return a * b * c + a
"""

_LOOP = """
def field(state, k):
    x, y = state
    return (k * x - x * y, x * y - 0.5 * y)


def step(state, k, dt):
    x, y = state
    ax, ay = field(state, k)
    bx, by = field((x + 0.5 * dt * ax, y + 0.5 * dt * ay), k)
    return (x + dt * bx, y + dt * by)


def f(k, x0, y0):
    state = (x0, y0)
    loss = 0.0
    for _ in range(6):
        state = step(state, k, 0.1)
        x, y = state
        loss += x * x + 0.5 * y
    return loss
"""

_NESTED = """
import math


def inner(x, y):
    return x * y, math.sin(x) * y


def outer(x, y):
    a, b = inner(x, y)
    c, d = inner(b, a)
    return a + d, c * b, d


def f(x, y):
    p, q, r = outer(x, y)
    s, t, u = outer(q, p)
    return p * s + t * r + u
"""

_DEFAULT = """
def scaled(x, k=2.0):
    return k * x * x, x / k


def f(x, y):
    a, b = scaled(x)
    c, d = scaled(y, 3.0)
    return a * d + b * c
"""

_ARRAYS = """
import numpy as np


def moments(v, w):
    return v * w, np.sin(v)


def f(v, w):
    a, b = moments(v, w)
    c, _ = moments(w, v)
    return np.sum(a * b) + np.sum(c * c)
"""

_CHECKPOINTED = """
def step(x, y, k):
    return x + 0.1 * (k * x - x * y), y + 0.1 * (x * y - 0.5 * y)


def f(k, x0, y0):
    x = x0
    y = y0
    # s2sad: checkpoint 2
    for _ in range(8):
        x, y = step(x, y, k)
    return x * y
"""

_BRANCH = """
def pair(x, y):
    if x > 0.0:
        a, b = x * y, y
    else:
        a, b = y, x * x
    return a, b


def f(x, y):
    a, b = pair(x, y)
    if a > b:
        return a * b
    return a + b
"""

_FIXED_POINT = """
import math


def update(x, y, a):
    return 0.5 * math.tanh(x + a * y), 0.3 * math.sin(x * y) + a


def f(a, b):
    x = 0.0
    y = 0.0
    change = 1.0
    # s2sad: fixed-point
    while change > 1e-13:
        x_new, y_new = update(x, y, a)
        change = abs(x_new - x) + abs(y_new - y)
        x = x_new
        y = y_new
    return x * b + y * y
"""

_ARRAYS_LOOP = """
import numpy as np


def moments(a, b):
    return np.sin(a) * b, np.cos(a) + b


def f(v, w):
    s = 0.0
    for i in range(3):
        u, unused = moments(v, w)
        s = s + np.sum(u)
        v = v * 0.5 + u
    p, q = moments(v, w)
    return s + np.sum(q * p)
"""

PROGRAMS: dict[str, tuple[str, dict[str, str]]] = {
    "two": (_TWO, {"x": "0.7", "y": "1.3"}),
    "three-one-unused": (_THREE_ONE_UNUSED, {"x": "0.7", "y": "0.4"}),
    "one-unused": (_UNUSED, {"x": "0.7", "y": "1.3"}),
    "used-twice": (_USED_TWICE, {"x": "0.7", "y": "1.3"}),
    "tuple-variable": (_TUPLE_VARIABLE, {"x": "0.7", "y": "1.3"}),
    "same-value-twice": (_SAME_VALUE_TWICE, {"x": "0.7", "y": "1.3"}),
    "loop": (_LOOP, {"k": "0.9", "x0": "1.1", "y0": "0.8"}),
    "nested": (_NESTED, {"x": "0.7", "y": "0.5"}),
    "default": (_DEFAULT, {"x": "0.7", "y": "1.3"}),
    "arrays": (_ARRAYS, {"v": "rand(3)", "w": "rand(3)"}),
    "checkpointed": (_CHECKPOINTED, {"k": "0.9", "x0": "1.1", "y0": "0.8"}),
    "branch": (_BRANCH, {"x": "0.7", "y": "0.4"}),
    "fixed-point": (_FIXED_POINT, {"a": "0.4", "b": "0.7"}),
    "arrays-loop": (_ARRAYS_LOOP, {"v": "rand(3)", "w": "rand(3)"}),
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_against_finite_differences(program: str, mode: str, tmp_path: Path) -> None:
    source, at = PROGRAMS[program]
    path = tmp_path / f"{program.replace('-', '_')}.py"
    path.write_text(source)
    result = run_gradcheck(source, str(path), "f", at, None, 0, 3, mode=mode)
    assert result, result.report()


def _gradient(source: str, path: Path) -> Any:
    path.write_text(source)
    text, _, _, function = _generate(source, str(path), "f", wrt=None)
    return _compile(text, function, function), text


@pytest.mark.skipif(importlib.util.find_spec("autograd") is None, reason="autograd is not installed")
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_against_autograd(program: str, tmp_path: Path) -> None:
    import autograd

    source, at = PROGRAMS[program]
    df, _ = _gradient(source, tmp_path / "m.py")
    traced = source.replace("import numpy as np\n", "import autograd.numpy as np\n")
    traced = traced.replace("import math\n", "import autograd.numpy as math\n")
    namespace: dict[str, Any] = {}
    exec(compile(traced, "twin", "exec"), namespace)
    rng = np.random.default_rng(0)
    args = [rng.uniform(0.5, 1.5, 3) if v.startswith("rand") else float(v) for v in at.values()]
    expected = autograd.grad(namespace["f"], list(range(len(args))))(*args)
    actual = df(*args)
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


def _function_text(text: str, name: str) -> str:
    match = re.search(rf"^def {name}\(.*?(?=^def |\Z)", text, re.S | re.M)
    assert match is not None, f"no function {name}"
    return match.group(0)


def test_one_forward_and_one_adjoint_function(tmp_path: Path) -> None:
    """The RK4 example's gradient defines one ``forward_rk4_step`` and one ``adjoint_rk4_step`` (no ``_0``/``_1``
    split), and the helper's body is in each once: four right-hand sides in each, not eight."""
    source = (ROOT / "examples" / "rk4.py").read_text()
    text, _, _, _ = _generate(source, str(ROOT / "examples" / "rk4.py"), "fit_loss", wrt=None)
    defined = re.findall(r"^def (\w+)\(", text, re.M)
    assert "forward_rk4_step" in defined and "adjoint_rk4_step" in defined
    assert "forward_lotka_volterra" in defined and "adjoint_lotka_volterra" in defined
    assert not [d for d in defined if re.search(r"_\d$", d)], defined
    forward = _function_text(text, "forward_rk4_step")
    adjoint = _function_text(text, "adjoint_rk4_step")
    assert forward.count("forward_lotka_volterra(") == 4
    assert adjoint.count("adjoint_lotka_volterra(") == 4
    gradient = _function_text(text, "grad_fit_loss")
    assert gradient.count("forward_rk4_step(") == 1 and gradient.count("adjoint_rk4_step(") == 1


def test_zero_for_a_value_this_call_does_not_use(tmp_path: Path) -> None:
    """Two calls, one using both values and one only the first: the adjoint takes both, and the second call
    passes a zero of the value's shape for the one it does not use."""
    df, text = _gradient(_ARRAYS, tmp_path / "m.py")
    adjoint = _function_text(text, "adjoint_moments")
    assert adjoint.startswith("def adjoint_moments(") and adjoint.count(",") >= 3
    assert "zeros_like(" in _function_text(text, "grad_f")
    v, w = np.array([0.3, 0.8, 1.1]), np.array([0.5, -0.2, 0.9])
    gv, gw = df(v, w)
    assert np.shape(gv) == (3,) and np.shape(gw) == (3,)


def test_a_value_unused_in_a_loop_is_recorded_by_its_shape(tmp_path: Path) -> None:
    """In a loop, the zero for a value this call does not use (another call does) is made from its shape,
    recorded each iteration, not from the value: the forward pass pushes the shape, never the array."""
    df, text = _gradient(_ARRAYS_LOOP, tmp_path / "m.py")
    gradient = _function_text(text, "grad_f")
    assert "unused_shape = np.shape(unused)" in gradient and "np.zeros(unused_shape)" in gradient
    assert "unused_stack" not in gradient and "zeros_like(unused)" not in gradient
    v, w = np.array([0.3, 0.8, 1.1]), np.array([0.5, -0.2, 0.9])
    gv, gw = df(v, w)
    assert np.shape(gv) == (3,) and np.shape(gw) == (3,)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_calls_the_helper_once(mode: str, tmp_path: Path) -> None:
    """No mode splits the helper into one helper per value: its function is defined once per role (itself,
    ``forward_``/``adjoint_`` in reverse mode, ``jvp_`` in forward mode), and never as ``pair_0``/``pair_1``."""
    path = tmp_path / "m.py"
    path.write_text(_TWO)
    text, _, _, _ = _generate(_TWO, str(path), "f", wrt=None, mode=mode)
    defined = re.findall(r"^def (\w+)\(", text, re.M)
    assert not [d for d in defined if re.search(r"pair_\d", d)], defined
    assert len(defined) == len(set(defined))
    assert any("pair" in d for d in defined)

"""Soundness catalogue, family 3: hygiene of generated names.

Every name s2sad introduces (adjoints ``x_bar``, stacks ``x_stack``, loop counters, the gradient function,
helpers' adjoint functions, support functions, imports, builtins the output calls) must be fresh against every
user name in scope. Each row uses a user name equal to one of them; each must be differentiated correctly.
"""

from __future__ import annotations

import numpy as np
import pytest
from soundness import Case, verdict

from s2sad import generate


def _scalar(id: str, body: str, at: tuple[float, ...] = (0.3,), head: str = "import math\n", **kw: object) -> Case:
    return Case(id, {"m.py": head + "\n\n" + body}, at, expect="correct", family="hygiene", **kw)  # type: ignore[arg-type]


def _array(id: str, body: str, head: str = "import numpy as np\n", **kw: object) -> Case:
    return _scalar(id, body, (np.array([0.3, 0.5, 0.7]),), head, **kw)


CASES = [
    # ----- from the issue ---------------------------------------------------------------------------------------
    _scalar(
        "underscore-vs-loop-counter",
        "def f(x):\n    _ = x * 2.0\n    s = x\n    k = 0\n    while k < 3:\n        s = math.sin(s) * _\n"
        "        k = k + 1\n    return s + _\n",
    ),
    _scalar("helper-named-grad_f", "def grad_f(x):\n    return x * 3.0\n\n\ndef f(x):\n    return grad_f(x) * x\n"),
    _array(
        "helper-named-scatter",
        "def scatter(a):\n    return a * 2.0\n\n\ndef f(x):\n    return np.sum(scatter(x[0:2]) * x[1:3])\n",
    ),
    _scalar(
        "local-reversed",
        "def f(x):\n    reversed = 2.0\n    s = x\n    for i in range(3):\n        s = math.sin(s) * reversed\n    return s\n",
    ),
    _scalar(
        "local-range",
        "def f(x):\n    range = 2.0\n    k = 0\n    while k < 3:\n        x = math.sin(x) * range\n        k = k + 1\n"
        "    return x\n",
    ),
    _scalar(
        "local-cos-from-import", "def f(x):\n    cos = 2.0\n    return sin(x) * cos\n", head="from math import sin\n"
    ),
    _scalar("local-cos-import-math", "def f(x):\n    cos = 2.0\n    return math.sin(x) * cos\n"),
    _scalar(
        "local-math-helper-uses-math",
        "def h(a):\n    return math.sin(a)\n\n\ndef f(x):\n    math = 2.0\n    return h(x) * math\n",
    ),
    _array("local-unbroadcast", "def f(x):\n    unbroadcast = x * 2.0\n    return np.sum(unbroadcast * np.sum(x))\n"),
    # the support function checking a value taken for a number (s2sad.number_guards): x is checked in each
    _scalar(
        "helper-named-check_number",
        "def check_number(a):\n    return a * 3.0\n\n\ndef f(x):\n    return check_number(x) * x\n",
    ),
    _scalar(
        "param-check_number", "def f(x, check_number):\n    return math.sin(x) * check_number * x\n", at=(0.3, 0.7)
    ),
    _scalar("local-check_number", "def f(x):\n    check_number = x * 2.0\n    return math.sin(x) * check_number\n"),
    _scalar(
        "target-named-check_number", "def check_number(x):\n    return math.sin(x) * x\n", target="m.py::check_number"
    ),
    # ----- every kind of generated name as a user name ----------------------------------------------------------
    _scalar("local-x_bar", "def f(x):\n    x_bar = x * 2.0\n    return math.sin(x) * x_bar\n"),
    _scalar("param-x_bar", "def f(x, x_bar):\n    return math.sin(x) * x_bar * x\n", at=(0.3, 0.7)),
    _scalar(
        "local-x_stack",
        "def f(x):\n    x_stack = 0.5\n    for i in range(3):\n        x = math.sin(x) * x_stack + x\n    return x\n",
    ),
    _scalar(
        "local-i-and-index-i",
        "def f(x):\n    i = 2.0\n    s = x\n    for j in range(3):\n        s = s * i * x\n    return s\n",
    ),
    _scalar("local-sin_x", "def f(x):\n    sin_x = 2.0\n    return math.sin(x) * sin_x + math.sin(x * sin_x)\n"),
    _scalar("local-a_times_b", "def f(a, b):\n    a_times_b = a + b\n    return a * b * a_times_b\n", at=(0.3, 0.6)),
    _scalar("local-x_1", "def f(x):\n    x_1 = 3.0\n    x = x * x\n    x = math.sin(x)\n    return x * x_1\n"),
    _scalar(
        "local-cond",
        "def f(x):\n    cond = 0.5\n    y = x\n    if y > 0.1:\n        y = y * cond\n    return y * cond\n",
    ),
    _scalar("locals-g-ans-out", "def f(x):\n    g = math.sin(x)\n    ans = g * x\n    out = ans * g\n    return out\n"),
    _scalar("local-choice", "def f(x):\n    choice = x if x > 0 else -x\n    return choice * x\n"),
    _scalar(
        "local-iterations",
        "def f(x):\n    iterations = 1.5\n    k = 0\n    while k < 3:\n        x = math.sin(x) * iterations\n"
        "        k = k + 1\n    return x * iterations\n",
    ),
    _scalar(
        "local-value-and-stack",
        "def f(x):\n    value = 2.0\n    s_stack = 0.5\n    s = x\n    for i in range(2):\n        s = math.sin(s) * value\n"
        "    return s * s_stack\n",
    ),
    _scalar(
        "local-x_range",
        "def f(x):\n    n = 3\n    n_range = 0.5\n    for i in range(n):\n        n = 2\n        x = math.sin(x) * n_range\n"
        "    return x\n",
    ),
    _scalar(
        "underscore-vs-unused-adjoint",
        "def h(a, b):\n    return a * b + a\n\n\ndef f(x):\n    _ = x * 3.0\n    y = h(x, x) + h(x, 2.0)\n"
        "    return y * _\n",
    ),
    _scalar(
        "helper-named-adjoint_h",
        "def h(a):\n    return a * a\n\n\ndef adjoint_h(a):\n    return a * 3.0\n\n\n"
        "def f(x):\n    return h(x) + adjoint_h(x)\n",
    ),
    _scalar(
        "local-named-adjoint_h",
        "def h(a):\n    return a * a\n\n\ndef f(x):\n    adjoint_h = 2.0\n    return h(x) * adjoint_h\n",
    ),
    _scalar(
        "helper-named-sin_x", "def sin_x(a):\n    return a * 2.0\n\n\ndef f(x):\n    return math.sin(x) * sin_x(x)\n"
    ),
    _scalar(
        "helper-named-x_bar", "def x_bar(a):\n    return a * 2.0\n\n\ndef f(x):\n    return math.sin(x) * x_bar(x)\n"
    ),
    _scalar(
        "helper-named-iterations",
        "def iterations(a):\n    return a * 0.5\n\n\ndef f(x):\n    k = 0\n    while k < 2:\n        x = math.sin(iterations(x))\n"
        "        k = k + 1\n    return x\n",
    ),
    _scalar("constant-named-x_bar", "x_bar = 2.0\n\n\ndef f(x):\n    return math.sin(x) * x_bar\n"),
    _scalar(
        "helper-named-cos",
        "def cos(a):\n    return a * a\n\n\ndef f(x):\n    return sin(x) + cos(x)\n",
        head="from math import sin\n",
    ),
    _scalar("param-named-math", "def f(x, math):\n    return x * x * math\n", at=(0.3, 2.0), wrt=("x",)),
    _scalar(
        "param-named-math-helper-uses-math",
        "def h(a):\n    return math.cos(a)\n\n\ndef f(x, math):\n    return h(x) * math\n",
        at=(0.3, 2.0),
        wrt=("x",),
    ),
    _scalar(
        "locals-builtins-and-range-with-while",
        "def f(x):\n    builtins = 0.5\n    range = 2.0\n    k = 0\n    while k < 2:\n"
        "        x = math.sin(x) * range * builtins\n        k = k + 1\n    return x\n",
    ),
    _scalar(
        "helper-named-reversed",
        "def reversed(a):\n    return a * 2.0\n\n\ndef f(x):\n    s = x\n    for i in range(3):\n        s = math.sin(reversed(s))\n"
        "    return s\n",
    ),
    _scalar(
        "local-abs-float-helper-uses-them",
        "def h(a):\n    return abs(a) * float(2)\n\n\ndef f(x):\n    abs = 3.0\n    float = 0.5\n    return h(x) * abs * float\n",
    ),
    _array(
        "local-np-helper-uses-np",
        "def h(a):\n    return np.sum(np.sin(a))\n\n\ndef f(x):\n    np = 2.0\n    return h(x) * np\n",
    ),
    _array("numpy-alias-g", "def f(x):\n    return g.sum(x * g.sum(x))\n", head="import numpy as g\n"),
    _array(
        "numpy-alias-x-support-param", "def f(a):\n    return x.sum(a[0:2] * x.sum(a))\n", head="import numpy as x\n"
    ),
    _array("local-len-with-unbroadcast", "def f(x):\n    len = np.sum(x)\n    return np.sum(x * len)\n"),
    _array(
        "helper-named-len", "def len(a):\n    return a * 2.0\n\n\ndef f(x):\n    return np.sum(len(x) * np.sum(x))\n"
    ),
    _array("local-slice", "def f(x):\n    slice = 2.0\n    return np.sum(x[0:2] * slice * x[1:3])\n"),
    _array("local-ValueError", "def f(x):\n    ValueError = 2.0\n    return np.sum(x * ValueError * x)\n"),
    _array(
        "local-scatter-and-isinstance",
        "def f(x):\n    scatter = x[1:3]\n    isinstance = 2.0\n    return np.sum(scatter * isinstance * x[0:2])\n",
    ),
    _scalar(
        "rule-helper-uses-math-beside-local-math",
        '@s2sad.rule(a="g * math.cos(a)")\ndef mysin(a):\n    return math.sin(a)\n\n\n'
        "def f(x):\n    math = 2.0\n    return mysin(x) * math\n",
        head="import math\nimport s2sad\n",
    ),
    _array(
        "rule-helper-named-unbroadcast",
        '@s2sad.rule(a="g * 2.0")\ndef unbroadcast(a):\n    return 2.0 * a\n\n\n'
        "def f(x):\n    return np.sum(unbroadcast(x) * np.sum(x))\n",
        head="import numpy as np\nimport s2sad\n",
    ),
    # (each helper file has a name of its own: the harness imports the user's module, and Python caches 'lib')
    Case(
        "helper-in-another-file-other-numpy-alias",
        {
            "hyglib_np.py": "import numpy as np\n\n\ndef h(a):\n    return np.sin(a) * a\n",
            "m.py": "import numpy\nfrom hyglib_np import h\n\n\ndef f(x):\n    return numpy.sum(h(x) * numpy.sum(x))\n",
        },
        (np.array([0.3, 0.5, 0.7]),),
        expect="correct",
        family="hygiene",
    ),
    Case(
        "helper-in-another-file-named-like-a-local",
        {
            "hyglib_x_bar.py": "import math\n\n\ndef x_bar(a):\n    return math.sin(a) * a\n",
            "m.py": "from hyglib_x_bar import x_bar\n\n\ndef f(x):\n    return x_bar(x) * x\n",
        },
        (0.3,),
        expect="correct",
        family="hygiene",
    ),
    _array(
        "target-named-unbroadcast",
        "def unbroadcast(x):\n    return np.sum(x * np.sum(x))\n",
        target="m.py::unbroadcast",
    ),
    _array("target-named-scatter", "def scatter(x):\n    return np.sum(x[0:2] * x[1:3])\n", target="m.py::scatter"),
    _scalar(
        "target-named-range",
        "def range(x):\n    k = 0\n    while k < 2:\n        x = math.sin(x)\n        k = k + 1\n    return x * x\n",
        target="m.py::range",
    ),
    _scalar(
        "target-named-math", "def math(x):\n    return sin(x) * x\n", head="from math import sin\n", target="m.py::math"
    ),
    _scalar(
        "version-of-a-local-named-like-an-adjoint-function",
        "def h(a):\n    return a * a\n\n\ndef f(x):\n    adjoint_h = 0.5 * x\n    adjoint_h = h(x) * adjoint_h\n"
        "    adjoint_h = math.sin(adjoint_h)\n    return adjoint_h * x\n",
    ),
    # ----- found by the hygiene fuzzer, not about names: a loop with no adjoint work that overwrites a value the
    # reverse pass reads must still be reversed, to restore that value
    _scalar(
        "inactive-while-overwrites-a-value-read-later",
        "def f(x):\n    t = math.tanh(0.25)\n    a = math.tanh(x * t)\n    k = 0\n    while k < 2:\n"
        "        t = math.tanh(0.1)\n        k = k + 1\n    return a + t\n",
    ),
    _scalar(
        "inactive-for-overwrites-a-value-read-later",
        "def f(x):\n    t = 0.5\n    a = math.sin(x * t)\n    for i in range(3):\n        t = t * 0.5\n    return a + t\n",
    ),
    _scalar(
        "inactive-branch-in-a-loop-overwrites-a-value-read-later",
        "def f(x):\n    t = 0.5\n    s = x\n    for i in range(3):\n        s = math.sin(s * t)\n        if i > 0:\n"
        "            t = t * 0.5\n    return s\n",
    ),
    _scalar(
        "inactive-loop-with-a-branch-on-a-value-it-computes",
        "def f(x):\n    t = 0.5\n    a = math.sin(x * t)\n    for i in range(2):\n        if math.cos(t) > 0.9:\n"
        "            t = math.sin(t)\n        else:\n            t = math.cos(t)\n    return a + t\n",
    ),
    _array("local-numpy", "def f(x):\n    numpy = np.sum(x)\n    return np.sum(x * numpy)\n"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hygiene(case: Case, tmp_path) -> None:
    verdict(case, tmp_path)


def test_api_finds_the_gradient_among_helpers_named_like_it(tmp_path, monkeypatch) -> None:
    """Helpers called grad_f and value_and_grad_f: the API returns the gradient, not a helper."""
    import importlib
    import math

    import s2sad

    (tmp_path / "hyg_api.py").write_text(
        "def grad_f(x):\n    return x * 3.0\n\n\ndef value_and_grad_f(x):\n    return x * 2.0\n\n\n"
        "def f(x):\n    return grad_f(x) * x + value_and_grad_f(x) * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("hyg_api")
    assert math.isclose(s2sad.grad(mod.f)(0.3), 10 * 0.3)
    value, grad = s2sad.value_and_grad(mod.f)(0.3)
    assert math.isclose(value, 5 * 0.09) and math.isclose(grad, 10 * 0.3)


def test_common_case_keeps_its_names() -> None:
    """No collision: the names are exactly the usual ones."""
    source = (
        "import math\n\n\ndef f(x):\n    y = math.sin(x)\n    for i in range(3):\n        y = y * x\n    return y\n"
    )
    text = generate(source, "m.py", "f")
    assert "def grad_f(x):" in text and "for y in reversed(y_stack):" in text and "import builtins" not in text
    assert "x_bar" in text and "y_stack" in text


def test_collisions_are_renamed_readably() -> None:
    source = "import math\n\n\ndef f(x):\n    reversed = 2.0\n    s = x\n    for i in range(3):\n        s = s * reversed\n    return s\n"
    text = generate(source, "m.py", "f")
    assert "import builtins" in text and "builtins.reversed(range(3))" in text

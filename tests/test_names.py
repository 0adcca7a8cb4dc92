"""The fresh-name service on its own: scopes, invented top-level names, spelling of imports and builtins."""

from s2sad import ir
from s2sad.names import ModuleNames, Scope, Spelling


def test_scope_suffixes_only_on_collision() -> None:
    scope = Scope({"x_bar", "range"})
    assert scope.fresh("y_bar") == "y_bar"
    assert scope.fresh("x_bar") == "x_bar_1"
    assert scope.fresh("x_bar") == "x_bar_2"
    assert scope.fresh("range") == "range_1"
    assert scope.fresh("x", own=True) == "x" and scope.fresh("x", own=True) == "x_1"


def _fn(name: str, user: set[str], params: tuple[str, ...] = ("x",)) -> ir.Function:
    return ir.Function(name, tuple(ir.Param(p) for p in params), (), "m.py", user_names=frozenset(user))


def test_invented_top_level_names_avoid_every_user_name() -> None:
    main = _fn("f", {"x", "unbroadcast"})
    helper = _fn("grad_f", {"a", "adjoint_grad_f"}, ("a",))
    names = ModuleNames.of([main, helper], [("scatter", "def scatter(q):\n    return q\n")])
    assert names.gradient("f") == "grad_f_1"
    assert names.adjoint("grad_f") == "adjoint_grad_f_1"
    assert names.support("unbroadcast") == "unbroadcast_1"
    assert names.support("scatter") == "scatter_1"


def test_invented_locals_avoid_top_level_names_and_builtins() -> None:
    main = _fn("f", {"x"})
    helper = _fn("x_bar", {"a"}, ("a",))
    scope = ModuleNames.of([main, helper]).local(main)
    assert scope.fresh("x_bar") == "x_bar_1"
    assert scope.fresh("len") == "len_1"
    assert scope.fresh("unbroadcast") == "unbroadcast_1"


def test_spelling_follows_the_user_and_steps_aside_for_locals() -> None:
    user = (ir.Binding("np", "numpy", True), ir.Binding("sin", "math.sin", False))
    free = Spelling(set())
    assert free.name("numpy.sum", user) == "np.sum"
    assert free.name("math.sin", user) == "sin"
    assert free.name("math.cos", user) == "cos"  # the user's style for that module
    assert free.name("builtins.range", user) == "range"
    assert free.lines() == ["import numpy as np", "from math import cos, sin"]
    shadowed = Spelling({"np", "numpy", "cos", "range", "math"})
    assert shadowed.name("numpy.sum", user) == "numpy_1.sum"
    assert shadowed.name("math.cos", user) == "math_1.cos"
    assert shadowed.name("builtins.range", user) == "builtins.range"
    assert shadowed.lines() == ["import builtins", "import math as math_1", "import numpy as numpy_1"]


def test_rewrite_touches_names_not_attributes_or_keywords() -> None:
    spelling = Spelling(set())
    text = "def u(g, x):\n    return np.sum(g, axis=len(x)) + x.len  # len\n"
    out = spelling.rewrite(text, {"np": "numpy_1", "len": "builtins.len", "axis": "no"})
    assert out == "def u(g, x):\n    return numpy_1.sum(g, axis=builtins.len(x)) + x.len  # len\n"


def test_every_support_function_has_a_name() -> None:
    from s2sad.emit import SUPPORT
    from s2sad.names import SUPPORT_NAMES

    assert set(SUPPORT_NAMES) == set(SUPPORT)

"""The derivative rule table: one entry per primitive, keyed by qualified name.

Each entry gives, for every differentiable argument, the adjoint contribution as a Python expression in
``g`` (the adjoint of the result), ``ans`` (the result itself, so a partial that equals a forward value reuses
it) and the primitive's own argument names. Operators are primitives too (``operator.mul``). Functions are
written by qualified name (``math.cos``); the emitter spells them the way the generated module imports them.

Every template is parsed and checked when this module is imported; ``tests/test_rules.py`` checks every entry
against central finite differences by iterating :data:`RULES`, so adding a primitive is one line here.

Each entry also says how its result's kind and shape follow from its arguments' (``shape=``, a rule of
:data:`s2sad.shapes.SHAPE_RULES`): ``number`` (always a Python number: the default for ``math.*``),
``elementwise`` (NumPy broadcasting of the arguments: the default with ``broadcasts=True``; give it to unary
ufuncs too), ``comparison``, ``reduce`` (``(a, axis=None, keepdims=False)``), ``matmul``, ``dot``, ``outer``,
``transpose``, ``reshape``, ``getitem``, ``like`` (the first argument's), ``new`` (``np.zeros(shape)``),
``array``, ``shape``, ``select``, ``either`` (one argument, whole: ``max(a, b)``) and ``unknown`` (the
default otherwise: nothing is known, generic code follows). ``tests/test_values.py`` checks every entry
against NumPy on random operands of random kinds and ranks.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from .ir import GETITEM, IFEXP, BoolOp, Call, Const, Expr, Global, LibraryCall, Var

__all__ = [
    "Rule",
    "RULES",
    "lookup",
    "parse_template",
    "OPERATOR_SYMBOLS",
    "TemplateError",
    "extended",
    "library_message",
    "FAMILIES",
]

Kind = Literal["linear", "smooth", "piecewise", "nondiff", "discrete", "helper"]


@dataclass(frozen=True, slots=True)
class Rule:
    fn: str  #: qualified name, e.g. ``math.sin``
    params: tuple[str, ...]
    adjoints: Mapping[str, Expr]  #: parameter -> contribution to its adjoint; absent = not differentiable
    kind: Kind = "smooth"
    #: ``nondiff``: result carries no derivative (comparisons); fine on differentiated values.
    #: ``discrete``: a number that silently drops the derivative (``int``, ``round``): an error on them.
    #: ``helper``: the user's own function; its adjoint is a generated function, ``adjoint_<name>``.
    note: str = ""  #: the choice made at a kink or tie, for the README and the reviewer
    defaults: Mapping[str, Expr] = field(default_factory=dict)  #: keyword parameters and their defaults
    broadcasts: bool = False  #: elementwise on arrays: an operand's adjoint is summed back to its shape
    #: ``helper``: parameters with no differentiable path to the result that reach it through a call with no
    #: rule for them; a caller differentiating one of them is refused (see :func:`s2sad.analysis.dropped`)
    drops: frozenset[str] = frozenset()
    #: how many arguments may be given by position (None: all); the rest are keyword-only, as in NumPy, whose
    #: ``np.max(a, axis, out, keepdims)`` reads a third positional argument as ``out``, never ``keepdims``
    positional: int | None = None
    #: how the result's kind and shape follow from the arguments': a rule of :data:`s2sad.values.SHAPE_RULES`
    shape: str = "unknown"

    def takes_positional(self, n: int) -> bool:
        return self.positional is None or n <= self.positional


class TemplateError(ValueError):
    pass


# Python syntax <-> qualified operator names, shared with the frontend and the emitter.
OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Add: "operator.add",
    ast.Sub: "operator.sub",
    ast.Mult: "operator.mul",
    ast.Div: "operator.truediv",
    ast.FloorDiv: "operator.floordiv",
    ast.Mod: "operator.mod",
    ast.Pow: "operator.pow",
    ast.MatMult: "operator.matmul",
    ast.USub: "operator.neg",
    ast.UAdd: "operator.pos",
    ast.Not: "operator.not_",
    ast.Lt: "operator.lt",
    ast.LtE: "operator.le",
    ast.Gt: "operator.gt",
    ast.GtE: "operator.ge",
    ast.Eq: "operator.eq",
    ast.NotEq: "operator.ne",
    ast.Is: "operator.is_",
    ast.IsNot: "operator.is_not",
}

# s2sad.*: helpers the generated module defines
_TEMPLATE_MODULES = ("math", "numpy", "scipy", "operator", "builtins", "s2sad")
_BUILTIN_FUNCTIONS = {"abs", "float", "min", "max", "pow"}


def _brief(text: str) -> str:
    """A template as a message shows it: quoted, at most 60 characters."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def parse_template(text: str, allowed: frozenset[str]) -> Expr:
    """Parse an adjoint template into an :data:`Expr`; its free names must be in ``allowed``."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as err:
        raise TemplateError(f"template {_brief(text)} does not parse: {err.msg}") from err

    def convert(node: ast.expr) -> Expr:
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (int, float))):
            return Const(node.value)
        if isinstance(node, ast.IfExp):
            return Call(IFEXP, (convert(node.test), convert(node.body), convert(node.orelse)))
        if isinstance(node, ast.Subscript) and isinstance(_integer(node.slice), int):
            return Call(GETITEM, (convert(node.value), Const(_integer(node.slice))))
        if isinstance(node, ast.Name):
            if node.id not in allowed:
                raise TemplateError(f"template {_brief(text)} uses unknown name {node.id!r}")
            return Var(node.id)
        if isinstance(node, ast.Attribute):
            return Global(_dotted(node, text))
        if isinstance(node, ast.BinOp):
            return Call(OPERATOR_SYMBOLS[type(node.op)], (convert(node.left), convert(node.right)))
        if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATOR_SYMBOLS:
            return Call(OPERATOR_SYMBOLS[type(node.op)], (convert(node.operand),))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return Call(OPERATOR_SYMBOLS[type(node.ops[0])], (convert(node.left), convert(node.comparators[0])))
        if isinstance(node, ast.BoolOp):
            op: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(op, tuple(convert(v) for v in node.values))
        if isinstance(node, ast.Call) and not node.keywords:
            if isinstance(node.func, ast.Name) and node.func.id in _BUILTIN_FUNCTIONS:
                fn = f"builtins.{node.func.id}"
            elif isinstance(node.func, ast.Attribute):
                fn = _dotted(node.func, text)
            else:
                raise TemplateError(f"template {_brief(text)}: call functions by qualified name, e.g. 'math.cos'")
            return Call(fn, tuple(convert(a) for a in node.args))
        raise TemplateError(f"template {_brief(text)}: unsupported syntax {ast.unparse(node)!r}")

    return convert(tree)


def _integer(node: ast.expr) -> int | None:
    """An integer literal, possibly negative (``g[-1]``); None otherwise."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _integer(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def _dotted(node: ast.expr, text: str) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in _TEMPLATE_MODULES:
        raise TemplateError(f"template {_brief(text)}: qualified names must start with one of {_TEMPLATE_MODULES}")
    parts.append(node.id)
    return ".".join(reversed(parts))


def _signature(sig: str) -> tuple[str, tuple[str, ...], dict[str, Expr]]:
    """``numpy.sum(a, axis=None, keepdims=False)`` -> name, parameters, keyword parameters' defaults (a ``*``
    marks the keyword-only ones: see :func:`_positional`)."""
    call = ast.parse(sig.replace(", *,", ","), mode="eval").body
    assert isinstance(call, ast.Call) and all(isinstance(a, ast.Name) for a in call.args), sig
    fn = ast.unparse(call.func)
    params = tuple(a.id for a in call.args if isinstance(a, ast.Name)) + tuple(k.arg for k in call.keywords if k.arg)
    defaults = {k.arg: parse_template(ast.unparse(k.value), frozenset()) for k in call.keywords if k.arg}
    return fn, params, defaults


def _positional(sig: str) -> int | None:
    """How many parameters of ``numpy.sum(a, axis=None, *, keepdims=False)`` may be given by position."""
    if ", *," not in sig:
        return None
    return len(_signature(sig.split(", *,")[0] + ")")[1])


def _shape(fn: str, broadcasts: bool, shape: str | None) -> str:
    """The ``shape`` column's default: ``math.*`` give numbers, broadcasting operations broadcast."""
    if shape is not None:
        return shape
    if fn.startswith("math."):
        return "number"
    return "elementwise" if broadcasts else "unknown"


def vjp(
    sig: str,
    *,
    kind: Kind = "smooth",
    note: str = "",
    broadcasts: bool = False,
    shape: str | None = None,
    **adjoints: str,
) -> Rule:
    """``vjp("math.sin(x)", x="g * math.cos(x)")``: one rule, one template per differentiable argument."""
    fn, params, defaults = _signature(sig)
    unknown = set(adjoints) - set(params)
    if unknown:
        raise TemplateError(f"rule {sig}: adjoint for unknown argument(s) {sorted(unknown)}")
    allowed = frozenset(params) | {"g", "ans"}
    templates = {p: parse_template(t, allowed) for p, t in adjoints.items()}
    shape = _shape(fn, broadcasts, shape)
    return Rule(fn, params, templates, kind, note, defaults, broadcasts, positional=_positional(sig), shape=shape)


def nondiff(sig: str, shape: str | None = None) -> Rule:
    """A primitive whose result carries no derivative (a comparison: piecewise constant; a shape)."""
    fn, params, defaults = _signature(sig)
    return Rule(fn, params, {}, "nondiff", defaults=defaults, shape=_shape(fn, False, shape))


def zero(sig: str, shape: str | None = "elementwise") -> Rule:
    """A piecewise-constant function (``np.floor``): its derivative is zero wherever it exists; fine on
    differentiated values, and the README says so."""
    fn, params, defaults = _signature(sig)
    return Rule(
        fn, params, {}, "nondiff", "zero derivative (piecewise constant)", defaults, shape=_shape(fn, False, shape)
    )


def discrete(sig: str, shape: str | None = None) -> Rule:
    """A conversion to an integer: applied to a differentiated value it would silently drop the gradient."""
    fn, params, defaults = _signature(sig)
    return Rule(fn, params, {}, "discrete", defaults=defaults, shape=_shape(fn, False, shape))


_SIGN = "(1.0 * (x > 0) - (x < 0))"  # the sign function; 1.0 * makes it work on NumPy's boolean arrays
_ABS_NOTE = "the derivative at 0 is taken as 0 (the sign function), as in PyTorch and autograd"

# ----------------------------------------------------------------------------------------------------------
# Operators
# ----------------------------------------------------------------------------------------------------------
_OPERATORS = [
    vjp("operator.add(a, b)", a="g", b="g", kind="linear", broadcasts=True),
    vjp("operator.sub(a, b)", a="g", b="-g", kind="linear", broadcasts=True),
    vjp("operator.mul(a, b)", a="g * b", b="g * a", broadcasts=True),
    vjp("operator.truediv(a, b)", a="g / b", b="-g * ans / b", broadcasts=True),
    vjp("operator.pow(a, b)", a="g * b * a ** (b - 1)", b="g * ans * math.log(a)", broadcasts=True),
    vjp("operator.neg(a)", a="-g", kind="linear", shape="elementwise"),
    vjp("operator.pos(a)", a="g", kind="linear", shape="elementwise"),
    vjp(
        "operator.mod(a, b)",
        a="g",
        b="-g * (a // b)",
        kind="piecewise",
        note="jumps where a / b is an integer",
        broadcasts=True,
    ),
    discrete("operator.floordiv(a, b)", shape="elementwise"),
    nondiff("operator.lt(a, b)", shape="comparison"),
    nondiff("operator.le(a, b)", shape="comparison"),
    nondiff("operator.gt(a, b)", shape="comparison"),
    nondiff("operator.ge(a, b)", shape="comparison"),
    nondiff("operator.eq(a, b)", shape="comparison"),
    nondiff("operator.ne(a, b)", shape="comparison"),
    nondiff("operator.is_(a, b)", shape="number"),  # only 'x is None' / 'x is not None': the frontend refuses others
    nondiff("operator.is_not(a, b)", shape="number"),
    nondiff("operator.not_(a)", shape="number"),
]

# ----------------------------------------------------------------------------------------------------------
# Builtins
# ----------------------------------------------------------------------------------------------------------
_BUILTINS = [
    vjp("builtins.abs(x)", x=f"g * {_SIGN}", kind="piecewise", note=_ABS_NOTE, shape="elementwise"),
    vjp("builtins.pow(a, b)", a="g * b * a ** (b - 1)", b="g * ans * math.log(a)", broadcasts=True),
    vjp("builtins.float(x)", x="g", kind="linear", shape="number"),
    vjp(
        "builtins.max(a, b)",
        a="g * (a >= b)",
        b="g * (a < b)",
        kind="piecewise",
        note="a tie goes to the first",
        shape="either",
    ),
    vjp(
        "builtins.min(a, b)",
        a="g * (a <= b)",
        b="g * (a > b)",
        kind="piecewise",
        note="a tie goes to the first",
        shape="either",
    ),
    discrete("builtins.int(x)", shape="number"),
    discrete("builtins.round(x)", shape="elementwise"),
    discrete("builtins.round(x, ndigits)", shape="elementwise"),
    nondiff("builtins.len(x)", shape="number"),
    nondiff("builtins.bool(x)", shape="number"),
]

# ----------------------------------------------------------------------------------------------------------
# math
# ----------------------------------------------------------------------------------------------------------
_MATH = [
    vjp("math.exp(x)", x="g * ans"),
    vjp("math.expm1(x)", x="g * (ans + 1)"),
    vjp("math.log(x)", x="g / x"),
    vjp("math.log(x, base)", x="g / (x * math.log(base))", base="-g * ans / (base * math.log(base))"),
    vjp("math.log2(x)", x="g / (x * math.log(2))"),
    vjp("math.log10(x)", x="g / (x * math.log(10))"),
    vjp("math.log1p(x)", x="g / (1 + x)"),
    vjp("math.sqrt(x)", x="0.5 * g / ans"),
    vjp("math.sin(x)", x="g * math.cos(x)"),
    vjp("math.cos(x)", x="-g * math.sin(x)"),
    vjp("math.tan(x)", x="g * (1 + ans ** 2)"),
    vjp("math.asin(x)", x="g / math.sqrt(1 - x ** 2)"),
    vjp("math.acos(x)", x="-g / math.sqrt(1 - x ** 2)"),
    vjp("math.atan(x)", x="g / (1 + x ** 2)"),
    vjp("math.atan2(y, x)", y="g * x / (x ** 2 + y ** 2)", x="-g * y / (x ** 2 + y ** 2)"),
    vjp("math.sinh(x)", x="g * math.cosh(x)"),
    vjp("math.cosh(x)", x="g * math.sinh(x)"),
    vjp("math.tanh(x)", x="g * (1 - ans ** 2)"),
    vjp("math.asinh(x)", x="g / math.sqrt(x ** 2 + 1)"),
    vjp("math.acosh(x)", x="g / math.sqrt(x ** 2 - 1)"),
    vjp("math.atanh(x)", x="g / (1 - x ** 2)"),
    vjp("math.erf(x)", x="g * 2 / math.sqrt(math.pi) * math.exp(-(x ** 2))"),
    vjp("math.erfc(x)", x="-g * 2 / math.sqrt(math.pi) * math.exp(-(x ** 2))"),
    vjp("math.hypot(x, y)", x="g * x / ans", y="g * y / ans"),
    vjp("math.pow(x, y)", x="g * y * x ** (y - 1)", y="g * ans * math.log(x)"),
    vjp("math.fabs(x)", x=f"g * {_SIGN}", kind="piecewise", note=_ABS_NOTE),
    discrete("math.floor(x)"),
    discrete("math.ceil(x)"),
    discrete("math.trunc(x)"),
    nondiff("math.isnan(x)"),
    nondiff("math.isinf(x)"),
    nondiff("math.isfinite(x)"),
]


# ----------------------------------------------------------------------------------------------------------
# NumPy
# ----------------------------------------------------------------------------------------------------------
def _expanded(v: str) -> str:
    """``v`` (the reduced result or its adjoint) with the reduced axis put back, to broadcast against ``a``."""
    return f"(numpy.expand_dims({v}, axis) if axis is not None and not keepdims else {v})"


# a @ b with NumPy's semantics (1-D operands promoted, stacks of matrices broadcast), and np.dot's (a scalar
# operand multiplies; N-D: the last axis of a against the second-to-last of b): support functions of the
# generated module (s2sad.emit.SUPPORT), each with its own docstring
_MATMUL_A = "s2sad.matmul_adjoint_a(g, a, b)"
_MATMUL_B = "s2sad.matmul_adjoint_b(g, a, b)"


def _elements(n: int) -> Rule:
    """``np.array([x0, ..., x(n-1)])``: element k's adjoint is ``g[k]``."""
    templates: dict[str, str] = {f"x{k}": f"g[{k}]" for k in range(n)}
    fn, params, defaults = _signature(f"numpy.array({', '.join(templates)})")
    allowed = frozenset(params) | {"g", "ans"}
    return Rule(fn, params, {p: parse_template(t, allowed) for p, t in templates.items()}, "linear", shape="array")


def _select(n: int) -> Rule:
    """``t[i]`` for a tuple of ``n`` elements and an index known only at run time: ``s2sad.select(i, *t)``
    (the generated module's ``select``, which is ``t[i]``); the selected element gets the adjoint, the others
    zero with their own shape (``0.0 * x``)."""
    templates = {f"x{k}": f"g if index == {k} or index == {k - n} else 0.0 * x{k}" for k in range(n)}
    fn, params, defaults = _signature(f"s2sad.select(index, {', '.join(templates)})")
    allowed = frozenset(params) | {"g", "ans"}
    adjoints = {p: parse_template(t, allowed) for p, t in templates.items()}
    note = "the element the index selects gets the adjoint"
    return Rule(fn, params, adjoints, "piecewise", note, defaults, shape="select")


_TUPLES = [_select(n) for n in range(1, 17)]

_NUMPY = [
    vjp("operator.matmul(a, b)", a=_MATMUL_A, b=_MATMUL_B, shape="matmul"),
    vjp("numpy.matmul(a, b)", a=_MATMUL_A, b=_MATMUL_B, shape="matmul"),
    vjp("numpy.dot(a, b)", a="s2sad.dot_adjoint_a(g, a, b)", b="s2sad.dot_adjoint_b(g, a, b)", shape="dot"),
    # np.outer flattens its operands
    vjp(
        "numpy.outer(a, b)",
        a="numpy.reshape(g @ numpy.ravel(b), numpy.shape(a))",
        b="numpy.reshape(numpy.ravel(a) @ g, numpy.shape(b))",
        shape="outer",
    ),
    vjp("numpy.exp(x)", x="g * ans", shape="elementwise"),
    vjp("numpy.log(x)", x="g / x", shape="elementwise"),
    vjp("numpy.log1p(x)", x="g / (1 + x)", shape="elementwise"),
    vjp("numpy.sqrt(x)", x="0.5 * g / ans", shape="elementwise"),
    vjp("numpy.sin(x)", x="g * numpy.cos(x)", shape="elementwise"),
    vjp("numpy.cos(x)", x="-g * numpy.sin(x)", shape="elementwise"),
    vjp("numpy.tan(x)", x="g * (1 + ans ** 2)", shape="elementwise"),
    vjp("numpy.tanh(x)", x="g * (1 - ans ** 2)", shape="elementwise"),
    vjp("numpy.abs(x)", x="g * numpy.sign(x)", kind="piecewise", note=_ABS_NOTE, shape="elementwise"),
    vjp("numpy.absolute(x)", x="g * numpy.sign(x)", kind="piecewise", note=_ABS_NOTE, shape="elementwise"),
    vjp("numpy.square(x)", x="2 * g * x", shape="elementwise"),
    vjp("numpy.negative(x)", x="-g", kind="linear", shape="elementwise"),
    vjp("numpy.power(a, b)", a="g * b * a ** (b - 1)", b="g * ans * numpy.log(a)", broadcasts=True),
    vjp("numpy.maximum(a, b)", a="g * (a >= b)", b="g * (a < b)", kind="piecewise", broadcasts=True),
    vjp("numpy.minimum(a, b)", a="g * (a <= b)", b="g * (a > b)", kind="piecewise", broadcasts=True),
    vjp(
        "numpy.where(condition, x, y)",
        x="numpy.where(condition, g, 0.0)",
        y="numpy.where(condition, 0.0, g)",
        kind="piecewise",
        broadcasts=True,
    ),
    vjp(  # a None bound: no constraint on that side
        "numpy.clip(a, a_min, a_max)",
        a="g * numpy.logical_and(True if a_min is None else a >= a_min, True if a_max is None else a <= a_max)",
        kind="piecewise",
        broadcasts=True,  # a is broadcast against the bounds
    ),
    vjp(
        "numpy.sum(a, axis=None, *, keepdims=False)",
        a=f"numpy.broadcast_to({_expanded('g')}, numpy.shape(a))",
        kind="linear",
        shape="reduce",
    ),
    vjp(
        "numpy.mean(a, axis=None, *, keepdims=False)",
        a=f"numpy.broadcast_to({_expanded('g')}, numpy.shape(a)) * (numpy.size(ans) / numpy.size(a))",
        kind="linear",
        shape="reduce",
    ),
    vjp(
        "numpy.max(a, axis=None, *, keepdims=False)",
        a=f"numpy.where(a == {_expanded('ans')}, {_expanded('g')}, 0.0) / numpy.sum(a == {_expanded('ans')}, axis, True)",
        kind="piecewise",
        note="a tie shares the adjoint equally among the maximal entries, as autograd does",
        shape="reduce",
    ),
    vjp("numpy.transpose(a)", a="numpy.transpose(g)", kind="linear", shape="transpose"),
    vjp("numpy.reshape(a, shape)", a="numpy.reshape(g, numpy.shape(a))", kind="linear", shape="reshape"),
    vjp("operator.getitem(a, index)", a="s2sad.scatter(g, a, index)", kind="linear", shape="getitem"),
    # x[index] = v, a functional update in the IR (s2sad.writes): the entries written take v's adjoint, the
    # entries they replaced get none; both support functions are the generated module's (s2sad.emit.SUPPORT)
    vjp(
        "s2sad.setitem(x, index, v)",
        x="s2sad.setitem_adjoint_x(g, index)",
        v="s2sad.setitem_adjoint_v(g, x, index, v)",
        kind="linear",
        shape="like",
    ),
    vjp("numpy.copy(a)", a="g", kind="linear", shape="like"),
    # lists (s2sad.frontend.writes): the adjoint of a list of n values of one shape is an array of n adjoints
    vjp("s2sad.append(xs, v)", xs="s2sad.but_last(g)", v="g[-1]", kind="linear"),
    vjp("numpy.stack(arrays)", arrays="g", kind="linear"),
    vjp("builtins.sum(xs)", xs="numpy.broadcast_to(g, numpy.shape(xs))", kind="linear"),
    nondiff("builtins.list()"),  # [] (ir.LIST): an empty list, before its appends
    # np.array([a, b, c]) of scalars: one entry per length; element k's adjoint is g[k]
    *(_elements(n) for n in range(1, 17)),
    nondiff("numpy.shape(a)", shape="shape"),
    nondiff("numpy.size(a)", shape="number"),
    nondiff("numpy.ndim(a)", shape="number"),
    nondiff("numpy.sign(x)", shape="elementwise"),
    nondiff("numpy.zeros(shape)", shape="new"),
    nondiff("numpy.ones(shape)", shape="new"),
    nondiff("numpy.zeros_like(a)", shape="like"),
    nondiff("numpy.ones_like(a)", shape="like"),
    nondiff("numpy.arange(stop)", shape="range"),
    nondiff("numpy.eye(n)", shape="eye"),
    nondiff("numpy.argmax(a, axis=None)", shape="reduce"),  # an index: data, like a comparison
    discrete("numpy.round(a)", shape="elementwise"),
    zero("numpy.floor(a)"),
]


# ----------------------------------------------------------------------------------------------------------
# NumPy, part 2 (issue 14): the ufuncs, reductions, shapes; scipy.special; linear algebra; einsum
# ----------------------------------------------------------------------------------------------------------
def _gathered(index: str) -> str:
    """The adjoint of a function that only moves or copies entries of ``a`` (``np.repeat``, ``np.tile``): the
    same function applied to the entries' positions says where each entry of the result comes from."""
    positions = "numpy.reshape(numpy.arange(numpy.size(a)), numpy.shape(a))"
    return f"s2sad.gathered(g, a, {index.format(positions)})"


_EXTREMUM = (
    f"numpy.where(a == {_expanded('ans')}, {_expanded('g')}, 0.0) / numpy.sum(a == {_expanded('ans')}, axis, True)"
)
_EXTREMUM_NOTE = "a tie shares the adjoint equally among the extremal entries, as autograd does"
_REDUCED = "(numpy.size(a) / numpy.size(ans))"  # how many entries each result entry reduces
_CENTRED = "(a - numpy.mean(a, axis, True))"

_NUMPY_UFUNCS = [
    vjp("numpy.sinh(x)", x="g * numpy.cosh(x)", shape="elementwise"),
    vjp("numpy.cosh(x)", x="g * numpy.sinh(x)", shape="elementwise"),
    vjp("numpy.arcsin(x)", x="g / numpy.sqrt(1 - x ** 2)", shape="elementwise"),
    vjp("numpy.arccos(x)", x="-g / numpy.sqrt(1 - x ** 2)", shape="elementwise"),
    vjp("numpy.arctan(x)", x="g / (1 + x ** 2)", shape="elementwise"),
    vjp("numpy.arcsinh(x)", x="g / numpy.sqrt(x ** 2 + 1)", shape="elementwise"),
    vjp("numpy.arccosh(x)", x="g / numpy.sqrt(x ** 2 - 1)", shape="elementwise"),
    vjp("numpy.arctanh(x)", x="g / (1 - x ** 2)", shape="elementwise"),
    vjp("numpy.exp2(x)", x="g * ans * math.log(2)", shape="elementwise"),
    vjp("numpy.expm1(x)", x="g * (ans + 1)", shape="elementwise"),
    vjp("numpy.log2(x)", x="g / (x * math.log(2))", shape="elementwise"),
    vjp("numpy.log10(x)", x="g / (x * math.log(10))", shape="elementwise"),
    vjp("numpy.cbrt(x)", x="g / (3 * ans ** 2)", shape="elementwise"),
    vjp("numpy.reciprocal(x)", x="-g * ans ** 2", shape="elementwise"),
    vjp("numpy.positive(x)", x="g", kind="linear", shape="elementwise"),
    vjp(
        "numpy.arctan2(x1, x2)", x1="g * x2 / (x1 ** 2 + x2 ** 2)", x2="-g * x1 / (x1 ** 2 + x2 ** 2)", broadcasts=True
    ),
    vjp("numpy.hypot(x1, x2)", x1="g * x1 / ans", x2="g * x2 / ans", broadcasts=True),
    vjp("numpy.logaddexp(x1, x2)", x1="g * numpy.exp(x1 - ans)", x2="g * numpy.exp(x2 - ans)", broadcasts=True),
    vjp("numpy.logaddexp2(x1, x2)", x1="g * numpy.exp2(x1 - ans)", x2="g * numpy.exp2(x2 - ans)", broadcasts=True),
    vjp("numpy.fmax(x1, x2)", x1="g * (x1 >= x2)", x2="g * (x1 < x2)", kind="piecewise", broadcasts=True),
    vjp("numpy.fmin(x1, x2)", x1="g * (x1 <= x2)", x2="g * (x1 > x2)", kind="piecewise", broadcasts=True),
    vjp("numpy.add(x1, x2)", x1="g", x2="g", kind="linear", broadcasts=True),
    vjp("numpy.subtract(x1, x2)", x1="g", x2="-g", kind="linear", broadcasts=True),
    vjp("numpy.multiply(x1, x2)", x1="g * x2", x2="g * x1", broadcasts=True),
    vjp("numpy.divide(x1, x2)", x1="g / x2", x2="-g * ans / x2", broadcasts=True),
    vjp("numpy.true_divide(x1, x2)", x1="g / x2", x2="-g * ans / x2", broadcasts=True),
    zero("numpy.ceil(x)"),
    zero("numpy.rint(x)"),
    zero("numpy.trunc(x)"),
    nondiff("numpy.isnan(x)", shape="comparison"),
    nondiff("numpy.isfinite(x)", shape="comparison"),
    nondiff("numpy.isinf(x)", shape="comparison"),
    nondiff("numpy.logical_not(x)", shape="comparison"),
]

_NUMPY_REDUCTIONS = [
    vjp(
        "numpy.min(a, axis=None, *, keepdims=False)", a=_EXTREMUM, kind="piecewise", note=_EXTREMUM_NOTE, shape="reduce"
    ),
    vjp(
        "numpy.amin(a, axis=None, *, keepdims=False)",
        a=_EXTREMUM,
        kind="piecewise",
        note=_EXTREMUM_NOTE,
        shape="reduce",
    ),
    vjp(
        "numpy.amax(a, axis=None, *, keepdims=False)",
        a=_EXTREMUM,
        kind="piecewise",
        note=_EXTREMUM_NOTE,
        shape="reduce",
    ),
    vjp(  # the product of the others: ans / a, where no entry is zero
        "numpy.prod(a, axis=None, *, keepdims=False)",
        shape="reduce",
        a=f"{_expanded('g')} * {_expanded('ans')} / a",
        note="undefined where an entry is 0 (the adjoint divides by it), as autograd",
    ),
    vjp("numpy.cumsum(a, axis=None)", a="s2sad.cumsum_adjoint(g, a, axis)", kind="linear"),
    vjp(
        "numpy.cumprod(a, axis=None)",
        a="s2sad.cumsum_adjoint(g * ans, a, axis) / a",
        note="undefined where an entry is 0 (the adjoint divides by it), as autograd",
    ),
    vjp(
        "numpy.var(a, axis=None, *, ddof=0, keepdims=False)",
        a=f"2 * {_CENTRED} * {_expanded('g')} / ({_REDUCED} - ddof)",
    ),
    vjp(
        "numpy.std(a, axis=None, *, ddof=0, keepdims=False)",
        a=f"{_CENTRED} * {_expanded('g')} / (({_REDUCED} - ddof) * {_expanded('ans')})",
        note="undefined where the deviation is 0",
    ),
    vjp(
        "numpy.linalg.norm(x, *, axis=None, keepdims=False)",
        x=f"x * {_expanded('g / ans')}",
        note="the 2-norm of a vector, the Frobenius norm of a matrix (ord not given); undefined at 0",
    ),
    vjp("numpy.average(a, axis=None, weights=None)", a="s2sad.average_adjoint(g, a, axis, weights)", kind="linear"),
    vjp("numpy.trace(a)", a="s2sad.trace_adjoint(g, a)", kind="linear"),
    vjp(
        "numpy.nansum(a, axis=None, *, keepdims=False)",
        shape="reduce",
        a=f"numpy.where(numpy.isnan(a), 0.0, numpy.broadcast_to({_expanded('g')}, numpy.shape(a)))",
        kind="linear",
    ),
    vjp(
        "numpy.nanmean(a, axis=None, *, keepdims=False)",
        shape="reduce",
        a=f"numpy.where(numpy.isnan(a), 0.0, numpy.broadcast_to({_expanded('g')}, numpy.shape(a)))"
        " / numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, True)",
        kind="linear",
    ),
    nondiff("numpy.argmin(a, axis=None)"),
    nondiff("numpy.argsort(a, axis=-1)"),
]

_NUMPY_SHAPES = [
    vjp("numpy.squeeze(a, axis=None)", a="numpy.reshape(g, numpy.shape(a))", kind="linear"),
    vjp("numpy.expand_dims(a, axis)", a="numpy.reshape(g, numpy.shape(a))", kind="linear"),
    vjp("numpy.ravel(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear"),
    vjp("numpy.atleast_1d(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear"),
    vjp("numpy.atleast_2d(a)", a="numpy.reshape(g, numpy.shape(a))", kind="linear"),
    vjp("numpy.swapaxes(a, axis1, axis2)", a="numpy.swapaxes(g, axis1, axis2)", kind="linear"),
    vjp("numpy.moveaxis(a, source, destination)", a="numpy.moveaxis(g, destination, source)", kind="linear"),
    vjp("numpy.flip(m, axis=None)", m="numpy.flip(g, axis)", kind="linear"),
    vjp("numpy.roll(a, shift, axis=None)", a="numpy.roll(g, numpy.negative(shift), axis)", kind="linear"),
    vjp("numpy.broadcast_to(array, shape)", array="s2sad.unbroadcast(g, array)", kind="linear"),
    vjp("numpy.full(shape, fill_value)", fill_value="s2sad.unbroadcast(g, fill_value)", kind="linear"),
    vjp("numpy.full_like(a, fill_value)", fill_value="s2sad.unbroadcast(g, fill_value)", kind="linear"),
    vjp("numpy.diag(v, k=0)", v="s2sad.diag_adjoint(g, v, k)", kind="linear"),
    vjp(
        "numpy.diagonal(a, offset=0, axis1=0, axis2=1)",
        a=_gathered("numpy.diagonal({}, offset, axis1, axis2)"),
        kind="linear",
    ),
    vjp("numpy.tril(m, k=0)", m="numpy.tril(g, k)", kind="linear"),
    vjp("numpy.triu(m, k=0)", m="numpy.triu(g, k)", kind="linear"),
    vjp("numpy.repeat(a, repeats, axis=None)", a=_gathered("numpy.repeat({}, repeats, axis)"), kind="linear"),
    vjp("numpy.tile(a, reps)", a=_gathered("numpy.tile({}, reps)"), kind="linear"),
]

_SCIPY_SPECIAL = [
    vjp("scipy.special.expit(x)", x="g * ans * (1 - ans)", shape="elementwise"),
    vjp("scipy.special.logit(x)", x="g / (x * (1 - x))", shape="elementwise"),
    vjp(
        "scipy.special.logsumexp(a, axis=None, b=None, keepdims=False)",
        a=f"{_expanded('g')} * (1.0 if b is None else b) * numpy.exp(a - {_expanded('ans')})",
        b=f"{_expanded('g')} * numpy.exp(a - {_expanded('ans')}) * numpy.ones_like(b)",  # b's shape, if larger
        broadcasts=True,
        shape="unknown",  # a reduction over axis, with b broadcast against a
    ),
    vjp("scipy.special.log_softmax(x, axis=None)", x="g - numpy.exp(ans) * numpy.sum(g, axis, True)"),
    vjp("scipy.special.softmax(x, axis=None)", x="ans * (g - numpy.sum(g * ans, axis, True))"),
    vjp("scipy.special.gammaln(x)", x="g * scipy.special.digamma(x)", shape="elementwise"),
    vjp("scipy.special.digamma(x)", x="g * scipy.special.polygamma(1, x)", shape="elementwise"),
    vjp("scipy.special.erf(x)", x="g * 2 / math.sqrt(math.pi) * numpy.exp(-(x ** 2))", shape="elementwise"),
    vjp("scipy.special.erfc(x)", x="-g * 2 / math.sqrt(math.pi) * numpy.exp(-(x ** 2))", shape="elementwise"),
    vjp("scipy.special.xlogy(x, y)", x="g * numpy.log(y)", y="g * x / y", broadcasts=True),
    vjp(
        "scipy.special.multigammaln(a, d)",
        a="g * numpy.sum(scipy.special.digamma(numpy.expand_dims(a, -1) - numpy.arange(d) / 2), -1)",
    ),
]

_LINALG = [
    vjp(  # b's adjoint is one solve with the transpose; a's is minus its outer product with the solution; each
        # summed over the stack axes it was broadcast along
        "numpy.linalg.solve(a, b)",
        a="s2sad.unbroadcast(s2sad.solve_adjoint_a(s2sad.solve_transposed(a, g), ans, a), a)",
        b="s2sad.unbroadcast(s2sad.solve_transposed(a, g), b)",
        note="never an explicit inverse; with both a and b differentiated the transposed solve is done twice",
    ),
    vjp("numpy.linalg.inv(a)", a="-numpy.swapaxes(ans, -1, -2) @ g @ numpy.swapaxes(ans, -1, -2)"),
    vjp(
        "numpy.linalg.det(a)",
        a="s2sad.det_adjoint(g * ans, a)",
        note="through the inverse: undefined where the matrix is singular",
    ),
    vjp(
        "numpy.linalg.cholesky(a)",
        a="s2sad.cholesky_adjoint(g, ans)",
        note="NumPy reads the lower triangle only: the adjoint is there (the upper triangle gets zero)",
    ),
    *(
        vjp(
            f"numpy.einsum(subscripts, {', '.join(ops)})",
            **{op: f"s2sad.einsum_adjoint({k}, g, subscripts, {', '.join(ops)})" for k, op in enumerate(ops)},
        )
        for ops in (("a",), ("a", "b"), ("a", "b", "c"))
    ),
]


def _table(*groups: list[Rule]) -> dict[tuple[str, int], Rule]:
    table: dict[tuple[str, int], Rule] = {}
    for rule in (r for group in groups for r in group):
        key = (rule.fn, len(rule.params))
        if key in table:
            raise TemplateError(f"duplicate rule for {rule.fn} with {len(rule.params)} arguments")
        table[key] = rule
    for rule in table.values():  # every function a template calls must itself be known, so it can be emitted
        for template in rule.adjoints.values():
            for fn in _called(template):
                if fn.startswith(("math.", "numpy.")) and not any(k[0] == fn for k in table) and fn not in _PLAIN:
                    raise TemplateError(f"rule {rule.fn} calls {fn}, which the table does not know")
    return table


def _called(e: Expr) -> set[str]:
    if isinstance(e, Call):
        return {e.fn}.union(*(_called(a) for a in e.args)) if e.fn != IFEXP else set().union(*map(_called, e.args))
    if isinstance(e, BoolOp):
        return set().union(*(_called(v) for v in e.values))
    return set()


#: NumPy functions the templates call that are not primitives of differentiated programs themselves.
_PLAIN = {"numpy.expand_dims", "numpy.broadcast_to", "numpy.logical_and", "numpy.ravel"}

#: The table by family, as the README lists it (:mod:`s2sad.rule_list` writes that list from here).
FAMILIES: dict[str, list[Rule]] = {
    "operators": _OPERATORS,
    "builtins": _BUILTINS,
    "math": _MATH,
    "numpy": _NUMPY,
    "numpy ufuncs": _NUMPY_UFUNCS,
    "numpy reductions": _NUMPY_REDUCTIONS,
    "numpy shapes": _NUMPY_SHAPES,
    "scipy.special": _SCIPY_SPECIAL,
    "linear algebra": _LINALG,
}

#: ``(qualified name, number of arguments) -> Rule``
RULES: dict[tuple[str, int], Rule] = _table(*FAMILIES.values(), _TUPLES)

#: Module-level constants a program may read (they carry no derivative).
CONSTANTS = frozenset(
    {"math.pi", "math.e", "math.tau", "math.inf", "math.nan", "numpy.pi", "numpy.e", "numpy.inf", "numpy.newaxis"}
    | {"numpy.nan"}
)


def _short(fn: str) -> str:
    return fn.split(".")[-1]


def family_summary(library: str) -> str:
    """The families of rules for ``library`` (``numpy``, ``scipy``, ``math``), a few names each, for a
    message: ``NumPy (sin cos exp ... 73 functions); scipy.special (expit gammaln ...)``."""
    parts: list[str] = []
    for family, rules in FAMILIES.items():
        names = list(dict.fromkeys(_short(r.fn) for r in rules if r.fn.split(".")[0] == library))
        if names:
            shown = " ".join(names[:8]) + (f" ... {len(names)} in all" if len(names) > 8 else "")
            parts.append(f"{family} ({shown})")
    return "; ".join(parts)


def library_message(call: Call | LibraryCall) -> tuple[str, str]:
    """The message and help of a library call that receives a differentiated value without a rule for it:
    the rule exists but not for these arguments (which keywords it knows), or there is no rule at all."""
    fn = call.fn
    keywords = [k for k, _ in call.keywords] if isinstance(call, LibraryCall) else []
    library = fn.split(".")[0]
    where = "give it a rule in [tool.s2sad.rules] (see the README), or pass it values that do not depend on the "
    where += "differentiated parameters (see --wrt)"
    rules = [r for (name, _), r in sorted(RULES.items()) if name == fn]
    if rules:
        known = list(dict.fromkeys(p for r in rules for p in r.params))
        unknown = [k for k in keywords if k not in known]
        forms = " or ".join(f"{fn}({', '.join(r.params)})" for r in rules)
        if unknown:
            return (
                f"the derivative rule for '{fn}' does not know the keyword '{unknown[0]}' (it knows "
                f"{', '.join(repr(k) for k in known)})",
                f"the rule covers {forms}; leave '{unknown[0]}' out on differentiated values, or {where}",
            )
        return (f"the derivative rule for '{fn}' does not cover these arguments: it covers {forms}", where)
    libraries = ("numpy", "scipy") if library in ("numpy", "scipy") else (library,)
    families = "; ".join(x for x in map(family_summary, libraries) if x)
    listing = f"s2sad has rules for {families}" if families else f"s2sad has no rules for {library}"
    return (f"no derivative rule for '{fn}', and its argument depends on a differentiated value", f"{listing}; {where}")


# ----------------------------------------------------------------------------------------------------------
# The user's rules: from ``@s2sad.rule`` on a helper, from ``[tool.s2sad.rules]``, and the helpers themselves
# ----------------------------------------------------------------------------------------------------------
#: Rules in force for the generation under way, on top of :data:`RULES` (see :func:`extended`).
_EXTRA: contextvars.ContextVar[Mapping[tuple[str, int], Rule]] = contextvars.ContextVar("s2sad_rules", default={})


@contextlib.contextmanager
def extended(extra: Mapping[tuple[str, int], Rule]) -> Iterator[None]:
    """Make ``extra`` rules visible to :func:`lookup` inside the block (one generation: the user's rules and
    helpers apply to it only). A dict passed in stays live: rules added to it later are visible too."""
    token = _EXTRA.set(ChainMap(dict(extra) if not isinstance(extra, dict) else extra, dict(_EXTRA.get())))
    try:
        yield
    finally:
        _EXTRA.reset(token)


def built_in(fn: str) -> bool:
    """Whether the rule table has a rule for ``fn`` (a project's rules may not replace one)."""
    return any(name == fn for name, _ in RULES)


def lookup(fn: str, nargs: int) -> Rule | None:
    return _EXTRA.get().get((fn, nargs)) or RULES.get((fn, nargs))


def known_arities(fn: str) -> list[int]:
    return sorted({n for (name, n) in (*RULES, *_EXTRA.get()) if name == fn})

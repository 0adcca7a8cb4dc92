"""How one derivative rule is written and checked: the :class:`Rule` type and the constructors the rule
tables use (``vjp``, ``nondiff``, ``zero``, ``discrete``), each template parsed and checked when its line runs.

A rule gives, for every differentiable argument, the adjoint contribution as a Python expression in ``g`` (the
adjoint of the result), ``ans`` (the result itself, so a partial that equals a forward value reuses it) and the
primitive's own argument names. Operators are primitives too (``operator.mul``). Functions are written by
qualified name (``math.cos``); the emitter spells them the way the generated module imports them.

Each rule also says how its result's kind and shape follow from its arguments' (``shape=``, a rule of
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .ir import GETITEM, IFEXP, BoolOp, Call, Const, Expr, Global, Var

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
    #: the first ``elements`` parameters are the elements of one list argument (``np.concatenate([a, b], 0)``
    #: is ``numpy.concatenate(x0, x1, axis)``): only a list or tuple display, or a tuple variable, is lowered
    #: to such a rule (never a list variable whose length is unknown), and the emitter writes the list back
    elements: int = 0

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


def _expanded(v: str) -> str:
    """``v`` (the reduced result or its adjoint) with the reduced axis put back, to broadcast against ``a``."""
    return f"(numpy.expand_dims({v}, axis) if axis is not None and not keepdims else {v})"

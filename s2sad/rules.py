"""The derivative rule table: one entry per primitive, keyed by qualified name.

Each entry gives, for every differentiable argument, the adjoint contribution as a Python expression in
``g`` (the adjoint of the result), ``ans`` (the result itself, so a partial that equals a forward value reuses
it) and the primitive's own argument names. Operators are primitives too (``operator.mul``). Functions are
written by qualified name (``math.cos``); the emitter spells them the way the generated module imports them.

Every template is parsed and checked when this module is imported; ``tests/test_rules.py`` checks every entry
against central finite differences by iterating :data:`RULES`, so adding a primitive is one line here.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import importlib
import inspect
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .ir import GETITEM, IFEXP, BoolOp, Call, Const, Expr, Global, Var, substitute

__all__ = ["Rule", "RULES", "lookup", "parse_template", "OPERATOR_SYMBOLS", "TemplateError", "extended", "user_rule"]

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


def vjp(sig: str, *, kind: Kind = "smooth", note: str = "", broadcasts: bool = False, **adjoints: str) -> Rule:
    """``vjp("math.sin(x)", x="g * math.cos(x)")``: one rule, one template per differentiable argument."""
    fn, params, defaults = _signature(sig)
    unknown = set(adjoints) - set(params)
    if unknown:
        raise TemplateError(f"rule {sig}: adjoint for unknown argument(s) {sorted(unknown)}")
    allowed = frozenset(params) | {"g", "ans"}
    templates = {p: parse_template(t, allowed) for p, t in adjoints.items()}
    return Rule(fn, params, templates, kind, note, defaults, broadcasts, positional=_positional(sig))


def nondiff(sig: str) -> Rule:
    """A primitive whose result carries no derivative (a comparison: piecewise constant; a shape)."""
    fn, params, defaults = _signature(sig)
    return Rule(fn, params, {}, "nondiff", defaults=defaults)


def discrete(sig: str) -> Rule:
    """A conversion to an integer: applied to a differentiated value it would silently drop the gradient."""
    fn, params, defaults = _signature(sig)
    return Rule(fn, params, {}, "discrete", defaults=defaults)


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
    vjp("operator.neg(a)", a="-g", kind="linear"),
    vjp("operator.pos(a)", a="g", kind="linear"),
    vjp("operator.mod(a, b)", a="g", b="-g * (a // b)", kind="piecewise", note="jumps where a / b is an integer"),
    discrete("operator.floordiv(a, b)"),
    nondiff("operator.lt(a, b)"),
    nondiff("operator.le(a, b)"),
    nondiff("operator.gt(a, b)"),
    nondiff("operator.ge(a, b)"),
    nondiff("operator.eq(a, b)"),
    nondiff("operator.ne(a, b)"),
    nondiff("operator.not_(a)"),
]

# ----------------------------------------------------------------------------------------------------------
# Builtins
# ----------------------------------------------------------------------------------------------------------
_BUILTINS = [
    vjp("builtins.abs(x)", x=f"g * {_SIGN}", kind="piecewise", note=_ABS_NOTE),
    vjp("builtins.pow(a, b)", a="g * b * a ** (b - 1)", b="g * ans * math.log(a)"),
    vjp("builtins.float(x)", x="g", kind="linear"),
    vjp("builtins.max(a, b)", a="g * (a >= b)", b="g * (a < b)", kind="piecewise", note="a tie goes to the first"),
    vjp("builtins.min(a, b)", a="g * (a <= b)", b="g * (a > b)", kind="piecewise", note="a tie goes to the first"),
    discrete("builtins.int(x)"),
    discrete("builtins.round(x)"),
    discrete("builtins.round(x, ndigits)"),
    nondiff("builtins.len(x)"),
    nondiff("builtins.bool(x)"),
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
    return Rule(fn, params, {p: parse_template(t, allowed) for p, t in templates.items()}, "linear")


def _select(n: int) -> Rule:
    """``t[i]`` for a tuple of ``n`` elements and an index known only at run time: ``s2sad.select(i, *t)``
    (the generated module's ``select``, which is ``t[i]``); the selected element gets the adjoint, the others
    zero with their own shape (``0.0 * x``)."""
    templates = {f"x{k}": f"g if index == {k} or index == {k - n} else 0.0 * x{k}" for k in range(n)}
    fn, params, defaults = _signature(f"s2sad.select(index, {', '.join(templates)})")
    allowed = frozenset(params) | {"g", "ans"}
    adjoints = {p: parse_template(t, allowed) for p, t in templates.items()}
    return Rule(fn, params, adjoints, "piecewise", "the element the index selects gets the adjoint", defaults)


_TUPLES = [_select(n) for n in range(1, 17)]

_NUMPY = [
    vjp("operator.matmul(a, b)", a=_MATMUL_A, b=_MATMUL_B),
    vjp("numpy.matmul(a, b)", a=_MATMUL_A, b=_MATMUL_B),
    vjp("numpy.dot(a, b)", a="s2sad.dot_adjoint_a(g, a, b)", b="s2sad.dot_adjoint_b(g, a, b)"),
    # np.outer flattens its operands
    vjp(
        "numpy.outer(a, b)",
        a="numpy.reshape(g @ numpy.ravel(b), numpy.shape(a))",
        b="numpy.reshape(numpy.ravel(a) @ g, numpy.shape(b))",
    ),
    vjp("numpy.exp(x)", x="g * ans"),
    vjp("numpy.log(x)", x="g / x"),
    vjp("numpy.log1p(x)", x="g / (1 + x)"),
    vjp("numpy.sqrt(x)", x="0.5 * g / ans"),
    vjp("numpy.sin(x)", x="g * numpy.cos(x)"),
    vjp("numpy.cos(x)", x="-g * numpy.sin(x)"),
    vjp("numpy.tan(x)", x="g * (1 + ans ** 2)"),
    vjp("numpy.tanh(x)", x="g * (1 - ans ** 2)"),
    vjp("numpy.abs(x)", x="g * numpy.sign(x)", kind="piecewise", note=_ABS_NOTE),
    vjp("numpy.absolute(x)", x="g * numpy.sign(x)", kind="piecewise", note=_ABS_NOTE),
    vjp("numpy.square(x)", x="2 * g * x"),
    vjp("numpy.negative(x)", x="-g", kind="linear"),
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
    ),
    vjp(
        "numpy.sum(a, axis=None, *, keepdims=False)",
        a=f"numpy.broadcast_to({_expanded('g')}, numpy.shape(a))",
        kind="linear",
    ),
    vjp(
        "numpy.mean(a, axis=None, *, keepdims=False)",
        a=f"numpy.broadcast_to({_expanded('g')}, numpy.shape(a)) * (numpy.size(ans) / numpy.size(a))",
        kind="linear",
    ),
    vjp(
        "numpy.max(a, axis=None, *, keepdims=False)",
        a=f"numpy.where(a == {_expanded('ans')}, {_expanded('g')}, 0.0) / numpy.sum(a == {_expanded('ans')}, axis, True)",
        kind="piecewise",
        note="a tie shares the adjoint equally among the maximal entries, as autograd does",
    ),
    vjp("numpy.transpose(a)", a="numpy.transpose(g)", kind="linear"),
    vjp("numpy.reshape(a, shape)", a="numpy.reshape(g, numpy.shape(a))", kind="linear"),
    vjp("operator.getitem(a, index)", a="s2sad.scatter(g, a, index)", kind="linear"),
    # x[index] = v, a functional update in the IR (s2sad.writes): the entries written take v's adjoint, the
    # entries they replaced get none; both support functions are the generated module's (s2sad.emit.SUPPORT)
    vjp(
        "s2sad.setitem(x, index, v)",
        x="s2sad.setitem_adjoint_x(g, index)",
        v="s2sad.setitem_adjoint_v(g, x, index, v)",
        kind="linear",
    ),
    vjp("numpy.copy(a)", a="g", kind="linear"),
    # lists (s2sad.frontend.writes): the adjoint of a list of n values of one shape is an array of n adjoints
    vjp("s2sad.append(xs, v)", xs="s2sad.but_last(g)", v="g[-1]", kind="linear"),
    vjp("numpy.stack(arrays)", arrays="g", kind="linear"),
    vjp("builtins.sum(xs)", xs="numpy.broadcast_to(g, numpy.shape(xs))", kind="linear"),
    nondiff("builtins.list()"),  # [] (ir.LIST): an empty list, before its appends
    # np.array([a, b, c]) of scalars: one entry per length; element k's adjoint is g[k]
    *(_elements(n) for n in range(1, 17)),
    nondiff("numpy.shape(a)"),
    nondiff("numpy.size(a)"),
    nondiff("numpy.ndim(a)"),
    nondiff("numpy.sign(x)"),
    nondiff("numpy.zeros(shape)"),
    nondiff("numpy.ones(shape)"),
    nondiff("numpy.zeros_like(a)"),
    nondiff("numpy.ones_like(a)"),
    nondiff("numpy.arange(stop)"),
    nondiff("numpy.eye(n)"),
    discrete("numpy.argmax(a, axis=None)"),
    discrete("numpy.round(a)"),
    discrete("numpy.floor(a)"),
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

#: ``(qualified name, number of arguments) -> Rule``
RULES: dict[tuple[str, int], Rule] = _table(_OPERATORS, _BUILTINS, _MATH, _NUMPY, _TUPLES)

#: Module-level constants a program may read (they carry no derivative).
CONSTANTS = frozenset(
    {"math.pi", "math.e", "math.tau", "math.inf", "math.nan", "numpy.pi", "numpy.e", "numpy.inf", "numpy.newaxis"}
)


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


#: Template variables: a parameter of a user's rule may not take one of these names (it would be ambiguous).
TEMPLATE_VARIABLES = frozenset({"g", "ans", "out"})

#: Pure numerics a user's template may call besides the functions that have rules (by qualified name).
#: Nothing here reads or writes files, imports, evaluates text or reaches attributes of values.
_PURE = {
    "numpy": """exp exp2 expm1 log log2 log10 log1p sqrt cbrt square sin cos tan arcsin arccos arctan arctan2
        sinh cosh tanh arcsinh arccosh arctanh abs absolute fabs sign heaviside power float_power maximum minimum
        fmax fmin where clip sum prod mean max min cumsum cumprod transpose reshape shape size ndim zeros ones
        zeros_like ones_like full_like eye diag outer dot matmul multiply add subtract divide true_divide negative
        reciprocal logical_and logical_or logical_not isfinite isnan isinf expand_dims broadcast_to squeeze
        atleast_1d hypot sinc tensordot kron trace""",
    "scipy.special": """expit logit log_expit erf erfc erfinv erfcinv gamma gammaln loggamma digamma polygamma
        beta betaln xlogy xlog1py logsumexp softmax log_softmax i0 i1 i0e i1e j0 j1 y0 y1 sinc ndtr log_ndtr
        ndtri expm1 log1p cosm1 entr rel_entr kl_div huber pseudo_huber""",
    "operator": "add sub mul truediv floordiv mod pow neg pos abs matmul lt le gt ge eq ne not_",
}
_PURE_FUNCTIONS = frozenset(f"{module}.{name}" for module, names in _PURE.items() for name in names.split())


def _math_functions() -> frozenset[str]:
    import math

    return frozenset(f"math.{n}" for n in dir(math) if not n.startswith("_") and callable(getattr(math, n)))


_MATH_FUNCTIONS = _math_functions()


def _allowed_function(fn: str) -> bool:
    """A function a user's template may call: one with a rule, or a pure numeric of the rule namespace."""
    if any(part.startswith("_") for part in fn.split(".")):
        return False
    if fn.startswith("builtins."):
        return fn.split(".", 1)[1] in _BUILTIN_FUNCTIONS
    if fn in _MATH_FUNCTIONS or fn in _PURE_FUNCTIONS or fn in _PLAIN:
        return True
    return fn.startswith(("numpy.", "scipy.special.", "operator.")) and any(name == fn for name, _ in RULES)


#: The modules a user's template may call into: a qualified name is exactly ``module.function``.
_CALLABLE_MODULES = ("math", "numpy", "numpy.linalg", "scipy.special", "operator", "builtins")


def _function(fn: str) -> Any:
    """The object ``fn`` names, or None when it cannot be looked up (SciPy is not installed). Imports only the
    modules of :data:`_CALLABLE_MODULES` (the standard library's, and s2sad's optional dependencies)."""
    module, _, attr = fn.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr, _MISSING)
    except ImportError:
        return None


_MISSING = object()


def _arity_problem(fn: str, n: int) -> str | None:
    """Why ``fn`` cannot be called with ``n`` positional arguments, or None (as far as can be known)."""
    if fn.rpartition(".")[0] not in _CALLABLE_MODULES:
        return f"'{fn}' is not a function of {', '.join(_CALLABLE_MODULES)}"
    obj = _function(fn)
    if obj is _MISSING or (obj is not None and not callable(obj)):
        return f"'{fn}' is not a function"
    if obj is None:
        return None
    nin = getattr(obj, "nin", None)  # a NumPy ufunc
    if isinstance(nin, int) and not isinstance(obj, type):
        return None if n == nin else f"'{fn}' takes {nin} argument{'s' * (nin != 1)}, not {n}"
    try:
        inspect.signature(obj).bind(*range(n))
        return None
    except TypeError:
        return f"'{fn}' does not take {n} argument{'s' * (n != 1)}"
    except ValueError:  # no signature (builtins.max, math.log): the rule table's arities, when it knows some
        arities = sorted({k for name, k in RULES if name == fn})
        if arities and n not in arities:
            return f"'{fn}' takes {' or '.join(map(str, arities))} arguments here, not {n}"
        return None


def _check_allowed(e: Expr, text: str, params: frozenset[str] = frozenset()) -> None:
    """Every call of a user's template is to an allow-listed function with an argument count it accepts,
    every index is a literal integer into a parameter, and every global an allow-listed constant."""
    if isinstance(e, Call):
        if e.fn == GETITEM:
            if len(e.args) != 2 or not isinstance(e.args[1], Const) or not isinstance(e.args[1].value, int):
                raise TemplateError(f"template {_brief(text)}: only a literal integer index is allowed")
            if not (isinstance(e.args[0], Var) and e.args[0].name in params):
                raise TemplateError(f"template {_brief(text)}: only a parameter of the rule may be indexed")
        elif e.fn == IFEXP:
            if len(e.args) != 3:
                raise TemplateError(f"template {_brief(text)}: write a conditional as 'a if c else b'")
        elif not _allowed_function(e.fn):
            raise TemplateError(
                f"template {_brief(text)} calls '{e.fn}', which is not allowed in a rule: use numbers, arithmetic and "
                "functions of math, numpy, scipy.special or operator"
            )
        else:
            problem = _arity_problem(e.fn, len(e.args))
            if problem is not None:
                raise TemplateError(f"template {_brief(text)}: {problem}")
        for a in e.args:
            _check_allowed(a, text, params)
    elif isinstance(e, BoolOp):
        for v in e.values:
            _check_allowed(v, text, params)
    elif isinstance(e, Global):
        if e.qualname not in CONSTANTS:
            raise TemplateError(f"template {_brief(text)} reads '{e.qualname}', which is not a known constant")
    elif isinstance(e, Const):
        if not isinstance(e.value, (int, float)) or isinstance(e.value, bool):
            raise TemplateError(f"template {_brief(text)}: only numbers are allowed as literals")


def user_rule(fn: str, params: tuple[str, ...], templates: Mapping[str, str]) -> Rule:
    """A rule the user wrote, in the table's own format; ``out`` may stand for ``ans`` (the result).

    A template is a restricted expression: the rule's parameters, ``g``, ``ans``/``out``, numeric literals,
    arithmetic, comparisons, conditional expressions, literal integer indexing, and calls to functions of the
    rule namespace that have rules or are pure numerics (math, numpy, scipy.special, operator; ``abs``,
    ``float``, ``min``, ``max``, ``pow``). No other builtins, no attribute access on values, no dunder names,
    no strings, lambdas or comprehensions: a rule from an untrusted ``pyproject.toml`` cannot run code.

    Raises :class:`TemplateError` (with ``argument`` set to the template's argument, when there is one)
    when a template does not parse, names an unknown argument or leaves the allow-list, and when a
    parameter has the name of a template variable."""
    clash = [p for p in params if p in TEMPLATE_VARIABLES]
    if clash:
        raise _located(
            TemplateError(
                f"the parameter '{clash[0]}' of '{fn}' has the name of a template variable "
                "(g: the incoming adjoint; ans, out: the result); rename the parameter"
            ),
            clash[0] if clash[0] in templates else None,
        )
    if len(set(params)) != len(params):
        raise TemplateError(f"'{fn}' lists an argument twice")
    unknown = [p for p in templates if p not in params]
    if unknown:
        raise _located(
            TemplateError(f"the rule names '{unknown[0]}', which is not an argument of '{fn}' ({', '.join(params)})"),
            unknown[0],
        )
    allowed = frozenset(params) | TEMPLATE_VARIABLES
    adjoints: dict[str, Expr] = {}
    for p, t in templates.items():
        try:
            if len(t) > 2000:
                raise TemplateError(f"the template for '{p}' is longer than 2000 characters")
            parsed = parse_template(t, allowed)
            if any(isinstance(n, ast.Name) and n.id == "s2sad" for n in ast.walk(ast.parse(t, mode="eval"))):
                raise TemplateError(f"template {_brief(t)}: s2sad's own helpers cannot be called in a rule")
            _check_allowed(parsed, t, frozenset(params))
        except TemplateError as err:
            raise _located(err, p) from None
        except (RecursionError, MemoryError):
            raise _located(TemplateError(f"the template for '{p}' is nested too deeply"), p) from None
        adjoints[p] = substitute(parsed, {"out": Var("ans")})
    return Rule(fn, params, adjoints, "smooth", "the user's rule")


def _located(err: TemplateError, argument: str | None) -> TemplateError:
    err.argument = argument  # type: ignore[attr-defined]
    return err


def built_in(fn: str) -> bool:
    """Whether the rule table has a rule for ``fn`` (a project's rules may not replace one)."""
    return any(name == fn for name, _ in RULES)


def lookup(fn: str, nargs: int) -> Rule | None:
    return _EXTRA.get().get((fn, nargs)) or RULES.get((fn, nargs))


def known_arities(fn: str) -> list[int]:
    return sorted({n for (name, n) in (*RULES, *_EXTRA.get()) if name == fn})

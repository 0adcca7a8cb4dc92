"""Derivative rules of Python's operators, builtins and the ``math`` module (one line each; see
:mod:`s2sad.rule_templates` for how a line reads and :mod:`s2sad.rules` for the merged table)."""

from __future__ import annotations

from .rule_templates import _ABS_NOTE, _SIGN, discrete, nondiff, vjp

# ----------------------------------------------------------------------------------------------------------
# Operators
# ----------------------------------------------------------------------------------------------------------
OPERATORS = [
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
BUILTINS = [
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
MATH = [
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

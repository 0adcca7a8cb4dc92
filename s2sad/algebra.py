"""Algebra on IR expressions: the simplifications that keep generated adjoint code free of ``* 1``, ``+ 0``,
``** 1`` and double negation, combine like terms (``2 * g * x``), and decide conditions on constants
(``axis is not None`` once ``axis`` is known). Shared by the reverse stage and the Lagrangian view.
"""

from __future__ import annotations

import math

from . import ir

__all__ = ["simplify"]


def _is(e: ir.Expr, value: float) -> bool:
    return (
        type(e) is ir.Const
        and type(e.value) is not bool  # type: ignore[union-attr]
        and isinstance(e.value, (int, float))  # type: ignore[union-attr]
        and e.value == value  # type: ignore[union-attr]
    )


def _power_of_two(e: ir.Expr) -> bool:
    if not (isinstance(e, ir.Const) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool)):
        return False
    return e.value != 0 and math.isfinite(e.value) and math.frexp(abs(e.value))[0] == 0.5


def _fold(fn: str, a: ir.Const, b: ir.Const) -> ir.Expr | None:
    """Fold constant arithmetic when the result prints as a short, exact literal."""
    x, y = a.value, b.value
    if not (isinstance(x, (int, float)) and isinstance(y, (int, float))):
        return None
    try:
        value = {
            "operator.add": lambda: x + y,
            "operator.sub": lambda: x - y,
            "operator.mul": lambda: x * y,
        }[fn]()
    except KeyError:
        return None
    if isinstance(value, float) and (len(repr(value)) > 8 or value != float(repr(value))):
        return None
    return ir.Const(value)


def _known(e: ir.Expr) -> bool:
    return isinstance(e, ir.Const) and (e.value is None or isinstance(e.value, (bool, int, float)))


def _never_none(e: ir.Expr) -> bool:
    """A constant that is not None, or a tuple display; ``None`` itself counts (it is the other operand)."""
    return isinstance(e, ir.Const) or (isinstance(e, ir.Call) and e.fn == ir.TUPLE)


_COMPARISONS = {"operator.lt", "operator.le", "operator.gt", "operator.ge", "operator.eq", "operator.ne"}
#: NumPy's functions of booleans and tests, whose results are booleans too
_BOOLEANS = _COMPARISONS | {
    "numpy.logical_and",
    "numpy.logical_or",
    "numpy.logical_not",
    "numpy.isnan",
    "numpy.isinf",
    "numpy.isfinite",
}


def _boolean(e: ir.Expr) -> bool:
    """A boolean (NumPy's are not numbers: 1 * b and -1 * b must stay products, NumPy refuses -b)."""
    return isinstance(e, ir.Call) and e.fn in _BOOLEANS


def _number(e: ir.Expr) -> bool:
    return isinstance(e, ir.Const) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool)


def _negated(e: ir.Expr) -> ir.Expr | None:
    """``a`` for ``-a``, ``a * b`` for ``-a * b`` or ``-2 * b``: exactly ``-e``; else None."""
    if isinstance(e, ir.Call) and e.fn == "operator.neg":
        return e.args[0]
    if isinstance(e, ir.Call) and e.fn == "operator.mul" and not any(map(_boolean, e.args)):
        first = e.args[0]
        inner = _negated(first)
        if inner is None and _number(first) and first.value < 0:  # type: ignore[union-attr,operator]
            inner = ir.Const(-first.value)  # type: ignore[union-attr,operator]
        if inner is not None:
            return ir.Call(e.fn, (inner, *e.args[1:]))
    return None


#: the functions :func:`simplify` rewrites a call of (constants are folded by ``_fold`` for three of them)
_SIMPLIFIED = frozenset(
    {
        ir.IFEXP,
        "operator.is_",
        "operator.is_not",
        "operator.not_",
        "operator.neg",
        "operator.mul",
        "operator.truediv",
        "operator.add",
        "operator.sub",
        "operator.pow",
    }
)


def simplify(e: ir.Expr) -> ir.Expr:
    """Algebra that keeps adjoint code free of ``* 1``, ``+ 0``, ``** 1`` and double negation, and decides
    conditions on constants (``axis is not None`` once ``axis`` is known)."""
    if isinstance(e, ir.BoolOp):
        values = [simplify(v) for v in e.values]
        decisive = e.op == "or"  # the value that decides an 'or' (True) or an 'and' (False)
        if any(_known(v) and bool(v.value) == decisive for v in values if isinstance(v, ir.Const)):
            return ir.Const(decisive)
        rest = [v for v in values if not _known(v)]
        if not rest:
            return ir.Const(not decisive)
        return rest[0] if len(rest) == 1 else ir.BoolOp(e.op, tuple(rest))
    if type(e) is not ir.Call:
        return e
    # (an atom simplifies to itself: only calls and 'and'/'or' are visited)
    args = tuple([simplify(a) if type(a) is ir.Call or type(a) is ir.BoolOp else a for a in e.args])
    fn = e.fn
    if fn not in _SIMPLIFIED:  # nothing below applies: the call of the simplified arguments
        return e if args == e.args else ir.Call(fn, args)
    if fn == ir.IFEXP and isinstance(args[0], ir.Const) and _known(args[0]):
        return args[1] if args[0].value else args[2]
    if fn in ("operator.is_", "operator.is_not") and all(_known(a) for a in args):
        same = args[0].value is args[1].value  # type: ignore[union-attr]
        return ir.Const(same if fn == "operator.is_" else not same)
    if fn in ("operator.is_", "operator.is_not") and ir.Const(None) in args and all(map(_never_none, args)):
        return ir.Const(fn == "operator.is_not")  # (0, 1) is not None: a tuple display is never None
    if fn == "operator.not_" and _known(args[0]):
        return ir.Const(not args[0].value)  # type: ignore[union-attr]
    if len(args) == 2 and isinstance(args[0], ir.Const) and isinstance(args[1], ir.Const):
        folded = _fold(fn, args[0], args[1])
        if folded is not None:
            return simplify(folded) if isinstance(folded, ir.Call) else folded
    if fn == "operator.neg":
        (a,) = args
        if isinstance(a, ir.Const) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool):
            return ir.Const(-a.value)
        if isinstance(a, ir.Call) and a.fn == "operator.neg":
            return a.args[0]
        if isinstance(a, ir.Call) and a.fn == "operator.mul" and _number(a.args[0]) and not _boolean(a.args[1]):
            return ir.Call("operator.mul", (ir.Const(-a.args[0].value), a.args[1]))  # type: ignore[union-attr,operator]
    elif fn == "operator.mul":
        a, b = args
        if _power_of_two(a) and isinstance(b, ir.Call) and b.fn == "operator.truediv":
            numerator = b.args[0]  # 2 * (1.0 / n) == 2.0 / n exactly: scaling by 2 commutes with rounding
            if isinstance(numerator, ir.Const) and isinstance(a, ir.Const):
                folded = _fold("operator.mul", a, numerator)
                if folded is not None:
                    return ir.Call("operator.truediv", (folded, b.args[1]))
        for one, other in ((a, b), (b, a)):
            if _is(one, 1) and not _boolean(other):  # 1.0 * (x > 0) turns booleans into numbers: keep it
                return other
            if _is(one, -1) and not _boolean(other):
                return simplify(ir.Call("operator.neg", (other,)))
    elif fn == "operator.truediv" and _is(args[1], 1):
        return args[0]
    elif fn == "operator.add":
        a, b = args
        if _is(a, 0):
            return b
        if _is(b, 0):
            return a
        if _negated(b) is not None:  # a + -b * c is a - b * c: negation commutes with rounding
            return ir.Call("operator.sub", (a, _negated(b)))  # type: ignore[arg-type]
        if _negated(a) is not None and not _boolean(b):
            return ir.Call("operator.sub", (b, _negated(a)))  # type: ignore[arg-type]
        if a == b and not _boolean(a):  # like terms (g * x + g * x: x * x's adjoint); doubling is exact
            if isinstance(a, ir.Call) and a.fn == "operator.mul":
                return ir.Call("operator.mul", (simplify(ir.Call("operator.mul", (ir.Const(2), a.args[0]))), a.args[1]))
            return ir.Call("operator.mul", (ir.Const(2), a))
    elif fn == "operator.sub":
        if _is(args[1], 0):
            return args[0]
    elif fn == "operator.pow":
        if _is(args[1], 1):
            return args[0]
        if _is(args[1], 0):
            return ir.Const(1)
    return e if args == e.args else ir.Call(fn, args)

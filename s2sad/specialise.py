"""Adjoints specialised to what :mod:`s2sad.values` proves of the operands: the code a person writes.

The rule table's templates hold for every operand NumPy accepts: ``a @ b`` goes through the support functions
``matmul_adjoint_a``/``_b``, which decide at run time whether an operand is a vector or a stack of matrices.
Where the ranks are known, the adjoint is the textbook one (``g @ b.T``, ``np.outer(a, g)``); where a
reduction's operand is a scalar, its adjoint is ``g``; the mean of every element shares ``g / size``. Anything not proved keeps the table's template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import ir
from .rules import Rule
from .shapes import Scalar, rank
from .values import Values

__all__ = ["adjoints"]

_MATMUL = {"operator.matmul", "numpy.matmul", "numpy.dot"}
_REDUCE = {"numpy.sum", "numpy.mean"}
_POWERS = {"operator.pow", "builtins.pow"}
G = ir.Var("g")
A = ir.Var("a")
B = ir.Var("b")


def _matmul(f: str, *args: ir.Expr) -> ir.Expr:
    return ir.Call("operator.matmul", args) if f == "@" else ir.Call(f, args)


def _t(e: ir.Expr) -> ir.Expr:
    return ir.Call(ir.TRANSPOSED, (e,))


#: (rank of a, rank of b) -> the adjoints of a and b of ``a @ b`` (``np.dot`` agrees for these ranks)
_PRODUCTS: dict[tuple[int, int], tuple[ir.Expr, ir.Expr]] = {
    (2, 2): (_matmul("@", G, _t(B)), _matmul("@", _t(A), G)),
    (1, 2): (_matmul("@", B, G), ir.Call("numpy.outer", (A, G))),
    (2, 1): (ir.Call("numpy.outer", (G, B)), _matmul("@", G, A)),
    (1, 1): (ir.Call("operator.mul", (G, B)), ir.Call("operator.mul", (G, A))),
}


def _numpy_log(e: ir.Expr) -> ir.Expr:
    if isinstance(e, ir.Call):
        return ir.Call("numpy.log" if e.fn == "math.log" else e.fn, tuple(map(_numpy_log, e.args)))
    return e


def adjoints(rule: Rule, args: Sequence[ir.Expr], values: Values) -> Mapping[str, ir.Expr]:
    """The templates for one call of ``rule`` (parameter -> adjoint contribution, in ``g``, ``ans`` and the
    rule's parameters), specialised where the operands' values allow it."""
    if rule.fn in _POWERS and not values.scalar_code and not isinstance(values.of(args[0]), Scalar):
        # the exponent's adjoint reads log(a): math.log takes numbers only, a may be an array
        return {p: _numpy_log(t) for p, t in rule.adjoints.items()}
    if rule.fn in _MATMUL and len(args) == 2:
        ranks = (rank(values.of(args[0])), rank(values.of(args[1])))
        if ranks in _PRODUCTS:
            a, b = _PRODUCTS[ranks]  # type: ignore[index]
            return {"a": a, "b": b}
    if rule.fn == "numpy.mean" and args[1:] == (ir.Const(None), ir.Const(False)):
        # the mean of every element is a number: each element's share of its adjoint is g / size
        share = ir.Call("operator.truediv", (G, ir.Call("numpy.size", (A,))))
        if not isinstance(values.of(args[0]), Scalar):
            return {"a": ir.Call("numpy.broadcast_to", (share, ir.Call("numpy.shape", (A,))))}
    if rule.fn in _REDUCE and len(args) == 3 and isinstance(values.of(args[0]), Scalar):
        # the sum or mean of a number (over no axis, or its only one) is the number itself
        if args[1] == ir.Const(None) or (args[1] in (ir.Const(0), ir.Const(-1)) and args[2] == ir.Const(True)):
            return {"a": G}
    return rule.adjoints

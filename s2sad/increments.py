"""In-place increments of adjoints in scalar code: ``x_bar += term`` only where it cannot change another name.

Scalar code accumulates an adjoint with ``+=``. On a Python float or a NumPy scalar that rebinds the name; on
a 0-d array (``np.where`` returns one, a caller may pass one) it changes the array in place, and with it every
other name bound to that array: the adjoint it was copied from (``a_bar = s_bar``), the user's argument
(``y_bar = x``), the incoming adjoint of a helper. Arithmetic always makes a new object (NumPy's operations on
0-d arrays return scalars), so only a name that may hold an object it did not make itself is at risk: one
bound to a parameter, or to a plain copy or a selection of one (to what a helper's adjoint returns when given
one). Its increments are written ``x_bar = x_bar + term``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from . import ir
from .algebra import simplify

__all__ = ["without_shared_increments"]

#: Operations whose result is always a new object (a number, or a NumPy scalar for 0-d arrays).
_ARITHMETIC = {
    "operator.add",
    "operator.sub",
    "operator.mul",
    "operator.truediv",
    "operator.floordiv",
    "operator.mod",
    "operator.pow",
    "operator.neg",
    "operator.pos",
    "operator.lt",
    "operator.le",
    "operator.gt",
    "operator.ge",
    "operator.eq",
    "operator.ne",
    "operator.not_",
}


def _fresh(e: ir.Expr) -> bool:
    return isinstance(e, ir.Const) or (
        isinstance(e, ir.Call) and (e.fn in _ARITHMETIC or e.fn.startswith("math.")) and e.fn != ir.IFEXP
    )


def _shared(stmts: Sequence[ir.Stmt], params: Iterable[str]) -> set[str]:
    """The names that may hold a 0-d array another name also holds: the parameters (a caller may pass one),
    and, to a fixed point, every name bound to something other than arithmetic that reads one of them (a
    plain copy, a selection, a helper's adjoint given one, a value restored from a stack)."""
    out = set(params)
    binds = [s for s in ir.walk(tuple(stmts)) if isinstance(s, (ir.Assign, ir.Unpack, ir.Pop))]
    while True:
        before = len(out)
        for s in binds:
            if isinstance(s, ir.Pop):
                out.add(s.name)
            elif isinstance(s, ir.Unpack):
                if out.intersection(ir.expr_names(s.value)):
                    out.update(s.targets)
            elif not _fresh(s.value) and (
                isinstance(s.value, ir.LibraryCall) or out.intersection(ir.expr_names(s.value))
            ):
                out.add(s.target)  # a library call may return a 0-d array (np.asarray(0.5))
        if len(out) == before:
            return out


def without_shared_increments(
    stmts: Sequence[ir.Stmt], params: Iterable[str], before: Sequence[ir.Stmt] = ()
) -> list[ir.Stmt]:
    """``stmts`` with every ``x += term`` on a name that may share its object written ``x = x + term``;
    ``before``: the statements that run first (the forward pass), whose copies count too."""
    shared = _shared([*before, *stmts], params)

    def block(body: Sequence[ir.Stmt]) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for s in body:
            if isinstance(s, ir.Accumulate) and s.target in shared:
                total = simplify(ir.Call("operator.add", (ir.Var(s.target), s.value)))
                s = ir.Assign(s.target, total, s.origin)
            elif isinstance(s, ir.For):
                s = replace(s, body=block(s.body))
            elif isinstance(s, ir.While):
                s = replace(s, setup=block(s.setup), body=block(s.body))
            elif isinstance(s, ir.If):
                s = replace(s, body=block(s.body), orelse=block(s.orelse))
            out.append(s)
        return tuple(out)

    return list(block(stmts))

"""Calls that join a list of arrays: ``np.concatenate([a, b], axis=0)``, ``np.stack((a, b), 1)``,
``np.hstack``, ``np.vstack``, ``np.column_stack``.

The arrays may have different shapes (``np.concatenate``), so the list's adjoint is not one array: each element
is its own argument of the rule (``numpy.concatenate(x0, x1, axis)``, :attr:`s2sad.rules.Rule.elements`), with
its own adjoint, and the emitter writes the list back. Only a list or tuple display, or a tuple variable, whose
length is known here is lowered so; anything else (a list that grows, a parameter) goes the ordinary way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import libcst as cst

from .. import ir
from ..rules import Rule

__all__ = ["JOINED", "joined_call"]

#: The functions whose first argument is a list of arrays, joined.
JOINED = ("numpy.column_stack", "numpy.concatenate", "numpy.hstack", "numpy.stack", "numpy.vstack")


class _Lowerer(Protocol):
    def _qualified(self, node: cst.CSTNode) -> set[str]: ...

    def _method(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None: ...

    def _length(self, node: cst.BaseExpression | None) -> int | None: ...

    def elements(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> list[ir.Expr]: ...

    def _rule_argument(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...


def joined_call(
    lowerer: _Lowerer,
    lookup: Callable[[str, int], Rule | None],
    node: cst.Call,
    out: list[ir.Stmt],
    origin: ir.Origin,
) -> ir.Expr | None:
    """``np.concatenate([a, b], axis)`` as ``numpy.concatenate(a, b, axis)``; None when ``node`` is not such
    a call, or its arguments are not ones the rule takes (the ordinary lowering then reports what is wrong)."""
    if lowerer._method(node.func) is not None or not node.args or any(a.star for a in node.args):
        return None
    first, rest = node.args[0], node.args[1:]
    if first.keyword is not None:
        return None
    fns = sorted(lowerer._qualified(node.func) & set(JOINED))
    if not fns:
        return None
    n = lowerer._length(first.value)  # (only now: the length of a helper's call reads the helper)
    if n is None or n < 1:
        return None
    positional = [a for a in rest if a.keyword is None]
    keywords = {a.keyword.value: a for a in rest if a.keyword is not None}
    for arity in range(n, n + 1 + len(rest) + 1):
        rule = lookup(fns[0], arity)
        if rule is None or rule.elements != n:
            continue
        named = rule.params[n:]
        if len(positional) > len(named) or not set(keywords) <= set(named[len(positional) :]):
            return None
        args = lowerer.elements(first.value, out, origin)
        for k, p in enumerate(named):
            if k < len(positional):
                args.append(lowerer._rule_argument(positional[k].value, out, origin))
            elif p in keywords:
                args.append(lowerer._rule_argument(keywords[p].value, out, origin))
            else:
                args.append(rule.defaults[p])
        return ir.Call(fns[0], tuple(args))
    return None

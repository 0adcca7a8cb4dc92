"""Library functions that return a tuple: ``sign, logdet = np.linalg.slogdet(a)``, ``w, V = np.linalg.eigh(a)``
and ``np.linalg.slogdet(a)[1]``.

Each value of the tuple is its own primitive (:data:`s2sad.rules_linalg.TUPLE_RESULTS`: ``np.linalg.eigh`` is
``s2sad.eigh_values`` and ``s2sad.eigh_vectors``, support functions of the generated module), with its own rule,
so the values' adjoints need no tuple of adjoints. Only these two forms are lowered so (the arguments are
computed once); anything else with such a call (keeping the tuple in a name) is refused as before.
"""

from __future__ import annotations

from typing import Protocol

import libcst as cst

from .. import ir
from ..rules_linalg import TUPLE_RESULTS

__all__ = ["library_results", "library_result"]


class _Lowerer(Protocol):
    def _qualified(self, node: cst.CSTNode) -> set[str]: ...

    def _method(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None: ...

    def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...


def _components(lowerer: _Lowerer, node: cst.BaseExpression) -> tuple[str, ...] | None:
    if not isinstance(node, cst.Call) or lowerer._method(node.func) is not None:
        return None
    if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
        return None  # the rules take the matrix alone (UPLO and the like: refused as a call without a rule)
    found = sorted(lowerer._qualified(node.func) & set(TUPLE_RESULTS))
    return TUPLE_RESULTS[found[0]] if found else None


def library_results(
    lowerer: _Lowerer, node: cst.BaseExpression, count: int, out: list[ir.Stmt], origin: ir.Origin
) -> list[ir.Expr] | None:
    """The ``count`` values of ``node``, a call to a function returning that many; None otherwise."""
    components = _components(lowerer, node)
    if components is None or len(components) != count:
        return None
    assert isinstance(node, cst.Call)
    args = tuple(lowerer.atom(a.value, out, origin) for a in node.args)
    return [ir.Call(fn, args) for fn in components]


def library_result(lowerer: _Lowerer, node: cst.Subscript, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None:
    """``np.linalg.slogdet(a)[1]``: the one value read; None when ``node`` is not such a read."""
    components = _components(lowerer, node.value)
    if components is None or len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    value = node.slice[0].slice.value
    negative = isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus)
    literal = value.expression if negative and isinstance(value, cst.UnaryOperation) else value
    if not isinstance(literal, cst.Integer):
        return None
    k = -int(literal.value) if negative else int(literal.value)
    if not -len(components) <= k < len(components):
        return None
    assert isinstance(node.value, cst.Call)
    args = tuple(lowerer.atom(a.value, out, origin) for a in node.value.args)
    return ir.Call(components[k], args)

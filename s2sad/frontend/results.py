"""Helpers that return several values, and unpacking a value s2sad does not know as a tuple.

A helper ending in ``return a, b`` is lowered once and stays one function returning the tuple: a call is
``t = h(x)``, then ``a = part(t, 0)``, ``b = part(t, 1)`` (:data:`s2sad.ir.PART`), so the helper's body runs
once per call in every mode (a gradient runs its forward pass once and its adjoint once). The forms:
``a, b = h(x)``, ``t = h(x)`` (a tuple variable: the call's length is read from the helper's text, see
:meth:`_Results._returned_length`), ``h(x)[1]`` (value 1 read). Any other use of such a call is refused. ``a, b, c = abc`` where ``abc`` is not a tuple s2sad knows
(a parameter, an array) reads ``abc[0]``, ``abc[1]`` ... after checking its length at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from .. import ir
from ..bindings import ModuleScope
from ..rules import Rule
from .names import Context, Scope, Signature

__all__ = ["_Results"]


class _Results:
    """The several-values half of the lowering (mixed into ``_Lowerer``)."""

    context: Context
    scope: Scope
    tree: ast.Module
    bindings: ModuleScope
    user_names: set[str]
    _tuple_calls: dict[int, Signature | None]
    failed_calls: set[int]  #: ids of calls to helpers whose problems are reported (see tuple_helper)

    if TYPE_CHECKING:  # provided by the lowerer

        def _method(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None: ...

        def _qualified(self, node: cst.CSTNode) -> set[str]: ...

        def _signature_for(self, fn: str, npositional: int, keywords: set[str]) -> Rule | None: ...

        def _helper(self, node: cst.Call, qualified: set[str]) -> Signature | None: ...

        def _module_functions(self) -> set[str]: ...

        def _length(self, node: cst.BaseExpression | None) -> int | None: ...

        def _bind(
            self, node: cst.Call, sig: Signature, out: list[ir.Stmt], origin: ir.Origin
        ) -> tuple[ir.Expr, ...]: ...

        def _temp_name(self, node: cst.BaseExpression) -> str: ...

        def _begin_statement(self, target: str) -> None: ...

        def name(self, node: cst.Name) -> ir.Expr: ...

        def assign_all(
            self, names: list[str], values: list[ir.Expr], out: list[ir.Stmt], origin: ir.Origin
        ) -> None: ...

    def tuple_helper(self, node: cst.BaseExpression) -> Signature | None:
        """How to call the helper ``node`` calls, when it returns several values; None for anything else."""
        if not isinstance(node, cst.Call) or not self.context.allow_helpers or self._method(node.func) is not None:
            return None
        if id(node) in self._tuple_calls:
            return self._tuple_calls[id(node)]
        self._tuple_calls[id(node)] = None
        if any(a.star for a in node.args) or not isinstance(node.func, (cst.Name, cst.Attribute)):
            return None
        qualified = self._qualified(node.func)
        positional = [a for a in node.args if a.keyword is None]
        keywords = {a.keyword.value for a in node.args if a.keyword is not None}
        if "numpy.array" in qualified or any(
            self._signature_for(q, len(positional), keywords) or self.context.lookup(q, len(node.args))
            for q in qualified
        ):
            return None
        failures = self.context.failures
        signature = self._helper(node, qualified)
        if self.context.failures > failures:
            self.failed_calls.add(id(node))  # the helper's problems are reported: this call's are not
        if signature is not None and signature.several:
            self._tuple_calls[id(node)] = signature
        return self._tuple_calls[id(node)]

    def helper_results(
        self,
        node: cst.Call,
        out: list[ir.Stmt],
        origin: ir.Origin,
        into: Sequence[str] = (),
        only: int | None = None,
    ) -> list[ir.Expr]:
        """The values of a call to a helper returning several (``a, b = h(x)``): the arguments once, the call
        ``t = h(...)`` once, then each value ``part(t, k)``, right after the call (every value, even one not
        read here, ``only`` or not: a value's zero adjoint has its shape); ``into`` as for elements."""
        signature = self.tuple_helper(node)
        n = self._length(node)
        if signature is None or n is None or signature.several != n:
            return [ir.Const(0)] * (n or 0)  # reported where the helper is lowered
        self.user_names.add(signature.name)
        args = self._bind(node, signature, out, origin)
        pack = self._temp_name(node)
        out.append(ir.Assign(pack, ir.Call(signature.name, args), origin))
        values: list[ir.Expr] = [ir.Call(ir.PART, (ir.Var(pack), ir.Const(k))) for k in range(n)]
        if into:
            return values
        named: list[ir.Expr] = []
        for value in values:
            name = self._temp_name(node)
            out.append(ir.Assign(name, value, origin))
            named.append(ir.Var(name))
        return named

    def _returned_length(self, node: cst.Call) -> int | None:
        """How many values a call to a helper of this file returns, read from its text (``return a, b``), for
        ``t = h(x)`` to make ``t`` a tuple variable; None when it returns one value, or is not such a helper."""
        if not (isinstance(node.func, cst.Name) and node.func.value in self._module_functions()):
            return None
        if node.func.value in self.scope.assigned or node.func.value in self.scope.params:
            return None
        defs = [s for s in self.tree.body if isinstance(s, ast.FunctionDef) and s.name == node.func.value]
        last = defs[-1].body[-1] if defs and defs[-1].body else None
        if isinstance(last, ast.Return) and isinstance(last.value, ast.Tuple) and len(last.value.elts) > 1:
            if not any(isinstance(e, ast.Starred) for e in last.value.elts):
                return len(last.value.elts)
        return None

    def unpack_sequence(
        self, value: cst.Name | cst.Attribute, targets: list[str], out: list[ir.Stmt], origin: ir.Origin
    ) -> None:
        """``a, b, c = abc`` where ``abc`` is a parameter or a value s2sad does not know as a tuple (an array, a
        tuple passed in), or ``n, d = x.shape``: its first-axis items ``abc[0]``, ``abc[1]`` ..., as Python's
        unpacking iterates a sequence, after checking at run time that it has exactly that many (Python's
        ``ValueError`` otherwise)."""
        if isinstance(value, cst.Attribute):  # x.shape: a tuple of numbers, computed once
            self._begin_statement(targets[0] if targets else "shape")
            owner = value.value.value if isinstance(value.value, cst.Name) else "value"
            shape = self.fresh_local(f"{owner}_shape")
            out.append(ir.Assign(shape, self.value(value, out, origin, shape), origin))
            source: ir.Expr = ir.Var(shape)
            label = cst.Module([]).code_for_node(value)
        else:
            source = self.name(value)
            label = value.value
        if not isinstance(source, ir.Var):
            return  # reported by name()
        self._begin_statement(targets[0] if targets else label)
        length = ir.Var(self._temp_name(value))
        out.append(ir.Assign(length.name, ir.Call("builtins.len", (source,)), origin))
        n = len(targets)
        check = ir.Call("operator.eq", (length, ir.Const(n)))
        out.append(ir.Require(check, f"cannot unpack '{label}' into {n} names: it has another length"))
        self.assign_all(targets, [ir.Call(ir.GETITEM, (source, ir.Const(k))) for k in range(n)], out, origin)

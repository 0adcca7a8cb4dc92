"""Writes into arrays: ``x[index] = v`` and ``x[index] op= v``, lowered to a functional update.

``x[i, j] = v`` becomes ``x = s2sad.setitem(x, (i, j), v)`` in the IR (``ir.SETITEM``): a new value of ``x``,
which the SSA stage versions like any assignment, whose adjoint is the rule table's (the written entries take
``v``'s adjoint, the replaced ones none). ``x[i] += v`` is ``x = setitem(x, i, x[i] + v)``. The generated code
writes in place and records what each write destroys (:mod:`s2sad.writes`), which is sound only when nothing
else refers to ``x``'s array: a write is refused (``inplace-alias``) where :mod:`.aliasing` cannot show that
``x`` holds an array created in the function (``np.zeros``, ``.copy()``, arithmetic) that no other name, view or
call keeps. Writes are supported into NumPy arrays: a module without NumPy, a tuple or list variable, a
global, and a write into an element of an element (``x[i][j] = v``) are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .. import ir
from .aliasing import InPlace
from .containers import Lengths
from .names import Scope

__all__ = ["_Writes"]


class _Writes:
    """The write half of the lowering (mixed into ``_Lowerer``, which provides the state and the rest)."""

    module: cst.Module
    scope: Scope
    _containers: Lengths

    if TYPE_CHECKING:  # provided by the lowerer

        def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None:
            raise NotImplementedError

        def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
            raise NotImplementedError

        def index(self, node: cst.Subscript, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
            raise NotImplementedError

        def name(self, node: cst.Name) -> ir.Expr:
            raise NotImplementedError

        def inplace_problem(self, name: str) -> str | None:
            raise NotImplementedError

        def _inplace_updates(self) -> InPlace | None:
            raise NotImplementedError

        def _uses_numpy(self) -> bool:
            raise NotImplementedError

        def _begin_statement(self, target: str) -> None:
            raise NotImplementedError

        def _temp_name(self, node: cst.BaseExpression) -> str:
            raise NotImplementedError

    def assign_item(
        self,
        statement: cst.CSTNode,
        target: cst.Subscript,
        value: cst.BaseExpression,
        out: list[ir.Stmt],
        origin: ir.Origin,
        op: str | None = None,
    ) -> None:
        """``x[index] = value`` (``op`` None) or ``x[index] op= value`` (``op`` the operator's qualname)."""
        base = target.value
        code = self.module.code_for_node(statement).strip().splitlines()[0]
        if not isinstance(base, cst.Name):
            self.error(
                target,
                "writing into an element of an element ('x[i][j] = v') is not supported",
                "unsupported-syntax",
                "index the array once: 'x[i, j] = v'",
            )
            return
        name = base.value
        if not self._uses_numpy():
            self.error(
                statement,
                "writing into a subscript is supported for NumPy arrays only",
                "unsupported-syntax",
                "build a new value instead of changing one",
            )
            return
        if name in self._containers.names:
            self.error(
                statement,
                f"'{name}' is a tuple or a list here: writing into it is not supported",
                "unsupported-syntax",
                f"make it an array ('{name} = np.array(...)') or build a new tuple",
            )
            return
        if name not in self.scope.assigned and name not in self.scope.params:
            self.error(
                statement,
                f"'{code}' writes into '{name}', which the function does not define",
                "inplace-alias",
                f"write into a copy made in the function: '{name}_copy = {name}.copy()'",
            )
            return
        problem = self.inplace_problem(name)
        if problem is not None:
            self.error(
                statement,
                f"'{code}' writes into an array that may be shared: {problem}",
                "inplace-alias",
                f"write into an array the function creates and nothing else refers to: "
                f"'{name} = {name}.copy()' first, or 'np.zeros(...)'",
            )
            return
        self._begin_statement(name)
        array = self.name(base)
        index = self.index(target, out, origin)
        written: ir.Expr
        if op is None:
            written = self.atom(value, out, origin)
        else:
            current = self._temp_name(target)
            out.append(ir.Assign(current, ir.Call(ir.GETITEM, (array, index)), origin))
            right = self.atom(value, out, origin)
            updated = self._temp_name(target)
            out.append(ir.Assign(updated, ir.Call(op, (ir.Var(current), right)), origin))
            written = ir.Var(updated)
        out.append(ir.Assign(name, ir.Call(ir.SETITEM, (array, index, written)), origin))

    def check_element(self, name: str, value: cst.Subscript, out: list[ir.Stmt]) -> None:
        """After ``name = x[...]`` where ``x`` is written into later: the gradient checks that ``name`` is a
        number, an element of ``x``; a view of ``x`` would change with the writes (see .aliasing)."""
        inplace = self._inplace_updates()
        if inplace is None or not inplace.element_read(value):
            return
        code = self.module.code_for_node(value).strip()
        array = value.value.value if isinstance(value.value, cst.Name) else "the array"
        number = ir.Call("operator.eq", (ir.Call("numpy.ndim", (ir.Var(name),)), ir.Const(0)))
        out.append(
            ir.Require(
                number,
                f"'{name} = {code}' must be a number: '{array}' is written into later, which would change "
                f"'{name}' if it were a view of a part of the array. Write '{name} = {code}.copy()'",
            )
        )

"""Conditions: comparisons, ``and``/``or``/``not`` (short-circuiting where the right operand takes
statements), and conditional expressions. Mixed into ``_Lowerer`` after :class:`.expressions._Expressions`."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Literal

import libcst as cst

from .. import ir
from ..rules import OPERATOR_SYMBOLS
from .expressions import _Expressions
from .syntax import _CST_COMPARE, TEMP

__all__ = ["_Conditions"]


class _Conditions(_Expressions):
    """The condition half of the expression lowering."""

    def test(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """A condition: comparisons, 'and', 'or' and 'not' over atoms, kept as one expression."""
        if isinstance(node, cst.Comparison):
            return self._comparisons(self.atom(node.left, out, origin), node.comparisons, out, origin)
        if isinstance(node, cst.BooleanOperation):
            kind: Literal["and", "or"] = "and" if isinstance(node.operator, cst.And) else "or"
            left = self.test(node.left, out, origin)
            later: list[ir.Stmt] = []  # what the right operand computes runs only if Python reaches it
            right = self.test(node.right, later, origin)
            if later:
                return self._short_circuit(kind, left, later, right, out, origin)
            values = (left, right)
            flat: list[ir.Expr] = []
            for v in values:
                flat.extend(v.values if isinstance(v, ir.BoolOp) and v.op == kind else (v,))
            return ir.BoolOp(kind, tuple(flat))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return ir.Call("operator.not_", (self.test(node.expression, out, origin),))
        return self.atom(node, out, origin)

    def _comparisons(
        self, left: ir.Expr, comparisons: Sequence[cst.ComparisonTarget], out: list[ir.Stmt], origin: ir.Origin
    ) -> ir.Expr:
        """``left < b < c``: ``c`` is computed only if ``left < b`` holds, as Python does."""
        op = _CST_COMPARE.get(type(comparisons[0].operator))
        right = self.atom(comparisons[0].comparator, out, origin)
        if isinstance(comparisons[0].operator, (cst.Is, cst.IsNot)):
            # identity is the same in the generated code only for None: other objects may be copies there
            if ir.Const(None) in (left, right):
                op = ast.Is if isinstance(comparisons[0].operator, cst.Is) else ast.IsNot
            else:
                self.error(
                    comparisons[0].operator,
                    "'is' and 'is not' are supported only with None",
                    "unsupported-syntax",
                    "compare values with == or !=",
                )
                return ir.Const(False)
        if op is None:
            self.error(
                comparisons[0].operator,
                "only < <= > >= == != comparisons (and 'is None') are supported",
                "unsupported-syntax",
            )
            return ir.Const(False)
        first = ir.Call(OPERATOR_SYMBOLS[op], (left, right))
        if len(comparisons) == 1:
            return first
        later: list[ir.Stmt] = []
        rest = self._comparisons(right, comparisons[1:], later, origin)
        if later:
            return self._short_circuit("and", first, later, rest, out, origin)
        return ir.BoolOp("and", (first, *(rest.values if isinstance(rest, ir.BoolOp) else (rest,))))

    def _short_circuit(
        self, kind: str, left: ir.Expr, later: list[ir.Stmt], right: ir.Expr, out: list[ir.Stmt], origin: ir.Origin
    ) -> ir.Expr:
        """``left and right`` when computing ``right`` takes statements: they run only if Python reaches them."""
        self._temp_count += 1
        cond = f"{TEMP}cond#{self._temp_count}"
        out.append(ir.Assign(cond, left, origin))
        reached = ir.Var(cond) if kind == "and" else ir.Call("operator.not_", (ir.Var(cond),))
        out.append(ir.If(reached, (*later, ir.Assign(cond, right, origin)), (), origin))
        return ir.Var(cond)

    def if_expression(
        self, node: cst.IfExp, out: list[ir.Stmt], origin: ir.Origin, target: str | None, into: str | None = None
    ) -> ir.Expr:
        if id(node) in self._decided:  # decided by the call site (see .callsites)
            taken = node.body if self._decided[id(node)] else node.orelse
            if into is None:
                return self.value(taken, out, origin, target)
            out.append(ir.Assign(into, self.value(taken, out, origin, into), origin))
            return ir.Var(into)
        self._temp_count += 1
        owner = target or self._stmt_target
        base = "choice" if owner == self.function_name else f"{owner}_choice"
        name = into or f"{TEMP}{base}#{self._temp_count}"
        test = self.test(node.test, out, origin)
        body: list[ir.Stmt] = []
        orelse: list[ir.Stmt] = []
        body.append(ir.Assign(name, self.value(node.body, body, origin, None), origin))
        orelse.append(ir.Assign(name, self.value(node.orelse, orelse, origin, None), origin))
        out.append(ir.If(test, tuple(body), tuple(orelse), origin))
        return ir.Var(name)

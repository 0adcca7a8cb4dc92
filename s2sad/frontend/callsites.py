"""Versions of a helper for what a call site decides: tuples passed in, and parameters that default to None.

A call passes a tuple of known length to a helper (``f((x + k1, y)), params)``, ``rk4_step(state, ...)`` with
``state`` a tuple variable): the helper gets a version in which that parameter is a tuple variable, one
parameter per element (``state_0``, ``state_1``), so a differentiated value in the tuple is followed element
by element (see :mod:`.containers`); the call passes the elements. A helper that assigns such a parameter
gets no version (the tuple is built, and refused if it holds a differentiated value, as before).

A parameter whose default is None (``def h(x, w=None)``): where the call leaves it out or passes ``None``, it
is None; where the call passes a number, a display or an expression (not a name, which may hold None), it is
not. The version's tests ``p is None`` and ``p is not None`` on it are decided when it is lowered, and only
the branch Python takes is lowered: for the tests before any assignment to ``p`` (in the text, and not in a
loop that assigns it). Every other test stays a branch decided at run time.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import TYPE_CHECKING

import libcst as cst

from . import traverse
from .names import Signature, Spec

__all__ = ["_CallSites", "decided_tests"]


class _CallSites:
    """The call-site half of helpers (mixed into ``_Lowerer``)."""

    spec: Spec
    _decided: dict[int, bool]  #: id of an ``If``/``IfExp`` whose test the version decides -> its value

    if TYPE_CHECKING:  # provided by the lowerer

        def _length(self, node: cst.BaseExpression | None) -> int | None: ...

    def call_spec(self, node: cst.Call, fdef: ast.FunctionDef | ast.AsyncFunctionDef) -> Spec:
        """What the call ``node`` decides about the parameters of the helper ``fdef`` (CPython's tree)."""
        a = fdef.args
        if any(arg.star for arg in node.args) or any(_is_rule(d) for d in fdef.decorator_list):
            return Spec()
        positional = [p.arg for p in a.posonlyargs + a.args]
        given: dict[str, cst.BaseExpression] = {}
        plain = [arg for arg in node.args if arg.keyword is None]
        if len(plain) > len(positional):
            return Spec()  # reported where the call is bound
        given.update(zip(positional, (arg.value for arg in plain)))
        for arg in node.args:
            if arg.keyword is not None:
                given.setdefault(arg.keyword.value, arg.value)
        defaults = dict(zip(positional[len(positional) - len(a.defaults) :], a.defaults))
        defaults.update((p.arg, d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None)
        stored = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        stored |= {n.arg for n in ast.walk(fdef) if isinstance(n, ast.arg)} - {
            p.arg for p in a.posonlyargs + a.args + a.kwonlyargs
        }
        tuples: list[tuple[str, int]] = []
        none: list[tuple[str, bool]] = []
        for p in [*positional, *(k.arg for k in a.kwonlyargs)]:
            value = given.get(p)
            if value is not None and p not in stored and self._passes_tuple(value):
                n = self._length(value)
                if n is not None and n >= 1:
                    tuples.append((p, n))
                    continue
            default = defaults.get(p)
            if isinstance(default, ast.Constant) and default.value is None:
                if value is None or (isinstance(value, cst.Name) and value.value == "None"):
                    none.append((p, True))
                elif _never_none(value):
                    none.append((p, False))
        return Spec(tuple(tuples), tuple(none))

    def _passes_tuple(self, value: cst.BaseExpression) -> bool:
        """A tuple display, a tuple variable that is never a list, or a call to a helper returning several."""
        if isinstance(value, cst.Tuple):
            return True
        if isinstance(value, cst.Name):
            lengths = self._containers  # type: ignore[attr-defined]
            return value.value in lengths.names and value.value not in lengths.lists
        # a call: only one to a helper whose text returns several values (read without lowering anything)
        return isinstance(value, cst.Call) and self._returned_length(value) is not None  # type: ignore[attr-defined]

    def versioned_signature(self, signature: Signature) -> Signature:
        """The signature of this version: calls pass a tuple parameter's elements."""
        if not self.spec.tuples:
            return signature
        return dataclasses.replace(signature, tuples=self.spec.tuples)


def _is_rule(decorator: ast.expr) -> bool:
    """``@s2sad.rule(...)``, ``@rule(...)``: a helper copied as written keeps its one version."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, (ast.Name, ast.Attribute)) and ast.unparse(target).split(".")[-1] == "rule"


def _never_none(value: cst.BaseExpression) -> bool:
    """An argument that cannot be None: a literal, a display, or an operation on values (not a name or a
    call, which may give None)."""
    return isinstance(
        value,
        (
            cst.Integer,
            cst.Float,
            cst.Imaginary,
            cst.SimpleString,
            cst.Tuple,
            cst.List,
            cst.BinaryOperation,
            cst.UnaryOperation,
        ),
    )


def decided_tests(body: cst.CSTNode, known: dict[str, bool]) -> dict[int, bool]:
    """The ``if`` statements and conditional expressions of ``body`` whose test is ``p is None`` or ``p is not
    None`` for a parameter ``p`` whose None-ness ``known`` gives, before anything assigns ``p`` (in the text,
    and outside any loop that assigns it): id of the node -> the test's value."""
    found: dict[int, bool] = {}
    if not known:
        return found
    stored: set[str] = set()
    loops: list[set[str]] = []

    def decide(test: cst.BaseExpression) -> bool | None:
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            return None
        left, right = test.left, test.comparisons[0].comparator
        operator = test.comparisons[0].operator
        if isinstance(left, cst.Name) and left.value == "None":
            left, right = right, left
        if not (isinstance(left, cst.Name) and isinstance(right, cst.Name) and right.value == "None"):
            return None
        p = left.value
        if p not in known or p in stored or any(p in names for names in loops):
            return None
        if isinstance(operator, cst.Is):
            return known[p]
        if isinstance(operator, cst.IsNot):
            return not known[p]
        return None

    class Finder(cst.CSTVisitor):
        def visit_If(self, n: cst.If) -> None:
            value = decide(n.test)
            if value is not None:
                found[id(n)] = value

        def visit_IfExp(self, n: cst.IfExp) -> None:
            value = decide(n.test)
            if value is not None:
                found[id(n)] = value

        def visit_For(self, n: cst.For) -> None:
            loops.append(_stores(n))

        def leave_For(self, n: cst.For) -> None:
            loops.pop()
            stored.update(_stores(n))

        def visit_While(self, n: cst.While) -> None:
            loops.append(_stores(n))

        def leave_While(self, n: cst.While) -> None:
            loops.pop()
            stored.update(_stores(n))

        def leave_Assign(self, n: cst.Assign) -> None:
            stored.update(_stores(n))

        def leave_AugAssign(self, n: cst.AugAssign) -> None:
            stored.update(_stores(n))

        def leave_AnnAssign(self, n: cst.AnnAssign) -> None:
            stored.update(_stores(n))

        def leave_NamedExpr(self, n: cst.NamedExpr) -> None:
            stored.update(_stores(n))

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, n: cst.Lambda) -> bool:
            return False

    traverse.visit(body, Finder())
    return found


def _stores(node: cst.CSTNode) -> set[str]:
    """Every name ``node`` assigns, anywhere in it."""
    names: set[str] = set()

    def targets(t: cst.CSTNode) -> None:
        if isinstance(t, cst.Name):
            names.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                targets(e.value)
        elif isinstance(t, cst.StarredElement):
            targets(t.value)

    class Finder(cst.CSTVisitor):
        def visit_Assign(self, n: cst.Assign) -> None:
            for t in n.targets:
                targets(t.target)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            targets(n.target)

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            targets(n.target)

        def visit_For(self, n: cst.For) -> None:
            targets(n.target)

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            targets(n.target)

    traverse.visit(node, Finder())
    return names

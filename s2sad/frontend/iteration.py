"""What a ``for`` loop iterates over: a range, a tuple of known length (unrolled), or a sequence read by index.

``for v in (a, b)`` (a display, or a tuple variable of known length) is unrolled by the statement lowering; its
items are evaluated here, before the loop, as Python does. ``for row in X`` reads ``X[i]`` for ``i`` in
``range(len(X))``; ``zip`` truncates to the shortest (``min`` of the lengths, as Python does) and
``enumerate`` counts. Variables the lowering adds come from :meth:`_Iteration.fresh_local`.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, Union

import libcst as cst

from . import traverse
from .. import ir
from ..diagnostics import Diagnostic
from ..names import BUILTINS
from ..names import Scope as FreshNames
from .lengths import module_names as _module_names

__all__ = ["_Iteration", "_Indexed", "_Tree", "_assigned", "_resizes"]

#: What one iteration binds the loop target to: an IR value, or a tuple of such trees.
_Tree: TypeAlias = Union[ir.Expr, "list[_Tree]"]


@dataclass
class _Indexed:
    """An iterable read by index: ``length`` iterations, ``item(i)`` the value of iteration ``i``."""

    length: ir.Expr
    item: Callable[[ir.Expr], _Tree]
    reverse: bool = False
    counts: bool = False  #: ``item(i)`` is ``[i, ...]`` (enumerate from 0): the user's name can be the index


def _assigned(node: cst.CSTNode) -> set[str]:
    """The names statements inside ``node`` assign (any target, any depth)."""
    found: set[str] = set()

    def names(target: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            found.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for e in target.elements:
                names(e.value)
        elif isinstance(target, cst.StarredElement):
            names(target.value)

    class Finder(cst.CSTVisitor):
        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            names(n.target)

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            names(n.target)

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            names(n.target)

        def visit_For(self, n: cst.For) -> None:
            names(n.target)

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            names(n.target)

    traverse.visit(node, Finder())
    return found


_RESIZING = frozenset({"append", "extend", "insert", "pop", "remove", "clear"})


def _resizes(node: cst.CSTNode) -> cst.CSTNode | None:
    """A statement inside ``node`` that may change the length of a list (``xs.append(v)``, ``del xs[0]``)."""
    found: list[cst.CSTNode] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            if isinstance(n.func, cst.Attribute) and n.func.attr.value in _RESIZING:
                found.append(n)

        def visit_Del(self, n: cst.Del) -> None:
            found.append(n)

    traverse.visit(node, Finder())
    return found[0] if found else None


class _Iteration:
    """The iterable half of the loop lowering (mixed into ``_Lowerer`` through ``_Control``)."""

    module: cst.Module
    user_names: set[str]
    diagnostics: list[Diagnostic]
    _temp_count: int
    _loop_assigned: set[str]  #: names the loop being lowered assigns in its body
    _loop_resizes: cst.CSTNode | None  #: where its body may change the length of a list
    _function_node: cst.FunctionDef | None
    _words: set[str] | None = None  #: every identifier of the module

    if TYPE_CHECKING:  # provided by the lowerer

        def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None: ...
        def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...
        def _qualified(self, node: cst.CSTNode) -> set[str]: ...
        def _length(self, node: cst.BaseExpression) -> int | None: ...
        def elements(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> list[ir.Expr]: ...

    def fresh_local(self, base: str) -> str:
        """A variable s2sad adds to the function: fresh against every identifier of the module, every name of
        the function and every builtin (:class:`s2sad.names.Scope`); from then on it is one of the function's
        own names, so no later stage invents it again."""
        if self._words is None:
            self._words = _module_names(self.module)
        names = FreshNames(self._words | self.user_names | BUILTINS | set(keyword.kwlist))
        name = names.fresh(base)
        self.user_names.add(name)
        return name

    def _seen_outside(self, loop: cst.For, name: str) -> bool:
        """Whether ``name`` occurs in the function outside ``loop`` (other than as another loop's variable,
        within that loop)."""
        found = False

        class Finder(cst.CSTVisitor):
            def visit_For(self, n: cst.For) -> bool:
                if n is loop:
                    return False
                if isinstance(n.target, cst.Name) and n.target.value == name:
                    traverse.visit(n.iter, self)
                    return False  # its own variable inside it
                return True

            def visit_Name(self, n: cst.Name) -> None:
                nonlocal found
                found = found or n.value == name

        if self._function_node is not None:
            traverse.visit(self._function_node.body, Finder())
        return found

    def _range(self, node: cst.BaseExpression) -> tuple[cst.Call, bool] | None:
        """``range(...)`` or ``reversed(range(...))``: the call of ``range`` and whether it is reversed."""
        reverse = False
        if isinstance(node, cst.Call) and "builtins.reversed" in self._qualified(node.func) and len(node.args) == 1:
            node, reverse = node.args[0].value, True
        if (
            isinstance(node, cst.Call)
            and "builtins.range" in self._qualified(node.func)
            and 1 <= len(node.args) <= 3
            and all(a.keyword is None and not a.star for a in node.args)
        ):
            return node, reverse
        return None

    # ----- what a loop iterates over ------------------------------------------------------------------------
    def _source(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> list[_Tree] | _Indexed | None:
        """The items of ``node`` when known before the loop (a list), else how to read them by index."""
        if isinstance(node, cst.Call):
            names = self._qualified(node.func)
            if names & {"builtins.zip", "builtins.enumerate", "builtins.reversed"}:
                return self._builtin_source(node, names, out, origin)
        if self._length(node) is not None:
            return self._static(node, out, origin)
        if self._range(node) is not None:
            self.error(node, "a range is supported only as the whole iterable of a 'for' loop", "unsupported-loop")
            return None
        if self._loop_resizes is not None:
            # Python's iterator reads the length again at every step; s2sad reads it once, before the loop
            self.error(
                self._loop_resizes,
                "the loop may change the length of the sequence it iterates over",
                "unsupported-loop",
                "loop over indices, 'for i in range(len(xs))', which reads the length once, or build a new list",
            )
            return None
        sequence = self.atom(node, out, origin)
        if isinstance(sequence, ir.Var) and sequence.name in self._loop_assigned:  # iterated as it was
            copy = self.fresh_local(f"{sequence.name}_items")
            out.append(ir.Assign(copy, sequence, origin))
            sequence = ir.Var(copy)
        base = ir.temp_base(sequence.name) if isinstance(sequence, ir.Var) else "items"
        n = self.fresh_local(f"n_{base}")  # a name of its own: a while loop's test may read it
        out.append(ir.Assign(n, ir.Call("builtins.len", (sequence,)), origin))
        return _Indexed(ir.Var(n), lambda i: ir.Call(ir.GETITEM, (sequence, i)))

    def _static(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> list[_Tree]:
        """The items of a tuple of known length, each evaluated now (see :meth:`_snapshot`)."""
        if isinstance(node, (cst.Tuple, cst.List)):
            items: list[_Tree] = []
            for e in node.elements:
                if self._length(e.value) is not None and isinstance(e.value, (cst.Tuple, cst.List)):
                    items.append(self._static(e.value, out, origin))
                else:
                    items.append(self._snapshot(self.atom(e.value, out, origin), out, origin))
            return items
        base = node.value if isinstance(node, cst.Subscript) else node
        whole = isinstance(base, cst.Name) and base.value in self._loop_assigned
        return [self._snapshot(a, out, origin, whole) for a in self.elements(node, out, origin)]

    def _snapshot(self, value: ir.Expr, out: list[ir.Stmt], origin: ir.Origin, assigned: bool = False) -> ir.Expr:
        """An item of a tuple iterated over: a variable the loop body assigns (``assigned``: the tuple's own name
        does) is copied first, as Python evaluates the tuple before the loop."""
        if isinstance(value, ir.Var) and not value.name.startswith(ir.TEMP):
            if assigned or value.name in self._loop_assigned:
                copy = self.fresh_local(f"{value.name}_item")
                out.append(ir.Assign(copy, value, origin))
                return ir.Var(copy)
        return value

    def _builtin_source(
        self, node: cst.Call, names: set[str], out: list[ir.Stmt], origin: ir.Origin
    ) -> list[_Tree] | _Indexed | None:
        args = node.args
        if any(a.star for a in args):
            self.error(node, "'*' arguments in a loop's iterable are not supported", "unsupported-loop")
            return None
        if "builtins.zip" in names:
            if not args or any(a.keyword is not None for a in args):
                self.error(node, "'zip' with keyword arguments is not supported", "unsupported-loop")
                return None
            parts = [self._source(a.value, out, origin) for a in args]
            if any(p is None for p in parts):
                return None
            if all(isinstance(p, list) for p in parts):
                return [list(t) for t in zip(*parts)]  # type: ignore[call-overload]
            if not all(isinstance(p, _Indexed) and not p.reverse for p in parts):
                self.error(
                    node,
                    "'zip' of tuples of known length with sequences read by index is not supported",
                    "unsupported-loop",
                    "zip sequences of the same kind, or loop over indices",
                )
                return None
            indexed = [p for p in parts if isinstance(p, _Indexed)]
            length = indexed[0].length
            for p in indexed[1:]:
                n = self.fresh_local("n")
                out.append(ir.Assign(n, ir.Call("builtins.min", (length, p.length)), origin))
                length = ir.Var(n)
            return _Indexed(length, lambda i: [p.item(i) for p in indexed])
        if "builtins.enumerate" in names:
            positional = [a for a in args if a.keyword is None]
            keywords = {a.keyword.value: a for a in args if a.keyword is not None}
            if (
                not positional
                or len(positional) > 2
                or set(keywords) - {"start"}
                or (len(positional) == 2 and keywords)
            ):
                self.error(node, "this call of 'enumerate' is not supported", "unsupported-loop")
                return None
            start_node = positional[1].value if len(positional) == 2 else keywords["start"].value if keywords else None
            start = self.atom(start_node, out, origin) if start_node is not None else ir.Const(0)
            inner = self._source(positional[0].value, out, origin)
            if inner is None:
                return None
            if isinstance(inner, list):
                return [
                    [
                        (
                            ir.Const(start.value + k)
                            if isinstance(start, ir.Const) and isinstance(start.value, int)
                            else ir.Call("operator.add", (start, ir.Const(k)))
                        ),
                        item,
                    ]
                    for k, item in enumerate(inner)
                ]
            if inner.reverse:
                self.error(node, "'enumerate' of 'reversed' is not supported", "unsupported-loop")
                return None

            def item(i: ir.Expr) -> _Tree:
                count = i if start == ir.Const(0) else ir.Call("operator.add", (i, start))
                return [count, inner.item(i)]

            return _Indexed(inner.length, item, counts=start == ir.Const(0))
        # reversed(sequence)
        if len(args) != 1 or args[0].keyword is not None:
            self.error(node, "this call of 'reversed' is not supported", "unsupported-loop")
            return None
        inner = self._source(args[0].value, out, origin)
        if inner is None:
            return None
        if isinstance(inner, list):
            return inner[::-1]
        if inner.reverse or isinstance(inner.item(ir.Const(0)), list):
            self.error(node, "'reversed' of 'zip' or 'enumerate' is not supported", "unsupported-loop")
            return None
        return _Indexed(inner.length, inner.item, reverse=True)

    def _unpack_item(self, target: cst.Tuple | cst.List, item: ir.Expr, out: list[ir.Stmt], origin: ir.Origin) -> None:
        """``for a, b in rows``: each item (a row of an array, a tuple passed in) is unpacked as Python unpacks
        it, by its first-axis items, after checking at run time that it has exactly that many."""
        names = [e.value.value for e in target.elements if isinstance(e.value, cst.Name)]
        row = self.fresh_local("_".join(names) if len("_".join(names)) <= 24 else "item")
        out.append(ir.Assign(row, item, origin))
        length = self.fresh_local(f"len_{row}")
        out.append(ir.Assign(length, ir.Call("builtins.len", (ir.Var(row),)), origin))
        check = ir.Call("operator.eq", (ir.Var(length), ir.Const(len(names))))
        out.append(ir.Require(check, f"cannot unpack an item into {len(names)} names: it has another length"))
        for k, name in enumerate(names):
            out.append(ir.Assign(name, ir.Call(ir.GETITEM, (ir.Var(row), ir.Const(k))), origin))

    def _bind_target(self, target: cst.BaseExpression, tree: _Tree, out: list[ir.Stmt], origin: ir.Origin) -> None:
        """Assign one iteration's item ``tree`` to the loop target."""
        if isinstance(target, cst.Name):
            if isinstance(tree, list):
                self.error(
                    target,
                    f"the loop variable '{target.value}' would hold a tuple",
                    "unsupported-loop",
                    "unpack it in the loop header: 'for a, b in zip(xs, ys)'",
                )
                return
            out.append(ir.Assign(target.value, tree, origin))
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            if any(isinstance(e, cst.StarredElement) for e in target.elements):
                self.error(target, "starred loop targets are not supported", "unsupported-loop")
                return
            if not isinstance(tree, list) and all(isinstance(e.value, cst.Name) for e in target.elements):
                self._unpack_item(target, tree, out, origin)
                return
            if not isinstance(tree, list) or len(tree) != len(target.elements):
                what = f"{len(tree)} values" if isinstance(tree, list) else "an item of unknown length"
                self.error(
                    target,
                    f"cannot unpack {what} into {len(target.elements)} names",
                    "unsupported-loop",
                    "unpack items of 'zip', 'enumerate' or tuples of known length",
                )
                return
            for element, part in zip(target.elements, tree):
                self._bind_target(element.value, part, out, origin)
            return
        self.error(target, "the loop variable must be a name or a tuple of names", "unsupported-loop")

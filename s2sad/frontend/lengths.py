"""Tuple variables and their lengths: which local names are tuples, and how long each is where it is read.

A *tuple variable* is a local name that every assignment in the function gives a tuple: a display, another
tuple variable, a constant slice of one, or a call to a helper returning several values (a parameter given a
tuple by its call site, too: see .callsites). Its length is followed along the control flow (:class:`_Flow`):
branches join, loops are walked to a fixed point, and each read records the length it has on every path
(None where the paths disagree). :mod:`.containers` lowers the reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from . import traverse

__all__ = ["Lengths", "tuple_lengths", "static_length", "constant_int", "constant_slice", "module_names"]


@dataclass
class Lengths:
    """The tuple variables of a function and, at each place one is read, its length there."""

    names: set[str] = field(default_factory=set)
    #: id of each ``Name`` node reading a tuple variable -> its length there (None: not the same on every path)
    at: dict[int, int | None] = field(default_factory=dict)
    #: tuple variables some assignment may give a list (``i = [2, 0, 1]``): as an index, NumPy reads a list
    #: as an array of indices along the first axis, a tuple as one index per axis
    lists: set[str] = field(default_factory=set)
    #: tuple variables some assignment may give a tuple
    displays: set[str] = field(default_factory=set)
    #: id of each call to a helper returning several values, assigned to a name -> how many it returns
    calls: dict[int, int] = field(default_factory=dict)
    #: lists that grow: names with ``.append`` (not tuple variables; see .writes)
    growing: set[str] = field(default_factory=set)


def tuple_lengths(
    body: cst.BaseSuite,
    params: Sequence[str],
    returned: Callable[[cst.Call], int | None] = lambda _: None,
    passed: Mapping[str, int] = {},
) -> Lengths:
    """The tuple variables of a function body, and their lengths where they are read (see the module
    docstring): a name is one when every assignment to it is a tuple; its length at a read is known when
    every path to the read gives it the same length. ``returned`` tells how many values a call returns, when
    it is a helper returning several (``t = h(x)``); ``passed``, the parameters given a tuple, and its length
    (see .callsites)."""
    calls: dict[int, int] = {}

    def call_length(node: cst.Call) -> int | None:
        if id(node) not in calls:
            n = returned(node)
            if n is None:
                return None
            calls[id(node)] = n
        return calls[id(node)]

    simple: dict[str, list[cst.BaseExpression]] = {p: [] for p in passed}
    other: set[str] = set(params) - set(passed)

    def names(node: cst.CSTNode) -> set[str]:
        return {n.value for n in _stored(node)}

    class Finder(cst.CSTVisitor):
        def visit_Assign(self, n: cst.Assign) -> None:
            if len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
                simple.setdefault(n.targets[0].target.value, []).append(n.value)
                if isinstance(n.value, cst.ListComp):
                    growing.add(n.targets[0].target.value)  # a list built by a comprehension
            else:
                for t in n.targets:
                    other.update(names(t.target))

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            if n.value is not None and isinstance(n.target, cst.Name):
                simple.setdefault(n.target.value, []).append(n.value)
            else:
                other.update(names(n.target))

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            other.update(names(n.target))

        def visit_For(self, n: cst.For) -> None:
            other.update(names(n.target))

        def visit_CompFor(self, n: cst.CompFor) -> None:
            other.update(names(n.target))

        def visit_NamedExpr(self, n: cst.NamedExpr) -> None:
            other.update(names(n.target))

        def visit_AsName(self, n: cst.AsName) -> None:
            other.update(names(n.name))

        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            other.add(n.name.value)
            return False

        def visit_Call(self, n: cst.Call) -> None:
            func = n.func
            if isinstance(func, cst.Attribute) and func.attr.value == "append" and isinstance(func.value, cst.Name):
                other.add(func.value.value)  # xs.append(v): a list that grows (see .writes)
                growing.add(func.value.value)

    growing: set[str] = set()
    traverse.visit(body, Finder())
    tuples = set(simple) - other
    changed = True
    while changed:  # every value assigned to a tuple variable is a tuple (a display, another one, a slice)
        changed = False
        for name in sorted(tuples):
            if not all(_tuple_shaped(v, tuples, call_length) for v in simple[name]):
                tuples.discard(name)
                changed = True
    out = Lengths(tuples, calls=calls, growing=growing, displays=set(passed) & tuples)
    for kind, marks in ((cst.List, out.lists), (cst.Tuple, out.displays)):
        changed = True
        while changed:  # a list (a tuple) directly, or through another tuple variable or a slice of one
            changed = False
            for name in sorted(tuples - marks):
                if any(_kind_of(v, kind, marks) for v in simple[name]):
                    marks.add(name)
                    changed = True
    if tuples:  # the flow pass records reads of tuple variables only: without any, it would find nothing
        _Flow(out).block(_suite(body), {p: frozenset({n}) for p, n in passed.items() if p in tuples})
    return out


def _kind_of(node: cst.BaseExpression, kind: type[cst.BaseExpression], marks: set[str]) -> bool:
    """Whether ``node`` (a tuple-shaped value) may be a display of ``kind`` (a helper returns a tuple)."""
    if isinstance(node, kind) or (isinstance(node, cst.Call) and kind is cst.Tuple):
        return True
    if isinstance(node, cst.Name):
        return node.value in marks
    return isinstance(node, cst.Subscript) and _kind_of(node.value, kind, marks)


def _tuple_shaped(node: cst.BaseExpression, tuples: set[str], calls: Callable[[cst.Call], int | None]) -> bool:
    if isinstance(node, (cst.Tuple, cst.List)):
        return not any(isinstance(e, cst.StarredElement) for e in node.elements)
    if isinstance(node, cst.Name):
        return node.value in tuples
    if isinstance(node, cst.Call):
        return calls(node) is not None
    return isinstance(node, cst.Subscript) and _sliced(node) is not None and _tuple_shaped(node.value, tuples, calls)


def _sliced(node: cst.BaseExpression) -> tuple[int | None, int | None, int | None] | None:
    """The constant bounds of ``x[a:b:c]``; None when ``node`` is not such a slice."""
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
        return constant_slice(node.slice[0].slice)
    return None


Env = dict[str, frozenset[int]]  # a tuple variable -> the lengths it may have here


class _Flow:
    """Lengths of tuple variables along the function's control flow: branches join (union), a loop is
    walked until its entry lengths stop changing, and each read records the lengths of the last walk."""

    def __init__(self, out: Lengths) -> None:
        self.out = out

    def block(self, stmts: Sequence[cst.CSTNode], env: Env) -> Env:
        for stmt in stmts:
            env = self.statement(stmt, env)
        return env

    def statement(self, stmt: cst.CSTNode, env: Env) -> Env:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                self.reads(small, env)
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target: cst.BaseExpression | None = small.targets[0].target
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    target = small.target
                else:
                    target = None
                if isinstance(target, cst.Name) and target.value in self.out.names:
                    assert isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None
                    env = {**env, target.value: self.lengths(small.value, env)}
            return env
        if isinstance(stmt, cst.If):
            self.reads(stmt.test, env)
            then = self.block(_suite(stmt.body), dict(env))
            if isinstance(stmt.orelse, cst.If):
                other = self.statement(stmt.orelse, dict(env))
            elif isinstance(stmt.orelse, cst.Else):
                other = self.block(_suite(stmt.orelse.body), dict(env))
            else:
                other = env
            return _join(then, other)
        if isinstance(stmt, (cst.For, cst.While)):
            self.reads(stmt.iter if isinstance(stmt, cst.For) else stmt.test, env)
            entry = env
            for _ in range(64):  # lengths only grow, and are few: a fixed point comes quickly
                if isinstance(stmt, cst.While):
                    self.reads(stmt.test, entry)
                joined = _join(entry, self.block(_suite(stmt.body), dict(entry)))
                if joined == entry:
                    break
                entry = joined
            return entry
        self.reads(stmt, env)  # anything else is refused elsewhere; its reads are recorded all the same
        return env

    def lengths(self, node: cst.BaseExpression, env: Env) -> frozenset[int]:
        if isinstance(node, (cst.Tuple, cst.List)):
            return frozenset({len(node.elements)})
        if isinstance(node, cst.Name):
            return env.get(node.value, frozenset())
        if isinstance(node, cst.Call):
            return frozenset({self.out.calls[id(node)]})
        assert isinstance(node, cst.Subscript)
        bounds = _sliced(node)
        assert bounds is not None
        return frozenset(len(range(n)[slice(*bounds)]) for n in self.lengths(node.value, env))

    def reads(self, node: cst.CSTNode, env: Env) -> None:
        names, at = self.out.names, self.out.at
        stored = {id(n) for n in _targets(node)}

        class Reads(cst.CSTVisitor):
            def visit_Name(self, n: cst.Name) -> None:
                if n.value in names and id(n) not in stored:
                    found = env.get(n.value, frozenset())
                    at[id(n)] = next(iter(found)) if len(found) == 1 else None

            def visit_Attribute(self, n: cst.Attribute) -> bool:
                traverse.visit(n.value, self)
                return False

            def visit_Arg(self, n: cst.Arg) -> bool:
                traverse.visit(n.value, self)
                return False

        traverse.visit(node, Reads())


def _suite(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body if isinstance(suite, cst.IndentedBlock) else [suite]


def _join(a: Env, b: Env) -> Env:
    return {n: a.get(n, frozenset()) | b.get(n, frozenset()) for n in set(a) | set(b)}


def _targets(node: cst.CSTNode) -> list[cst.Name]:
    """The names a small statement assigns (not reads)."""
    if isinstance(node, cst.Assign):
        return [n for t in node.targets for n in _stored(t.target)]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign)):
        return _stored(node.target)
    return []


def _stored(node: cst.CSTNode) -> list[cst.Name]:
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for e in node.elements for n in _stored(e.value)]
    if isinstance(node, cst.StarredElement):
        return _stored(node.value)
    return []


def static_length(node: cst.BaseExpression, lengths: Lengths) -> int | None:
    """The length of the tuple ``node`` denotes, when it is known without running anything."""
    if isinstance(node, (cst.Tuple, cst.List)):
        if any(isinstance(e, cst.StarredElement) for e in node.elements):
            return None
        return len(node.elements)
    if isinstance(node, cst.Name):
        return lengths.at.get(id(node)) if node.value in lengths.names else None
    if isinstance(node, cst.Call):
        return lengths.calls.get(id(node))
    bounds = _sliced(node)
    if bounds is not None:
        n = static_length(node.value, lengths)  # type: ignore[attr-defined]
        return None if n is None else len(range(n)[slice(*bounds)])
    return None


def constant_int(node: cst.BaseExpression | None) -> int | None:
    """An integer literal, possibly negated; None otherwise."""
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = constant_int(node.expression)
        return None if inner is None else -inner
    return None


def constant_slice(item: cst.Slice) -> tuple[int | None, int | None, int | None] | None:
    parts: list[int | None] = []
    for b in (item.lower, item.upper, item.step):
        if b is None:
            parts.append(None)
            continue
        k = constant_int(b)
        if k is None:
            return None
        parts.append(k)
    if parts[2] == 0:
        return None
    return parts[0], parts[1], parts[2]


def module_names(module: cst.Module) -> set[str]:
    """Every identifier of the module (a tuple's element variables must differ from all of them)."""
    found: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.add(n.value)

    traverse.visit(module, Finder())
    return found

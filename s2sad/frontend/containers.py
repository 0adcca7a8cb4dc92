"""Tuples (and lists) as differentiable containers, by scalar replacement.

A *tuple variable* is a local name that every assignment in the function gives a tuple: a display
``(a, 2.0 * x)``, another tuple variable, or a constant slice of one. It is replaced by one variable per
element (``t`` -> ``t_0``, ``t_1``), which the SSA stage versions like any other variable, so reassignment,
branches and loops need nothing special. Its length is followed along the control flow (:class:`_Flow`): where
it is read, every path must give it the same length (else ``tuple-length``). Reads resolve statically:

- ``t[1]``, ``t[-1]``: the element; ``t[0:2]``: a tuple of elements; ``t[i]`` with ``i`` known only at run
  time: ``select(i, t_0, t_1)``, whose adjoint goes to the element selected;
- ``a, b = t``: element by element (a length mismatch is refused, as Python would raise);
- ``max(t)``, ``min(t)``, ``sum(t)``, ``len(t)``, ``np.array(t)``; a tuple passed where a NumPy function
  differentiates an argument (``np.sum(t)``) becomes ``np.array`` of its elements, as NumPy converts it.

Any other use builds the tuple (``builtins.tuple``, which has no derivative rule): if a differentiated value
is in it, :func:`s2sad.analysis.check` refuses the program. No tuple is ever silently a constant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from . import traverse
from .. import ir
from .names import Context, Signature
from .syntax import _tuple

__all__ = ["Lengths", "tuple_lengths", "_Containers"]

_MAX_ARRAY = 16  # np.array of at most this many elements has a rule (see rules._elements)


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
        return _constant_slice(node.slice[0].slice)
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


def _constant_int(node: cst.BaseExpression | None) -> int | None:
    """An integer literal, possibly negated; None otherwise."""
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _constant_int(node.expression)
        return None if inner is None else -inner
    return None


def _constant_slice(item: cst.Slice) -> tuple[int | None, int | None, int | None] | None:
    parts: list[int | None] = []
    for b in (item.lower, item.upper, item.step):
        if b is None:
            parts.append(None)
            continue
        k = _constant_int(b)
        if k is None:
            return None
        parts.append(k)
    if parts[2] == 0:
        return None
    return parts[0], parts[1], parts[2]


class _Containers:
    """The tuple half of the lowering (mixed into ``_Lowerer``, which provides the state and the rest)."""

    context: Context
    module: cst.Module
    user_names: set[str]
    _containers: Lengths
    _element_names: dict[tuple[str, int], str]
    _temp_count: int
    _inline: dict[str, ir.Expr]

    if TYPE_CHECKING:  # provided by the lowerer

        def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None:
            raise NotImplementedError

        def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
            raise NotImplementedError

        def value(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin, target: str | None) -> ir.Expr:
            raise NotImplementedError

        def _begin_statement(self, target: str) -> None:
            raise NotImplementedError

        def _temp_name(self, node: cst.BaseExpression) -> str:
            raise NotImplementedError

        def _qualified(self, node: cst.CSTNode) -> set[str]:
            raise NotImplementedError

        def _method(self, func: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
            raise NotImplementedError

        def tuple_helper(self, node: cst.BaseExpression) -> Signature | None:
            raise NotImplementedError

        def helper_results(
            self,
            node: cst.Call,
            out: list[ir.Stmt],
            origin: ir.Origin,
            into: Sequence[str] = (),
            only: int | None = None,
        ) -> list[ir.Expr]:
            raise NotImplementedError

    # ----- what a node is -----------------------------------------------------------------------------------
    def _length(self, node: cst.BaseExpression | None) -> int | None:
        if node is None or (isinstance(node, cst.Name) and node.value in self._inline):
            return None  # a parameter of the lambda being inlined is not the function's tuple of that name
        found = static_length(node, self._containers)
        if found is None and isinstance(node, cst.Call):  # a helper returning several values
            signature = self.tuple_helper(node)
            return len(signature.results) if signature is not None else None
        return found

    def element_name(self, name: str, k: int) -> str:
        """The variable holding element ``k`` of the tuple variable ``name``: ``t_0``, fresh in the module."""
        key = (name, k)
        if key not in self._element_names:
            taken = _module_names(self.module) | self.user_names | set(self._element_names.values())
            candidate = f"{name}_{k}"
            while candidate in taken:
                candidate += "_"
            self._element_names[key] = candidate
            self.user_names.add(candidate)
        return self._element_names[key]

    def elements(
        self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin, into: Sequence[str] = ()
    ) -> list[ir.Expr]:
        """The elements of the tuple ``node`` (its :meth:`_length` is known), as atoms; with ``into``, a
        display's elements are lowered for those targets (one primitive each, named after them)."""
        if isinstance(node, (cst.Tuple, cst.List)):
            if into:
                parts: list[ir.Expr] = []
                for target, e in zip(into, node.elements):
                    self._begin_statement(target)
                    parts.append(self.value(e.value, out, origin, target))
                return parts
            return [self.atom(e.value, out, origin) for e in node.elements]
        if isinstance(node, cst.Name):
            n = self._length(node)
            assert n is not None
            return [ir.Var(self.element_name(node.value, k)) for k in range(n)]
        if isinstance(node, cst.Call):
            return self.helper_results(node, out, origin, into)
        assert isinstance(node, cst.Subscript) and isinstance(node.slice[0].slice, cst.Slice)
        bounds = _constant_slice(node.slice[0].slice)
        assert bounds is not None
        return self.elements(node.value, out, origin)[slice(*bounds)]

    def is_list(self, node: cst.BaseExpression) -> bool:
        """A list that grows (``xs.append``) or a list comprehension (see .writes)."""
        return isinstance(node, (cst.ListComp, cst.GeneratorExp)) or (
            isinstance(node, cst.Name) and node.value in self._containers.growing
        )

    # ----- reads ----------------------------------------------------------------------------------------------
    def list_index(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None:
        """A list as (part of) an index, ``a[[0, 2]]`` or ``a[i]`` with ``i = [0, 2]``: NumPy reads it as an
        array of indices along one axis (not as a tuple, one index per axis), so it stays one:
        ``np.array([0, 2])``. None when ``node`` is not a list."""
        if isinstance(node, cst.Name) and node.value in self._containers.lists:
            if node.value in self._containers.displays:
                self.error(
                    node,
                    f"'{node.value}' may be a list or a tuple here: as an index NumPy reads the two differently",
                    "unsupported-syntax",
                    "give it one kind: a list of indices along an axis, or a tuple of one index per axis",
                )
                return ir.Const(0)
            if self._length(node) is None:
                return None  # reported where its length is read
            items = self.elements(node, out, origin)
        elif isinstance(node, cst.List):
            if not 1 <= len(node.elements) <= _MAX_ARRAY or any(
                isinstance(e, cst.StarredElement) or isinstance(e.value, (cst.List, cst.Tuple)) for e in node.elements
            ):
                self.error(
                    node,
                    f"a list as an index is supported with 1 to {_MAX_ARRAY} single indices",
                    "unsupported-syntax",
                    "index with an integer array: a[np.array([...])]",
                )
                return ir.Const(0)
            items = [self.atom(e.value, out, origin) for e in node.elements]
        else:
            return None
        return ir.Call("numpy.array", tuple(items))

    def container_value(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None:
        """A tuple where a value is expected: built (see the module docstring); None when ``node`` is none."""
        if isinstance(node, cst.Subscript) and self._length(node.value) is not None:
            return self._subscript(node, out, origin)
        base = node.value if isinstance(node, cst.Subscript) else node
        if isinstance(base, cst.Name) and self._unknown(base):
            self.ambiguous(base, base.value)
            return ir.Const(0)
        if isinstance(node, cst.Name) and node.value not in self._containers.names:
            return None
        if self._length(node) is None:
            return None
        return _tuple(self.elements(node, out, origin))

    def _subscript(self, node: cst.Subscript, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        n = self._length(node.value)
        assert n is not None
        item = node.slice[0].slice if len(node.slice) == 1 else None
        if isinstance(item, cst.Slice) and _constant_slice(item) is not None:
            return _tuple(self.elements(node, out, origin))
        k = _constant_int(item.value) if isinstance(item, cst.Index) else None
        if k is None and isinstance(item, cst.Index) and 1 <= n <= _MAX_ARRAY:
            # t[i]: the element i selects at run time (Python's own indexing, errors included)
            index = self.atom(item.value, out, origin)
            return ir.Call("s2sad.select", (index, *self.elements(node.value, out, origin)))
        if k is None:
            self.error(
                node,
                f"indexing a tuple with a run-time index is supported on tuples of 1 to {_MAX_ARRAY} elements",
                "tuple-index",
                "use a constant index (t[0]), or make an array of it with np.array(t) and index that",
            )
            return ir.Const(0)
        if not -n <= k < n:
            self.error(node, f"tuple index {k} is out of range (the tuple has {n} elements)", "tuple-index")
            return ir.Const(0)
        if isinstance(node.value, cst.Call):  # h(x)[0]: only the value read
            return self.helper_results(node.value, out, origin, only=k % n)[k]
        return self.elements(node.value, out, origin)[k]

    def container_call(self, node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr | None:
        """``max(t)``, ``min(t)``, ``max(a, b, c)``, ``sum(t)``, ``len(t)``, ``np.array(t)``; None: not one."""
        if self._method(node.func) is not None or any(a.star or a.keyword is not None for a in node.args):
            return None
        qualified = self._qualified(node.func)
        args = [a.value for a in node.args]
        if "numpy.array" in qualified and len(args) == 1 and self.is_list(args[0]):
            return ir.Call("numpy.stack", (self.atom(args[0], out, origin),))  # elements of one shape
        single = self._length(args[0]) if len(args) == 1 else None
        if "builtins.len" in qualified and single is not None:
            return ir.Const(single)
        for fn in ("builtins.max", "builtins.min"):
            if fn in qualified and len(args) == 1 and self.is_list(args[0]):
                return self._list_extremum(fn, args[0], out, origin)
            if fn in qualified and (single is not None or len(args) >= 3):
                items = (
                    self.elements(args[0], out, origin)
                    if single is not None
                    else [self.atom(a, out, origin) for a in args]
                )
                if not items:
                    self.error(node, f"{fn.split('.')[1]}() of an empty tuple", "tuple-index")
                    return ir.Const(0)
                return self._chain(fn, items, node, out, origin)
        if "builtins.sum" in qualified and len(args) in (1, 2) and self._length(args[0]) is not None:
            items = self.elements(args[0], out, origin)
            if len(args) == 2:
                items = [self.atom(args[1], out, origin), *items]
            return self._chain("operator.add", items, node, out, origin) if items else ir.Const(0)
        if "numpy.array" in qualified and single is not None and 1 <= single <= _MAX_ARRAY:
            return ir.Call("numpy.array", tuple(self._array_elements(args[0], out, origin)))
        return None

    def _list_extremum(self, fn: str, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """``min(xs)`` of a list of numbers: ``np.min`` of their array, whose rule shares the adjoint among tied
        elements (``min(a, b)`` gives a tie to ``a``: both are derivatives of the piece taken, where they
        differ only on ties). Elements that are arrays, which Python's ``min`` compares as a whole, stop the
        gradient at run time."""
        short = fn.split(".")[1]
        items = self.fresh_local(f"{node.value}_array" if isinstance(node, cst.Name) else "items")
        out.append(ir.Assign(items, ir.Call("numpy.stack", (self.atom(node, out, origin),)), origin))
        rank = ir.Call("numpy.ndim", (ir.Var(items),))
        out.append(
            ir.Require(ir.Call("operator.eq", (rank, ir.Const(1))), f"{short}() of a list is supported on numbers")
        )
        return ir.Call(f"numpy.{short}", (ir.Var(items), ir.Const(None), ir.Const(False)))  # axis, keepdims

    def _array_elements(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> list[ir.Expr]:
        """The elements of ``np.array(node)``; nested displays are arrays themselves, as NumPy stacks them."""
        if not isinstance(node, (cst.Tuple, cst.List)):
            return self.elements(node, out, origin)
        parts: list[ir.Expr] = []
        for e in node.elements:
            n = self._length(e.value)
            if n is not None and 1 <= n <= _MAX_ARRAY:
                name = self._temp_name(e.value)
                out.append(ir.Assign(name, ir.Call("numpy.array", tuple(self._array_elements(e.value, out, origin)))))
                parts.append(ir.Var(name))
            else:
                parts.append(self.atom(e.value, out, origin))
        return parts

    def _chain(self, fn: str, items: list[ir.Expr], node: cst.Call, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr:
        """``fn(fn(a, b), c)``: Python's left-to-right reduction (``max`` keeps the first of equal items)."""
        acc = items[0]
        for k, item in enumerate(items[1:], start=2):
            call = ir.Call(fn, (acc, item))
            if k == len(items):
                return call
            name = self._temp_name(node)
            out.append(ir.Assign(name, call, origin))
            acc = ir.Var(name)
        return acc

    def arrays_from_tuples(self, value: ir.Expr, out: list[ir.Stmt]) -> ir.Expr:
        """A tuple passed to a NumPy function where it differentiates the argument is an array, as NumPy
        converts it: its construction just before becomes ``np.array`` of the same elements."""
        if not isinstance(value, ir.Call) or not value.fn.startswith("numpy."):
            return value
        rule = self.context.lookup(value.fn, len(value.args))
        if rule is None:
            return value
        for p, arg in zip(rule.params, value.args):
            if p not in rule.adjoints or not isinstance(arg, ir.Var) or not arg.name.startswith(ir.TEMP):
                continue  # only a tuple built for this call (a user's variable keeps its tuple)
            for i in range(len(out) - 1, -1, -1):
                s = out[i]
                if isinstance(s, ir.Assign) and s.target == arg.name:
                    if isinstance(s.value, ir.Call) and s.value.fn == ir.TUPLE and 1 <= len(s.value.args) <= _MAX_ARRAY:
                        out[i] = ir.Assign(s.target, ir.Call("numpy.array", s.value.args), s.origin)
                    break
        return value

    # ----- writes ---------------------------------------------------------------------------------------------
    def _unknown(self, node: cst.Name) -> bool:
        """A tuple variable whose length is not the same on every path to this read."""
        if node.value in self._inline:
            return False
        return node.value in self._containers.names and self._length(node) is None

    def ambiguous(self, node: cst.CSTNode, name: str) -> None:
        self.error(
            node,
            f"the length of the tuple '{name}' is not the same on every path that reaches here",
            "tuple-length",
            "give the tuple one length on every path (branches and loop iterations), or use another name",
        )

    def assign_container(self, name: str, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> None:
        """``t = (a, b)``: ``t_0 = a``, ``t_1 = b`` (the whole right-hand side first)."""
        n = self._length(value)
        if n is None:  # t = u, where u's length depends on the path
            inner = value
            while isinstance(inner, cst.Subscript):
                inner = inner.value
            self.ambiguous(value, inner.value if isinstance(inner, cst.Name) else name)
            return
        targets = [self.element_name(name, k) for k in range(n)]
        self.assign_all(targets, self.elements(value, out, origin, into=targets), out, origin)

    def assign_all(self, names: list[str], values: list[ir.Expr], out: list[ir.Stmt], origin: ir.Origin) -> None:
        """``a, b = values``: a target that a later value reads is first copied into an intermediate
        (``x, y = y, x * 2``; the SSA stage propagates the copy)."""
        values = list(values)
        for i, n in enumerate(names):
            if any(n in ir.expr_names(v) for v in values[i + 1 :]):
                self._temp_count += 1
                snapshot = f"{ir.TEMP}{n}_before#{self._temp_count}"
                out.append(ir.Assign(snapshot, ir.Var(n), origin))
                values[i + 1 :] = [ir.substitute(v, {n: ir.Var(snapshot)}) for v in values[i + 1 :]]
            out.append(ir.Assign(n, values[i], origin))


def _module_names(module: cst.Module) -> set[str]:
    """Every identifier of the module (a tuple's element variables must differ from all of them)."""
    found: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.add(n.value)

    traverse.visit(module, Finder())
    return found

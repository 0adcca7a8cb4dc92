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

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from .. import ir
from .lengths import Lengths, constant_int, constant_slice, module_names, static_length
from .names import Context, Signature
from .joined import joined_call
from .syntax import _tuple

__all__ = ["_Containers"]

_MAX_ARRAY = 16  # np.array of at most this many elements has a rule (see rules._elements)


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
            return signature.several if signature is not None else None
        return found

    def element_name(self, name: str, k: int) -> str:
        """The variable holding element ``k`` of the tuple variable ``name``: ``t_0``, fresh in the module."""
        key = (name, k)
        if key not in self._element_names:
            taken = module_names(self.module) | self.user_names | set(self._element_names.values())
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
        bounds = constant_slice(node.slice[0].slice)
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
        if isinstance(item, cst.Slice) and constant_slice(item) is not None:
            return _tuple(self.elements(node, out, origin))
        k = constant_int(item.value) if isinstance(item, cst.Index) else None
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
        joined = joined_call(self, self.context.lookup, node, out, origin)  # np.concatenate([a, b]) ...
        if joined is not None:
            return joined
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

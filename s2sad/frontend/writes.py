"""Writes into arrays: ``x[index] = v`` and ``x[index] op= v``, lowered to a functional update.

``x[i, j] = v`` becomes ``x = s2sad.setitem(x, (i, j), v)`` in the IR (``ir.SETITEM``): a new value of ``x``,
which the SSA stage versions like any assignment, whose adjoint is the rule table's (the written entries take
``v``'s adjoint, the replaced ones none). ``x[i] += v`` is ``x = setitem(x, i, x[i] + v)``. The generated code
writes in place and records what each write destroys (:mod:`s2sad.writes`), which is sound only when nothing
else refers to ``x``'s array: a write is refused (``inplace-alias``) where :mod:`.aliasing` cannot show that
``x`` holds an array created in the function (``np.zeros``, ``.copy()``, arithmetic) that no other name, view or
call keeps. Writes are supported into NumPy arrays: a module without NumPy, a tuple or list variable, a
global, and a write into an element of an element (``x[i][j] = v``) are refused.

Lists that grow are the same kind of value: ``xs = []`` is an empty list, ``xs.append(v)`` is ``xs =
s2sad.append(xs, v)`` (appended in place, popped in the reverse pass), ``[e for v in range(n)]`` and ``[e for
v in xs]`` are a fresh list appended in a loop. Their elements must have one shape: the adjoint of a list is the
array of its elements' adjoints, so ``np.array(xs)``, ``np.stack(xs)``, ``sum(xs)``, ``xs[i]`` and ``len(xs)``
have rules like arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from .. import ir
from . import traverse
from .aliasing import InPlace
from .lengths import Lengths
from .names import Scope
from .positions import Positions

__all__ = ["_Writes", "_appended"]

#: Functions that read a list as the array of its elements (the adjoint of a list is that array's).
_LIST_READERS = {"numpy.array", "numpy.stack", "builtins.sum", "builtins.len", "numpy.sum", "numpy.mean"}
_LIST_READERS |= {"builtins.min", "builtins.max"}  # of numbers: the first extreme element (see .containers)
#: Functions that read a generator as they read the list of its items (np.array of a generator is an object).
_GENERATOR_READERS = {"builtins.sum", "builtins.min", "builtins.max"}


def _appended(node: cst.BaseExpression) -> tuple[str, cst.BaseExpression] | None:
    """``xs.append(v)`` as an expression statement: the list's name and the value appended."""
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "append"
        and isinstance(node.func.value, cst.Name)
        and len(node.args) == 1
        and node.args[0].keyword is None
        and not node.args[0].star
    ):
        return node.func.value.value, node.args[0].value
    return None


class _Writes:
    """The write half of the lowering (mixed into ``_Lowerer``, which provides the state and the rest)."""

    module: cst.Module
    scope: Scope
    user_names: set[str]
    positions: Positions
    _containers: Lengths
    #: comprehension variables in scope -> their names in the function (fresh)
    _comprehension_names: dict[str, str]

    if TYPE_CHECKING:  # provided by the lowerer

        def fresh_local(self, base: str) -> str:  # s2sad.frontend.iteration: fresh against every name in scope
            raise NotImplementedError

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

        def _qualified(self, node: cst.CSTNode) -> set[str]:
            raise NotImplementedError

    def assign_item(
        self,
        statement: cst.CSTNode,
        target: cst.Subscript,
        value: cst.BaseExpression | ir.Expr,
        out: list[ir.Stmt],
        origin: ir.Origin,
        op: str | None = None,
    ) -> None:
        """``x[index] = value`` (``op`` None) or ``x[index] op= value`` (``op`` the operator's qualname); into
        an array, or into a list's element (``xs[i] = v``: the list's adjoint is the array of its elements',
        so the write's rule is the array's; an element is replaced, never changed in place)."""
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
        listed = name in self._containers.growing and name not in self._containers.names
        if listed and not (len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index)):
            self.error(
                statement,
                f"'{name}' is a list here: writing into it is supported one element at a time ('{name}[i] = v')",
                "unsupported-syntax",
                "a slice of a list may change its length; write the elements one by one",
            )
            return
        if not listed and (name in self._containers.names or name in self._containers.growing):
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
        if isinstance(value, ir.Expr):  # a, x[i] = ...: the value computed before any target is assigned
            written = value
        elif op is None:
            written = self.atom(value, out, origin)
        else:
            current = self._temp_name(target)
            out.append(ir.Assign(current, ir.Call(ir.GETITEM, (array, index)), origin))
            if listed:  # 'xs[i] += v' on an array element changes that array in place, and every name holding it
                number = ir.Call(
                    "builtins.isinstance",
                    (ir.Var(current), ir.Call(ir.TUPLE, (ir.Global("builtins.int"), ir.Global("builtins.float")))),
                )
                message = (
                    f"'{code}' updates an element of the list '{name}' in place where it is an array, which changes "
                    "every name that holds it: write the update out ('xs[i] = xs[i] + v'), which makes a new array"
                )
                out.append(ir.Require(number, message))
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
        if isinstance(value.value, cst.Name) and inplace.is_list(value.value.value):
            return  # an element of a list is an object of its own, not a view: a write replaces it
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

    # ----- lists ----------------------------------------------------------------------------------------------
    def _list_usable(self, node: cst.CSTNode, name: str) -> bool:
        if not self._uses_numpy():
            self.error(
                node,
                "lists that grow are supported in modules that import NumPy",
                "unsupported-syntax",
                "import numpy: the adjoint of a list is the array of its elements' adjoints",
            )
            return False
        problem = self.inplace_problem(name)
        if problem is not None:
            code = self.module.code_for_node(node).strip().splitlines()[0]
            self.error(
                node,
                f"'{code}' changes a list that may be shared: {problem}",
                "inplace-alias",
                f"build the list in the function with '{name} = []' and refer to it by this name only",
            )
            return False
        return True

    def append_item(
        self, statement: cst.CSTNode, name: str, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin
    ) -> None:
        """``xs.append(value)``: ``xs = s2sad.append(xs, value)``."""
        if not self._list_usable(statement, name):
            return
        self._begin_statement(name)
        item = self.atom(value, out, origin)
        out.append(ir.Assign(name, ir.Call(ir.APPEND, (ir.Var(name), item)), origin))

    def assign_list(self, name: str, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> bool:
        """``xs = [a, b]`` for a list that grows: an empty list and appends; False when ``value`` is not a list
        display."""
        if not isinstance(value, cst.List):
            return False
        if any(isinstance(e, cst.StarredElement) for e in value.elements):
            self.error(value, "starred elements in a list are not supported", "unsupported-syntax")
            return True
        if not self._uses_numpy():
            self._list_usable(value, name)
            return True
        self._begin_statement(name)
        items = [self.atom(e.value, out, origin) for e in value.elements]
        out.append(ir.Assign(name, ir.Call(ir.LIST, ()), origin))
        for item in items:
            out.append(ir.Assign(name, ir.Call(ir.APPEND, (ir.Var(name), item)), origin))
        return True

    def comprehension(
        self, node: cst.ListComp | cst.GeneratorExp, out: list[ir.Stmt], origin: ir.Origin, target: str | None
    ) -> ir.Expr:
        """``[e for v in range(n)]``, ``[e for v in xs]``, ``[e for a, b in zip(xs, ys)]``, ``[e for i, v in
        enumerate(xs)]``: a fresh list, appended in a loop (a generator as the argument of ``sum``, ``min`` or
        ``max``, which read it as they read the list). The list is fresh and nothing else refers to it, so a
        module without NumPy may build one too (the generated module then imports NumPy for its adjoint)."""
        loop = node.for_in
        if loop.inner_for_in is not None or loop.ifs or loop.asynchronous is not None:
            self.error(
                node,
                "list comprehensions are supported with one 'for' and no 'if'",
                "unsupported-syntax",
                "write the loop: 'xs = []', then 'for ...:' with 'xs.append(...)'",
            )
            return ir.Const(0)
        streams = self._comprehension_streams(loop)
        if streams is None:
            return ir.Const(0)
        items = self.fresh_local(target or "items")
        variables = [self.fresh_local(t.value) for t, _ in streams]
        body: list[ir.Stmt] = []
        iterator = loop.iter
        if len(streams) == 1 and streams[0][1] is None:  # range(...)
            assert isinstance(iterator, cst.Call)
            args = tuple(self.atom(a.value, out, origin) for a in iterator.args)
            index = variables[0]
        else:
            lengths: list[ir.Expr] = []
            sequences: list[ir.Expr | None] = []
            for _, source in streams:
                if source is None:  # enumerate's count
                    sequences.append(None)
                    continue
                sequence = self.atom(source, out, origin)
                label = source.value if isinstance(source, cst.Name) else "items"
                length = self.fresh_local(f"len_{label}")
                out.append(ir.Assign(length, ir.Call("builtins.len", (sequence,)), origin))
                lengths.append(ir.Var(length))
                sequences.append(sequence)
            count: ir.Expr = lengths[0]
            for other in lengths[1:]:  # zip stops at the shortest
                shortest = self.fresh_local("len_shortest")
                out.append(ir.Assign(shortest, ir.Call("builtins.min", (count, other)), origin))
                count = ir.Var(shortest)
            args = (count,)
            index = self.fresh_local("k")
            for variable, sequence in zip(variables, sequences):
                item = ir.Var(index) if sequence is None else ir.Call(ir.GETITEM, (sequence, ir.Var(index)))
                body.append(ir.Assign(variable, item, origin))
        out.append(ir.Assign(items, ir.Call(ir.LIST, ()), origin))
        shadowed = {t.value: self._comprehension_names.get(t.value) for t, _ in streams}
        for (t, _), variable in zip(streams, variables):
            self._comprehension_names[t.value] = variable
        try:
            self._begin_statement(items)
            element = self.atom(node.elt, body, origin)
        finally:
            for name, before in shadowed.items():
                if before is None:
                    del self._comprehension_names[name]
                else:
                    self._comprehension_names[name] = before
        body.append(ir.Assign(items, ir.Call(ir.APPEND, (ir.Var(items), element)), origin))
        out.append(ir.For(index, args, False, tuple(body), origin))
        return ir.Var(items)

    def _comprehension_streams(self, loop: cst.CompFor) -> list[tuple[cst.Name, cst.BaseExpression | None]] | None:
        """The comprehension's variables and what each takes the items of (None: the count, for ``range`` and
        ``enumerate``); None when the comprehension is not one s2sad follows (reported)."""
        iterator, target = loop.iter, loop.target
        call = iterator if isinstance(iterator, cst.Call) else None
        qualified = self._qualified(call.func) if call is not None else set()
        plain = call is not None and all(a.keyword is None and not a.star for a in call.args)
        names = (
            [e.value for e in target.elements]
            if isinstance(target, (cst.Tuple, cst.List))
            and not any(isinstance(e, cst.StarredElement) for e in target.elements)
            else [target]
        )
        if not all(isinstance(n, cst.Name) for n in names):
            self.error(target, "the comprehension's variables must be names", "unsupported-syntax")
            return None
        variables = [n for n in names if isinstance(n, cst.Name)]
        single = isinstance(target, cst.Name)
        if call is not None and plain and "builtins.range" in qualified and 1 <= len(call.args) <= 3 and single:
            return [(variables[0], None)]
        if call is not None and plain and "builtins.zip" in qualified and call.args and not single:
            if len(call.args) == len(variables):
                return [(v, a.value) for v, a in zip(variables, call.args)]
            self.error(
                target, f"cannot unpack {len(call.args)} values into {len(variables)} names", "unsupported-syntax"
            )
            return None
        if call is not None and plain and "builtins.enumerate" in qualified and len(call.args) == 1:
            if len(variables) == 2 and not single:
                return [(variables[0], None), (variables[1], call.args[0].value)]
        if isinstance(iterator, cst.Name) and single:
            return [(variables[0], iterator)]
        if not single:
            self.error(
                target,
                "a comprehension unpacks its items only over 'zip(...)' and 'enumerate(...)'",
                "unsupported-syntax",
                "take the item whole and index it: '[p[0] * p[1] for p in ps]'",
            )
            return None
        self.error(
            iterator,
            "a list comprehension is supported over 'range(...)', 'zip(...)', 'enumerate(...)' or a variable "
            "(a list or an array)",
            "unsupported-loop",
            "assign the sequence to a variable first",
        )
        return None

    def check_list_uses(self, body: cst.BaseSuite) -> None:
        """Every read of a list that grows is one s2sad differentiates as a list: appended to, indexed,
        iterated by a comprehension, or the argument of a function that reads it as the array of its elements.
        Anything else (``xs + ys``, ``2 * xs``, ``xs += [v]``, a helper's argument) is refused: Python's list
        arithmetic is not the arrays' that the adjoint of a list assumes."""
        growing = self._containers.growing
        if not growing and not self.positions.kinds() & {cst.ListComp, cst.GeneratorExp}:
            return  # nothing to look for: the walk below would find nothing
        reads: list[cst.BaseExpression] = []

        class Reads(cst.CSTVisitor):
            def visit_Name(self, node: cst.Name) -> None:
                if node.value in growing:
                    reads.append(node)

            def visit_ListComp(self, node: cst.ListComp) -> None:
                reads.append(node)

            def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
                reads.append(node)

        traverse.visit(body, Reads())
        if not reads:
            return
        parents: dict[cst.CSTNode, cst.CSTNode] = {}

        class Parents(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                for child in traverse.children(node):
                    parents[child] = node
                return True

        traverse.visit(body, Parents())
        for name in reads:
            if not self._list_use(name, parents):
                if isinstance(name, cst.GeneratorExp):
                    self.error(
                        name,
                        "a generator expression is supported as the one argument of sum, min or max",
                        "unsupported-syntax",
                        "make it a list: '[...]'",
                    )
                    continue
                if isinstance(name, cst.ListComp):
                    self.error(
                        name,
                        "a list comprehension is supported assigned to a name or as the one argument of np.array, "
                        "np.stack, sum, len, min, max, np.sum or np.mean",
                        "unsupported-syntax",
                        "assign it to a name first: 'ys = [...]'",
                    )
                    continue
                assert isinstance(name, cst.Name)
                self.error(
                    name,
                    f"the list '{name.value}' is used in a way s2sad does not differentiate",
                    "unsupported-syntax",
                    "a list that grows is supported appended to ('xs.append(v)'), indexed ('xs[i]'), in a "
                    "comprehension, and as the one argument of np.array, np.stack, sum, len, min, max, np.sum or np.mean",
                )

    def _list_use(self, name: cst.BaseExpression, parents: dict[cst.CSTNode, cst.CSTNode]) -> bool:
        """Whether this occurrence of a growing list's name (or a comprehension) is a use s2sad differentiates
        (see above)."""
        parent = parents.get(name)
        if isinstance(name, cst.GeneratorExp):  # sum(e for v in xs): read once, as the list would be
            call = parents.get(parent) if isinstance(parent, cst.Arg) else parent
            return (
                isinstance(call, cst.Call)
                and len(call.args) == 1
                and call.args[0].keyword is None
                and bool(self._qualified(call.func) & _GENERATOR_READERS)
            )
        if isinstance(name, cst.ListComp):
            return (
                isinstance(parent, cst.Assign)
                and len(parent.targets) == 1
                and isinstance(parent.targets[0].target, cst.Name)
            ) or (isinstance(parent, cst.Arg) and self._list_reader(parent, parents))
        if isinstance(parent, cst.Attribute):  # xs.append(v); or the name of an attribute (m.xs), not the list
            return parent.attr is name or (parent.attr.value == "append" and isinstance(parents.get(parent), cst.Call))
        if isinstance(parent, cst.Subscript):  # xs[i]; xs[1:3] is a list again, of which Python's + concatenates
            return parent.value is name and all(isinstance(e.slice, cst.Index) for e in parent.slice)
        if isinstance(parent, cst.AssignTarget):
            return True  # xs = [...]
        if isinstance(parent, cst.CompFor):
            return parent.iter is name  # [e for v in xs]
        return isinstance(parent, cst.Arg) and self._list_reader(parent, parents)

    def _list_reader(self, arg: cst.Arg, parents: dict[cst.CSTNode, cst.CSTNode]) -> bool:
        """``np.array(xs)``, ``sum(xs)`` ...: the one argument of a function that reads a list as an array."""
        call = parents.get(arg)
        return (
            isinstance(call, cst.Call)
            and arg.keyword is None
            and len(call.args) == 1
            and bool(self._qualified(call.func) & _LIST_READERS)
        )

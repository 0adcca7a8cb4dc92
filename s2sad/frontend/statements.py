"""Simple statements: assignments (to names, tuples of names, elements), augmented assignments, ``if``
statements; and the glue to :mod:`.aliasing` that decides where an update in place is safe. Mixed into
``_Lowerer`` (which provides the state, and the functions around the statements)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from .. import ir
from ..rules import OPERATOR_SYMBOLS
from .aliasing import InPlace, inplace_message, returns_fresh
from .tuple_results import library_results
from .expressions import _Expressions
from .writes import _appended
from .syntax import _CST_AUGMENTED, TEMP

__all__ = ["_Statements"]


class _Statements(_Expressions):
    """The statement half of the lowering."""

    _function_node: cst.FunctionDef | None
    _inplace: InPlace | None
    is_helper: bool

    if TYPE_CHECKING:  # provided by the lowerer's other mixins

        def assign_item(
            self,
            statement: cst.CSTNode,
            target: cst.Subscript,
            value: cst.BaseExpression | ir.Expr,
            out: list[ir.Stmt],
            origin: ir.Origin,
            op: str | None = None,
        ) -> None: ...

        def append_item(
            self, statement: cst.CSTNode, name: str, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin
        ) -> None: ...

        def assign_container(
            self, name: str, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin
        ) -> None: ...

        def assign_list(self, name: str, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> bool: ...

        def check_element(self, name: str, value: cst.Subscript, out: list[ir.Stmt]) -> None: ...

        def suite(self, suite: cst.BaseSuite) -> list[ir.Stmt]: ...

        def _module_functions(self) -> set[str]: ...

    def unsupported_statement(self, stmt: cst.CSTNode) -> None:
        kind = {
            cst.Try: "'try'",
            cst.With: "'with'",
            cst.FunctionDef: "a nested function defined inside a branch or a loop",
            cst.ClassDef: "class definitions",
            cst.Match: "'match'",
            cst.Return: "'return' before the end of the function",
            cst.Break: "'break'",
            cst.Continue: "'continue'",
            cst.Raise: "'raise'",
            cst.Assert: "'assert'",
            cst.Del: "'del'",
            cst.Global: "'global'",
            cst.Nonlocal: "'nonlocal'",
            cst.Import: "'import' inside the function",
            cst.ImportFrom: "'import' inside the function",
        }.get(type(stmt), f"this statement ({type(stmt).__name__})")
        hint = {
            cst.Return: "compute the result into a variable and return it once, at the end of the function",
            cst.Break: "use a loop whose trip count is known, or a flag in an 'if'",
            cst.Continue: "put the rest of the loop body in an 'if'",
        }.get(type(stmt))
        self.error(stmt, f"{kind} is not supported", "unsupported-syntax", hint)

    def small_statement(self, small: cst.BaseSmallStatement, out: list[ir.Stmt], origin: ir.Origin) -> None:
        if isinstance(small, cst.Assign):
            if len(small.targets) != 1:
                self.error(small, "chained assignment 'a = b = ...' is not supported", "unsupported-syntax")
                return
            if isinstance(small.targets[0].target, cst.Subscript):  # x[i] = v: a write (see .writes)
                self.assign_item(small, small.targets[0].target, small.value, out, origin)
                return
            self.assign(small.targets[0].target, small.value, out, origin)
        elif isinstance(small, cst.AnnAssign):
            if small.value is None:
                return  # a bare annotation assigns nothing
            self.assign(small.target, small.value, out, origin)
        elif isinstance(small, cst.AugAssign):
            if not isinstance(small.target, (cst.Name, cst.Subscript)):
                self.unsupported_target(small.target)
                return
            if type(small.operator) not in _CST_AUGMENTED:
                self.error(
                    small, "this augmented assignment (a bitwise operator) is not supported", "unsupported-syntax"
                )
                return
            op = OPERATOR_SYMBOLS[_CST_AUGMENTED[type(small.operator)]]
            if isinstance(small.target, cst.Subscript):  # x[i] += v: a write (see .writes)
                self.assign_item(small, small.target, small.value, out, origin, op)
                return
            name = small.target.value
            problem = self.inplace_problem(name)
            symbol = self.module.code_for_node(small.operator).strip()
            inplace = self._inplace_updates()
            counter = problem is not None and inplace is not None and inplace.counter(name)
            if problem is not None and self._uses_numpy() and not self.is_helper and not counter:
                # refused unless the function turns out to be scalar code (see _function)
                before = len(self.diagnostics)
                self.error(
                    small,
                    f"'{name} {symbol} ...' changes an array in place where it may be shared: {problem}",
                    "inplace-alias",
                    f"write '{name} = {name} {symbol[:-1]} ...': a new array, which is what s2sad differentiates",
                )
                self._array_only.extend(self.diagnostics[before:])
                del self.diagnostics[before:]
            if problem is not None and (counter or not self._uses_numpy() or not self.is_helper):
                # without NumPy in this module a value is a number, unless it came in from outside (a parameter,
                # a helper's result): then only run time can tell, and the gradient checks it (see .aliasing)
                number = ir.Call(
                    "builtins.isinstance",
                    (
                        self.name(small.target),
                        ir.Call(ir.TUPLE, (ir.Global("builtins.int"), ir.Global("builtins.float"))),
                    ),
                )
                out.append(ir.Require(number, inplace_message(name, symbol, problem)))
            elif problem is not None:
                self.error(
                    small,
                    f"'{name} {symbol} ...' changes an array in place where it may be shared: {problem}",
                    "inplace-alias",
                    f"write '{name} = {name} {symbol[:-1]} ...': a new array, which is what s2sad differentiates",
                )
                return
            self._begin_statement(name)
            right = self.atom(small.value, out, origin)
            out.append(ir.Assign(name, ir.Call(op, (self.name(small.target), right)), origin))
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.Ellipsis)):
            return
        elif isinstance(small, cst.Expr) and _appended(small.value) is not None:  # xs.append(v) (see .writes)
            name, value = _appended(small.value)  # type: ignore[misc]
            self.append_item(small, name, value, out, origin)
        elif isinstance(small, cst.Expr):
            self.error(
                small,
                "an expression statement has no effect on the result",
                "unsupported-syntax",
                "s2sad supports pure functions: assign the value or remove the statement",
            )
        else:
            self.unsupported_statement(small)

    def unsupported_target(self, target: cst.CSTNode) -> None:
        if isinstance(target, (cst.Subscript, cst.Attribute)):
            self.error(
                target,
                "assignment to an attribute or subscript is not supported",
                "unsupported-syntax",
                "s2sad differentiates pure functions: build a new value instead of mutating one",
            )
        else:
            self.error(target, "unsupported assignment target", "unsupported-syntax")

    def assign(
        self, target: cst.BaseExpression, value: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin
    ) -> None:
        if isinstance(target, cst.Name) and target.value in self._containers.names:
            self.assign_container(target.value, value, out, origin)
            return
        if isinstance(target, cst.Name) and target.value in self._containers.growing:
            if self.assign_list(target.value, value, out, origin):
                return
        if isinstance(target, cst.Name):
            self._begin_statement(target.value)
            if isinstance(value, cst.IfExp):  # y = a if c else b: an 'if' that assigns y in both branches
                self.if_expression(value, out, origin, target.value, into=target.value)
                return
            out.append(ir.Assign(target.value, self.value(value, out, origin, target.value), origin))
            if isinstance(value, cst.Subscript):
                self.check_element(target.value, value, out)  # t = x[i, j] where x is written later
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            names = [e.value for e in target.elements]
            if any(isinstance(n, cst.Subscript) for n in names) and all(
                isinstance(n, (cst.Name, cst.Subscript)) for n in names
            ):
                self._assign_items(target, names, value, out, origin)
                return
            if not all(isinstance(n, cst.Name) for n in names):
                for n in names:
                    if not isinstance(n, cst.Name):
                        self.unsupported_target(n)
                return
            results = library_results(self, value, len(names), out, origin)  # w, V = np.linalg.eigh(a)
            if results is not None:
                self.assign_all([n.value for n in names if isinstance(n, cst.Name)], results, out, origin)
                return
            length = self._length(value)
            if length is None and isinstance(value, cst.Name) and value.value not in self._containers.names:
                self.unpack_sequence(value, [n.value for n in names if isinstance(n, cst.Name)], out, origin)
                return
            if length is None and isinstance(value, cst.Attribute) and value.attr.value == "shape":
                self.unpack_sequence(value, [n.value for n in names if isinstance(n, cst.Name)], out, origin)
                return
            if length is None and id(value) in self.failed_calls:
                return  # the helper's problems are reported
            if length is None or length != len(names):
                if isinstance(value, cst.Name) and self._unknown(value):
                    self.ambiguous(value, value.value)
                    return
                if length is not None:
                    message, hint = f"cannot unpack {length} values into {len(names)} names", None
                elif isinstance(value, cst.Name) and value.value in self.scope.assigned:
                    message = f"cannot unpack '{value.value}': it is not always a tuple"
                    hint = "s2sad unpacks a variable that every assignment gives a tuple"
                else:
                    message = "tuple assignment needs a tuple of the same length on the right"
                    hint = "unpacking the result of a call is not supported; assign each value separately"
                self.error(value, message, "unsupported-syntax", hint)
                return
            # Evaluate the whole right-hand side before assigning anything (``x, y = y, x * 2``).
            targets = [n.value for n in names if isinstance(n, cst.Name)]
            if isinstance(value, (cst.Tuple, cst.List, cst.Call)):
                values = self.elements(value, out, origin, into=targets)
            else:  # a tuple variable, or a constant slice of one
                values = self.elements(value, out, origin)
            self.assign_all(targets, values, out, origin)
            return
        self.unsupported_target(target)

    def _assign_items(
        self,
        target: cst.Tuple | cst.List,
        parts: list[cst.BaseExpression],
        value: cst.BaseExpression,
        out: list[ir.Stmt],
        origin: ir.Origin,
    ) -> None:
        """``xs[i], xs[j] = h(...)``: the whole right-hand side first, into intermediates; then each target in
        turn, left to right, as Python assigns them (an index is computed when its target is assigned)."""
        length = self._length(value)
        if length is None or length != len(parts):
            if length is None and id(value) in self.failed_calls:
                return  # the helper's problems are reported
            message = (
                f"cannot unpack {length} values into {len(parts)} targets"
                if length is not None
                else "tuple assignment needs a tuple of the same length on the right"
            )
            self.error(value, message, "unsupported-syntax")
            return
        self._begin_statement("item")
        values = []
        for v in self.elements(value, out, origin):
            if isinstance(v, ir.Var) and v.name.startswith(TEMP):
                values.append(v)  # an intermediate: nothing assigns it again
                continue
            held = self._temp_name(value)
            out.append(ir.Assign(held, v, origin))
            values.append(ir.Var(held))
        statement = target if len(parts) > 1 else parts[0]
        for part, v in zip(parts, values):
            if isinstance(part, cst.Subscript):
                self.assign_item(statement, part, v, out, origin)
            else:
                assert isinstance(part, cst.Name)
                if part.value in self._containers.names or part.value in self._containers.growing:
                    self.error(
                        part,
                        f"'{part.value}' is a tuple or a list: assign it apart from the writes into elements",
                        "unsupported-syntax",
                    )
                    return
                self._begin_statement(part.value)
                out.append(ir.Assign(part.value, v, origin))

    def if_statement(self, stmt: cst.If, out: list[ir.Stmt]) -> None:
        """The test's operands are computed into ``out`` just before the ``If``; ``elif`` nests."""
        origin = self.origin(stmt)
        self._begin_statement("cond")
        test = self.test(stmt.test, out, origin)
        body = self.suite(stmt.body)
        orelse: list[ir.Stmt] = []
        if isinstance(stmt.orelse, cst.If):
            self.if_statement(stmt.orelse, orelse)
        elif isinstance(stmt.orelse, cst.Else):
            orelse = self.suite(stmt.orelse.body)
        out.append(ir.If(test, tuple(body), tuple(orelse), origin))

    def _uses_numpy(self) -> bool:
        return any(b.qualname.split(".")[0] == "numpy" for b in self.imports)

    def inplace_problem(self, name: str) -> str | None:
        """Why ``name op= value`` could change an array something else refers to (if it holds an array)."""
        inplace = self._inplace_updates()
        return None if inplace is None else inplace.problem(name)

    def _inplace_updates(self) -> InPlace | None:
        if self._function_node is None:
            return None
        if self._inplace is None:
            self._inplace = InPlace(
                self._function_node,
                self._qualified,
                lambda n: (self.span(n).line, self.span(n).col),
                lambda n: self.module.code_for_node(n).strip().splitlines()[0],
                self._helper_returns_fresh,
                numpy=self._uses_numpy(),
            )
        return self._inplace

    def _helper_returns_fresh(self, name: str) -> bool:
        """For in-place updates: whether the helper ``name`` of this file returns a new value (see .aliasing)."""
        functions = self._module_functions()
        if name not in functions:
            return False
        imports = {b.local: b for b in self.imports}

        def qualify(e: ast.expr) -> str | None:
            if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id in imports:
                binding = imports[e.value.id]
                return f"{binding.qualname}.{e.attr}" if binding.is_module else None
            if isinstance(e, ast.Name) and e.id not in functions:  # the file's own 'abs' is not the builtin
                return imports[e.id].qualname if e.id in imports else f"builtins.{e.id}"
            return None

        source = self.context.sources.get(self.path)
        return source is not None and returns_fresh(source, name, qualify)

"""Control flow: ``break``, ``continue``, early ``return`` and ``for`` over sequences, lowered to structured IR.

The IR has no jumps, so each jump becomes data the structured program tests (a flag from the fresh-name
service, see :meth:`.iteration._Iteration.fresh_local`), and the stages after the frontend see only
``If``/``For``/``While``:

- the statements after one that may jump run under ``if not flag:``, or, when one branch of an ``if`` always
  jumps and the other never does, in that other branch (no flag at all: ``if c: continue`` + rest becomes
  ``if not c: rest``);
- ``break`` sets the loop's flag, which the loop's test reads; a ``for`` over a range with a ``break`` (or a
  ``return``) becomes a ``while`` with an explicit counter (the loop variable itself, when nothing outside the
  loop reads it), so the reverse loop runs as many iterations as the forward one did; where no counter fits
  (a step only run time knows), the ``for`` stays and its body is guarded; ``continue`` sets a flag reset at
  the top of each iteration;
- ``return v`` assigns a result variable and sets a ``done`` flag every enclosing loop tests; the function ends
  with one ``return``. Every path must end in a ``return`` (a loop never counts as one), else ``no-return``;
- ``for v in (a, b)`` (a display or a tuple of known length) is unrolled, its items evaluated first as Python
  does; ``for row in X`` becomes ``for i in range(len(X)): row = X[i]``; ``zip`` (truncating to the shortest,
  as Python does) and ``enumerate`` combine these.

Flags nothing reads (the common case after the ``else`` rewrite) are removed at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from . import fixed_points
from .. import ir
from ..diagnostics import Diagnostic
from .directives import Directive, loop_directive
from .iteration import _Iteration, _resizes, _Tree, _assigned
from .jumps import (
    _ControlState,
    _Entry,
    _Frame,
    _JUMPS,
    _KIND,
    _Smalls,
    _always,
    _exits,
    _must_define,
    _not_any,
    _prune,
    _reads,
    _suite_statements,
)

__all__ = ["_Control"]


class _Control(_Iteration):
    """The control-flow half of the statement lowering (mixed into ``_Lowerer``)."""

    module: cst.Module
    user_names: set[str]
    diagnostics: list[Diagnostic]
    _temp_count: int
    _control: _ControlState
    _loop_assigned: set[str]  #: names the loop being lowered assigns in its body
    _decided: dict[int, bool]  #: ``if`` statements a call site decides (see .callsites)

    if TYPE_CHECKING:  # provided by the lowerer

        def error(self, node: cst.CSTNode, message: str, code: str, help: str | None = None) -> None: ...
        def origin(self, node: cst.CSTNode) -> ir.Origin: ...
        def atom(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...
        def value(
            self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin, target: str | None
        ) -> ir.Expr: ...
        def test(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> ir.Expr: ...
        def _short_circuit(
            self, kind: str, left: ir.Expr, later: list[ir.Stmt], right: ir.Expr, out: list[ir.Stmt], o: ir.Origin
        ) -> ir.Expr: ...
        def _begin_statement(self, target: str) -> None: ...
        def nested_definition(self, stmt: cst.CSTNode) -> bool: ...
        def _qualified(self, node: cst.CSTNode) -> set[str]: ...
        def _length(self, node: cst.BaseExpression) -> int | None: ...
        def elements(self, node: cst.BaseExpression, out: list[ir.Stmt], origin: ir.Origin) -> list[ir.Expr]: ...
        def small_statement(self, small: cst.BaseSmallStatement, out: list[ir.Stmt], origin: ir.Origin) -> None: ...
        def unsupported_statement(self, stmt: cst.CSTNode) -> None: ...
        def if_statement(self, stmt: cst.If, out: list[ir.Stmt]) -> None: ...
        def _temp_name(self, node: cst.BaseExpression) -> str: ...

    # ----- names ----------------------------------------------------------------------------------------------
    def _flag(self, kind: str) -> str:
        state = self._control
        if kind == "return":
            if state.done is None:
                state.done = self.fresh_local("done")
                state.flags.add(state.done)
            return state.done
        frame = state.frames[-1]
        if kind == "break":
            if frame.broke is None:
                frame.broke = self.fresh_local("broke")
                state.flags.add(frame.broke)
            return frame.broke
        if frame.skip is None:
            frame.skip = self.fresh_local("skip")
            state.flags.add(frame.skip)
        return frame.skip

    # ----- blocks ---------------------------------------------------------------------------------------------
    def _entries(self, stmts: Sequence[cst.CSTNode]) -> list[_Entry]:
        out: list[_Entry] = []
        for s in stmts:
            if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                out.append(_Smalls(tuple(s.body), self.origin(s)))
            elif isinstance(s, cst.If) and id(s) in self._decided:  # decided by the call site (.callsites)
                taken: cst.If | cst.Else | None = s if self._decided[id(s)] else s.orelse
                if isinstance(taken, cst.If) and taken is not s:
                    out += self._entries([taken])
                elif taken is not None:
                    out += self._entries(_suite_statements(taken.body))
            elif isinstance(s, cst.BaseCompoundStatement):
                out.append(s)
            else:
                self.unsupported_statement(s)
        return out

    def suite(self, suite: cst.BaseSuite) -> list[ir.Stmt]:
        """An indented block, or the statements after the colon of a one-line ``if c: x = 1``."""
        return self._block(self._entries(_suite_statements(suite)))

    def block(self, stmts: Sequence[cst.BaseStatement]) -> list[ir.Stmt]:
        return self._block(self._entries(stmts))

    def _block(self, entries: Sequence[_Entry]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for k, e in enumerate(entries):
            if isinstance(e, _Smalls):
                for small in e.smalls:
                    if self.nested_definition(small):
                        continue  # a lambda bound to a name: written out where it is called (see .nested)
                    if isinstance(small, _JUMPS):
                        self._jump(small, e.origin, out)
                        return out  # what follows is never reached
                    self.small_statement(small, out, e.origin)
                continue
            if self.nested_definition(e):
                continue  # lifted to a helper (see .nested)
            exits = _exits(e)
            if not exits or k + 1 == len(entries):
                self._compound(e, out)
                continue
            rest = entries[k + 1 :]  # sliced only here: once per block (a slice per statement was quadratic)
            if isinstance(e, cst.If) and self._push(e, rest, out):
                return out
            self._compound(e, out)
            flags = [self._flag(kind) for kind in sorted(exits)]
            out.append(ir.If(_not_any(flags), tuple(self._block(rest)), (), self.origin(e)))
            return out
        return out

    def _compound(self, e: cst.BaseCompoundStatement, out: list[ir.Stmt]) -> None:
        if isinstance(e, cst.If):
            self.if_statement(e, out)
        elif isinstance(e, cst.For):
            self.for_statement(e, out)
        elif isinstance(e, cst.While):
            self.while_statement(e, out)
        else:
            self.unsupported_statement(e)

    def _push(self, e: cst.If, rest: Sequence[_Entry], out: list[ir.Stmt]) -> bool:
        """``if c: ...jump`` followed by ``rest``: ``rest`` goes into the branch that does not always jump."""
        kinds = frozenset(_KIND.values())
        body = self._entries(_suite_statements(e.body))
        orelse: list[_Entry] = []
        if isinstance(e.orelse, cst.If):
            orelse = [e.orelse]
        elif isinstance(e.orelse, cst.Else):
            orelse = self._entries(_suite_statements(e.orelse.body))
        body_jumps, orelse_jumps = _always(body, kinds), bool(orelse) and _always(orelse, kinds)
        if body_jumps == orelse_jumps and not body_jumps:
            return False
        if not body_jumps:
            body = [*body, *rest]
        elif not orelse_jumps:
            orelse = [*orelse, *rest]
        origin = self.origin(e)
        self._begin_statement("cond")
        test = self.test(e.test, out, origin)
        out.append(ir.If(test, tuple(self._block(body)), tuple(self._block(orelse)), origin))
        return True

    def _jump(self, small: cst.BaseSmallStatement, origin: ir.Origin, out: list[ir.Stmt]) -> None:
        if isinstance(small, cst.Return):
            state = self._control
            if state.result is None:  # a function whose only return is its last statement
                self.unsupported_statement(small)
                return
            self._return_value(small, state.result, origin, out)
            for frame in state.frames:
                frame.returns = True
            out.append(ir.Assign(self._flag("return"), ir.Const(True), origin))
            return
        out.append(ir.Assign(self._flag(_KIND[type(small)]), ir.Const(True), origin))

    def _return_value(self, ret: cst.Return, result: str, origin: ir.Origin, out: list[ir.Stmt]) -> None:
        if self.context.tuple_result and isinstance(ret.value, cst.Tuple):  # s2sad vjp, s2sad jacobian
            self.error(
                ret,
                "a function with several 'return' statements must return one value from each",
                "non-scalar-return",
                "for a tuple result, compute the values in the branches and return them once, at the end",
            )
            return
        if ret.value is None or isinstance(ret.value, (cst.Tuple, cst.List, cst.Dict, cst.Set)):
            self.error(
                ret,
                "the function must return a single scalar",
                "non-scalar-return",
                "return one number (a loss); differentiate each output separately",
            )
            return
        self._begin_statement(result)
        out.append(ir.Assign(result, self.value(ret.value, out, origin, result), origin))

    # ----- functions that return early ----------------------------------------------------------------------
    def returning_body(self, name: cst.Name, body: Sequence[cst.BaseStatement]) -> list[ir.Stmt]:
        """The body of a function with several ``return``s: each assigns ``result``; one return at the end."""
        state = self._control
        state.result = self.fresh_local("result")
        entries = self._entries(body)
        stmts = self._block(entries)
        if not _always(entries, frozenset({"return"})):
            self.error(
                name,
                f"function '{name.value}' may end without a 'return' statement",
                "no-return",
                "s2sad differentiates the value of 'return <expression>': end every path with one (a loop "
                "never counts as returning: put a 'return' after it)",
            )
        ends = [e for e in entries if isinstance(e, _Smalls)]
        origin = ends[-1].origin if ends else None
        if state.result not in _must_define(stmts):  # every path assigns it, through flags the check cannot see
            stmts.insert(0, ir.Assign(state.result, ir.Const(0.0), origin))
        if state.done is not None:
            stmts.insert(0, ir.Assign(state.done, ir.Const(False), origin))
        stmts.append(ir.Return((ir.Var(state.result),), origin))
        return stmts

    def finish_control(self, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
        """``stmts`` without the flags nothing tests."""
        flags = self._control.flags
        if not flags:
            return stmts
        return _prune(stmts, flags - _reads(stmts))

    # ----- loops --------------------------------------------------------------------------------------------
    def _directive(self, stmt: cst.For | cst.While) -> Directive | None:
        found, problems = loop_directive(stmt)
        for p in problems:
            self.error(p.node, p.message, p.code, p.help)
        return found

    def _mark(self, stmt: cst.For | cst.While, directive: Directive | None, out: list[ir.Stmt], start: int) -> None:
        """Put ``directive`` on the loop that lowering ``stmt`` appended to ``out`` after ``start``."""
        if directive is None:
            return
        loops = [k for k in range(start, len(out)) if isinstance(out[k], (ir.For, ir.While))]
        if len(loops) != 1 or not isinstance(out[loops[0]], ir.For if directive.name == "checkpoint" else ir.While):
            self.error(
                directive.comment,
                f"'# s2sad: {directive.name}' is not supported on this loop",
                "unsupported-directive",
                "a checkpointed loop is a 'for' over range(...); a fixed-point loop is a 'while' loop",
            )
            return
        k = loops[0]
        if directive.name == "checkpoint":
            out[k] = replace(out[k], checkpoint=directive.argument or 0)  # type: ignore[call-arg]
        else:
            out[k] = replace(out[k], fixed_point=True)  # type: ignore[call-arg]

    def while_statement(self, stmt: cst.While, out: list[ir.Stmt]) -> None:
        directive, start = self._directive(stmt), len(out)
        if directive is not None and directive.name == "fixed-point":
            for jump in fixed_points.jumps(stmt):
                kind = _KIND[type(jump)]
                self.error(
                    jump,
                    f"'{kind}' inside a fixed-point loop: it must end only when its test says it has converged",
                    "bad-fixed-point",
                    "put the stopping rule into the loop's test, or remove '# s2sad: fixed-point'",
                )
        self._while_statement(stmt, out)
        self._mark(stmt, directive, out, start)

    def _while_statement(self, stmt: cst.While, out: list[ir.Stmt]) -> None:
        origin = self.origin(stmt)
        if stmt.orelse is not None:
            self.error(
                stmt.orelse,
                "'while ... else' is not supported",
                "unsupported-syntax",
                "set a flag before 'break' and test it after the loop",
            )
        setup: list[ir.Stmt] = []
        self._begin_statement("cond")
        test = self.test(stmt.test, setup, origin)
        frame, body = self._loop_body(stmt.body, [])
        self._while(frame, setup, test, body, origin, out)

    def _loop_body(self, suite: cst.BaseSuite, bindings: list[ir.Stmt]) -> tuple[_Frame, list[ir.Stmt]]:
        frame = _Frame()
        self._control.frames.append(frame)
        try:
            body = self.suite(suite)
        finally:
            self._control.frames.pop()
        if frame.skip is not None:
            body.insert(0, ir.Assign(frame.skip, ir.Const(False)))
        return frame, bindings + body

    def _exit_flags(self, frame: _Frame) -> list[str]:
        flags = [frame.broke] if frame.broke is not None else []
        if frame.returns and self._control.done is not None:
            flags.append(self._control.done)
        return flags

    def _while(
        self,
        frame: _Frame,
        setup: list[ir.Stmt],
        test: ir.Expr,
        body: list[ir.Stmt],
        origin: ir.Origin,
        out: list[ir.Stmt],
    ) -> None:
        exits = self._exit_flags(frame)
        if exits:
            guard = _not_any(exits)
            if setup:  # the test's operands are computed only while the loop has not been left
                later, setup = setup, []
                test = self._short_circuit("and", guard, later, test, setup, origin)
            else:
                rest = test.values if isinstance(test, ir.BoolOp) and test.op == "and" else (test,)
                test = ir.BoolOp("and", (guard, *rest))
        if frame.broke is not None:
            out.append(ir.Assign(frame.broke, ir.Const(False), origin))
        out.append(ir.While(tuple(setup), test, tuple(body), None, origin))

    def for_statement(self, stmt: cst.For, out: list[ir.Stmt]) -> None:
        directive, start = self._directive(stmt), len(out)
        self._for_statement(stmt, out)
        self._mark(stmt, directive, out, start)

    def _for_statement(self, stmt: cst.For, out: list[ir.Stmt]) -> None:
        origin = self.origin(stmt)
        if stmt.orelse is not None:
            self.error(
                stmt.orelse,
                "'for ... else' is not supported",
                "unsupported-syntax",
                "set a flag before 'break' and test it after the loop",
            )
        if stmt.asynchronous is not None:
            self.error(stmt, "'async for' is not supported", "unsupported-syntax")
            return
        ranged = self._range(stmt.iter)
        if ranged is not None:
            if not isinstance(stmt.target, cst.Name):
                self.error(stmt.target, "the loop variable of a range must be a single name", "unsupported-syntax")
                return
            iterator, reverse = ranged
            index = stmt.target.value
            self._begin_statement(index)
            args = tuple(self.atom(a.value, out, origin) for a in iterator.args)
            self._counted(index, True, args, reverse, lambda i: [], stmt, out)
            return
        self._begin_statement("items")
        self._loop_assigned, self._loop_resizes = _assigned(stmt.body), _resizes(stmt.body)
        source = self._source(stmt.iter, out, origin)
        if source is None:
            return
        if isinstance(source, list):
            self._unrolled(stmt, source, out)
            return
        target = stmt.target
        first = target.elements[0].value if isinstance(target, (cst.Tuple, cst.List)) and target.elements else None
        if source.counts and isinstance(first, cst.Name) and len(target.elements) == 2:  # type: ignore[union-attr]
            # for i, v in enumerate(xs): the loop's own index is the user's 'i'
            second = target.elements[1].value  # type: ignore[union-attr]

            def bind(i: ir.Expr) -> list[ir.Stmt]:
                bound: list[ir.Stmt] = []
                tree = source.item(i)
                assert isinstance(tree, list)
                self._bind_target(second, tree[1], bound, origin)
                return bound

            self._counted(first.value, True, (source.length,), source.reverse, bind, stmt, out)
            return

        def bind_all(i: ir.Expr) -> list[ir.Stmt]:
            bound: list[ir.Stmt] = []
            self._bind_target(target, source.item(i), bound, origin)
            return bound

        self._counted(self._index_name(), False, (source.length,), source.reverse, bind_all, stmt, out)

    def _index_name(self) -> str:
        depth = len(self._control.frames)
        if depth not in self._control.indices:
            self._control.indices[depth] = self.fresh_local("i")
        return self._control.indices[depth]

    def _counted(
        self,
        index: str,
        own: bool,
        args: tuple[ir.Expr, ...],
        reverse: bool,
        bind: Callable[[ir.Expr], list[ir.Stmt]],
        stmt: cst.For,
        out: list[ir.Stmt],
    ) -> None:
        """``for index in range(*args)`` (reversed), each iteration first binding ``bind(index)``."""
        origin = self.origin(stmt)
        bindings = bind(ir.Var(index))
        frame, body = self._loop_body(stmt.body, bindings)
        exits = self._exit_flags(frame)
        if not exits:
            out.append(ir.For(index, args, reverse, tuple(body), origin))
            return
        step = args[2] if len(args) == 3 else ir.Const(1)
        start, stop = (args[0], args[1]) if len(args) >= 2 else (ir.Const(0), args[0])
        constant = isinstance(step, ir.Const) and isinstance(step.value, int) and step.value != 0
        # The loop variable is the counter: the body must not assign it, and nothing outside the loop may read
        # it (Python leaves it at the last value taken; the counter goes one step further).
        shared = own and (index in _assigned(stmt.body) or self._seen_outside(stmt, index))
        # Else the variable gets the counter's value in each iteration, if it has a value before the loop
        # (the later stages record its old value, which must exist).
        counter = self.fresh_local(f"{index}_next") if shared and self._bound_before(stmt, index) else index
        if not constant or (reverse and step != ir.Const(1)) or (shared and counter == index):
            # the loop runs every iteration, doing nothing once it has been left
            if frame.broke is not None:
                out.append(ir.Assign(frame.broke, ir.Const(False), origin))
            out.append(ir.For(index, args, reverse, (ir.If(_not_any(exits), tuple(body), (), origin),), origin))
            return
        assert isinstance(step, ir.Const) and isinstance(step.value, int)
        assigned = ir.assigned_names(tuple(body))
        if reverse:
            start, stop = stop, start
        if isinstance(stop, ir.Var) and stop.name in assigned | {index, counter}:  # range(...) is evaluated once
            copy = self.fresh_local(f"{ir.temp_base(stop.name)}_stop")
            out.append(ir.Assign(copy, stop, origin))
            stop = ir.Var(copy)
        if reverse:
            out.append(ir.Assign(counter, ir.Call("operator.sub", (start, ir.Const(1))), origin))
            compare, delta = "operator.ge", -1
        else:
            out.append(ir.Assign(counter, start, origin))
            compare, delta = ("operator.lt" if step.value > 0 else "operator.gt"), step.value
        if counter != index:
            body.insert(0, ir.Assign(index, ir.Var(counter), origin))
        body.append(ir.Assign(counter, ir.Call("operator.add", (ir.Var(counter), ir.Const(delta))), origin))
        self._while(frame, [], ir.Call(compare, (ir.Var(counter), stop)), body, origin, out)

    def _bound_before(self, loop: cst.For, name: str) -> bool:
        """Whether ``name`` has a value when ``loop`` starts: a parameter, or assigned by a statement of the
        function's top level before the loop, which is itself at the top level."""
        node = self._function_node
        if node is None:
            return False
        every = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        if any(p.name.value == name for p in every):
            return True
        seen = False
        for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
            if stmt is loop:
                return seen
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and any(
                        isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets
                    ):
                        seen = True
                    elif isinstance(small, cst.AnnAssign) and small.value is not None:
                        seen = seen or (isinstance(small.target, cst.Name) and small.target.value == name)
        return False

    def _unrolled(self, stmt: cst.For, items: list[_Tree], out: list[ir.Stmt]) -> None:
        """``for v in (a, b)``: the body once per item, each copy after the first run only if not left."""
        origin = self.origin(stmt)
        frame = _Frame()
        self._control.frames.append(frame)
        copies: list[list[ir.Stmt]] = []
        try:
            for tree in items or [ir.Const(0)]:
                bound: list[ir.Stmt] = []
                self._bind_target(stmt.target, tree, bound, origin)
                copies.append(bound + self.suite(stmt.body))
        finally:
            self._control.frames.pop()
        if not items:
            return  # the body was lowered only for its diagnostics: it never runs
        exits = self._exit_flags(frame)
        if frame.broke is not None:
            out.append(ir.Assign(frame.broke, ir.Const(False), origin))
        for k, copy in enumerate(copies):
            if frame.skip is not None:
                copy.insert(0, ir.Assign(frame.skip, ir.Const(False)))
            if k and exits:
                out.append(ir.If(_not_any(exits), tuple(copy), (), origin))
            else:
                out.extend(copy)

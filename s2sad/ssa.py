"""SSA: give every definition its own name, keeping the user's names.

A reassigned variable gets versions ``x``, ``x_1``, ``x_2`` in program order; an intermediate the frontend
invented gets its descriptive base name (``sin_x``), suffixed only when that name is taken. Two kinds of name
are deliberately assigned more than once, so that the output keeps the program's structure:

- a loop-*carried* name: a variable defined before a loop and reassigned in it keeps its name; the last
  definition in the body writes it (``x = sin(x) * y`` stays one line) and earlier ones get versions;
- an ``if``'s *merge* name: a variable assigned in a branch gets one new version, written by the last
  definition in each branch; a branch that does not assign it copies the old value (a visible phi).

Copies into invented intermediates are propagated, not emitted. Reading a variable that may be unassigned is
a diagnostic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from . import ir
from .diagnostics import Diagnostic, S2sadError
from .ir import must_define
from .names import ModuleNames

__all__ = ["to_ssa", "must_define"]


def to_ssa(fn: ir.Function, names: ModuleNames | None = None) -> ir.Function:
    """``fn`` in SSA form; the names it invents come from ``names``, the generated module's names."""
    stale = _IndexAfterLoop(fn.path)
    stale.block(fn.body, frozenset())
    if stale.diagnostics:
        raise S2sadError(list(stale.diagnostics.values()))
    renamer = _Renamer(fn, names or ModuleNames.of([fn]))
    env: dict[str, ir.Expr] = {p.name: ir.Var(renamer.namer.claim(p.name)) for p in fn.params}
    body = renamer.block(fn.body, env, {})
    if renamer.diagnostics:
        raise S2sadError(renamer.diagnostics)
    return replace(fn, body=tuple(body), invented=frozenset(renamer.invented - _read_twice(body)))


def _read_twice(stmts: Sequence[ir.Stmt]) -> set[str]:
    """Names more than one statement reads. The later stages take an invented intermediate to be read by one
    statement (its adjoint is complete there); one read twice (a lambda's argument, inlined where its
    parameter occurs) is an ordinary variable."""
    seen: set[str] = set()
    twice: set[str] = set()
    for s in ir.walk(tuple(stmts)):
        if isinstance(s, (ir.Assign, ir.Accumulate, ir.Unpack)):
            exprs: tuple[ir.Expr, ...] = (s.value,)
        elif isinstance(s, (ir.If, ir.While, ir.Require)):
            exprs = (s.test,)
        elif isinstance(s, ir.For):
            exprs = s.range_args
        elif isinstance(s, ir.Return):
            exprs = s.values
        else:
            exprs = ()
        names = {n for e in exprs for n in ir.expr_names(e)}
        twice |= names & seen
        seen |= names
    return twice


def _exposed(stmts: Sequence[ir.Stmt]) -> set[str]:
    """Names ``stmts`` may read before assigning them (the value they see comes from before)."""
    out: set[str] = set()
    done: set[str] = set()

    def reads(*exprs: ir.Expr) -> set[str]:
        return {n for e in exprs for n in ir.expr_names(e)} - done

    for s in stmts:
        if isinstance(s, ir.Assign):
            out |= reads(s.value)
            done.add(s.target)
        elif isinstance(s, ir.If):
            out |= reads(s.test) | (_exposed(s.body) | _exposed(s.orelse)) - done
            done |= must_define(s.body) & must_define(s.orelse)
        elif isinstance(s, ir.For):
            out |= reads(*s.range_args) | _exposed(s.body) - done - {s.index}
        elif isinstance(s, ir.While):
            setup = must_define(s.setup)
            out |= _exposed(s.setup) - done
            out |= reads(s.test) - setup | _exposed(s.body) - done - setup
            done |= setup
        elif isinstance(s, ir.Return):
            out |= reads(*s.values)
        elif isinstance(s, ir.Require):
            out |= reads(s.test)
        else:  # not in the frontend's IR: as if what it assigns were read first (kept carried)
            out |= ir.assigned_names((s,))
    return out


def _defines(s: ir.Stmt) -> set[str]:
    if isinstance(s, ir.Assign):
        return {s.target}
    if isinstance(s, ir.For):
        return ir.assigned_names(s.body)
    if isinstance(s, ir.If):
        return ir.assigned_names(s.body) | ir.assigned_names(s.orelse)
    if isinstance(s, ir.While):
        return ir.assigned_names(s.setup) | ir.assigned_names(s.body)
    return set()


class _IndexAfterLoop:
    """Refuses reading a ``for`` loop's index after the loop (Python keeps the last index, or the old value
    when the loop ran no iteration: a merge the renaming does not represent). A name holds such a value from
    the end of its loop until it is assigned again; loops are followed round their back edge."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: dict[int, Diagnostic] = {}

    def check(self, names: set[str], stale: frozenset[str], origin: ir.Origin | None) -> None:
        read = sorted(names & stale)
        if read and origin is not None and id(origin) not in self.diagnostics:
            self.diagnostics[id(origin)] = ir.diagnostic(
                self.path,
                origin,
                f"'{ir.temp_base(read[0])}' is read after the loop it indexes",
                "loop-index-after-loop",
                "copy the index into a variable of its own inside the loop, or compute the value after the loop",
            )

    def block(self, stmts: Sequence[ir.Stmt], stale: frozenset[str]) -> frozenset[str]:
        for s in stmts:
            stale = self.stmt(s, stale)
        return stale

    def stmt(self, s: ir.Stmt, stale: frozenset[str]) -> frozenset[str]:
        def reads(*exprs: ir.Expr) -> set[str]:
            return {n for e in exprs for n in ir.expr_names(e)}

        if isinstance(s, ir.Assign):
            self.check(reads(s.value), stale, s.origin)
            return stale - {s.target}
        if isinstance(s, ir.Return):
            self.check(reads(*s.values), stale, s.origin)
            return stale
        if isinstance(s, ir.If):
            self.check(reads(s.test), stale, s.origin)
            return self.block(s.body, stale) | self.block(s.orelse, stale)
        if isinstance(s, ir.For):
            self.check(reads(*s.range_args), stale, s.origin)
            entry = stale
            while True:  # the back edge: what one iteration leaves stale, the next one starts with
                end = self.block(s.body, entry - {s.index})
                if end <= entry:
                    return stale | end | {s.index}
                entry = entry | end
        if isinstance(s, ir.While):
            entry = stale
            while True:
                tested = self.block(s.setup, entry)
                self.check(reads(s.test), tested, s.origin)
                end = self.block(s.body, tested)
                if end <= entry:
                    return tested
                entry = entry | end
        return stale


class _Renamer:
    def __init__(self, fn: ir.Function, names: ModuleNames) -> None:
        self.path = fn.path
        self.diagnostics: list[Diagnostic] = []
        self.namer = names.local(fn)
        self.invented: set[str] = set()
        self.maybe_unset: set[str] = set()  #: versions only a loop assigns: unset if it ran no iteration
        #: each such version -> the block holding the loop that assigns it, and that loop
        self.unset_at: dict[str, tuple[list[ir.Stmt], ir.Stmt]] = {}
        assigned = {s.target for s in ir.walk(fn.body) if isinstance(s, ir.Assign)}
        # A name used only as a loop index keeps its name in every loop that uses it.
        self.index_only = {s.index for s in ir.walk(fn.body) if isinstance(s, ir.For)} - assigned
        self.index_only -= {p.name for p in fn.params}

    def name_for(self, var: str) -> str:
        if var.startswith(ir.TEMP):
            name = self.namer.fresh(ir.temp_base(var))
            self.invented.add(name)
            return name
        return self.namer.fresh(var, own=True)

    def read(self, e: ir.Expr, env: dict[str, ir.Expr], origin: ir.Origin | None) -> ir.Expr:
        if isinstance(e, ir.Var):
            if e.name in env:
                return env[e.name]
            self.undefined(e.name, origin)
            return e
        if isinstance(e, ir.Call):
            return ir.Call(e.fn, tuple(self.read(a, env, origin) for a in e.args))
        if isinstance(e, ir.LibraryCall):
            keywords = tuple((k, self.read(v, env, origin)) for k, v in e.keywords)
            return ir.LibraryCall(e.fn, tuple(self.read(a, env, origin) for a in e.args), keywords)
        if isinstance(e, ir.BoolOp):
            return ir.BoolOp(e.op, tuple(self.read(v, env, origin) for v in e.values))
        if isinstance(e, ir.Slice):
            return ir.Slice(*(self.read(p, env, origin) for p in (e.start, e.stop, e.step)))
        return e

    def undefined(self, name: str, origin: ir.Origin | None) -> None:
        if origin is None:
            return
        shown = ir.temp_base(name)
        self.diagnostics.append(
            ir.diagnostic(
                self.path,
                origin,
                f"'{shown}' may be used before it is assigned",
                "possibly-undefined",
                "assign it before the loop or branch, on every path",
            )
        )

    def block(self, stmts: Sequence[ir.Stmt], env: dict[str, ir.Expr], finals: dict[str, str]) -> list[ir.Stmt]:
        """Rename ``stmts``; the last definition of a name in ``finals`` writes the name given there."""
        last: dict[str, int] = {}
        for i, s in enumerate(stmts):
            for v in _defines(s):
                last[v] = i
        required = {v: f for v, f in finals.items() if v in last}
        out: list[ir.Stmt] = []
        for i, s in enumerate(stmts):
            final = {v: f for v, f in required.items() if last[v] == i}
            if isinstance(s, ir.Assign):
                rewritten = {f for v, f in required.items() if last[v] > i}  # names this block writes again
                self.assign(s, env, final, out, rewritten)
            elif isinstance(s, ir.If):
                self.if_(s, env, final, out)
            elif isinstance(s, ir.For):
                self.for_(s, env, final, out)
            elif isinstance(s, ir.While):
                self.while_(s, env, final, out)
            elif isinstance(s, ir.Return):
                out.append(ir.Return(tuple(self.read(v, env, s.origin) for v in s.values), s.origin))
            elif isinstance(s, ir.Require):  # a check of the user's function (see frontend.aliasing)
                out.append(ir.Require(self.read(s.test, env, None), s.message, s.error))
            else:
                out.append(s)
        return out

    def assign(
        self, s: ir.Assign, env: dict[str, ir.Expr], final: dict[str, str], out: list[ir.Stmt], rewritten: set[str]
    ) -> None:
        value = self.read(s.value, env, s.origin)
        copy = not isinstance(value, (ir.Call, ir.LibraryCall, ir.BoolOp))
        if s.target.startswith(ir.TEMP) and s.target not in final and copy:
            # A copy into an intermediate is propagated, unless it holds a name the block overwrites later
            # (y, x = x, f(y) in a loop: the old y must be kept).
            if not (isinstance(value, ir.Var) and value.name in rewritten):
                env[s.target] = value
                return
        name = final.get(s.target) or self.name_for(s.target)
        out.append(ir.Assign(name, value, s.origin))
        env[s.target] = ir.Var(name)

    def _copy_to_finals(
        self, final: dict[str, str], env: dict[str, ir.Expr], out: list[ir.Stmt], origin: ir.Origin | None
    ) -> None:
        for v, f in sorted(final.items()):
            current = env.get(v)
            if current is None:
                continue
            if current != ir.Var(f):
                out.append(ir.Assign(f, current, origin))
                env[v] = ir.Var(f)

    def if_(self, s: ir.If, env: dict[str, ir.Expr], final: dict[str, str], out: list[ir.Stmt]) -> None:
        test = self.read(s.test, env, s.origin)
        defined = _defines(s)
        both = must_define(s.body) & must_define(s.orelse)
        merged = sorted(v for v in defined if v in env or v in both)
        merge_names = {v: final.get(v) or self.name_for(v) for v in merged}
        branches: list[tuple[ir.Stmt, ...]] = []
        for block in (s.body, s.orelse):
            benv = dict(env)
            renamed = self.block(block, benv, merge_names)
            self._copy_to_finals(merge_names, benv, renamed, s.origin)
            branches.append(tuple(renamed))
        for v in defined:
            env.pop(v, None)
        for v, f in merge_names.items():
            env[v] = ir.Var(f)
        out.append(ir.If(test, branches[0], branches[1], s.origin))

    def _loop_names(
        self,
        defined: set[str],
        body: Sequence[ir.Stmt],
        env: dict[str, ir.Expr],
        out: list[ir.Stmt],
        origin: ir.Origin | None,
    ) -> dict[str, str]:
        """Carried names: variables defined before the loop keep their current name through it. A copy
        propagated into an intermediate that reads one is assigned before the loop, which changes the name's
        value (the intermediate keeps the value from before it)."""
        carried: dict[str, str] = {}
        for v in sorted(defined):
            current = env.get(v)
            if isinstance(current, ir.Var) and not v.startswith(ir.TEMP):
                carried[v] = current.name
        # a value only a loop before assigned may not exist (that loop ran no iteration): a loop that assigns
        # it before reading it gives it a new version instead of recording the old one
        exposed = _exposed(body)
        for v in [v for v, name in carried.items() if name in self.maybe_unset and v not in exposed]:
            del carried[v]
        # one this loop may read before assigning it (under a branch, on an iteration where the user's function
        # does not read it after all) is recorded all the same: when the loop that assigns it may run no
        # iteration, it is first bound to None there (a value no arithmetic accepts), so that recording it
        # cannot stop the generated code where the user's function runs
        for v in [v for v, name in carried.items() if name in self.maybe_unset and v in exposed]:
            name = carried[v]
            self.maybe_unset.discard(name)
            block, loop = self.unset_at.pop(name)
            at = next(i for i, s in enumerate(block) if s is loop)
            block.insert(at, ir.Assign(name, ir.Const(None), None))
        names = set(carried.values())
        for v, e in list(env.items()):
            if v.startswith(ir.TEMP) and names & set(ir.expr_names(e)):
                name = self.name_for(v)
                out.append(ir.Assign(name, e, origin))
                env[v] = ir.Var(name)
        return carried

    def _after_loop(
        self,
        defined: set[str],
        carried: dict[str, str],
        body: Sequence[ir.Stmt],
        benv: dict[str, ir.Expr],
        env: dict[str, ir.Expr],
        final: dict[str, str],
        out: list[ir.Stmt],
        origin: ir.Origin | None,
    ) -> None:
        loop = out[-1]  # the loop just renamed
        surely = must_define(body)
        for v in defined:
            if v in carried:
                env[v] = ir.Var(carried[v])
            elif v in surely and not v.startswith(ir.TEMP) and v in benv:
                env[v] = benv[v]  # the last iteration's value (the loop must run, as in the original)
                if isinstance(benv[v], ir.Var):
                    self.maybe_unset.add(benv[v].name)
                    self.unset_at[benv[v].name] = (out, loop)
            else:  # not assigned on every path, or last a loop index (stale after its loop)
                env.pop(v, None)
        self._copy_to_finals(final, env, out, origin)

    def for_(self, s: ir.For, env: dict[str, ir.Expr], final: dict[str, str], out: list[ir.Stmt]) -> None:
        args = tuple(self.read(a, env, s.origin) for a in s.range_args)
        index = self.namer.claim(s.index) if s.index in self.index_only else self.name_for(s.index)
        defined = ir.assigned_names(s.body)
        carried = self._loop_names(defined, s.body, env, out, s.origin)
        # range(n) is evaluated once; if the body reassigns n, the reverse loop must still see the first n
        rewritten = set(carried.values())
        snapshots: list[ir.Expr] = []
        for a in args:
            if isinstance(a, ir.Var) and a.name in rewritten:
                copy = self.namer.fresh(f"{a.name}_range")
                out.append(ir.Assign(copy, a, s.origin))
                a = ir.Var(copy)
            snapshots.append(a)
        args = tuple(snapshots)
        benv = dict(env)
        benv[s.index] = ir.Var(index)
        body = self.block(s.body, benv, carried)
        out.append(replace(s, index=index, range_args=args, body=tuple(body)))
        env.pop(s.index, None)
        self._after_loop(defined, carried, s.body, benv, env, final, out, s.origin)

    def while_(self, s: ir.While, env: dict[str, ir.Expr], final: dict[str, str], out: list[ir.Stmt]) -> None:
        defined = ir.assigned_names(s.setup) | ir.assigned_names(s.body)
        carried = self._loop_names(defined, s.setup + s.body, env, out, s.origin)
        benv = dict(env)
        setup = self.block(s.setup, benv, {})
        test = self.read(s.test, benv, s.origin)
        body = self.block(s.body, benv, carried)
        # The setup runs again before each test: inside the loop it must read the carried names, which it
        # does, since carried names keep one name through the loop.
        out.append(replace(s, setup=tuple(setup), test=test, body=tuple(body), counter=None))
        self._after_loop(defined, carried, s.body, benv, env, final, out, s.origin)

"""Recording: the forward pass of a gradient function, and what its loops record for the reverse pass.

The forward pass computes only the values the reverse pass or the result reads, writing intermediates used
once back into the expression they came from (``math.sin(x) * y``). Inside a loop, a value the reverse pass
reads but a later iteration overwrites is pushed on a stack (``x_stack``) at the end of the block that defines
it and popped at the start of that block's reverse, unless it is cheap to recompute (one operation on loop
indices, values the loop does not change and, for scalars, values the reverse pass restores anyway) or every
iteration computes it alike (then the reverse pass reads the value the forward pass left); a carried name is
pushed just before the statement that overwrites it. A
``while`` loop counts its iterations, for the reverse loop to run as many. A branch test the branch itself
invalidates is recorded as ``cond``.

:class:`Recording` is the half of :class:`s2sad.reverse._Gradient` that decides this; the other half writes
the adjoint statements; what a loop body records is its base :class:`s2sad.loop_records.LoopRecords`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from . import checkpoint, fixed_point, ir
from .analysis import Activity, reach
from .diagnostics import Span
from .loop_records import LoopRecords
from .names import ModuleNames, Scope
from .shape_source import Adjoints
from .shapes import Scalar
from .statement_reads import G, Loop, _body, _names, blocks, checks, defines, stmt_reads
from .values import Values
from .writes import is_append, is_write, restore, same_array, saved, write_reads

__all__ = ["Recording", "Loop", "G", "stmt_reads", "defines", "blocks"]


class Recording(LoopRecords):
    """What the forward pass computes and records (mixed into ``_Gradient``, which provides the state)."""

    fn: ir.Function
    act: Activity
    mode: str
    with_value: bool
    namer: Scope
    names: ModuleNames
    _bars: Adjoints
    _stacks: dict[str, str]
    def_count: dict[str, int]
    overwriting: set[int]
    returned: ir.Return | None
    reads_all: set[str]
    recomputed: dict[str, ir.Assign]
    needed: set[str]
    zero_reads: set[str]  #: arrays the reverse pass may read for the shape of a zero adjoint (see _zero_reads)
    foldable: set[str]
    restored: set[str]
    saved_names: dict[int, str]  #: id of a helper call -> the name of what its forward function saves
    fixed_inside: set[int]  #: ids of the statements inside fixed-point loops: never recorded (s2sad.fixed_point)
    fixed_points: Mapping[Span, fixed_point.FixedPoint]  #: the fixed-point loops with an implicit adjoint
    untaped = False  #: True while the forward pass of a fixed-point loop is built: it records nothing
    #: while :meth:`_all_reads` runs: id of an assignment -> (it, what its reverse reads)
    _assign_reads: dict[int, tuple[ir.Stmt, set[str]]] | None = None
    _contribution_names: dict[int, tuple[ir.Assign, set[str]]]  #: see _contribution_reads
    values: Values
    #: each write the forward pass records (see s2sad.writes): id -> the name of the saved entries, its stack
    _olds: dict[int, tuple[str, str | None]]

    def contributions(self, s: ir.Assign) -> dict[str, ir.Expr]:
        raise NotImplementedError

    def has_work(self, stmts: Sequence[ir.Stmt]) -> bool:
        raise NotImplementedError

    def discard(self) -> str:
        raise NotImplementedError

    # ----- names and records -------------------------------------------------------------------------------
    def saved_of(self, s: ir.Stmt) -> str | None:
        """The name of the values a helper call's forward function saves for its adjoint (``p_saved``)."""
        return self.saved_names.get(id(s)) if isinstance(s, ir.Assign) else None

    def saves(self, s: ir.Stmt) -> bool:
        """Whether the forward pass keeps what the helper call ``s`` saves (its adjoint is called)."""
        saved = self.saved_of(s)
        return saved is not None and saved in self.needed

    def _defined_by(self, s: ir.Assign) -> list[str]:
        saved = self.saved_of(s)
        return [s.target] if saved is None else [s.target, saved]

    def _record_tests(self, stmts: Sequence[ir.Stmt]) -> list[ir.Stmt]:
        """A branch test that reads a name the branch itself reassigns is evaluated once, into ``cond``,
        so the reverse pass tests what the forward pass tested; other tests are simply evaluated again."""
        out: list[ir.Stmt] = []
        for s in stmts:
            if isinstance(s, ir.If):
                body, orelse = tuple(self._record_tests(s.body)), tuple(self._record_tests(s.orelse))
                test = s.test
                if set(ir.expr_names(test)) & (ir.assigned_names(body) | ir.assigned_names(orelse)):
                    name = self.namer.fresh("cond")
                    out.append(ir.Assign(name, test, s.origin))
                    test = ir.Var(name)
                out.append(ir.If(test, body, orelse, s.origin))
            elif isinstance(s, ir.For):
                out.append(replace(s, body=tuple(self._record_tests(s.body))))
            elif isinstance(s, ir.While):
                out.append(replace(s, body=tuple(self._record_tests(s.body))))
            else:
                out.append(s)
        return out

    def stack(self, name: str) -> str:
        if name not in self._stacks:
            self._stacks[name] = self.namer.fresh(f"{name}_stack")
        return self._stacks[name]

    def counter(self, s: ir.While) -> str:
        key = f"$while{id(s)}"
        if key not in self._bars:
            self._bars[key] = self.namer.fresh("iterations")
        return self._bars[key]

    def _definitions(self) -> None:
        """Where each name is defined, in program order (a parameter before the body)."""
        self._order = {id(t): i for i, t in enumerate(ir.walk(self.fn.body))}
        # Memos of the queries below, per loop and per block (keyed by id: the statements they describe
        # live as long as self.fn, and the blocks are pinned in the memo), so that they cost O(n), not O(n^2).
        self._ends: dict[int, int] = {}
        self._assigns_in: dict[int, dict[str, int]] = {}
        self._recomputable: dict[tuple[int, ...], tuple[object, dict[str, ir.Assign]]] = {}
        self._changing: dict[tuple[int, ...], tuple[object, set[str]]] = {}
        self._where: dict[str, list[int]] = {p.name: [-1] for p in self.fn.params}
        self._contribution_names: dict[int, tuple[ir.Assign, set[str]]] = {}
        for t in ir.walk(self.fn.body):
            if isinstance(t, ir.Assign):
                for n in self._defined_by(t):
                    self._where.setdefault(n, []).append(self._order[id(t)])

    def reaching(self, name: str, loops: tuple[Loop, ...]) -> int:
        """How many definitions of ``name`` (a parameter counts as one) can reach a statement inside ``loops``:
        those before the outermost loop ends. A name reused by a later loop is not a value an earlier one sees."""
        if not loops:
            return self.def_count.get(name, 0)
        if id(loops[0]) not in self._ends:  # the outermost loop's last statement, once per loop
            self._ends[id(loops[0])] = max(self._order[id(t)] for t in ir.walk(loops[:1]))
        end = self._ends[id(loops[0])]
        return sum(1 for i in self._where.get(name, ()) if i <= end)

    def _overwriting(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> set[int]:
        """Assignments that overwrite a value from before their loop (a carried name): ids of the statements."""
        out: set[int] = set()
        for s in stmts:
            if isinstance(s, ir.Assign) and loops:
                if id(loops[-1]) not in self._assigns_in:  # definitions of each name inside the loop
                    counts: dict[str, int] = {}
                    for t in ir.walk(_body(loops[-1])):
                        if isinstance(t, ir.Assign):
                            counts[t.target] = counts.get(t.target, 0) + 1
                    self._assigns_in[id(loops[-1])] = counts
                inside = self._assigns_in[id(loops[-1])].get(s.target, 0)
                if self.reaching(s.target, loops) > inside:
                    out.add(id(s))
            inner = loops + (s,) if isinstance(s, (ir.For, ir.While)) else loops
            for block in blocks(s):
                out |= self._overwriting(block, inner)
        return out

    def restores(self, s: ir.Assign) -> bool:
        """Whether the forward pass records the value ``s`` overwrites, for the reverse pass to restore."""
        if id(s) in self.fixed_inside:
            return False
        return id(s) in self.overwriting and s.target in self.reads_all and not same_array(s)

    def saves_write(self, s: ir.Stmt) -> bool:
        """Whether ``s`` is a write into an array whose replaced entries the forward pass saves and the reverse
        pass puts back (see :mod:`s2sad.writes`): every write the gradient runs. Before ``needed`` is known,
        every write (an over-approximation, for the fixed point of what the reverse pass reads)."""
        needed = getattr(self, "needed", None)
        return (
            self.mode != "primal"
            and id(s) not in self.fixed_inside
            and is_write(s)
            and (needed is None or (isinstance(s, ir.Assign) and s.target in needed))
        )

    def save_write(self, s: ir.Assign, loops: tuple[Loop, ...]) -> list[ir.Stmt]:
        """Before the write ``s``: the entries it replaces, saved (and pushed, inside a loop)."""
        array = s.value.args[0] if isinstance(s.value, ir.Call) else None
        assert isinstance(array, ir.Var)
        if is_append(s):
            self._olds[id(s)] = ("", None)  # undone by a pop: nothing to save
            return []
        old = self.namer.fresh(f"{array.name}_old")
        stack = self.stack(old) if loops else None
        self._olds[id(s)] = (old, stack)
        out: list[ir.Stmt] = [ir.Assign(old, saved(s))]
        if stack is not None:
            out.append(ir.Push(stack, old))
        return out

    def restore_write(self, s: ir.Assign) -> list[ir.Stmt]:
        """In the reverse of the write ``s``, after its adjoint: the entries it replaced, put back."""
        if id(s) not in self._olds:
            return []
        old, stack = self._olds[id(s)]
        if is_append(s):
            items = s.value.args[0] if isinstance(s.value, ir.Call) else None
            assert isinstance(items, ir.Var)
            return [ir.Pop(self.discard(), items.name)]
        return ([ir.Pop(old, stack)] if stack is not None else []) + [restore(s, old)]

    # ----- what the reverse pass reads, what the forward pass computes --------------------------------------
    def _reads(self, s: ir.Stmt) -> set[str]:
        """Forward names the reverse of ``s`` reads (at any depth)."""
        if type(s) is ir.Assign:  # (never a fixed-point loop)
            memo = self._assign_reads
            known = memo.get(id(s)) if memo is not None else None
            if known is not None and known[0] is s:
                return known[1]
            reads = self._contribution_reads(s)
            found = reads | write_reads(s) if self.saves_write(s) else reads
            if memo is not None:
                memo[id(s)] = (s, found)
            return found
        if fixed_point.implicit(self, s):  # type: ignore[arg-type]
            return fixed_point.reads(self, s)  # type: ignore[arg-type]
        out: set[str] = set()
        for block in blocks(s):
            out |= self._reads_block(block)
        if out or self.has_work([s]) or self.restores_in(s):  # the reverse re-evaluates the test or range
            out |= stmt_reads(s) if not isinstance(s, ir.While) else set()
            if isinstance(s, ir.For) and s.checkpoint is not None and self.mode != "primal":
                out |= checkpoint.reads(s)  # the reverse pass runs its body again
        return out

    def _contribution_reads(self, s: ir.Assign) -> set[str]:
        """Forward names the adjoint contributions of ``s`` read: they never change (see ``contributions``), so
        they are found once (keyed by id; each entry keeps its statement alive)."""
        known = self._contribution_names.get(id(s))
        if known is not None and known[0] is s:
            return known[1]
        reads: set[str] = set().union(*(_names(e) for e in self.contributions(s).values()))
        self._contribution_names[id(s)] = (s, reads)
        return reads

    def restores_in(self, s: ir.Stmt) -> bool:
        """Whether ``s`` overwrites a recorded value: its reverse must restore it, even with no adjoint work."""
        return any(isinstance(t, ir.Assign) and (self.restores(t) or self.saves_write(t)) for t in ir.walk((s,)))

    def _reads_and_recomputed(self) -> tuple[set[str], dict[str, ir.Assign]]:
        """Every forward name the reverse pass reads, and the values it recomputes. A recomputed value reads
        its operands in the reverse pass: a later loop that overwrites one must restore it (else the value
        would be recomputed from the operand's last value), so they are reads too, to the fixed point."""
        self._extra_reads: set[str] = set()
        while True:
            self._recomputable.clear()  # it depends on the reads
            reads = self._all_reads()
            recomputed = self._recomputed(self.fn.body, ())
            extra = {n for t in recomputed.values() for n in stmt_reads(t)} - reads
            if not extra:
                return reads, recomputed
            self._extra_reads |= extra

    def _all_reads(self) -> set[str]:
        """Every forward name the reverse pass reads. What it restores depends on what it reads and, for a
        loop or branch reversed only to restore, the other way round: grown to the fixed point."""
        self.reads_all = set()
        # What an assignment's reverse reads does not change while the fixed point grows (its contributions,
        # computed once, and whether it saves a write, which `needed` decides once known): read it once.
        self._assign_reads = {}
        try:
            while True:
                reads = self._reads_block(self.fn.body) | self._extra_reads
                if reads == self.reads_all:
                    return reads
                self.reads_all = reads
        finally:
            self._assign_reads = None

    def _reads_block(self, stmts: Sequence[ir.Stmt]) -> set[str]:
        return set().union(*(self._reads(s) for s in stmts)) if stmts else set()

    def _recomputed(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> dict[str, ir.Assign]:
        """Every value some block inside a loop recomputes in the reverse pass instead of recording it."""
        out: dict[str, ir.Assign] = {}
        if loops:
            candidates = self.recomputable(stmts, loops)
            reads = self._reads_block(stmts) if candidates else set()  # once: it walks the whole block
            wanted = {n for n in candidates if n in reads}
            while True:  # a recomputed value needs its recomputable operands recomputed too
                more = {m for n in wanted for m in ir.expr_names(candidates[n].value) if m in candidates} - wanted
                if not more:
                    break
                wanted |= more
            out.update((n, t) for n, t in candidates.items() if n in wanted)
        for s in stmts:
            if fixed_point.implicit(self, s):  # type: ignore[arg-type]
                continue  # its reverse recomputes the body from the converged state: see s2sad.fixed_point
            inner = loops + (s,) if isinstance(s, (ir.For, ir.While)) else loops
            for block in blocks(s):
                out.update(self._recomputed(block, inner))
        return out

    def _needed(self) -> set[str]:
        """Forward values the gradient function computes: what the reverse pass reads (unless it recomputes
        them), what the forward statements computing those read, and the result when it is returned."""
        needed = set(self.reads_all) - set(self.recomputed)
        # a value the reverse pass restores is pushed before it is overwritten: both are computed, even when
        # the reverse pass recomputes the new one
        needed |= {s.target for s in ir.walk(self.fn.body) if isinstance(s, ir.Assign) and self.restores(s)}
        if self.checks_result():
            needed |= stmt_reads(self.returned)  # to check that the result is a scalar
        for t in self.recomputed.values():
            needed |= stmt_reads(t) - set(self.recomputed)
        if self.with_value and self.returned is not None:
            needed |= stmt_reads(self.returned)
        needed |= self.zero_reads
        # then what the statements computing needed values read, to the fixed point: a statement's reads are
        # needed once a name it defines is (a check's, a loop's or branch's with work, always)
        edges: list[tuple[set[str], Sequence[str]]] = []
        for s in ir.walk(self.fn.body):
            kind = type(s)
            if kind is ir.Assign:
                edges.append((stmt_reads(s), self._defined_by(s)))  # type: ignore[arg-type]
            elif kind is ir.Require:
                needed |= stmt_reads(s)
            elif kind in ir.COMPOUND:
                reads = stmt_reads(s)
                if isinstance(s, ir.While):
                    reads |= {n for t in s.setup for n in defines(t)}
                if self.has_work([s]) or checks([s]):
                    needed |= reads
                else:
                    edges.append((reads, tuple(defines(s))))
        return reach(needed, edges)

    def _zero_reads(self) -> set[str]:
        """The arrays whose values the reverse pass may read for the shape of a zero adjoint (``x_bar =
        np.zeros_like(x)``, see ``_Gradient.zero``): at a branch, an adjoint one branch starts (a contribution)
        or ends (an assignment in one branch only) and the other does not; at a loop, one it carries (a
        contribution, an assignment). A value local to the branch or loop (defined there, used nowhere else)
        starts and ends its adjoint there: never. A superset of what ``zero`` reads; a number gets ``0.0``."""
        if self.mode == "primal":
            return set()
        total = _occurrences(self.fn.body)
        for p in self.fn.params:
            total[p.name] = total.get(p.name, 0) + 1
        out: set[str] = set()
        for s in ir.walk(self.fn.body):
            if type(s) not in ir.COMPOUND or not self.has_work([s]):
                continue
            if fixed_point.implicit(self, s):  # type: ignore[arg-type]
                continue  # its reverse reads what fixed_point.reads says
            top = [t for block in blocks(s) for t in block]
            local = {n for n, k in _occurrences(top).items() if k == total.get(n)}
            inside = list(ir.walk(tuple(top)))
            assigns = [t for t in inside if type(t) is ir.Assign]
            candidates = {n for t in assigns for n in self.contributions(t)}  # type: ignore[arg-type]
            if isinstance(s, ir.If):
                ended = ir.assigned_names(s.body) ^ ir.assigned_names(s.orelse)
            else:
                ended = {t.target for t in assigns}  # type: ignore[attr-defined]
            candidates |= {n for n in ended if self.act.active(n)}
            out |= {n for n in candidates - local if not self.values.scalar(n)}
        return out

    def checks_result(self) -> bool:
        """Whether the gradient checks at run time that the result is a scalar: it is not known to be one."""
        return self.mode == "gradient" and self.returned is not None and not isinstance(self.values.result, Scalar)

    def _foldable(self) -> set[str]:
        """Invented intermediates that only the next forward statement reads: the forward pass writes them
        back into that statement as a sub-expression, as the user wrote it."""
        uses: dict[str, int] = {}
        for s in ir.walk(self.fn.body):
            for n in stmt_reads(s):
                uses[n] = uses.get(n, 0) + 1
            if isinstance(s, ir.While):  # the test runs every iteration: never fold a value from before the loop
                setup = ir.assigned_names(s.setup)  # into it (the setup runs before every test, so its values may be)
                for n in set(ir.expr_names(s.test)) - setup:
                    uses[n] = uses.get(n, 0) + 1
        returned = stmt_reads(self.returned) if self.returned is not None else set()
        returned |= {s.target for s in ir.walk(self.fn.body) if self.saves(s)}  # see forward_call
        returned |= {n for t in self.recomputed.values() for n in stmt_reads(t)}  # the reverse pass reads them
        return {
            n
            for n in self.fn.invented
            if self.def_count.get(n) == 1
            and uses.get(n) == 1
            and n not in self.reads_all
            and n not in returned
            and n not in self.zero_reads
        }

    def _fold(self, e: ir.Expr, pending: dict[str, ir.Expr]) -> ir.Expr:
        """``e`` with the pending intermediates it reads written in (each is used once: it is consumed)."""
        if not pending:
            return e
        used = {n for n in ir.expr_names(e) if n in pending}
        if not used:
            return e
        folded = ir.substitute(e, {n: pending[n] for n in used})
        for n in used:
            del pending[n]
        return folded

    def _flush(self, s: ir.Stmt, pending: dict[str, ir.Expr], out: list[ir.Stmt]) -> None:
        """Intermediates a compound statement reads inside its body are assigned before it (never folded into
        a loop body that would evaluate them again), and so are those that read a name it assigns (never moved
        past a statement that changes their value)."""
        inside = {n for t in ir.walk(tuple(b for block in blocks(s) for b in block)) for n in stmt_reads(t)}
        if isinstance(s, ir.While):  # its test is evaluated in every iteration
            inside |= set(ir.expr_names(s.test))
        changed = defines(s) | ({s.index} if isinstance(s, ir.For) else set())
        inside |= {n for n, e in pending.items() if changed & set(ir.expr_names(e))}
        for n in [n for n in pending if n in inside]:
            out.append(ir.Assign(n, pending.pop(n)))

    # ----- the forward pass ----------------------------------------------------------------------------------
    def forward(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> list[ir.Stmt]:
        """The statements the gradient needs, with the pushes that record what loops overwrite."""
        out, pending = self._forward(stmts, loops)
        out.extend(ir.Assign(n, e) for n, e in pending.items())
        return out

    def _forward(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> tuple[list[ir.Stmt], dict[str, ir.Expr]]:
        out: list[ir.Stmt] = []
        pending: dict[str, ir.Expr] = {}  # folded intermediates not yet written into their use
        top_level = not loops
        for s in stmts:
            start = len(self._stacks)
            if isinstance(s, ir.Assign):
                if any(n in self.needed for n in self._defined_by(s)):
                    value = self._fold(s.value, pending)
                    if s.target in self.foldable:
                        pending[s.target] = value
                        continue
                    # an intermediate that reads the name this statement overwrites is computed first
                    for n in [n for n, e in pending.items() if s.target in ir.expr_names(e)]:
                        out.append(ir.Assign(n, pending.pop(n)))
                    if self.restores(s):
                        out.append(ir.Push(self.stack(s.target), s.target))
                        self.restored.add(s.target)
                    if self.saves_write(s):
                        out.extend(self.save_write(s, loops))
                    out.append(self.forward_call(s, value))
            elif isinstance(s, ir.Return):
                continue
            elif isinstance(s, ir.Require):
                out.append(replace(s, test=self._fold(s.test, pending)))
            elif isinstance(s, ir.If):
                self._flush(s, pending, out)
                body = self.forward(s.body, loops) + self.block_pushes(s.body, loops)
                orelse = self.forward(s.orelse, loops) + self.block_pushes(s.orelse, loops)
                if body or orelse:
                    out.append(ir.If(self._fold(s.test, pending), tuple(body), tuple(orelse), s.origin))
            elif isinstance(s, (ir.For, ir.While)):
                if (defines(s) & self.needed) or self.has_work([s]) or checks([s]):
                    self._flush(s, pending, out)
                    loop = self.forward_loop(s, loops)
                    if isinstance(loop, ir.For):
                        loop = replace(loop, range_args=tuple(self._fold(a, pending) for a in loop.range_args))
                    if isinstance(loop, ir.For) and checkpoint.applies(self, s):
                        out.extend(checkpoint.forward(self, s, loop))  # snapshots, not a tape
                    elif isinstance(loop, ir.While) or loop.body:
                        out.extend(fixed_point.before(self, s))  # type: ignore[arg-type]
                        out.append(loop)
                    if (
                        isinstance(loop, ir.While)
                        and loops
                        and not self.untaped
                        and (self.has_work([s]) or self.restores_in(s))
                    ):
                        # a while inside a loop runs a trip count per enclosing iteration: each is recorded
                        out.append(ir.Push(self.stack(loop.counter), loop.counter))
            if top_level and len(self._stacks) > start:  # stacks first used here are created just before
                new = list(self._stacks.values())[start:]
                out[len(out) - 1 : len(out) - 1] = [ir.Assign(st, ir.Call(ir.LIST, ())) for st in new]
        return out, pending

    def forward_call(self, s: ir.Assign, value: ir.Expr) -> ir.Stmt:
        """``s`` in the forward pass; a helper call whose adjoint reads what its forward pass computed calls
        ``forward_h`` instead, which returns the result and those values: ``p, p_saved = forward_h(z)``."""
        saved = self.saved_of(s)
        if saved is None or not self.saves(s) or not isinstance(value, ir.Call):
            return s if value is s.value else ir.Assign(s.target, value, s.origin)
        target = s.target if s.target in self.needed else self.discard()
        return ir.Unpack((target, saved), ir.Call(self.names.forward(value.fn), value.args))

    def forward_loop(self, s: Loop, loops: tuple[Loop, ...]) -> Loop:
        if fixed_point.implicit(self, s):  # type: ignore[arg-type]
            return fixed_point.forward_loop(self, s, loops)  # type: ignore[arg-type]
        inner = loops + (s,)
        body = self.forward(s.body, inner) + self.block_pushes(s.body, inner)
        if isinstance(s, ir.For):
            return replace(s, body=tuple(body))
        setup, pending = self._forward(s.setup, inner)
        if self.untaped:  # inside a fixed-point loop: nobody reads the trip count
            return replace(s, setup=tuple(setup), test=self._fold(s.test, pending), body=tuple(body))
        counter = self.counter(s)
        body.append(ir.Accumulate(counter, ir.Const(1)))
        return replace(s, setup=tuple(setup), test=self._fold(s.test, pending), body=tuple(body), counter=counter)

    def block_pushes(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> list[ir.Stmt]:
        if not loops or self.untaped:
            return []
        out: list[ir.Stmt] = []
        for name in self.recorded(stmts, loops):
            out.append(ir.Push(self.stack(name), name))
        return out

    def block_pops(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> list[ir.Stmt]:
        if not loops:
            return []
        out: list[ir.Stmt] = []
        recompute = self.recomputable(stmts, loops)
        for n in reversed(self.recorded(stmts, loops)):
            out.append(ir.Pop(n, self.stack(n)))
        # recomputed values come after the pops, in forward order, since they may read popped values
        out.extend(t for n, t in recompute.items() if n in self.recomputed)  # in forward order
        return out


def _occurrences(stmts: Sequence[ir.Stmt]) -> dict[str, int]:
    """How many statements of ``stmts`` (a compound one for its test or range) read or define each name."""
    out: dict[str, int] = {}
    for s in ir.walk(tuple(stmts)):
        names = stmt_reads(s)
        if type(s) is ir.Assign:
            names = names | {s.target}  # type: ignore[attr-defined]
        for n in names:
            out[n] = out.get(n, 0) + 1
    return out

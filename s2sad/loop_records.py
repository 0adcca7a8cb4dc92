"""What a loop body records for the reverse pass: the names it defines for good, those it pushes, those every
iteration computes alike and those it recomputes cheaply instead; and where a statement sits among the loops.

:class:`LoopRecords` is a base of :class:`s2sad.recording.Recording` (itself mixed into
:class:`s2sad.reverse._Gradient`, which provides the state); these queries are memoised per loop and per block.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import ir
from .ssa import must_define
from .statement_reads import _CHEAP, Loop, _body, _deterministic, blocks, stmt_reads
from .values import Values

__all__ = ["LoopRecords"]


class LoopRecords:
    """What a loop body records (a base of ``Recording``; ``_Gradient`` provides the state)."""

    fn: ir.Function
    values: Values
    def_count: dict[str, int]
    _recomputable: dict[tuple[int, ...], tuple[object, dict[str, ir.Assign]]]
    _changing: dict[tuple[int, ...], tuple[object, set[str]]]

    def _defined_by(self, s: ir.Assign) -> list[str]:
        raise NotImplementedError

    def reaching(self, name: str, loops: tuple[Loop, ...]) -> int:
        raise NotImplementedError

    def _reads_block(self, stmts: Sequence[ir.Stmt]) -> set[str]:
        raise NotImplementedError

    # ----- what a loop body records ----------------------------------------------------------------------
    def owned_top(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> list[str]:
        """Names this block defines for good (every definition that reaches it is inside it and surely ran by
        its end)."""
        inside: dict[str, int] = {}
        for t in ir.walk(tuple(stmts)):
            if isinstance(t, ir.Assign):
                for n in self._defined_by(t):
                    inside[n] = inside.get(n, 0) + 1
        owned = {n for n in inside if inside[n] == self.reaching(n, loops)}
        surely: list[str] = []
        for i, t in enumerate(stmts):
            if isinstance(t, ir.Assign):
                candidates = set(self._defined_by(t))
            elif isinstance(t, ir.If):
                candidates = must_define(t.body) & must_define(t.orelse)
            elif isinstance(t, (ir.For, ir.While)):
                others = [u for j, u in enumerate(stmts) if j != i]
                candidates = must_define(t.body) & self._reads_block(others)
            else:
                candidates = set()
            surely.extend(sorted(candidates))
        return [n for n in dict.fromkeys(surely) if n in owned]

    def recorded(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> list[str]:
        """Names defined in this block that its reverse reads and cannot cheaply recompute, except values
        every iteration computes alike (the reverse pass reads the one the forward pass left)."""
        reads = self._reads_block(stmts)
        skip = set(self.recomputable(stmts, loops)) | self.invariant(loops)
        return [n for n in self.owned_top(stmts, loops) if n in reads and n not in skip]

    def invariant(self, loops: tuple[Loop, ...]) -> set[str]:
        """Values defined once, inside ``loops``, from values no iteration changes: every iteration computes
        the same value, so after the loops the name still holds it. (Only deterministic operations: the
        rule table's, not a helper's nor a new list, nor a library call on data, which may draw random
        numbers or make a new array.)"""
        if not loops:
            return set()
        cache: dict[int, set[str]] = self.__dict__.setdefault("_invariant", {})
        if id(loops[0]) in cache:
            return cache[id(loops[0])]
        changing = ir.assigned_names(_body(loops[0])) | ({loops[0].index} if isinstance(loops[0], ir.For) else set())
        out: set[str] = set()
        grown = True
        while grown:
            grown = False
            for t in ir.walk(_body(loops[0])):
                if not isinstance(t, ir.Assign) or t.target in out or self.def_count.get(t.target) != 1:
                    continue
                if isinstance(t.value, ir.LibraryCall) or (
                    isinstance(t.value, ir.Call) and not _deterministic(t.value)
                ):
                    continue  # a library call may give another value each time (np.random.normal())
                if all(n in out or n not in changing for n in ir.expr_names(t.value)):
                    out.add(t.target)
                    grown = True
        cache[id(loops[0])] = out
        return out

    def recomputable(self, stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> dict[str, ir.Assign]:
        """Inactive values computed cheaply from loop indices, values the loop does not change and, for
        scalars, values the reverse pass restores anyway (one operation costs less than a push and a pop).
        Asked once the reverse pass's reads are known; remembered per block."""
        key = (id(stmts), *map(id, loops))  # a block of the IR is a tuple: never changed once built
        if isinstance(stmts, tuple) and key in self._recomputable:
            return self._recomputable[key][1]
        indices = {lp.index for lp in loops if isinstance(lp, ir.For)}
        if key[1:] not in self._changing:
            changing = set().union(*(ir.assigned_names(_body(lp)) for lp in loops)) if loops else set()
            self._changing[key[1:]] = (loops, changing)
        changing = self._changing[key[1:]][1] - self.invariant(loops)
        out: dict[str, ir.Assign] = {}
        # a value recomputed at the start of the block's reverse must be the one every read in the block sees:
        # the name's one definition in the block (an inner loop may reassign it: 'x = xs[t]', then 'x = h(x)' in
        # a loop, 'V @ x' after it; an earlier statement may define it before: a carried name)
        defined_at: dict[str, list[int]] = {}  # the positions of the statements defining each name, at any depth
        for i, t in enumerate(stmts):
            for n in [t.target] if isinstance(t, ir.Assign) else ir.assigned_names((t,)):
                defined_at.setdefault(n, []).append(i)
        cheap = [
            t
            for i, t in enumerate(stmts)
            if isinstance(t, ir.Assign)
            and isinstance(t.value, ir.Call)
            and t.value.fn in _CHEAP
            and t.target not in self.invariant(loops)
            and defined_at[t.target] == [i]
        ]
        for t in cheap:
            names = set(ir.expr_names(t.value))
            if all(n in indices or n in out or n not in changing for n in names):
                out[t.target] = t
        if loops and self.values.scalar_code:  # on arrays one operation may cost more than a push
            reads = self._reads_block(stmts)
            restored = {n for n in self.owned_top(stmts, loops) if n in reads and self.def_count.get(n) == 1}
            for t in cheap:
                names = set(ir.expr_names(t.value))
                available = all(n in indices or n in out or n not in changing or n in restored for n in names)
                if t.target not in out and self.def_count.get(t.target) == 1 and available:
                    out[t.target] = t
        if isinstance(stmts, tuple):
            self._recomputable[key] = ((stmts, loops), out)
        return out

    # ----- structure queries -----------------------------------------------------------------------------------
    def _loops_around(self, target: ir.Stmt) -> tuple[Loop, ...]:
        def search(stmts: Sequence[ir.Stmt], loops: tuple[Loop, ...]) -> tuple[Loop, ...] | None:
            for s in stmts:
                if s is target:
                    return loops
                inner = loops + (s,) if isinstance(s, (ir.For, ir.While)) else loops
                for block in blocks(s):
                    found = search(block, inner)
                    if found is not None:
                        return found
            return None

        return search(self.fn.body, ()) or ()

    def _names_outside(self, loop: ir.Stmt) -> set[str]:
        """Names read or defined by statements outside ``loop`` (parameters included)."""
        out = {p.name for p in self.fn.params}

        def visit(stmts: Sequence[ir.Stmt]) -> None:
            for s in stmts:
                if s is loop:
                    out.update(stmt_reads(s))
                    continue
                out.update(stmt_reads(s))
                if isinstance(s, ir.Assign):
                    out.add(s.target)
                for block in blocks(s):
                    visit(block)

        visit(self.fn.body)
        return out

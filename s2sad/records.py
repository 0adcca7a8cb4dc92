"""Records read by iteration: a reverse loop that pops each of its stacks once per iteration reads them as a
person would, ``for x in reversed(x_stack)``, rather than with a method call per record.

The forward pass pushes one record per iteration onto ``x_stack`` (see :mod:`s2sad.recording`) and the
reverse loop pops one per iteration, last first. Where the reverse loop is not inside another loop or a
branch, the stack has that one push and that one pop, and the pop is a statement of the loop's body (not
inside a branch) before which nothing in the body reads or binds the popped name, the loop runs exactly as
many times as the stack holds records and each pop takes the next one from the end: iterating
``reversed(x_stack)`` binds ``x`` to the same values wherever the body reads it. The loop's own index stays
only where its body reads it (``zip(reversed(range(n)), reversed(x_stack))``). A loop that would bind more
than three names this way keeps its pops, which read better one a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from . import ir

__all__ = ["iterated"]

#: the most names one loop header binds this way: more read better as pops, one a line
_AT_MOST = 3


def _uses(stmts: Sequence[ir.Stmt], pushes: dict[str, int], pops: dict[str, int]) -> None:
    for s in ir.walk(tuple(stmts)):
        if isinstance(s, ir.Push):
            pushes[s.stack] = pushes.get(s.stack, 0) + 1
        elif isinstance(s, ir.Pop):
            pops[s.stack] = pops.get(s.stack, 0) + 1
        elif isinstance(s, ir.For):
            for _, stack in s.stacks:
                pops[stack] = pops.get(stack, 0) + 2  # already read by iteration: never again


def _reads(stmts: Sequence[ir.Stmt]) -> set[str]:
    out: set[str] = set()
    for s in ir.walk(tuple(stmts)):
        if isinstance(s, ir.Accumulate):  # x += t reads x
            out.add(s.target)
        elif isinstance(s, ir.Push):
            out.add(s.name)
        for e in ir.expressions(s):
            out.update(ir.expr_names(e))
    return out


def iterated(backward: Sequence[ir.Stmt], forward: Sequence[ir.Stmt]) -> list[ir.Stmt]:
    """``backward`` (the reverse pass, after ``forward``) with each loop at its top level that pops its
    stacks first thing reading them by iteration instead, where that is the same."""
    pushes: dict[str, int] = {}
    pops: dict[str, int] = {}
    _uses([*forward, *backward], pushes, pops)
    out: list[ir.Stmt] = []
    for s in backward:
        if isinstance(s, ir.For) and not s.stacks:
            records: list[tuple[str, str]] = []
            before: set[str] = {s.index}  # what the statements before a pop read or bind
            for t in s.body:
                if isinstance(t, ir.Pop) and pushes.get(t.stack) == 1 and pops.get(t.stack) == 1:
                    if t.name not in before:
                        records.append((t.name, t.stack))
                        before.add(t.name)
                        continue
                before |= _reads([t]) | ir.assigned_names((t,))
            body = [t for t in s.body if not (isinstance(t, ir.Pop) and (t.name, t.stack) in records)]
            args = s.range_args if s.index in _reads(body) else ()
            if records and len(records) + bool(args) <= _AT_MOST:
                s = replace(s, range_args=args, body=tuple(body), stacks=tuple(records))
        out.append(s)
    return out

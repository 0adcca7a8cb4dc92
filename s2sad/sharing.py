"""Sharing repeated index expressions: ``xs[t]`` read twice in a body, ``i + 1`` computed for two indexes.

On the SSA function, before the analyses: an intermediate s2sad invented that computes an index (``x[i]``,
or arithmetic on a loop index) already computed earlier in scope, from operands that cannot have changed
since, is replaced by the earlier one. The forward pass then reads the value once, and a loop records it
once (or recomputes it once) per iteration. A value computed inside a block is in scope only there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from . import ir

__all__ = ["share"]

#: Arithmetic shared when an operand is a loop index: index arithmetic.
_INDEX_ARITHMETIC = {"operator.add", "operator.sub", "operator.mul", "operator.floordiv", "operator.mod"}

_Key = tuple[str, tuple[ir.Expr, ...]]


def share(fn: ir.Function) -> ir.Function:
    """``fn`` with every repeated index expression computed once."""
    counts: dict[str, int] = {p.name: 1 for p in fn.params}
    for s in ir.walk(fn.body):
        for n in ir.assigned_names((s,)) - (ir.assigned_names(ir.nested(s))):
            counts[n] = counts.get(n, 0) + 1
    sharing = _Sharing(fn, counts)
    sharing.block(fn.body, {}, frozenset())
    if not sharing.env:
        return fn
    # an intermediate that now stands for several is read by several statements: the later stages take an
    # invented one to be read by one, its adjoint complete there (x[0] read twice lost one contribution)
    kept = {e.name for e in sharing.env.values() if isinstance(e, ir.Var)}
    return replace(fn, body=_rewrite(fn.body, sharing.env, sharing.dropped), invented=fn.invented - kept)


class _Sharing:
    def __init__(self, fn: ir.Function, counts: dict[str, int]) -> None:
        self.fn = fn
        self.counts = counts
        self.env: dict[str, ir.Expr] = {}  #: a repeated intermediate -> the first one
        self.dropped: set[int] = set()  #: ids of the assignments of repeated intermediates

    def block(self, stmts: Sequence[ir.Stmt], available: dict[_Key, str], indices: frozenset[str]) -> None:
        available = dict(available)  # what this block computes is not in scope after it
        for s in stmts:
            if isinstance(s, ir.Assign):
                key = self.key(s, indices)
                if key is not None:
                    if key in available:
                        self.env[s.target] = ir.Var(available[key])
                        self.dropped.add(id(s))
                    else:
                        available[key] = s.target
            elif isinstance(s, ir.For):
                self.block(s.body, available, indices | {s.index})
            elif isinstance(s, ir.If):
                self.block(s.body, available, indices)
                self.block(s.orelse, available, indices)
            elif isinstance(s, ir.While):
                self.block(s.setup, available, indices)
                self.block(s.body, available, indices)

    def key(self, s: ir.Assign, indices: frozenset[str]) -> _Key | None:
        """What the assignment computes, when it is an index the same operands always give."""
        value = s.value
        if s.target not in self.fn.invented or self.counts.get(s.target) != 1 or not isinstance(value, ir.Call):
            return None
        value = ir.substitute(value, self.env)
        assert isinstance(value, ir.Call)
        names = set(ir.expr_names(value))
        if not all(n in indices or self.counts.get(n) == 1 for n in names):
            return None  # an operand some statement reassigns
        if value.fn == ir.GETITEM or (value.fn in _INDEX_ARITHMETIC and names & indices):
            return (value.fn, value.args)
        return None


def _rewrite(stmts: tuple[ir.Stmt, ...], env: dict[str, ir.Expr], dropped: set[int]) -> tuple[ir.Stmt, ...]:
    out: list[ir.Stmt] = []
    for s in stmts:
        if id(s) in dropped:
            continue
        if isinstance(s, (ir.Assign, ir.Accumulate)):
            out.append(replace(s, value=ir.substitute(s.value, env)))
        elif isinstance(s, ir.Return):
            out.append(replace(s, values=tuple(ir.substitute(v, env) for v in s.values)))
        elif isinstance(s, ir.Require):
            out.append(replace(s, test=ir.substitute(s.test, env)))
        elif isinstance(s, ir.For):
            args = tuple(ir.substitute(a, env) for a in s.range_args)
            out.append(replace(s, range_args=args, body=_rewrite(s.body, env, dropped)))
        elif isinstance(s, ir.If):
            body, orelse = _rewrite(s.body, env, dropped), _rewrite(s.orelse, env, dropped)
            out.append(replace(s, test=ir.substitute(s.test, env), body=body, orelse=orelse))
        elif isinstance(s, ir.While):
            setup, body = _rewrite(s.setup, env, dropped), _rewrite(s.body, env, dropped)
            out.append(replace(s, setup=setup, test=ir.substitute(s.test, env), body=body))
        else:
            out.append(s)
    return tuple(out)

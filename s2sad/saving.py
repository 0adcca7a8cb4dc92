"""A helper's forward and adjoint functions: the adjoint receives what the forward pass computed.

A caller's forward pass calls ``forward_h(x)``, which runs the helper once and returns its result and the
values its reverse pass reads (one value, or a tuple of them); the caller's reverse pass hands those to
``adjoint_h(saved, x, h_bar)``, which runs only the reverse pass. Inside a caller's loop what a call saved is
recorded on a stack like any other value. A helper that calls helpers keeps their saved values among its own,
so every helper body runs once per call in the function, however deep the nesting (Tapenade's split mode).
A helper whose reverse pass reads nothing its forward pass computed is called as itself; its adjoint takes
only the arguments it reads. A helper returning several values (read with ``ir.PART``) returns them as one
tuple beside what it saved, and its adjoint takes the adjoints of the values its callers use, one parameter
each, after its arguments: ``adjoint_h(saved, x, a_bar, b_bar)``. What one forward call saved is handed to exactly one adjoint call, which consumes
it (pops the stacks among it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from . import ir
from .analysis import Activity
from .names import ModuleNames
from . import reverse
from .reverse import _Gradient
from .values import Values

__all__ = ["Saving", "Split", "split"]


@dataclass(frozen=True)
class Saving:
    """How a caller calls a helper's adjoint function."""

    saves: bool  #: the caller calls ``forward_h`` and hands what it returns beside the result to ``adjoint_h``
    params: tuple[str, ...]  #: the helper's parameters the adjoint function takes (after the saved values)
    #: a helper returning several values: the values whose adjoints the adjoint function takes, after its
    #: parameters (those some caller uses; a caller that does not use one passes a zero)
    results: tuple[int, ...] = ()


@dataclass(frozen=True)
class Split:
    forward: ir.Function | None  #: ``forward_h``, or None when the adjoint needs nothing from the forward pass
    adjoint: ir.Function  #: ``adjoint_h``
    saving: Saving | None  #: None: the adjoint runs the helper's forward pass itself (a helper with no result)
    saved: tuple[str, ...]  #: the values ``forward_h`` saves, in the order it computes them


class _Split(_Gradient):
    """The adjoint function with the helper's result computed, remembering where its reverse pass begins."""

    top: list[ir.Stmt]

    def reverse(self, stmts: Sequence[ir.Stmt], live: set[str], shown: ir.Origin | None = None) -> list[ir.Stmt]:
        out = super().reverse(stmts, live, shown)
        if stmts is self.fn.body:
            self.top = out
        return out


def split(
    fn: ir.Function,
    wrt: tuple[str, ...],
    act: Activity,
    helpers: dict[str, tuple[str, ...]],
    saving: Mapping[str, Saving],
    names: ModuleNames,
    values: Values | None = None,
    results: tuple[int, ...] = (),
) -> Split:
    """``forward_h`` and ``adjoint_h`` of the helper ``fn``, its adjoint returning the adjoints of ``wrt``;
    ``saving`` tells how to call the helpers ``fn`` calls (every callee is split before its callers);
    ``results``: of a helper returning several values, those whose adjoints its adjoint takes."""
    gradient = _Split(fn, wrt, act, True, helpers, names, mode="adjoint", saving=saving, values=values, results=results)
    if gradient.returned is None:
        return Split(None, reverse.adjoint(fn, wrt, act, helpers, names, saving, values), None, ())
    built = gradient.build()
    body = list(built.body)
    ret = body.pop()
    assert isinstance(ret, ir.Return) and len(ret.values) == 2
    backward = body[len(body) - len(gradient.top) :]
    assert body[len(body) - len(backward) - 1] == ir.Comment("reverse")
    forward = body[1 : len(body) - len(backward) - 1]
    value, grads = ret.values
    returned = ir.Return(grads.args if isinstance(grads, ir.Call) and grads.fn == ir.TUPLE else (grads,))
    seeds = built.params[len(fn.params) :]
    reads = _exposed([*backward, returned], set())
    written = ir.assigned_names(tuple(forward))
    order = {n: i for i, n in enumerate(_definitions(forward))}
    saved = tuple(sorted((n for n in reads if n in written), key=order.__getitem__))
    params = tuple(p for p in fn.params if p.name in reads and p.name not in saved)
    saving_h = Saving(bool(saved), tuple(p.name for p in params), results)
    adjoint_body: list[ir.Stmt] = []
    first: tuple[ir.Param, ...] = ()
    if len(saved) == 1:
        first = (ir.Param(saved[0]),)
    elif saved:
        pack = gradient.namer.fresh("saved")
        first = (ir.Param(pack),)
        adjoint_body.append(ir.Unpack(saved, ir.Var(pack)))
    adjoint = replace(built, params=first + params + seeds, body=(*adjoint_body, *backward, returned))
    if not saved:
        return Split(None, adjoint, saving_h, saved)
    # A value some path of the forward pass does not compute (a branch not taken, a loop run zero times) is
    # still returned: it starts as None, and the reverse pass, which takes the same path, never reads it.
    surely = _surely(forward) | {p.name for p in fn.params}
    unsure = [ir.Assign(n, ir.Const(None)) for n in saved if n not in surely]
    kept: ir.Expr = ir.Var(saved[0]) if len(saved) == 1 else ir.Call(ir.TUPLE, tuple(ir.Var(n) for n in saved))
    forward_fn = replace(fn, name=names.forward(fn.name), body=(*unsure, *forward, ir.Return((value, kept))))
    return Split(forward_fn, adjoint, saving_h, saved)


def _definitions(stmts: Sequence[ir.Stmt]) -> list[str]:
    """Names assigned by ``stmts``, in the order of their first assignment."""
    out: dict[str, None] = {}
    for s in ir.walk(tuple(stmts)):
        for n in sorted(ir.assigned_names((s,)) - (ir.assigned_names(ir.nested(s)))):
            out.setdefault(n, None)
    return list(out)


def _surely(stmts: Sequence[ir.Stmt]) -> set[str]:
    """Names every path through ``stmts`` assigns (a loop may run zero times)."""
    out: set[str] = set()
    for s in stmts:
        if isinstance(s, (ir.Assign, ir.Unpack)):
            out |= ir.assigned_names((s,))
        elif isinstance(s, ir.If):
            out |= _surely(s.body) & _surely(s.orelse)
        elif isinstance(s, ir.While):  # the setup runs at least once; the counter starts before the loop
            out |= _surely(s.setup) | ({s.counter} if s.counter else set())
    return out


def _exposed(stmts: Sequence[ir.Stmt], defined: set[str]) -> set[str]:
    """Names ``stmts`` may read before assigning them (``defined``: assigned before ``stmts``; updated)."""
    out: set[str] = set()

    def read(e: ir.Expr) -> None:
        out.update(n for n in ir.expr_names(e) if n not in defined)

    for s in stmts:
        if isinstance(s, (ir.Assign, ir.Accumulate)):
            read(s.value)
            if isinstance(s, ir.Accumulate) and s.target not in defined:
                out.add(s.target)
            defined.add(s.target)
        elif isinstance(s, ir.Unpack):
            read(s.value)
            defined.update(s.targets)
        elif isinstance(s, ir.Push):
            out.update({s.stack, s.name} - defined)
        elif isinstance(s, ir.Pop):
            out.update({s.stack} - defined)
            defined.add(s.name)
        elif isinstance(s, (ir.Return, ir.Require)):
            for e in s.values if isinstance(s, ir.Return) else (s.test,):
                read(e)
        elif isinstance(s, ir.If):
            read(s.test)
            branches = [set(defined), set(defined)]
            out |= _exposed(s.body, branches[0]) | _exposed(s.orelse, branches[1])
            defined |= branches[0] & branches[1]
        elif isinstance(s, ir.For):
            for a in s.range_args:
                read(a)
            out |= _exposed(s.body, set(defined) | {s.index})
        elif isinstance(s, ir.While):
            inside = set(defined)
            out |= _exposed(s.setup, inside)
            out |= {n for n in ir.expr_names(s.test) if n not in inside}
            out |= _exposed(s.body, inside)
    return out


def split_helpers(
    helpers: Sequence[tuple[ir.Function, Activity]],
    wrt: dict[str, tuple[str, ...]],
    names: ModuleNames,
    known: Mapping[str, Values] | None = None,
    results: Mapping[str, tuple[int, ...]] | None = None,
) -> dict[str, Split]:
    """The split of every helper that has an adjoint; ``helpers`` come callees first; ``known``: what
    :mod:`s2sad.values` knows of each function's names; ``results``: of each helper returning several
    values, those its callers use."""
    out: dict[str, Split] = {}
    for h, h_act in helpers:
        if h.name in wrt:
            used = (results or {}).get(h.name, ())
            out[h.name] = split(h, wrt[h.name], h_act, wrt, how(out), names, (known or {}).get(h.name), used)
    return out


def how(splits: Mapping[str, Split]) -> dict[str, Saving]:
    """How callers call each helper's adjoint function (a helper missing here: the plain protocol)."""
    return {k: sp.saving for k, sp in splits.items() if sp.saving is not None}


def reached(start: ir.Function, functions: Sequence[ir.Function]) -> set[str]:
    """The names of the ``functions`` that ``start`` calls, directly or through one another."""
    by_name = {f.name: f for f in functions}
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in _calls(todo.pop()):
            if name in by_name and name not in seen:
                seen.add(name)
                todo.append(by_name[name])
    return seen


def _calls(fn: ir.Function) -> set[str]:
    out: set[str] = set()

    def visit(e: ir.Expr) -> None:
        if isinstance(e, ir.Call):
            out.add(e.fn)
            for a in e.args:
                visit(a)
        elif isinstance(e, ir.BoolOp):
            for v in e.values:
                visit(v)

    for s in ir.walk(fn.body):
        if isinstance(s, (ir.Assign, ir.Accumulate, ir.Unpack)):
            visit(s.value)
        elif isinstance(s, ir.Return):
            for v in s.values:
                visit(v)
        elif isinstance(s, (ir.If, ir.While, ir.Require)):
            visit(s.test)
        elif isinstance(s, ir.For):
            for a in s.range_args:
                visit(a)
    return out

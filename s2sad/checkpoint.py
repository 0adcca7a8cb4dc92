"""Checkpointing: a ``for`` loop marked ``# s2sad: checkpoint [N]`` keeps snapshots of its state, not a tape.

A loop taped as usual records, in every iteration, what its reverse reads (see :mod:`s2sad.recording`):
memory grows with the number of iterations. A checkpointed loop runs its ``n`` steps in segments instead
(``N`` segments when the directive gives ``N`` snapshots, else segments of ``isqrt(n)`` steps, so about
``sqrt(n)`` of them; both known only at run time) and records nothing in the forward pass but the loop-carried
state at the start of each segment. The reverse pass takes the segments last first: it restores the segment's
snapshot, runs the segment again with the ordinary recording of the loop body (the recompute loop), then
runs the ordinary reverse of those steps. Memory is O(snapshots x state + segment x tape) instead of
O(n x tape), for one extra forward sweep. (The binomial schedule, Griewank-Walther "revolve", needs fewer
snapshots for the same recomputation only when recomputation is counted in several sweeps: see
bench/README.md; this simple schedule keeps the output a plain segment loop.)

The state is every name the recorded loop body assigns that holds a value from before the loop (or that an
iteration reads before assigning it). A snapshot holds a reference to each value, except for a value the
body changes in place (see :mod:`s2sad.writes`): an array it writes into is copied, since the forward pass goes
on changing it; a list it appends to is kept as its length, and cut back to that length when restored (the
items before it never change).

The reverse pass runs the body again, so what the body reads from outside the loop counts as read by the
reverse pass: inside another loop that changes it after this loop, it is restored at the mirror point like
any value the reverse pass reads. A checkpointed loop inside another loop keeps its snapshots on one stack
(last in, first out across the outer iterations too) and computes each run's segments again in the reverse.

What this cannot do is refused with a located error (``unsupported-checkpoint``): a checkpointed loop inside
another checkpointed loop, inside a fixed-point loop or in a helper function, a loop whose ``range`` arguments
the body reassigns, a state value an iteration reads that nothing assigned before the loop. (A ``break`` or ``return`` turns the
loop into a ``while``, which the frontend refuses to checkpoint.) The reverse of a segment is the ordinary
reverse (:meth:`s2sad.reverse._Gradient.reverse_loop`): inner loops, branches, helper calls, writes and lists
inside the loop are recorded per segment as in any loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from . import ir
from .algebra import simplify
from .diagnostics import Diagnostic
from .ssa import _exposed
from .writes import is_append, is_write

if TYPE_CHECKING:
    from .recording import Loop, Recording

__all__ = ["check", "check_helper", "applies", "reads", "forward", "reverse"]

CODE = "unsupported-checkpoint"
_Refuse: TypeAlias = Callable[[ir.For, str, str], None]


# ----- what is refused ---------------------------------------------------------------------------------------
def check(fn: ir.Function) -> list[Diagnostic]:
    """Every problem of the checkpointed loops of ``fn``, the function differentiated, each reported where the
    loop is written. :func:`s2sad.pipeline._reverse_parts` runs it with the other analyses (fixed-point
    loops': :func:`s2sad.fixed_point.check`), so that every refusal of a function comes in one run, before any
    reverse work; every reverse-mode pipeline (grad, vjp, hvp, a Jacobian from reverse sweeps) goes through it.
    Forward mode keeps no tape: there the directive changes nothing (see :mod:`s2sad.forward`)."""
    return _check(fn, helper=False)


def check_helper(fn: ir.Function) -> list[Diagnostic]:
    """The same for a helper whose adjoint function is built: any checkpointed loop in it is refused."""
    return _check(fn, helper=True)


def _check(fn: ir.Function, helper: bool) -> list[Diagnostic]:
    found: list[Diagnostic] = []

    def refuse(s: ir.For, message: str, help: str) -> None:
        origin = s.origin or fn.origin
        assert origin is not None
        found.append(ir.diagnostic(fn.path, origin, message, CODE, help))

    def visit(stmts: Sequence[ir.Stmt], loops: tuple[ir.Stmt, ...], before: set[str]) -> None:
        for s in stmts:
            if isinstance(s, ir.For) and s.checkpoint is not None:
                _check_loop(s, loops, before, helper, refuse)
            inner = loops + (s,) if isinstance(s, (ir.For, ir.While)) else loops
            for block in _blocks(s):
                visit(block, inner, set(before))
            before |= ir.assigned_names((s,))

    visit(fn.body, (), {p.name for p in fn.params})
    return found


def _check_loop(s: ir.For, loops: tuple[ir.Stmt, ...], before: set[str], helper: bool, refuse: _Refuse) -> None:
    if helper:
        refuse(
            s,
            "a checkpointed loop in a helper function is not supported",
            "checkpoint the loop in the function you differentiate, or remove '# s2sad: checkpoint'",
        )
    elif any(isinstance(lp, ir.While) and lp.fixed_point for lp in loops):
        refuse(
            s,
            "a checkpointed loop inside a fixed-point loop is not supported",
            "the fixed-point loop's reverse pass solves for its converged state and keeps no tape of its "
            "iterations: remove '# s2sad: checkpoint'",
        )
    elif any(isinstance(lp, ir.For) and lp.checkpoint is not None for lp in loops):
        refuse(
            s,
            "a checkpointed loop inside another checkpointed loop is not supported",
            "keep '# s2sad: checkpoint' on one of the two loops",
        )
    changed = sorted({n for a in s.range_args for n in ir.expr_names(a)} & ir.assigned_names(s.body))
    if changed:
        refuse(
            s,
            f"the checkpointed loop changes '{changed[0]}', an argument of its range",
            "compute the range into a variable the loop does not assign",
        )
    unbound = sorted((_exposed(s.body) & ir.assigned_names(s.body)) - before - {s.index})
    if unbound:
        refuse(
            s,
            f"'{unbound[0]}' is carried from one iteration to the next but has no value before the checkpointed loop",
            f"assign '{unbound[0]}' before the loop, so that a snapshot can hold it",
        )


def _blocks(s: ir.Stmt) -> tuple[tuple[ir.Stmt, ...], ...]:
    if isinstance(s, ir.For):
        return (s.body,)
    if isinstance(s, ir.If):
        return (s.body, s.orelse)
    if isinstance(s, ir.While):
        return (s.setup, s.body)
    return ()


# ----- the plan of one loop ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    steps: str  #: the loop's trip count
    length: str  #: the steps of a segment (the last may have fewer)
    segments: str  #: how many segments
    segment: str  #: the segment loop's index
    first: str  #: the segment's first step (a position 0 .. steps - 1, not a value of the loop index)
    last: str  #: one past its last step
    snapshots: str  #: the stack of snapshots
    state: tuple[str, ...]  #: the loop-carried names a snapshot holds
    copied: dict[str, str]  #: state names the body changes in place -> "array" (copied) or "list" (its length)
    packed: str | None  #: the value pushed, when it is not the one state name itself (a tuple, a copy)
    lengths: dict[str, str]  #: each list the loop appends to -> the name its length is restored into
    taped: ir.For  #: the loop with its ordinary recording: the recompute loop's body


def applies(g: Recording, s: Loop) -> bool:
    """Whether ``s`` is run as a checkpointed loop in this function: marked, and reversed at all."""
    return (
        isinstance(s, ir.For)
        and s.checkpoint is not None
        and g.mode != "primal"
        and (g.has_work([s]) or g.restores_in(s))
    )


def reads(s: ir.For) -> set[str]:
    """The names from outside the loop its body reads: the reverse pass runs the body again, so they must hold
    their values at the loop's mirror point (inside another loop that may change them after this one, they
    are restored like any value the reverse pass reads)."""
    inside = ir.assigned_names(s.body) | {s.index}
    read: set[str] = set()
    for t in ir.walk(s.body):
        if isinstance(t, ir.Assign):
            read |= set(ir.expr_names(t.value))
        elif isinstance(t, ir.While):
            read |= set(ir.expr_names(t.test))
        elif isinstance(t, ir.For):
            read |= {n for a in t.range_args for n in ir.expr_names(a)}
        elif isinstance(t, (ir.If, ir.Require)):
            read |= set(ir.expr_names(t.test))
    return read - inside


def _plans(g: Recording) -> dict[int, _Plan]:
    plans: dict[int, _Plan] = g.__dict__.setdefault("_checkpoints", {})
    return plans


def _state(g: Recording, s: ir.For, taped: ir.For) -> tuple[str, ...]:
    """The names a snapshot holds, in the order the body first assigns them: those with a value from before the
    loop (assigned earlier, read by an iteration before it assigns them, or recorded by the body before it
    overwrites them for the reverse pass to restore)."""
    before = _names_before(g.fn.body, s, [p.name for p in g.fn.params])
    exposed = _exposed(s.body) | {t.target for t in ir.walk(s.body) if isinstance(t, ir.Assign) and g.restores(t)}
    out: list[str] = []
    for t in ir.walk(taped.body):
        names: tuple[str, ...] = ()
        if isinstance(t, ir.Assign):
            names = (t.target,)
        elif isinstance(t, ir.Unpack):
            names = t.targets
        for n in names:
            if n not in out and n != s.index and (n in before or n in exposed):
                out.append(n)
    return tuple(out)


def _names_before(stmts: Sequence[ir.Stmt], loop: ir.For, params: Sequence[str]) -> set[str]:
    """Parameters, and the names statements before ``loop`` (in program order) assign."""
    out = set(params)
    for t in ir.walk(tuple(stmts)):
        if t is loop:
            return out
        out |= ir.assigned_names((t,)) if not isinstance(t, (ir.For, ir.If, ir.While)) else set()
        if isinstance(t, ir.For):
            out.add(t.index)
    return out


def _copied(taped: ir.For, state: tuple[str, ...]) -> dict[str, str]:
    """State names whose value the body changes in place, with what they are: ``"array"`` (written into) or
    ``"list"`` (appended to). A name counts when a write writes into its array or list or into one the body
    makes the same (``y = x``, ``x_1 = setitem(x, ...)``)."""
    parent: dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    for t in ir.walk(taped.body):
        if isinstance(t, ir.Assign) and isinstance(t.value, ir.Var):
            parent[find(t.target)] = find(t.value.name)
        if is_write(t):
            assert isinstance(t, ir.Assign) and isinstance(t.value, ir.Call)
            array = t.value.args[0]
            assert isinstance(array, ir.Var)
            parent[find(t.target)] = find(array.name)
    written: dict[str, str] = {}
    for t in ir.walk(taped.body):
        if is_write(t):
            assert isinstance(t, ir.Assign)
            written[find(t.target)] = "list" if is_append(t) else "array"  # the frontend never writes into a list
    return {n: written[find(n)] for n in state if find(n) in written}


def _kept(name: str, kind: str | None) -> ir.Expr:
    """What a snapshot keeps of the state name ``name``: the value itself, a copy of an array the loop writes
    into, the length of a list the loop appends to (the reverse pass cuts it back to that length: appends are
    all a loop does to a list, and a copy per segment would cost more than the whole tape)."""
    if kind == "array":
        return ir.Call("numpy.copy", (ir.Var(name),))
    if kind == "list":
        return ir.Call("builtins.len", (ir.Var(name),))
    return ir.Var(name)


def _add(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return simplify(ir.Call("operator.add", (a, b)))


def _mul(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return simplify(ir.Call("operator.mul", (a, b)))


def _range(args: tuple[ir.Expr, ...]) -> tuple[ir.Expr, ir.Expr]:
    """``range(*args)``'s start and step."""
    if len(args) == 1:
        return ir.Const(0), ir.Const(1)
    return args[0], args[2] if len(args) == 3 else ir.Const(1)


def _segment_range(s: ir.For, args: tuple[ir.Expr, ...], plan: _Plan) -> tuple[ir.Expr, ...]:
    """The ``range`` arguments of the segment's steps, positions ``first .. last - 1`` of the loop's
    sequence: ``range(start + first * step, start + last * step, step)``; for ``reversed(range(...))``
    position ``p`` is the value ``start + (steps - 1 - p) * step``, so the segment is
    ``reversed(range(start + (steps - last) * step, start + (steps - first) * step, step))``."""
    start, step = _range(args)
    first: ir.Expr = ir.Var(plan.first)
    last: ir.Expr = ir.Var(plan.last)
    if s.reverse:
        steps = ir.Var(plan.steps)
        first, last = ir.Call("operator.sub", (steps, last)), ir.Call("operator.sub", (steps, first))
    bounds = (_add(start, _mul(first, step)), _add(start, _mul(last, step)))
    return bounds if step == ir.Const(1) else (*bounds, step)


def _bounds(plan: _Plan) -> list[ir.Stmt]:
    """``first = segment * length`` and ``last = min(first + length, steps)``."""
    first = ir.Call("operator.mul", (ir.Var(plan.segment), ir.Var(plan.length)))
    end = ir.Call("operator.add", (ir.Var(plan.first), ir.Var(plan.length)))
    return [
        ir.Assign(plan.first, first),
        ir.Assign(plan.last, ir.Call("builtins.min", (end, ir.Var(plan.steps)))),
    ]


def _untaped(stmts: Sequence[ir.Stmt], olds: set[str]) -> tuple[ir.Stmt, ...]:
    """The recorded statements without their records: no pushes, no copies of what a write replaces."""
    out: list[ir.Stmt] = []
    for t in stmts:
        if isinstance(t, ir.Push) or (isinstance(t, ir.Assign) and t.target in olds):
            continue
        if isinstance(t, ir.For):
            out.append(ir.For(t.index, t.range_args, t.reverse, _untaped(t.body, olds), t.origin, t.checkpoint))
        elif isinstance(t, ir.If):
            out.append(ir.If(t.test, _untaped(t.body, olds), _untaped(t.orelse, olds), t.origin))
        elif isinstance(t, ir.While):
            out.append(
                ir.While(_untaped(t.setup, olds), t.test, _untaped(t.body, olds), t.counter, t.origin, t.fixed_point)
            )
        else:
            out.append(t)
    return tuple(out)


# ----- the forward pass ---------------------------------------------------------------------------------------
def forward(g: Recording, s: ir.For, taped: ir.For) -> list[ir.Stmt]:
    """The loop ``s`` in the forward pass, given its ordinary recording ``taped``: in segments, each starting
    with a snapshot of the state; the steps themselves record nothing."""
    fresh = g.namer.fresh
    state = _state(g, s, taped)
    copied = _copied(taped, state)
    plan = _Plan(
        steps=fresh("steps"),
        length=fresh("segment_length"),
        segments=fresh("segments"),
        segment=fresh("segment"),
        first=fresh("first"),
        last=fresh("last"),
        snapshots=fresh("snapshots"),
        state=state,
        copied=copied,
        packed=fresh("snapshot") if len(state) > 1 or copied else None,
        lengths={n: fresh(f"{n}_length") for n in state if copied.get(n) == "list"},
        taped=taped,
    )
    _plans(g)[id(s)] = plan
    g.restored.update(state)  # the reverse pass rebinds them: a result returned with the gradient is kept first
    g._stacks[f"$snapshots{id(s)}"] = plan.snapshots  # made where the outermost statement's stacks are
    schedule = f"{s.checkpoint} segments" if s.checkpoint else "segments of isqrt(steps) steps"
    olds = {old for old, _ in g._olds.values()}
    out: list[ir.Stmt] = [
        ir.Comment(f"checkpointed loop: {schedule}; only the state at the start of each segment is kept"),
        *_schedule(s, taped.range_args, plan),
    ]
    body: list[ir.Stmt] = []
    if state:
        body += [ir.Comment(_snapshot_comment(plan)), *_snapshot(plan)]
    body += _bounds(plan)
    body.append(ir.Comment("the segment's steps, recording nothing"))
    body.append(_loop(taped, _segment_range(s, taped.range_args, plan), s.reverse, _untaped(taped.body, olds)))
    out.append(ir.For(plan.segment, (ir.Var(plan.segments),), False, tuple(body), s.origin))
    return out


def _schedule(s: ir.For, args: tuple[ir.Expr, ...], plan: _Plan) -> list[ir.Stmt]:
    """``steps = len(range(...))``, the segments' length and their number."""
    steps = ir.Var(plan.steps)
    if s.checkpoint:  # N snapshots: N segments of ceil(steps / N) steps
        n = ir.Const(s.checkpoint)
        over = ir.Call("operator.add", (steps, n))
        length: ir.Expr = ir.Call("operator.floordiv", (ir.Call("operator.sub", (over, ir.Const(1))), n))
    else:
        length = ir.Call("math.isqrt", (steps,))
    over = ir.Call("operator.add", (steps, ir.Var(plan.length)))
    count = ir.Call("operator.floordiv", (ir.Call("operator.sub", (over, ir.Const(1))), ir.Var(plan.length)))
    return [
        ir.Assign(plan.steps, ir.Call("builtins.len", (ir.Call("builtins.range", args),))),
        ir.Assign(plan.length, ir.Call("builtins.max", (length, ir.Const(1)))),
        ir.Assign(plan.segments, count),
    ]


def _loop(loop: ir.For, args: tuple[ir.Expr, ...], reverse: bool, body: tuple[ir.Stmt, ...]) -> ir.For:
    return ir.For(loop.index, args, reverse, body, loop.origin)


def _snapshot_comment(plan: _Plan) -> str:
    def names(kind: str | None) -> list[str]:
        return [n for n in plan.state if plan.copied.get(n) == kind]

    parts = []
    for kind, text in (
        (None, "by reference (the loop never writes into {})"),
        ("array", "copied (the loop writes into {})"),
        ("list", "by length (the loop only appends to {})"),
    ):
        found = names(kind)
        if found:
            parts.append(f"{', '.join(found)} " + text.format("it" if len(found) == 1 else "them"))
    return "snapshot of the state: " + "; ".join(parts)


def _snapshot(plan: _Plan) -> list[ir.Stmt]:
    values = [_kept(n, plan.copied.get(n)) for n in plan.state]
    if plan.packed is None:
        return [ir.Push(plan.snapshots, plan.state[0])]
    value = values[0] if len(values) == 1 else ir.Call(ir.TUPLE, tuple(values))
    return [ir.Assign(plan.packed, value), ir.Push(plan.snapshots, plan.packed)]


def _restore(plan: _Plan) -> list[ir.Stmt]:
    """The state at the start of the segment, from its snapshot; a list cut back to its length then."""
    targets = tuple(plan.lengths.get(n, n) for n in plan.state)
    if plan.packed is None:
        out: list[ir.Stmt] = [ir.Pop(targets[0], plan.snapshots)]
    elif len(targets) == 1:
        out = [ir.Pop(targets[0], plan.snapshots)]
    else:
        out = [ir.Pop(plan.packed, plan.snapshots), ir.Unpack(targets, ir.Var(plan.packed))]
    for n, length in plan.lengths.items():
        whole = ir.Slice(ir.Const(None), ir.Var(length), ir.Const(None))
        out.append(ir.Assign(n, ir.Call(ir.GETITEM, (ir.Var(n), whole))))
    return out


# ----- the reverse pass ---------------------------------------------------------------------------------------
def reverse(g: Recording, s: ir.For, body: tuple[ir.Stmt, ...]) -> list[ir.Stmt]:
    """The reverse of the checkpointed loop ``s``, whose ordinary reverse loop body is ``body``: the segments
    last first, each restored from its snapshot, recomputed with its records, then reversed."""
    plan = _plans(g)[id(s)]
    out: list[ir.Stmt] = [
        ir.Comment("checkpointed loop: the segments last first, each recomputed from its snapshot, then reversed")
    ]
    if g._loops_around(s):  # inside another loop: the segments of this iteration's run, computed again
        out += _schedule(s, s.range_args, plan)
    inner: list[ir.Stmt] = []
    if plan.state:
        inner.append(ir.Comment(f"the state at the start of the segment: {', '.join(plan.state)}"))
        inner += _restore(plan)
    inner += _bounds(plan)
    args = _segment_range(s, s.range_args, plan)
    inner.append(ir.Comment("recompute the segment's steps, recording what their reverse reads"))
    inner.append(_loop(plan.taped, args, s.reverse, plan.taped.body))
    inner.append(ir.Comment("the segment's steps reversed"))
    inner.append(ir.For(s.index, args, not s.reverse, body, s.origin))
    out.append(ir.For(plan.segment, (ir.Var(plan.segments),), True, tuple(inner), s.origin))
    return out

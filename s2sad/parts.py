"""The values of a helper returning several, in the reverse pass.

A call of such a helper is ``t = h(x)``, then ``a = part(t, 0)``, ``b = part(t, 1)`` right after it in its
block (:data:`s2sad.ir.PART`, written so by the frontend). Walking backwards, each part's adjoint is complete
when its part is reached: it is kept (nothing is written, and the part's name's adjoint ends there as at any
definition), and the call's reverse, next, hands the kept adjoints to the helper's adjoint in one call,
``x_bar = adjoint_h(t_saved, x, a_bar, b_bar)``: a value this call does not use, but another call does, gets a
zero of its shape. The tuple ``t`` never has an adjoint variable. In the helper's own adjoint function, the
adjoints of its values are parameters (:func:`result_params`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from . import ir
from .analysis import parts
from .recording import G

if TYPE_CHECKING:
    from .reverse import _Gradient

__all__ = ["named", "result_params", "part_adjoint", "several_adjoint", "seeds", "shapes_recorded"]


def named(fn: ir.Function) -> dict[str, dict[int, str]]:
    """Each helper tuple result ``t`` of ``fn``: value k -> the name ``part(t, k)`` is assigned to."""
    out: dict[str, dict[int, str]] = {}
    for pack, k, target in parts(fn):
        out.setdefault(pack, {})[k] = target
    return out


def result_params(g: _Gradient, ret: ir.Return, live: set[str], seeds: list[ir.Stmt]) -> list[ir.Param]:
    """The parameters of a helper's adjoint that take the adjoints of its values ``g.results`` (of several):
    a value's adjoint itself where it is the first such value of its name; otherwise a parameter of its own,
    added to that adjoint (``return a, a``: into ``seeds``) or unread (a constant, say)."""
    out: list[ir.Param] = []
    for k in g.results:
        v = ret.values[k]
        if isinstance(v, ir.Var) and g.act.active(v.name) and v.name not in live:
            out.append(ir.Param(g.bar(v.name)))
            live.add(v.name)
            continue
        name = g.namer.fresh(f"{v.name}_bar" if isinstance(v, ir.Var) else f"value{k}_bar")
        out.append(ir.Param(name))
        if isinstance(v, ir.Var) and g.act.active(v.name):
            seeds.append(g.accumulate(v.name, ir.Var(name)))
    return out


def part_adjoint(g: _Gradient, s: ir.Assign, live: set[str]) -> list[ir.Stmt]:
    """``a = part(t, k)``: ``a``'s adjoint, complete here, is kept for the call that made ``t`` (its reverse
    comes next) as the adjoint of value ``k``; nothing is written, and ``a``'s adjoint ends here."""
    assert isinstance(s.value, ir.Call)
    pack, k = s.value.args
    assert isinstance(pack, ir.Var) and isinstance(k, ir.Const) and isinstance(k.value, int)
    seed: ir.Expr | None = None
    if s.target in g.const_adj:
        seed = g.const_adj.pop(s.target)
    elif s.target in live:
        seed = ir.Var(g.bar(s.target))
    live.discard(s.target)
    if seed is not None and g.act.active(pack.name) and g.act.active(s.target):
        g.part_seeds.setdefault(pack.name, {})[k.value] = seed
        live.add(pack.name)
    return []


def several_adjoint(g: _Gradient, s: ir.Assign, live: set[str]) -> list[ir.Stmt]:
    """``t = h(x)``: one call of the helper's adjoint, given the adjoints its parts kept (a value used here
    whose adjoint is still zero, a zero)."""
    kept = g.part_seeds.pop(s.target, {})
    live.discard(s.target)
    contribs = g.contributions(s)
    if not kept or not contribs:
        return []
    env: dict[str, ir.Expr] = {}
    for k, target in g.parts[s.target].items():
        env[f"{G}#{k}"] = kept[k] if k in kept else _zero(g, target)
    if isinstance(s.value, ir.Call) and len(g.helpers.get(s.value.fn, ())) > 1:
        return g.helper_adjoints(s, env, live)
    out: list[ir.Stmt] = []
    for name in contribs:  # one parameter: the adjoint function returns its adjoint alone
        out.extend(g.add_adjoint(name, ir.substitute(contribs[name], env), s.origin, live))
    return out


def seeds(g: _Gradient, s: ir.Assign, results: tuple[int, ...]) -> tuple[ir.Expr, ...]:
    """The adjoints the call ``t = h(x)`` hands ``adjoint_h`` for its values ``results``: placeholders
    ``$g#k`` (filled in by :func:`several_adjoint`) for those this call uses, zeros for the others."""
    values = g.parts.get(s.target, {})
    return tuple(
        ir.Var(f"{G}#{k}") if k in values and g.act.active(values[k]) else _zero(g, values.get(k)) for k in results
    )


def shapes_recorded(g: _Gradient, stmts: tuple[ir.Stmt, ...], loop: bool = False) -> tuple[ir.Stmt, ...]:
    """``stmts`` with, in a loop, ``a_shape = np.shape(a)`` after each value ``a = part(t, k)`` that the call
    does not use but the helper's adjoint takes (another call uses it): its zero adjoint is made from its
    shape, which the forward pass records each iteration, rather than from the value (recorded whole)."""
    out: list[ir.Stmt] = []
    takes: dict[str, tuple[int, ...]] = {}  # t = h(x) -> the values of h whose adjoints adjoint_h takes
    for s in stmts:
        if isinstance(s, ir.For):
            s = replace(s, body=shapes_recorded(g, s.body, True))
        elif isinstance(s, ir.While) and s.origin is not None and s.origin.span not in g.fixed_points:
            s = replace(s, setup=shapes_recorded(g, s.setup, True), body=shapes_recorded(g, s.body, True))
        elif isinstance(s, ir.If):
            s = replace(s, body=shapes_recorded(g, s.body, loop), orelse=shapes_recorded(g, s.orelse, loop))
        out.append(s)
        if not (loop and isinstance(s, ir.Assign) and isinstance(s.value, ir.Call)):
            continue
        saving = g.saving.get(s.value.fn)
        if saving is not None and saving.results and g.act.active(s.target):
            takes[s.target] = saving.results
        if s.value.fn != ir.PART or not isinstance(s.value.args[0], ir.Var):
            continue
        k = s.value.args[1]
        if not (isinstance(k, ir.Const) and k.value in takes.get(s.value.args[0].name, ())):
            continue
        if g.act.active(s.target) or g.values.scalar(s.target):
            continue  # used here (its own adjoint), or a number (0.0)
        shape = g.part_shapes[s.target] = g.namer.fresh(f"{s.target}_shape")
        out.append(ir.Assign(shape, ir.Call("numpy.shape", (ir.Var(s.target),)), s.origin))
    return tuple(out)


def _zero(g: _Gradient, name: str | None) -> ir.Expr:
    """A zero adjoint for the value ``name``: a number, or an array of its shape (every value of a call is
    named by the frontend; one with no name is taken as a number); in a loop, of its shape recorded (see
    :func:`shapes_recorded`)."""
    if name is None or g.values.scalar(name):
        return ir.Const(0.0)
    if name in g.part_shapes:
        return ir.Call("numpy.zeros", (ir.Var(g.part_shapes[name]),))
    return ir.Call("numpy.zeros_like", (ir.Var(name),))

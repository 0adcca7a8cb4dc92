"""Analyses on the SSA IR: activity, the default ``wrt``, and the checks that need them.

A value is *varied* when it depends on a differentiated parameter through differentiable operations, *useful*
when the returned value depends on it that way, and *active* when both: only active values get adjoints.
Control flow does not carry derivatives (a branch is an indicator function), so tests are never active.
Loops make the dataflow cyclic through carried names; both analyses iterate to a fixed point.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .diagnostics import Diagnostic, S2sadError
from .rules import Rule, lookup

__all__ = ["Activity", "activity", "default_wrt", "check", "helper_rule", "call_sites"]


def rule_of(value: ir.Expr) -> Rule | None:
    return lookup(value.fn, len(value.args)) if isinstance(value, ir.Call) else None


def differentiable_operands(value: ir.Expr) -> list[str]:
    """The variables of an assignment's value that its derivative flows to."""
    if isinstance(value, ir.Var):
        return [value.name]  # a copy
    rule = rule_of(value)
    if rule is None or not isinstance(value, ir.Call):
        return []
    return [a.name for p, a in zip(rule.params, value.args) if p in rule.adjoints and isinstance(a, ir.Var)]


@dataclass(frozen=True)
class Activity:
    varied: frozenset[str]
    useful: frozenset[str]

    def active(self, name: str) -> bool:
        return name in self.varied and name in self.useful


def _assignments(fn: ir.Function) -> list[ir.Assign]:
    return [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign)]


def _returned(fn: ir.Function) -> set[str]:
    return {n for s in fn.body if isinstance(s, ir.Return) for v in s.values for n in ir.expr_names(v)}


def activity(fn: ir.Function, wrt: tuple[str, ...]) -> Activity:
    assigns = _assignments(fn)
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for s in assigns:
            if s.target not in varied and any(n in varied for n in differentiable_operands(s.value)):
                varied.add(s.target)
                changed = True
    useful = _returned(fn)
    changed = True
    while changed:
        changed = False
        for s in reversed(assigns):
            if s.target in useful:
                new = set(differentiable_operands(s.value)) - useful
                if new:
                    useful |= new
                    changed = True
    return Activity(frozenset(varied), frozenset(useful))


def helper_rule(fn: ir.Function) -> Rule:
    """The rule for calls to a helper: its derivative flows to the parameters its result depends on
    differentiably; the adjoint itself is the generated function ``adjoint_<name>``."""
    everything = activity(fn, tuple(p.name for p in fn.params))
    params = tuple(p.name for p in fn.params)
    flows = {p: ir.Var(p) for p in params if everything.active(p)}
    return Rule(fn.name, params, flows, "helper")


def call_sites(fn: ir.Function, act: Activity, helper: str) -> set[str]:
    """The helper's parameters whose adjoints some call in ``fn`` needs."""
    needed: set[str] = set()
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == helper:
            rule = rule_of(s.value)
            if rule is None or not act.active(s.target):
                continue
            for p, a in zip(rule.params, s.value.args):
                if p in rule.adjoints and isinstance(a, ir.Var) and act.active(a.name):
                    needed.add(p)
    return needed


def default_wrt(fn: ir.Function) -> tuple[str, ...]:
    """Every parameter the returned value depends on differentiably, in parameter order, except those that
    decide how often a loop runs (a trip count is an integer, even when it is also used in arithmetic)."""
    everything = activity(fn, tuple(p.name for p in fn.params))
    active = [p.name for p in fn.params if everything.active(p.name)]
    chosen = [p for p in active if not _counts_trips(fn, activity(fn, (p,)))]
    return tuple(chosen or active)  # all of them set trip counts: let check() say where


def _counts_trips(fn: ir.Function, act: Activity) -> bool:
    return any(
        n in act.varied
        for s in ir.walk(fn.body)
        if isinstance(s, ir.For)
        for a in s.range_args
        for n in ir.expr_names(a)
    )


def check(fn: ir.Function, act: Activity) -> None:
    """Constructs that would make the gradient silently wrong: report them all."""
    found: list[Diagnostic] = []

    def report(origin: ir.Origin | None, message: str, code: str, hint: str) -> None:
        if origin is not None:
            found.append(ir.diagnostic(fn.path, origin, message, code, hint))

    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call):
            rule = rule_of(s.value)
            if rule is not None and rule.kind == "discrete":
                for a in s.value.args:
                    if isinstance(a, ir.Var) and a.name in act.varied:
                        short = rule.fn.split(".")[-1]
                        report(
                            s.origin,
                            f"'{short}' of a differentiated value has no useful derivative",
                            "discrete-on-differentiated",
                            "its derivative is zero almost everywhere; if that is intended, compute it from a "
                            "parameter you do not differentiate (see --wrt)",
                        )
        elif isinstance(s, ir.For):
            for a in s.range_args:
                if any(n in act.varied for n in ir.expr_names(a)):
                    report(
                        s.origin,
                        "the loop's trip count depends on a differentiated value",
                        "loop-depends-on-input",
                        "use a trip count from a parameter you do not differentiate (see --wrt)",
                    )
    if found:
        raise S2sadError(found)

"""Analyses on the SSA IR: activity, the default ``wrt``, and the checks that need them.

A value is *varied* when it depends on a differentiated parameter through differentiable operations, *useful*
when the returned value depends on it that way, and *active* when both: only active values get adjoints.
Control flow does not carry derivatives (a branch is an indicator function), so tests are never active.
Loops make the dataflow cyclic through carried names; both analyses iterate to a fixed point.

The invariant :func:`check` enforces, in this one place: a value that depends on a differentiated parameter
never flows into a call that has no derivative rule for that argument (a tuple built for an unknown use, a
shape, ``np.clip``'s bounds, a helper that loses it), when the returned value needs the call's result. Such a
flow is a located ``no-rule`` error, never a silent zero; comparisons and other results that carry no
derivative (``nondiff``) are fine, and integer conversions (``discrete``) have their own error. A library
call without a rule (:class:`s2sad.ir.LibraryCall`, ``np.arange(n, dtype=float)``) is such a call for every
argument: fine on data, refused on a differentiated value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import ir
from .diagnostics import Diagnostic, S2sadError
from .rules import Rule, library_message, lookup

__all__ = [
    "Activity",
    "activity",
    "default_wrt",
    "check",
    "helper_rule",
    "call_sites",
    "used_results",
    "parts",
    "dropped",
    "draws",
]


def rule_of(value: ir.Expr) -> Rule | None:
    return lookup(value.fn, len(value.args)) if isinstance(value, ir.Call) else None


#: Keywords that choose how a result is stored, not what it is (``np.zeros(n, dtype=int)``).
_OPTIONS = frozenset({"dtype", "order", "like", "device", "copy", "subok", "casting"})


def _no_derivative(value: ir.Expr) -> bool:
    """A value that carries no derivative: a comparison, a shape, an integer conversion, an ``and``; also a
    library call with keywords of a function whose every rule says so (``np.zeros(n, dtype=int)``)."""
    if isinstance(value, ir.BoolOp):
        return True
    if isinstance(value, ir.LibraryCall):  # the arguments of a rule that says so, and options (dtype=)
        rule = lookup(value.fn, len(value.args))
        options = all(k in _OPTIONS for k, _ in value.keywords)
        return rule is not None and rule.kind == "nondiff" and rule.takes_positional(len(value.args)) and options
    rule = rule_of(value)
    return rule is not None and rule.kind in _NO_DERIVATIVE


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
    flows = _flows(fn)
    return _activity(flows, _useful(fn, flows), wrt)


def _flows(fn: ir.Function) -> list[tuple[str, list[str]]]:
    """Each assignment's target and the variables its derivative flows to, in program order (looked up once:
    the fixed points below go over them again and again)."""
    return [(s.target, differentiable_operands(s.value)) for s in _assignments(fn)]


def _useful(fn: ir.Function, flows: list[tuple[str, list[str]]]) -> frozenset[str]:
    """The names the returned value depends on differentiably (whatever is differentiated)."""
    return frozenset(reach(_returned(fn), [(operands, (target,)) for target, operands in reversed(flows)]))


def _activity(flows: list[tuple[str, list[str]]], useful: frozenset[str], wrt: tuple[str, ...]) -> Activity:
    return Activity(frozenset(reach(wrt, [((target,), operands) for target, operands in flows])), useful)


def reach(start: Iterable[str], edges: Sequence[tuple[Iterable[str], Iterable[str]]]) -> set[str]:
    """``start`` and every name an edge ``(targets, sources)`` reaches from it, sources to targets, to a fixed
    point (a loop's carried names reach their own earlier definitions). Activity's varied and useful names,
    and forward-over-reverse's (:mod:`s2sad.tangent_flow`), are this closure in one direction or the other."""
    out = set(start)
    by_source: dict[str, list[Iterable[str]]] = {}  # each name -> the targets of the edges it is a source of
    for targets, sources in edges:
        for n in sources:
            by_source.setdefault(n, []).append(targets)
    work = list(out)  # names reached whose edges are not followed yet: each name's once (the least fixed point)
    while work:
        for targets in by_source.get(work.pop(), ()):
            for t in targets:
                if t not in out:
                    out.add(t)
                    work.append(t)
    return out


def helper_rule(fn: ir.Function) -> Rule:
    """The rule for calls to a helper: its derivative flows to the parameters its result depends on
    differentiably; the adjoint itself is the generated function ``adjoint_<name>``."""
    everything = activity(fn, tuple(p.name for p in fn.params))
    params = tuple(p.name for p in fn.params)
    flows = {p: ir.Var(p) for p in params if everything.active(p)}
    # A parameter with no differentiable path to the result may still reach it through a call that has no
    # rule for it (a tuple, a shape): a caller that differentiates it must be refused, not given a zero.
    operands = _operands(fn)
    needed = _needed(fn, operands)
    drops = frozenset(p for p in params if p not in flows and _dropped(fn, (p,), operands, needed))
    return Rule(fn.name, params, flows, "helper", drops=drops)


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


def used_results(fn: ir.Function, act: Activity, helper: str) -> set[int]:
    """The values of a helper returning several (read with ``ir.PART``) whose adjoints some call in ``fn``
    needs: those whose part is active."""
    packs = {
        s.target
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == helper and act.active(s.target)
    }
    return {k for pack, k, target in parts(fn) if pack in packs and act.active(target)}


def parts(fn: ir.Function) -> list[tuple[str, int, str]]:
    """``(t, k, a)`` for each ``a = part(t, k)`` of ``fn``: value k of the helper result ``t``."""
    out = []
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == ir.PART:
            pack, k = s.value.args
            assert isinstance(pack, ir.Var) and isinstance(k, ir.Const) and isinstance(k.value, int)
            out.append((pack.name, k.value, s.target))
    return out


def default_wrt(fn: ir.Function) -> tuple[str, ...]:
    """Every parameter the returned value depends on (differentiably, or through a call that has no rule for
    it), in parameter order, except those that
    decide how often a loop runs (a trip count is an integer, even when it is also used in arithmetic)."""
    flows = _flows(fn)
    useful = _useful(fn, flows)
    everything = _activity(flows, useful, tuple(p.name for p in fn.params))
    # A parameter whose only way to the result is through a call with no rule for it is chosen too, so
    # that check() refuses the program rather than leave it out of the gradient.
    # Keyword-only parameters are options (as in JAX, whose argnums are positional): asked for, or constant.
    operands = _operands(fn)
    needed = _needed(fn, operands)
    active = [
        p.name
        for p in fn.params
        if not p.kwonly and (everything.active(p.name) or _dropped(fn, (p.name,), operands, needed))
    ]
    chosen = [p for p in active if not _counts_trips(fn, _activity(flows, useful, (p,)))]
    return tuple(chosen or active)  # all of them set trip counts: let check() say where


def _counts_trips(fn: ir.Function, act: Activity) -> bool:
    return any(
        n in act.varied
        for s in ir.walk(fn.body)
        if isinstance(s, ir.For)
        for a in s.range_args
        for n in ir.expr_names(a)
    )


# ----------------------------------------------------------------------------------------------------------
# The invariant: a differentiated value never flows into a call without a derivative rule for it
# ----------------------------------------------------------------------------------------------------------
_NO_DERIVATIVE = ("nondiff", "discrete")  # results that carry no derivative (discrete ones are checked apart)


def _operands(fn: ir.Function) -> list[tuple[ir.Assign, Sequence[str]]]:
    """Each assignment and the names its value is computed from through any operation that could carry a
    derivative: unlike :func:`activity`'s flows, also through calls and arguments that have no rule (that is
    what is being checked); none through comparisons, shapes or tests. Looked up once per function."""
    out: list[tuple[ir.Assign, Sequence[str]]] = []
    for s in _assignments(fn):
        v = s.value
        names: Sequence[str] = ()
        if not _no_derivative(v):
            rule = rule_of(v)
            if isinstance(v, ir.Call) and rule is not None and rule.kind == "helper":
                names = [n for p, a in zip(rule.params, v.args) if p in rule.adjoints for n in ir.expr_names(a)]
            else:
                names = ir.expr_names(v)
        out.append((s, names))
    return out


def _depends(operands: list[tuple[ir.Assign, Sequence[str]]], wrt: tuple[str, ...]) -> set[str]:
    """Names whose value depends on ``wrt`` (see :func:`_operands`), to a fixed point (a loop's carried names
    reach their own earlier definitions)."""
    return reach(wrt, [((s.target,), names) for s, names in operands])


def _needed(fn: ir.Function, operands: list[tuple[ir.Assign, Sequence[str]]]) -> set[str]:
    """Names the returned value is computed from (not through comparisons, shapes or tests)."""
    return reach(_returned(fn), [(names, (s.target,)) for s, names in operands])


def dropped(fn: ir.Function, wrt: tuple[str, ...]) -> list[tuple[ir.Assign, str | None]]:
    """Every statement whose call would silently drop the derivative of a value that depends on ``wrt``,
    and the parameter of its rule that has no derivative (None: the call has no rule at all)."""
    operands = _operands(fn)
    return _dropped(fn, wrt, operands, _needed(fn, operands))


def _dropped(
    fn: ir.Function, wrt: tuple[str, ...], operands: list[tuple[ir.Assign, Sequence[str]]], needed: set[str]
) -> list[tuple[ir.Assign, str | None]]:
    """:func:`dropped`, given the function's operands and needed names (the same for every ``wrt``)."""
    depends = _depends(operands, wrt)
    out: list[tuple[ir.Assign, str | None]] = []
    for s in _assignments(fn):
        if s.target in needed and isinstance(s.value, ir.LibraryCall):
            if not _no_derivative(s.value) and any(n in depends for n in ir.expr_names(s.value)):
                out.append((s, None))  # a library call is data: it has no rule for any argument
            continue
        if s.target not in needed or not isinstance(s.value, ir.Call):
            continue
        rule = rule_of(s.value)
        if rule is not None and rule.kind in _NO_DERIVATIVE:
            continue
        for k, arg in enumerate(s.value.args):
            if not any(n in depends for n in ir.expr_names(arg)):
                continue
            if rule is None:
                out.append((s, None))
                break
            param = rule.params[k]
            lost = param in rule.drops if rule.kind == "helper" else param not in rule.adjoints
            if lost:
                out.append((s, param))
                break
    return out


def _dropped_message(s: ir.Assign, param: str | None) -> tuple[str, str]:
    if isinstance(s.value, ir.LibraryCall):
        return library_message(s.value)
    assert isinstance(s.value, ir.Call)
    fn = s.value.fn
    short = fn.split(".")[-1]
    if fn in (ir.TUPLE, ir.LIST):
        return (
            "a tuple holding a differentiated value is used where s2sad cannot follow its elements",
            "index it with constant indices (t[0]), unpack it (a, b = t) or pass it to max, min, sum, np.sum or "
            "np.array; a tuple variable must only ever be assigned tuples of one length",
        )
    rule = rule_of(s.value)
    if param is None or rule is None:
        return (
            f"'{short}' has no derivative rule, and its argument depends on a differentiated value",
            "give it a rule in [tool.s2sad.rules], or pass it values that do not depend on the differentiated "
            "parameters (see --wrt)",
        )
    if fn == ir.SETITEM:  # x[index] = v (see s2sad.frontend.writes)
        return (
            "the index of this write into an array depends on a differentiated value",
            "compute the index from values that are not differentiated (see --wrt)",
        )
    if rule.kind == "helper":
        return (
            f"the derivative of argument '{param}' of the helper '{fn}' would be lost inside it (a call there "
            "has no derivative rule for it)",
            f"differentiate '{fn}' on its own to see where, or pass a value that is not differentiated",
        )
    return (
        f"'{short}' has no derivative with respect to its argument '{param}', which depends on a differentiated "
        "value",
        f"pass '{param}' a value that does not depend on the differentiated parameters (see --wrt)",
    )


def _draws(fn: str) -> bool:
    """A library function whose result differs from one call to the next (a random draw)."""
    return fn.startswith("numpy.random.") or fn.endswith(".rvs")


def draws(fn: ir.Function, drawing: frozenset[str] = frozenset()) -> bool:
    """Whether ``fn`` draws random numbers, itself or through a helper of ``drawing``."""
    return any(
        isinstance(s, ir.Assign)
        and (
            (isinstance(s.value, ir.LibraryCall) and _draws(s.value.fn))
            or (isinstance(s.value, ir.Call) and s.value.fn in drawing)
        )
        for s in ir.walk(fn.body)
    )


def check(fn: ir.Function, act: Activity, *, reruns: bool = False, drawing: frozenset[str] = frozenset()) -> None:
    """Constructs that would make the gradient silently wrong: report them all. ``reruns``: ``fn`` is a helper
    whose adjoint function runs its forward pass again (see :func:`s2sad.reverse.adjoint`); ``drawing``: the
    helpers that draw random numbers (see :func:`draws`)."""
    found: list[Diagnostic] = []

    def report(origin: ir.Origin | None, message: str, code: str, hint: str) -> None:
        if origin is not None:
            found.append(ir.diagnostic(fn.path, origin, message, code, hint))

    for s in ir.walk(fn.body) if reruns else ():
        if isinstance(s, ir.Assign) and draws(ir.Function(fn.name, (), (s,), fn.path), drawing):
            assert isinstance(s.value, (ir.Call, ir.LibraryCall))
            report(
                s.origin,
                f"'{s.value.fn}' draws random numbers in the helper '{fn.name}', whose adjoint runs it again: "
                "the gradient would use other numbers than the value",
                "random-in-helper",
                "draw the numbers in the function you differentiate and pass them to the helper as a parameter",
            )

    wrt = tuple(n for n in (p.name for p in fn.params) if n in act.varied)
    for s, param in dropped(fn, wrt):
        message, hint = _dropped_message(s, param)
        report(s.origin or fn.origin, message, "no-rule", hint)  # never silent, even without a statement

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

"""Fixed-point loops: the implicit adjoint of ``while`` loops marked ``# s2sad: fixed-point`` (issue 16).

Such a loop iterates ``state = g(state, parameters)`` until its test says it has converged. At the converged
state x* = g(x*, p), the implicit function theorem gives the derivative without the iterations: the multiplier
of the constraint x = g(x, p) solves ``lambda = x_bar + (dg/dx)^T lambda``, and the parameters' adjoints gain
``(dg/dp)^T lambda`` (Christianson's two-phase method). So:

- the forward pass runs the loop as written, with no stacks and no iteration count (memory does not grow
  with the number of iterations);
- the reverse pass solves the adjoint equation by the same kind of iteration, each step one pass of the
  body's adjoint at x*. That adjoint is the gradient of ``lambda . g(x, p)`` with respect to ``(x, p)``: the
  body made a function of its own (the *step*, emitted next to the gradient) and differentiated by the
  existing reverse machinery, its intermediates recomputed from x*, its helpers called as anywhere else;
- the iteration stops when the largest change of lambda is at most ``tol`` times its largest entry, where
  ``tol`` is the number the loop's own test compares against when it is written as ``... > tol`` (or
  ``tol < ...``), else 1e-12; after 10,000 steps it raises ValueError (the map is not contracting at x*).

The state is every name the body (and the test's setup) reads before assigning it and assigns: the values
carried from one iteration to the next. The initial state gets no adjoint (x* does not depend on it). A loop
that does not have this form is refused where it is written (:func:`check`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import ir
from .analysis import Activity, _draws, activity
from .diagnostics import Diagnostic, Span
from .names import ModuleNames
from .values import Values, analyse

if TYPE_CHECKING:
    from .reverse import _Gradient
    from .saving import Saving

__all__ = ["FixedPoint", "check", "check_helper", "prepare", "reverse", "forward_loop", "DEFAULT_TOLERANCE"]

DEFAULT_TOLERANCE = 1e-12  #: the relative tolerance of the adjoint iteration when the test shows none
MAX_STEPS = 10_000  #: the adjoint iteration gives up (ValueError) after this many steps
_CODE = "bad-fixed-point"


@dataclass(frozen=True)
class FixedPoint:
    """One fixed-point loop of the differentiated function and the step function of its adjoint."""

    carried: tuple[str, ...]  #: every name carried from one iteration to the next, in order of first read
    state: tuple[str, ...]  #: the carried names that are active: each has a multiplier lambda
    params: tuple[str, ...]  #: the names from before the loop the body reads and does not change
    active: tuple[str, ...]  #: the parameters that are active: ``parameters`` returns their adjoints
    step: ir.Function  #: ``name(*carried, *params, *lambdas)`` -> (dg/dx)^T lambda for each state name
    parameters: ir.Function | None  #: the same arguments -> (dg/dp)^T lambda for each active parameter
    tolerance: float
    docs: tuple[str, str]  #: the docstrings of ``step`` and ``parameters``

    def functions(self) -> list[tuple[ir.Function, str]]:
        pairs = [(self.step, self.docs[0]), (self.parameters, self.docs[1])]
        return [(f, doc) for f, doc in pairs if f is not None]


# --------------------------------------------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------------------------------------------
def iteration(loop: ir.While) -> tuple[ir.Stmt, ...]:
    """One application of the loop's map g: the body, after the statements of the test's setup whose values it
    reads (the others only test convergence)."""
    used = {n for s in ir.walk(loop.body) for n in _stmt_reads(s) | _loop_test_reads(s)}
    kept: list[ir.Stmt] = []
    for s in reversed(loop.setup):
        if ir.assigned_names((s,)) & used:
            kept.append(s)
            used |= {n for t in ir.walk((s,)) for n in _stmt_reads(t) | _loop_test_reads(t)}
    return tuple(kept[::-1]) + loop.body


def _loop_names(loop: ir.While) -> tuple[list[str], set[str], list[str]]:
    """The carried names (in order of first read), every name one iteration assigns, and the names from
    outside it reads (in order of first read)."""
    stmts = iteration(loop)
    assigned = ir.assigned_names(stmts)
    exposed: list[str] = []

    def visit(block: Sequence[ir.Stmt], known: set[str]) -> set[str]:
        """Reads of names not yet assigned on the way; the names surely assigned after ``block``."""
        known = set(known)
        for s in block:
            reads = _stmt_reads(s)
            for n in sorted(reads - known, key=lambda n: n):
                if n not in exposed:
                    exposed.append(n)
            if isinstance(s, ir.Assign):
                known.add(s.target)
            elif isinstance(s, ir.If):
                known |= visit(s.body, known) & visit(s.orelse, known)
            elif isinstance(s, ir.For):
                visit(s.body, known | {s.index})
            elif isinstance(s, ir.While):
                visit(s.setup + s.body, known)
        return known

    visit(stmts, set())
    return [n for n in exposed if n in assigned], assigned, [n for n in exposed if n not in assigned]


def _stmt_reads(s: ir.Stmt) -> set[str]:
    """The names a statement itself reads (not its blocks')."""
    if isinstance(s, (ir.Assign, ir.Accumulate)):
        return set(ir.expr_names(s.value))
    if isinstance(s, (ir.If, ir.Require)):
        return set(ir.expr_names(s.test))
    if isinstance(s, ir.While):
        return set()  # its setup's statements and its test are read as the loop runs: see visit
    if isinstance(s, ir.For):
        return {n for a in s.range_args for n in ir.expr_names(a)}
    return set()


def _diagnostic(path: str, origin: ir.Origin | None, fallback: ir.Origin | None, message: str, help: str) -> Diagnostic:
    where = origin or fallback
    assert where is not None
    return ir.diagnostic(path, where, message, _CODE, help)


def check_helper(fn: ir.Function) -> list[Diagnostic]:
    """A helper's fixed-point loops are refused: its adjoint function has no place for the step yet."""
    return [
        _diagnostic(
            fn.path,
            s.origin,
            fn.origin,
            f"a fixed-point loop in the helper '{fn.name}' is not supported",
            "move the loop into the function differentiated, or remove '# s2sad: fixed-point' to differentiate "
            "its iterations",
        )
        for s in ir.walk(fn.body)
        if isinstance(s, ir.While) and s.fixed_point
    ]


def check(fn: ir.Function, act: Activity, drawing: frozenset[str] = frozenset()) -> list[Diagnostic]:
    """Every fixed-point loop of ``fn`` that is not ``state = g(state, parameters)`` iterated to convergence,
    each reported where it is written. ``drawing``: the helpers that draw random numbers."""
    found: list[Diagnostic] = []

    def report(origin: ir.Origin | None, loop: ir.While, message: str, help: str) -> None:
        found.append(_diagnostic(fn.path, origin, loop.origin, message, help))

    def visit(block: Sequence[ir.Stmt], depth: int) -> None:
        for s in block:
            if isinstance(s, ir.While) and s.fixed_point:
                if depth:
                    report(
                        s.origin,
                        s,
                        "a fixed-point loop inside another loop is not supported",
                        "move it out of the enclosing loop (into a helper is not supported either), or remove "
                        "'# s2sad: fixed-point' to differentiate its iterations",
                    )
                else:
                    _check_loop(fn, s, act, drawing, report)
            visit(ir.nested(s), depth + 1 if isinstance(s, (ir.For, ir.While)) else depth)

    visit(fn.body, 0)
    return found


def _check_loop(
    fn: ir.Function, loop: ir.While, act: Activity, drawing: frozenset[str], say: Callable[..., None]
) -> None:
    """The checks of one loop at the top level; ``say(origin, loop, message, help)`` reports a problem."""
    carried, assigned, _ = _loop_names(loop)
    stmts = iteration(loop)
    if not carried:
        say(
            loop.origin,
            loop,
            "the body of a fixed-point loop must update a state from its previous value",
            "write the loop as 'x = g(x, p)' for the values it iterates, tested for convergence",
        )
        return
    test_reads = set(ir.expr_names(loop.test)) | {n for s in loop.setup for n in _stmt_reads(s)}
    if not test_reads & (assigned | ir.assigned_names(loop.setup)):
        say(
            loop.origin,
            loop,
            "the test of a fixed-point loop must test convergence of the values the loop updates",
            "test a change or a residual of the state, e.g. 'while abs(x_new - x) > 1e-12'",
        )
    for s in ir.walk(stmts):
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn in (ir.SETITEM, ir.APPEND):
            array = s.value.args[0]
            if isinstance(array, ir.Var) and (array.name in carried or array.name not in assigned):
                say(
                    s.origin,
                    loop,
                    f"a fixed-point loop writes into '{array.name}', a value from before the loop",
                    f"compute the new value into a new array inside the loop and assign it ('{array.name} = new')",
                )
        if isinstance(s, ir.Assign) and (
            (isinstance(s.value, ir.LibraryCall) and _draws(s.value.fn))
            or (isinstance(s.value, ir.Call) and s.value.fn in drawing)
        ):
            say(
                s.origin,
                loop,
                "a fixed-point loop draws random numbers: its iterations do not converge to one solution",
                "draw the numbers before the loop",
            )
    # A state updated inside a nested loop is updated there in place (the step function is the body as written);
    # updated both there and by another statement of the iteration, it has no single new value to solve for.
    in_loops = {id(t) for s in ir.walk(stmts) if isinstance(s, (ir.For, ir.While)) for t in ir.walk(ir.nested(s))}
    for n in carried:
        nested = [s for s in ir.walk(stmts) if isinstance(s, (ir.For, ir.While)) and n in ir.assigned_names((s,))]
        direct = [s for s in ir.walk(stmts) if isinstance(s, ir.Assign) and s.target == n and id(s) not in in_loops]
        if nested and direct and act.active(n):
            say(
                nested[0].origin,
                loop,
                f"the state '{n}' of a fixed-point loop is updated both inside a nested loop and outside it",
                f"compute the new value into another name in the nested loop and assign '{n}' once after it",
            )
    # A value the body computes is read after the loop: it belongs to the last iteration, not to x*.
    after = _read_after(fn.body, loop)
    for n in sorted(((assigned | ir.assigned_names(loop.setup)) - set(carried)) & after):
        if act.active(n):
            say(
                loop.origin,
                loop,
                f"'{n}' is computed inside the fixed-point loop and read after it: only the state "
                f"({', '.join(repr(c) for c in carried)}) is the converged solution",
                "read the state after the loop, or compute the value again from it after the loop",
            )


def _read_after(body: Sequence[ir.Stmt], loop: ir.While) -> set[str]:
    """Names read by the statements that run after ``loop`` (at the top level or in a branch around it)."""
    out: set[str] = set()
    seen = False

    def visit(block: Sequence[ir.Stmt]) -> bool:
        nonlocal seen
        for s in block:
            if seen:
                out.update(n for t in ir.walk((s,)) for n in (_stmt_reads(t) | _loop_test_reads(t)))
                if isinstance(s, ir.Return):
                    out.update(n for v in s.values for n in ir.expr_names(v))
                continue
            if s is loop:
                seen = True
                continue
            if isinstance(s, ir.If):
                for b in (s.body, s.orelse):
                    visit(b)
        return seen

    visit(body)
    return out


def _loop_test_reads(s: ir.Stmt) -> set[str]:
    return set(ir.expr_names(s.test)) if isinstance(s, ir.While) else set()


# --------------------------------------------------------------------------------------------------------------
# The step function: lambda . g(x, p), differentiated by the reverse machinery
# --------------------------------------------------------------------------------------------------------------
def tolerance(loop: ir.While) -> float:
    """The number the test compares a change or residual against, when it is written as one (``... > 1e-10``,
    ``1e-10 < ...``, or such an operand of an ``and``); else :data:`DEFAULT_TOLERANCE`."""
    tests = loop.test.values if isinstance(loop.test, ir.BoolOp) and loop.test.op == "and" else (loop.test,)
    for test in tests:
        if isinstance(test, ir.Call) and len(test.args) == 2:
            left, right = test.args
            number = {"operator.gt": right, "operator.ge": right, "operator.lt": left, "operator.le": left}.get(test.fn)
            if isinstance(number, ir.Const) and isinstance(number.value, float) and 0 < number.value < 1:
                return number.value
    return DEFAULT_TOLERANCE


def prepare(
    fn: ir.Function,
    act: Activity,
    helpers: dict[str, tuple[str, ...]],
    names: ModuleNames,
    saving: Mapping[str, Saving] | None,
    values: Values,
) -> dict[Span, FixedPoint]:
    """The step function of each active fixed-point loop of ``fn`` (checked by :func:`check`), by the loop's
    position. Called before ``fn``'s gradient is built, so that the step's name is reserved in the module."""
    from .reverse import adjoint as reverse_adjoint  # the step is differentiated like any function
    from .reverse import gradient

    out: dict[Span, FixedPoint] = {}
    for loop in ir.walk(fn.body):
        if not (isinstance(loop, ir.While) and loop.fixed_point and loop.origin is not None):
            continue
        carried, assigned, outside = _loop_names(loop)
        state = tuple(n for n in carried if act.active(n))
        if not state:
            continue  # nothing differentiable flows around the loop: the forward pass runs it, that is all
        params = tuple(outside)
        scope = names.local(fn)
        key = f"fixed point {fn.name} {loop.origin.span}"
        step_name = names.invent(key, f"{fn.name}_fixed_point_adjoint")
        active = tuple(p for p in params if act.active(p))
        params_name = names.invent(f"{key} parameters", f"{fn.name}_fixed_point_parameters") if active else None
        nxt = {c: scope.fresh(f"{c}_next") for c in carried}
        lambdas = {c: scope.fresh(f"{c}_lambda") for c in state}
        body, env = _renamed(iteration(loop), nxt, {})
        missing = [c for c in carried if env.get(c) != nxt[c]]
        body += [ir.Assign(nxt[c], ir.Var(c)) for c in missing]  # never assigned on this path: unchanged
        terms: list[str] = []
        temps: set[str] = set()
        # One state: the step returns its new value and its adjoint function is seeded with lambda. Several:
        # the step returns the number lambda . g, whose gradient is (dg/dx)^T lambda.
        seeded = len(state) == 1
        if seeded:
            lambdas = {}
        for c in state if not seeded else ():
            product = scope.fresh(f"{c}_lambda_g")
            body.append(ir.Assign(product, ir.Call("operator.mul", (ir.Var(lambdas[c]), ir.Var(nxt[c])))))
            temps.add(product)
            if not values.scalar(c):
                total = scope.fresh(f"{c}_lambda_g_sum")
                body.append(ir.Assign(total, ir.Call("numpy.sum", (ir.Var(product), ir.Const(None), ir.Const(False)))))
                temps.add(total)
                product = total
            terms.append(product)
        result = terms[0] if terms else nxt[state[0]]
        for t in terms[1:]:
            joined = scope.fresh("lambda_g")
            body.append(ir.Assign(joined, ir.Call("operator.add", (ir.Var(result), ir.Var(t)))))
            temps.add(joined)
            result = joined
        body.append(ir.Return((ir.Var(result),), loop.origin))
        step_params = tuple(ir.Param(n) for n in (*carried, *params, *lambdas.values()))
        step = ir.Function(
            step_name,
            step_params,
            tuple(body),
            fn.path,
            fn.imports,
            fn.constants,
            loop.origin,
            fn.user_names | set(nxt.values()) | set(lambdas.values()) | temps,
            (fn.invented & ir.assigned_names(tuple(body))) | (temps - {result}),
        )
        given = {p.name: values.of(p.name) for p in step_params if p.name not in lambdas.values()}
        given.update({lambdas[c]: values.of(c) for c in lambdas})
        step_values = analyse(step, given)

        def adjoint(wrt: tuple[str, ...], name: str) -> ir.Function:
            act = activity(step, wrt)
            if seeded:
                return replace(reverse_adjoint(step, wrt, act, helpers, names, saving, step_values), name=name)
            grad = gradient(step, wrt, act, helpers=helpers, names=names, saving=saving, values=step_values)
            return replace(grad, name=name)

        x = ", ".join(state)
        where = f"of the fixed-point loop '{loop.origin.text}' in '{fn.name}', at its converged state ({x})"
        docs = (
            f"One step of the adjoint {where}: (dg/dx)^T lambda, g the loop's body and lambda the multipliers.",
            f"The parameters' adjoints {where}: (dg/dp)^T lambda, once lambda is solved.",
        )
        out[loop.origin.span] = FixedPoint(
            tuple(carried),
            state,
            params,
            active,
            adjoint(state, step_name),
            adjoint(active, params_name) if params_name is not None else None,
            tolerance(loop),
            docs,
        )
    return out


def _renamed(
    stmts: Sequence[ir.Stmt], nxt: Mapping[str, str], env: dict[str, str]
) -> tuple[list[ir.Stmt], dict[str, str]]:
    """``stmts`` with each carried name's new value assigned to its ``nxt`` name (``x_next``), and the reads
    after that assignment reading it; ``env`` maps a carried name to the name holding its current value."""
    env = dict(env)
    out: list[ir.Stmt] = []
    for s in stmts:
        s = _substituted(s, env)
        if isinstance(s, ir.Assign) and s.target in nxt:
            env[s.target] = nxt[s.target]
            s = replace(s, target=nxt[s.target])
        elif isinstance(s, ir.If) and ir.assigned_names((s,)) & set(nxt):
            body, env1 = _renamed(s.body, nxt, env)
            orelse, env2 = _renamed(s.orelse, nxt, env)
            for c in nxt:
                if env1.get(c) != env2.get(c):  # assigned in one branch only: the other keeps the value
                    if env1.get(c) != nxt[c]:
                        body.append(ir.Assign(nxt[c], ir.Var(env1.get(c, c))))
                    else:
                        orelse.append(ir.Assign(nxt[c], ir.Var(env2.get(c, c))))
                    env[c] = nxt[c]
                elif env1.get(c) is not None:
                    env[c] = env1[c]
            s = replace(s, body=tuple(body), orelse=tuple(orelse))
        out.append(s)
    return out, env


def _substituted(s: ir.Stmt, env: Mapping[str, str]) -> ir.Stmt:
    """``s`` reading ``env[c]`` wherever it reads a carried name ``c`` (at any depth)."""
    if not env:
        return s
    sub = {c: ir.Var(n) for c, n in env.items()}
    if isinstance(s, (ir.Assign, ir.Accumulate)):
        return replace(s, value=ir.substitute(s.value, sub))
    if isinstance(s, ir.Require):
        return replace(s, test=ir.substitute(s.test, sub))
    if isinstance(s, ir.If):
        return replace(
            s,
            test=ir.substitute(s.test, sub),
            body=tuple(_substituted(t, env) for t in s.body),
            orelse=tuple(_substituted(t, env) for t in s.orelse),
        )
    if isinstance(s, ir.For):
        return replace(
            s,
            range_args=tuple(ir.substitute(a, sub) for a in s.range_args),
            body=tuple(_substituted(t, env) for t in s.body),
        )
    if isinstance(s, ir.While):
        return replace(
            s,
            setup=tuple(_substituted(t, env) for t in s.setup),
            test=ir.substitute(s.test, sub),
            body=tuple(_substituted(t, env) for t in s.body),
        )
    if isinstance(s, ir.Return):
        return replace(s, values=tuple(ir.substitute(v, sub) for v in s.values))
    return s


# --------------------------------------------------------------------------------------------------------------
# The gradient function's hooks
# --------------------------------------------------------------------------------------------------------------
def _prepared(s: ir.Stmt, prepared: Mapping[Span, FixedPoint]) -> FixedPoint | None:
    if isinstance(s, ir.While) and s.fixed_point and s.origin is not None:
        return prepared.get(s.origin.span)
    return None


def implicit(g: _Gradient, s: ir.Stmt) -> bool:
    """Whether ``s`` is a fixed-point loop whose adjoint is implicit. A marked loop nobody prepared a step for
    (no active state; a pipeline that does not call :func:`prepare`) is taped like any loop: never dropped."""
    return _prepared(s, g.fixed_points) is not None


def inside(fn: ir.Function, prepared: Mapping[Span, FixedPoint]) -> set[int]:
    """The ids of the statements inside fixed-point loops with an implicit adjoint: the forward pass records
    nothing for them."""
    loops = [s for s in ir.walk(fn.body) if isinstance(s, ir.While) and _prepared(s, prepared) is not None]
    return {id(t) for s in loops for t in ir.walk(s.setup + s.body)}


def before(g: _Gradient, s: ir.Stmt) -> list[ir.Stmt]:
    """Before a fixed-point loop: its carried values from before the loop that the reverse of an earlier
    statement reads (``y = x * x`` before the loop reads the initial ``x``), kept under another name for the
    reverse pass to put back once the loop's adjoint is done. A reference, not a copy: the loop rebinds the
    names, it never writes into their arrays (see :func:`check`)."""
    fp = _prepared(s, g.fixed_points)
    if fp is None:
        return []
    start = g._order[id(s)]
    inside_loop = {id(t) for t in ir.walk((s,))}
    earlier = [t for t in ir.walk(g.fn.body) if g._order[id(t)] < start and id(t) not in inside_loop]
    reads = set().union(*(g._reads(t) for t in earlier if isinstance(t, ir.Assign))) if earlier else set()
    kept: dict[str, str] = g.__dict__.setdefault("_fixed_initial", {})
    out: list[ir.Stmt] = []
    for c in fp.carried:
        if c in reads:
            kept[f"{s.origin.span}:{c}" if s.origin else c] = name = g.namer.fresh(f"{c}_initial")
            out.append(ir.Assign(name, ir.Var(c)))
    return out


def forward_loop(g: _Gradient, s: ir.While, loops: tuple[ir.For | ir.While, ...]) -> ir.While:
    """The loop as written: its statements the state and the test need, no stacks, no iteration count."""
    inner = loops + (s,)
    g.untaped = True
    try:
        body = g.forward(s.body, inner)
        setup, pending = g._forward(s.setup, inner)
    finally:
        g.untaped = False
    return replace(s, setup=tuple(setup), test=g._fold(s.test, pending), body=tuple(body))


def reads(g: _Gradient, s: ir.While) -> set[str]:
    """What the reverse of the loop reads: the converged state and the parameters, as the loop left them."""
    fp = _prepared(s, g.fixed_points)
    assert fp is not None
    return set(fp.carried + fp.params)


def reverse(g: _Gradient, s: ir.While, live: set[str]) -> list[ir.Stmt]:
    """The adjoint of the loop: lambda solved by fixed-point iteration at x*, then (dg/dp)^T lambda added to the
    parameters' adjoints. The initial state's adjoint is zero (x* does not depend on it)."""
    fp = _prepared(s, g.fixed_points)
    assert fp is not None and s.origin is not None
    out = g.materialize(live)
    seeded = [c for c in fp.state if c in live]
    if not seeded:  # the converged state is not used: every adjoint through the loop is zero
        return out
    assert s.origin is not None
    fresh = g.namer.fresh
    lam = {c: fresh(f"{c}_lambda") for c in fp.state}
    step = {c: fresh(f"{c}_lambda_step") for c in fp.state}
    new = {c: fresh(f"{c}_lambda_next") for c in fp.state}
    change, size, steps = fresh("lambda_change"), fresh("lambda_size"), fresh("adjoint_steps")
    # an adjoint nobody has written yet is the result itself; another is added to
    param_bars = {p: fresh(f"{p}_bar_fixed_point") if p in live else g.bar(p) for p in fp.active}
    shown = ", ".join(fp.state)
    x = shown if len(fp.state) == 1 else f"({shown})"
    out.append(
        ir.Comment(f"{x} = g({', '.join((*fp.state, *fp.params))}) at its fixed point (implicit function theorem):")
    )
    out.append(
        ir.Comment(
            f"lambda = {x}_bar + (dg/d{x})^T lambda, solved by fixed-point iteration (tolerance {fp.tolerance!r})"
        )
    )
    for c in fp.state:
        out.append(ir.Assign(lam[c], ir.Var(g.bar(c))) if c in live else replace(g.zero(c), target=lam[c]))
    out.append(ir.Assign(change, ir.Global("math.inf")))
    out.append(ir.Assign(size, ir.Const(0.0)))
    out.append(ir.Assign(steps, ir.Const(0)))
    args = tuple(ir.Var(n) for n in fp.carried + fp.params) + tuple(ir.Var(lam[c]) for c in fp.state)
    contracting = "the loop's map is not contracting at its solution"
    message = f"the adjoint of the fixed-point loop at line {s.origin.span.line} did not converge in {MAX_STEPS} steps: {contracting}"
    body: list[ir.Stmt] = [ir.Require(ir.Call("operator.lt", (ir.Var(steps), ir.Const(MAX_STEPS))), message)]
    call = ir.Call(fp.step.name, args)
    body.append(
        ir.Unpack(tuple(step[c] for c in fp.state), call) if len(fp.state) > 1 else ir.Assign(step[fp.state[0]], call)
    )
    changes: list[ir.Expr] = []
    sizes: list[ir.Expr] = []
    for c in fp.state:
        value: ir.Expr = ir.Var(step[c])
        if c in live:
            value = ir.Call("operator.add", (ir.Var(g.bar(c)), value))
        body.append(ir.Assign(new[c], value))
        diff = ir.Call("operator.sub", (ir.Var(new[c]), ir.Var(lam[c])))
        if g.values.scalar(c):
            changes.append(ir.Call("builtins.abs", (diff,)))
            sizes.append(ir.Call("builtins.abs", (ir.Var(new[c]),)))
        else:
            changes.append(ir.Call("numpy.max", (ir.Call("numpy.abs", (diff,)),)))
            sizes.append(ir.Call("numpy.max", (ir.Call("numpy.abs", (ir.Var(new[c]),)),)))
    body.append(ir.Assign(change, changes[0] if len(changes) == 1 else ir.Call("builtins.max", tuple(changes))))
    body.append(ir.Assign(size, sizes[0] if len(sizes) == 1 else ir.Call("builtins.max", tuple(sizes))))
    diverged = f"the adjoint of the fixed-point loop at line {s.origin.span.line} diverged: {contracting}"
    body.append(ir.Require(ir.Call("math.isfinite", (ir.Var(size),)), diverged))
    body += [ir.Assign(lam[c], ir.Var(new[c])) for c in fp.state]
    body.append(ir.Accumulate(steps, ir.Const(1)))
    converged = ir.Call(
        "operator.le", (ir.Var(change), ir.Call("operator.mul", (ir.Const(fp.tolerance), ir.Var(size))))
    )
    out.append(ir.While((), ir.Call("operator.not_", (converged,)), tuple(body), None, s.origin))
    if fp.parameters is not None:
        call = ir.Call(fp.parameters.name, args)
        bars = tuple(param_bars.values())
        out.append(ir.Unpack(bars, call) if len(bars) > 1 else ir.Assign(bars[0], call))
    for p, bar in param_bars.items():
        if p in live:
            out.append(g.accumulate(p, ir.Var(bar), s.origin))
        live.add(p)
    for c in fp.carried:
        live.discard(c)  # the initial state's adjoint: zero
    kept: dict[str, str] = g.__dict__.get("_fixed_initial", {})
    for c in fp.carried:  # the values from before the loop, for the reverse of the statements before it
        if f"{s.origin.span}:{c}" in kept:
            out.append(ir.Assign(c, ir.Var(kept[f"{s.origin.span}:{c}"])))
    return out

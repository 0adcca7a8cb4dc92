"""Forward mode over reverse mode: the tangent of a gradient program (IR, before emit), for Hessian-vector
products (:mod:`s2sad.hvp_pipeline`).

The gradient program of :mod:`s2sad.reverse` is differentiated again along the tangents of the differentiated
parameters: every statement of it that computes a value carrying a tangent is followed (or, when it overwrites
a value it reads, preceded) by that tangent, named ``<name>_dot`` (``x_bar_dot`` for the tangent of the adjoint
``x_bar``). Loops and branches are kept; the forward pass's records get the tangents beside the values
(``x_dot`` is pushed where ``x`` is, and popped where it is). What only gradient programs contain:

- ``x_bar += term`` adds the tangent too, ``x_bar_dot += term_dot``; the in-place forms ``x_bar[i] += v`` and
  ``np.add.at(x_bar, i, v)`` the same way. ``x_bar_dot`` owns its array wherever ``x_bar`` does: the tangent of
  a new array (``np.zeros``, ``scatter(g, ...)``, ``x_bar + scatter(...)``) is a new array;
- the support functions (``unbroadcast``, ``scatter``, the matmul adjoints ...) are linear in their adjoint
  argument, and some in one more (:data:`s2sad.tangents.SUPPORT_TANGENTS`): the tangent is the same call on the
  tangents;
- the helpers' functions (``h``, ``forward_h``, ``adjoint_h``) get tangent functions ``jvp_<name>(<its
  parameters>, <p>_dot ...)`` returning their results and then the results' tangents; a caller unpacks both.

The adjoint templates are expressions of primitives, and those have tangent rules (:mod:`s2sad.tangents`),
so no second table: an expression's tangent is built bottom up, the template of each call with its
arguments' tangents. Which names carry a tangent: those a differentiated parameter reaches through
differentiable arguments (*varied*) and whose tangent reaches a returned value (*useful*), computed over the
whole program by name (a loop's names, a branch's: :mod:`s2sad.tangent_flow`). A tangent flowing where no
rule says how is a located ``no-forward-rule`` error, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from . import ir
from .algebra import simplify
from .analysis import rule_of
from .diagnostics import Diagnostic, S2sadError
from .names import ModuleNames, Scope, TangentNames
from .rules import known_arities, lookup
from .shape_keys import ShapeKeys
from .shapes import Scalar, same_shape
from .specialise import _numpy_log
from .tangent_flow import Flow, saved_cut, sources
from .tangents import dot as template_dot
from .tangents import SUPPORT_EXPLICIT, Tangent, support_positions, tangent_of, zero
from .values import UNKNOWN, Value, Values, _Analysis

__all__ = ["Tangents", "tangents"]

#: The template name of a call's own result
_ANS = "ans"
_POWERS = {"operator.pow", "builtins.pow"}


@dataclass(frozen=True)
class Tangents:
    """The tangent functions of a gradient program: the main one first, then one per function of the
    program's helpers that receives a tangent, with what each takes."""

    main: ir.Function
    helpers: list[tuple[ir.Function, ir.Function]]  #: (the function, its tangent function)


def tangents(
    grad_fn: ir.Function,
    wrt: tuple[str, ...],
    others: Sequence[ir.Function],
    *,
    names: ModuleNames,
    primal: Values,
    main_name: str,
    scalar_functions: frozenset[str] = frozenset(),
) -> Tangents:
    """The tangent of ``grad_fn`` along ``<p>_dot`` for each ``p`` of ``wrt`` (named ``main_name``, returning
    the tangents of the gradient's results), and of each function of ``others`` (callers before callees)
    that receives a tangent. ``primal`` is what :mod:`s2sad.values` knows of the differentiated function;
    ``scalar_functions``: the functions of ``others`` made from a helper that is scalar code."""
    for f in others:  # every top-level name is invented before any local one
        names.tangent(f.name)
    functions = {f.name: f for f in others}
    grad_fn = _hoisted(grad_fn, functions, names)
    others = [_hoisted(f, functions, names) for f in others]
    functions = {f.name: f for f in others}
    scalar_code = primal.scalar_code
    # which parameters of each function receive a tangent: the positions its callers pass one in; an adjoint's
    # saved values carry the tangents its forward function saved (grown to the fixed point: see saved_cut)
    pairs = names.split()
    cut: dict[str, dict[str, frozenset[str]]] = {}
    while True:
        wanted, flows = _flows(grad_fn, wrt, others, functions, cut)
        again = saved_cut(pairs, functions, flows)
        if again == cut:
            break
        cut = again
    params = {p.name: primal.of(p.name) for p in grad_fn.params}
    packed = _packed(grad_fn, others)
    problems: list[Diagnostic] = []
    built: list[tuple[ir.Function, ir.Function]] = []
    main: ir.Function | None = None
    for f in [grad_fn, *others]:
        if f.name not in flows:
            continue
        is_main = f is grad_fn
        start = params if is_main else {p.name: UNKNOWN for p in f.params}
        builder = _Builder(
            f,
            tuple(wrt) if is_main else tuple(f.params[i].name for i in sorted(wanted[f.name])),
            flows[f.name],
            names,
            wanted,
            functions,
            scalar_code or f.name in scalar_functions,
            start,
            main_name if is_main else names.tangent(f.name),
            is_main,
            packed=f.name in packed,
            numbers=primal.assumed - {p.name for p in f.params} if is_main else frozenset(),  # the items
        )
        try:
            out = builder.build()
        except S2sadError as err:
            problems += err.diagnostics
            continue
        if is_main:
            main = out
        else:
            built.append((f, out))
    if problems:
        raise S2sadError(problems)
    assert main is not None
    return Tangents(main, built)


def _flows(
    grad_fn: ir.Function,
    wrt: Sequence[str],
    others: Sequence[ir.Function],
    functions: Mapping[str, ir.Function],
    cut: Mapping[str, Mapping[str, frozenset[str]]],
) -> tuple[dict[str, set[int]], dict[str, Flow]]:
    """The positions at which each function receives a tangent, and each such function's flow (callers first)."""
    wanted: dict[str, set[int]] = {}
    flows: dict[str, Flow] = {}
    main_flow = Flow(grad_fn, frozenset(wrt), functions)
    flows[grad_fn.name] = main_flow
    main_flow.calls(wanted)
    for f in others:
        if f.name not in wanted:
            continue
        seeds = frozenset(f.params[i].name for i in wanted[f.name])
        flow = Flow(f, seeds, functions, cut.get(f.name, {}))
        flows[f.name] = flow
        flow.calls(wanted)
    return wanted, flows


def _packed(grad_fn: ir.Function, others: Sequence[ir.Function]) -> set[str]:
    """The functions returning several values that a caller assigns to one name (a helper returning a tuple,
    its values read with ``ir.PART``): their tangent functions return the tuple, then the tuple of tangents."""
    several = {f.name for f in others for s in f.body if isinstance(s, ir.Return) and len(s.values) > 1}
    return {
        s.value.fn
        for f in [grad_fn, *others]
        for s in ir.walk(f.body)
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn in several
    }


def _hoisted(fn: ir.Function, functions: Mapping[str, ir.Function], names: ModuleNames) -> ir.Function:
    """``fn`` with each call of a helper's function inside an expression (``x_bar = x_bar + adjoint_h(...)``)
    given a statement of its own, ``x_bar_term = adjoint_h(...)``: its tangent function returns two values."""
    namer = names.local(fn)

    def lift(e: ir.Expr, base: str, out: list[ir.Stmt]) -> ir.Expr:
        if isinstance(e, ir.Call):
            args = tuple(lift(a, base, out) for a in e.args)
            e = ir.Call(e.fn, args)
            if e.fn in functions:
                name = namer.fresh(f"{base}_term")
                out.append(ir.Assign(name, e))
                return ir.Var(name)
        return e

    def block(stmts: Sequence[ir.Stmt]) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for s in stmts:
            if isinstance(s, ir.Accumulate) and isinstance(s.value, ir.Call) and s.value.fn in functions:
                out.append(replace(s, value=lift(s.value, s.target, out)))
            elif isinstance(s, (ir.Assign, ir.Accumulate)) and isinstance(s.value, ir.Call):
                args = tuple(lift(a, s.target, out) for a in s.value.args)
                out.append(replace(s, value=ir.Call(s.value.fn, args)))
            elif isinstance(s, ir.Return):
                out.append(replace(s, values=tuple(lift(v, "result", out) for v in s.values)))
            elif isinstance(s, ir.For):
                out.append(replace(s, body=block(s.body)))
            elif isinstance(s, ir.If):
                out.append(replace(s, body=block(s.body), orelse=block(s.orelse)))
            elif isinstance(s, ir.While):
                out.append(replace(s, setup=block(s.setup), body=block(s.body)))
            else:
                out.append(s)
        return tuple(out)

    return replace(fn, body=block(fn.body))


#: calls whose result is a new array: a tangent that may be added into in place as it is
_NEW = {"operator.add", "operator.sub", "operator.mul", "operator.truediv", "operator.neg", "numpy.zeros"}
_NEW |= {"s2sad.scatter", "s2sad.zeros_of"}


def _padded(e: ir.Call) -> ir.Call | None:
    """``e`` with the defaults of the parameters it leaves out written, where the table has an entry for the
    longer call (``numpy.sum(x, -1)`` -> ``numpy.sum(x, -1, False)``); None when it has none."""
    for n in known_arities(e.fn):
        rule = lookup(e.fn, n)
        if rule is None or n <= len(e.args) or not all(p in rule.defaults for p in rule.params[len(e.args) :]):
            continue
        return ir.Call(e.fn, e.args + tuple(rule.defaults[p] for p in rule.params[len(e.args) :]))
    return None


def _negated(e: ir.Expr) -> ir.Expr | None:
    """``e`` without its leading minus (``-a * b`` -> ``a * b``), or None when it has none."""
    if isinstance(e, ir.Call) and e.fn == "operator.neg":
        return e.args[0]
    if isinstance(e, ir.Call) and e.fn in ("operator.mul", "operator.truediv"):
        first = _negated(e.args[0])
        return None if first is None else ir.Call(e.fn, (first, e.args[1]))
    return None


def _plus(total: ir.Expr, term: ir.Expr) -> ir.Expr:
    """``total + term``, written ``total - t`` where ``term`` is ``-t`` (``-a * b`` included)."""
    positive = _negated(term)
    return ir.Call("operator.add", (total, term)) if positive is None else ir.Call("operator.sub", (total, positive))


def _reads_first(stmts: Sequence[ir.Stmt], name: str) -> bool:
    """Whether ``name`` may be read in ``stmts`` before it is bound (a loop's or branch's body counts as read
    where it reads the name at all)."""

    def reads(t: ir.Stmt) -> bool:
        accumulated = isinstance(t, ir.Accumulate) and t.target == name  # x += t reads x
        return accumulated or any(name in ir.expr_names(e) for e in _expressions(t))

    for s in stmts:
        if isinstance(s, (ir.For, ir.If, ir.While)):
            if any(reads(t) for t in ir.walk((s,))):
                return True
            continue
        if reads(s):
            return True
        if name in ir.assigned_names((s,)):
            return False
    return False


def _expressions(s: ir.Stmt) -> tuple[ir.Expr, ...]:
    if isinstance(s, ir.Push):
        return (ir.Var(s.name),)
    if isinstance(s, ir.Pop):
        return (ir.Var(s.stack),)
    return ir.expressions(s)


# ------------------------------------------------------------------------------------------------------------
# Building the tangent function
# ------------------------------------------------------------------------------------------------------------
class _Builder:
    def __init__(
        self,
        fn: ir.Function,
        wrt: tuple[str, ...],
        flow: Flow,
        names: ModuleNames,
        wanted: Mapping[str, set[int]],
        functions: Mapping[str, ir.Function],
        scalar_code: bool,
        params: Mapping[str, Value],
        name: str,
        is_main: bool,
        *,
        packed: bool = False,
        numbers: frozenset[str] = frozenset(),
    ) -> None:
        self.fn, self.wrt, self.flow, self.names = fn, wrt, flow, names
        self.packed = packed  #: a function returning several values to callers that assign them to one name
        self.wanted, self.functions, self.scalar_code, self.name, self.is_main = (
            wanted,
            functions,
            scalar_code,
            name,
            is_main,
        )
        self.shapes = _Analysis(fn, None, numbers)  # numbers: the items taken for numbers (see scalar_uses)
        self.shapes.run(params)
        self.keys = None if scalar_code else ShapeKeys(fn, self.value, (p.name for p in fn.params), is_main)
        self.dot = TangentNames(names.local(fn), wrt)
        self.namer: Scope = self.dot.scope
        self._discard: str | None = None
        self.problems: list[Diagnostic] = []
        self.requires: list[ir.Require] = []  #: run-time checks the statement being built needs first
        self.in_place = {s.target for s in ir.walk(fn.body) if isinstance(s, ir.Accumulate)}  #: added into
        self.origin: ir.Origin | None = fn.origin

    # ----- names -------------------------------------------------------------------------------------------
    def active(self, name: str) -> bool:
        return name in self.flow.active

    def discard(self) -> str:
        """``_`` for a tangent nobody reads (another name if the function reads a ``_``)."""
        if self._discard is None:
            read = {n for s in ir.walk(self.fn.body) for e in _expressions(s) for n in ir.expr_names(e)}
            self._discard = "_" if "_" not in read and "_" not in self.fn.user_names else self.namer.fresh("_")
        return self._discard

    # ----- values ------------------------------------------------------------------------------------------
    def value(self, e: ir.Expr) -> Value:
        return self.shapes.value(e) or UNKNOWN

    def scalar(self, e: ir.Expr) -> bool:
        return isinstance(e, ir.Const) or self.scalar_code or isinstance(self.value(e), Scalar)

    def alike(self, a: ir.Expr, b: ir.Expr) -> bool:
        """Whether ``a`` and ``b`` provably have one shape (see :mod:`s2sad.shape_keys`)."""
        same = same_shape(self.value(a), self.value(b))
        return same or (self.keys is not None and self.keys.alike(a, b))

    def zero(self, e: ir.Expr) -> ir.Expr:
        return zero(e, self.scalar(e))

    def refuse(self, message: str) -> None:
        assert self.origin is not None
        self.problems.append(
            ir.diagnostic(
                self.fn.path,
                self.origin,
                message,
                "no-forward-rule",
                "differentiate the gradient another way (s2sad grad, then finite differences of it), or pass "
                "values that do not depend on the differentiated parameters (see --wrt)",
            )
        )

    # ----- tangents of expressions -----------------------------------------------------------------------
    def tan(self, e: ir.Expr, ans: ir.Expr | None = None) -> ir.Expr | None:
        """The tangent of ``e``, or None where it is zero. ``ans``: how the tangent reads ``e``'s own value
        (its target, when it is a statement's whole value; the expression itself otherwise)."""
        if isinstance(e, ir.Var):
            return ir.Var(self.dot(e.name)) if self.active(e.name) else None
        if isinstance(e, ir.LibraryCall):
            if sources(e, self.functions) & self.flow.active:
                self.refuse(f"'{e.fn}' has no derivative rule, and its argument depends on a differentiated value")
            return None
        if not isinstance(e, ir.Call):
            return None
        if e.fn in self.functions:  # pragma: no cover - a helper's call is a statement's whole value
            self.refuse(f"a call of '{e.fn}' inside an expression")
            return None
        if e.fn == ir.TUPLE:
            parts = [self.tan(a) for a in e.args]
            if all(p is None for p in parts):
                return None
            return ir.Call(ir.TUPLE, tuple(p if p is not None else self.zero(a) for p, a in zip(parts, e.args)))
        if e.fn == ir.IFEXP:
            test, a, b = e.args
            da, db = self.tan(a), self.tan(b)
            if da is None and db is None:
                return None
            return ir.Call(
                ir.IFEXP, (test, da if da is not None else self.zero(a), db if db is not None else self.zero(b))
            )
        if e.fn == ir.TRANSPOSED:  # x.T: linear
            d = self.tan(e.args[0])
            return None if d is None else ir.Call(ir.TRANSPOSED, (d,))
        rule = rule_of(e)
        if rule is None:
            padded = _padded(e)  # a template's call that leaves defaults out: numpy.sum(x, -1)
            if padded is not None:
                return self.tan(padded, ans)
            return self.support(e, ans if ans is not None else e)
        dargs = {p: self.tan(a) for p, a in zip(rule.params, e.args) if p in rule.adjoints}
        active = {p: d for p, d in dargs.items() if d is not None}
        if not active:
            return None
        t = tangent_of(rule)
        if t is None and rule.kind != "helper" and set(rule.adjoints) <= set(rule.params):
            # a number's Jacobian is 1 by 1: the JVP is the VJP with g -> p_dot, for numbers (checked at run time
            # where the values do not prove it: a rule of the user's)
            numbers = [ans if ans is not None else e, *(a for p, a in zip(rule.params, e.args) if p in active)]
            unsure = [x for x in numbers if not self.scalar(x)]
            if not unsure or rule.note == "the user's rule":
                t = Tangent(
                    "scalar", {p: ir.substitute(rule.adjoints[p], {"g": ir.Var(template_dot(p))}) for p in active}
                )
                short = rule.fn.split(".")[-1]
                for x in unsure:
                    test = ir.Call("operator.eq", (ir.Call("numpy.ndim", (x,)), ir.Const(0)))
                    message = f"the second derivative of '{short}' uses your rule, which s2sad reads as one for numbers; it was called on an array"
                    self.requires.append(ir.Require(test, message))
        if t is None:
            short = rule.fn.split(".")[-1]
            self.refuse(
                f"'{short}' has no forward-mode (tangent) rule, and its argument depends on a differentiated value"
            )
            return None
        env: dict[str, ir.Expr] = dict(zip(rule.params, e.args))
        for p, a in zip(rule.params, e.args):
            env[template_dot(p)] = active[p] if p in active else self.zero(a)
        if t.whole is not None:
            return simplify(ir.substitute(t.whole, env))
        env[_ANS] = ans if ans is not None else e
        total: ir.Expr | None = None
        for p in active:
            term = t.terms[p]
            if rule.fn in _POWERS and not self.scalar(e.args[0]):  # log(a) of an array: NumPy's
                term = _numpy_log(term)
            term = simplify(ir.substitute(term, env))
            total = term if total is None else _plus(total, term)
        assert total is not None
        if (rule.broadcasts or rule.shape == "elementwise") and self.smaller(e, set(active)):
            total = ir.Call("numpy.broadcast_to", (total, ir.Call("numpy.shape", (env[_ANS],))))
        return total

    def smaller(self, e: ir.Call, active: set[str]) -> bool:
        """Whether the tangent of the broadcasting call ``e`` may be smaller than its result: the tangents
        of some operands only, and none provably of the result's shape."""
        if self.scalar(e):
            return False
        rule = rule_of(e)
        assert rule is not None
        given = [a for p, a in zip(rule.params, e.args) if p in active]
        others = [a for p, a in zip(rule.params, e.args) if p not in active]
        if all(self.scalar(b) for b in others):
            return False
        return not any(self.alike(a, e) for a in given)

    def support(self, e: ir.Call, ans: ir.Expr) -> ir.Expr | None:
        """The tangent of a support function's call, or of a call with no rule at all (refused if a tangent
        flows into it)."""
        positions = support_positions(e.fn, e.args)
        linear, shape_only = positions if positions is not None else (set(), set())
        total: ir.Expr | None = None
        for i, a in enumerate(e.args):
            if i in shape_only:
                continue
            d = self.tan(a)
            if d is None:
                continue
            explicit = SUPPORT_EXPLICIT.get((e.fn, i))
            if explicit is not None:
                env = {f"arg{j}": b for j, b in enumerate(e.args)} | {"dot": d, _ANS: ans}
                term = ir.substitute(explicit, env)
                total = term if total is None else _plus(total, term)
                continue
            if i not in linear:
                short = e.fn.split(".")[-1]
                self.refuse(
                    f"'{short}' has no forward-mode (tangent) rule for this argument, which depends on a differentiated value"
                )
                return None
            term = ir.Call(e.fn, tuple(d if j == i else b for j, b in enumerate(e.args)))
            total = term if total is None else _plus(total, term)
        return total

    # ----- statements --------------------------------------------------------------------------------------
    def build(self) -> ir.Function:
        fn = self.fn
        if fn.bundles:
            self.refuse("forward mode does not take dictionary parameters yet")
        body = self.block(fn.body)
        # a parameter no caller passes a tangent for, given one by the body ('b_bar = b_bar + t' in an adjoint
        # function, whose callers pass b_bar as a constant): its tangent starts at zero
        unseeded = [p.name for p in fn.params if self.active(p.name) and p.name not in self.wrt]
        body[:0] = [ir.Assign(self.dot(p), self.zero(ir.Var(p))) for p in unseeded if _reads_first(body, self.dot(p))]
        if self.problems:
            raise S2sadError(self.problems)
        if self.is_main:
            kw = any(p.default is not None or p.kwonly for p in fn.params)
            params = fn.params + tuple(ir.Param(self.dot(p), kwonly=kw) for p in self.wrt)
        else:
            plain = tuple(replace(p, default=None, kwonly=False) for p in fn.params)
            params = plain + tuple(ir.Param(self.dot(p)) for p in self.wrt)
        return replace(fn, name=self.name, params=params, body=tuple(body))

    def block(self, stmts: Sequence[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for s in stmts:
            origin = getattr(s, "origin", None)
            if origin is not None:
                self.origin = origin
            if isinstance(s, ir.Assign):
                out.extend(self.assign(s))
            elif isinstance(s, ir.Accumulate):
                out.extend(self.accumulate(s))
            elif isinstance(s, ir.Unpack):
                out.extend(self.unpack(s, s.targets, s.value))
            elif isinstance(s, ir.Push):  # the tangent beside the value, on a stack of its own
                out.append(s)
                if self.active(s.stack):
                    if self.active(s.name):
                        out.append(ir.Push(self.dot(s.stack), self.dot(s.name)))
                    else:
                        pushed = self.dot(s.name)
                        out += [ir.Assign(pushed, self.zero(ir.Var(s.name))), ir.Push(self.dot(s.stack), pushed)]
            elif isinstance(s, ir.Pop):
                out.append(s)
                if self.active(s.stack):
                    out.append(ir.Pop(self.dot(s.name) if self.active(s.name) else self.discard(), self.dot(s.stack)))
                elif self.active(s.name):
                    out.append(ir.Assign(self.dot(s.name), self.zero(ir.Var(s.name))))
            elif isinstance(s, ir.For):  # records read by iteration: the tangents' stacks beside the values'
                pairs, zeros = list(s.stacks), []
                for name, stack in s.stacks:
                    if self.active(stack):
                        pairs.append((self.dot(name) if self.active(name) else self.discard(), self.dot(stack)))
                    elif self.active(name):
                        zeros.append(ir.Assign(self.dot(name), self.zero(ir.Var(name))))
                out.append(replace(s, stacks=tuple(pairs), body=tuple(zeros + self.block(s.body))))
            elif isinstance(s, ir.If):
                out.append(replace(s, body=tuple(self.block(s.body)), orelse=tuple(self.block(s.orelse))))
            elif isinstance(s, ir.While):
                out.append(replace(s, setup=tuple(self.block(s.setup)), body=tuple(self.block(s.body))))
            elif isinstance(s, ir.Return):
                dots = tuple(self.tan_or_zero(v) for v in s.values)
                if self.packed:  # the values as one tuple, as the callers take them, then their tangents
                    out.append(replace(s, values=(ir.Call(ir.TUPLE, s.values), ir.Call(ir.TUPLE, dots))))
                    continue
                out.append(replace(s, values=dots if self.is_main else s.values + dots))
            else:
                out.append(s)
            if self.requires:  # after the statement: its result may be one of the values checked
                out += self.requires
                self.requires = []
        return out

    def tan_or_zero(self, e: ir.Expr) -> ir.Expr:
        d = self.tan(e)
        return d if d is not None else self.zero(e)

    def assign(self, s: ir.Assign) -> list[ir.Stmt]:
        if not self.active(s.target):
            return [s]
        v = s.value
        if isinstance(v, ir.Call) and v.fn in self.functions:
            return self.unpack(s, (s.target,), v)
        target = self.dot(s.target)
        if isinstance(v, ir.Call) and v.fn == ir.SETITEM:
            x, index, new = v.args
            dx, dnew = self.tan(x), self.tan(new)
            if dx is None and dnew is None:
                return [s, ir.Assign(target, self.zero(ir.Var(s.target)), s.origin)]
            # written in place: into a copy of the tangent, which may share its array with another
            first = ir.Call("numpy.copy", (dx,)) if dx is not None else self.zero(x)
            write = ir.Call(ir.SETITEM, (ir.Var(target), index, dnew if dnew is not None else self.zero(new)))
            return [s, ir.Assign(target, first, s.origin), ir.Assign(target, write, s.origin)]
        if isinstance(v, ir.Call) and v.fn == "s2sad.zeros_of":  # a tuple's zeros (see s2sad.inplace): its own
            return [s, ir.Assign(target, ir.Call(v.fn, (ir.Var(s.target),)), s.origin)]
        reads_itself = s.target in ir.expr_names(v)
        d = self.tan(v, None if reads_itself else ir.Var(s.target))
        if s.target in self.in_place and d is not None and not self.scalar(ir.Var(s.target)):
            if not (isinstance(d, ir.Call) and d.fn in _NEW):
                # x_bar = x_bar + scatter(c, x, i) makes an array added into in place later (s2sad.inplace): its
                # tangent must be a new array too, not x_bar_dot itself or a view (np.broadcast_to's is read-only)
                d = ir.Call("numpy.copy", (d,))
        t = ir.Assign(
            target, d if d is not None else self.zero(v if v == ir.Call(ir.LIST, ()) else ir.Var(s.target)), s.origin
        )
        return [t, s] if reads_itself else [s, t]

    def accumulate(self, s: ir.Accumulate) -> list[ir.Stmt]:
        if not self.active(s.target):
            return [s]
        v = s.value
        if isinstance(v, ir.Call) and v.fn in (ir.INDEXED, ir.ADD_AT):
            index, term = v.args
            d = self.tan(term)
            return [s] if d is None else [s, ir.Accumulate(self.dot(s.target), ir.Call(v.fn, (index, d)), s.origin)]
        d = self.tan(v)
        return [s] if d is None else [s, ir.Accumulate(self.dot(s.target), d, s.origin)]

    def unpack(self, s: ir.Stmt, targets: tuple[str, ...], v: ir.Expr) -> list[ir.Stmt]:
        """A call of one of the helpers' functions: its tangent function returns the results and their
        tangents; with no tangent flowing in, the call as it is (and zeros for the active results)."""
        if not isinstance(v, ir.Call) or v.fn not in self.functions:  # a tuple of values: of their tangents
            # the saved values of a forward function that saved no tangent for them: none is unpacked
            dead = self.flow.cut.get(v.name, frozenset()) if isinstance(v, ir.Var) else frozenset()
            live = [t for t in targets if self.active(t) and t not in dead]
            d = self.tan(v) if live else None
            zeros = [ir.Assign(self.dot(t), self.zero(ir.Var(t))) for t in targets if self.active(t) and t not in live]
            if d is None:
                return [s] + [ir.Assign(self.dot(t), self.zero(ir.Var(t))) for t in targets if self.active(t)]
            return [s, ir.Unpack(tuple(self.dot(t) if t in live else self.discard() for t in targets), d), *zeros]
        positions = sorted(self.wanted.get(v.fn, ()))
        dots = [self.tan(v.args[i]) for i in positions]
        if all(d is None for d in dots) or not any(self.active(t) for t in targets):
            return [s] + [ir.Assign(self.dot(t), self.zero(ir.Var(t))) for t in targets if self.active(t)]
        args = v.args + tuple(d if d is not None else self.zero(v.args[i]) for d, i in zip(dots, positions))
        call = ir.Call(self.names.tangent(v.fn), args)
        dot_targets = tuple(self.dot(t) if self.active(t) else self.discard() for t in targets)
        return [ir.Unpack(targets + dot_targets, call)]

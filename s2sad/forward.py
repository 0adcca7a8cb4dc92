"""Forward (tangent-linear) mode: the SSA function -> its Jacobian-vector product, in IR (no text).

``jvp_f(<f's parameters>, <p>_dot for each differentiated p)`` returns ``(value, value_dot)``: the function's
own statements in their order, each assignment of a value that carries a tangent followed by its tangent
statement ``<name>_dot = ...``. Loops and branches are kept as they are; nothing is recorded, since a tangent
is computed when its value is, from values that exist at that moment.

Which values carry a tangent: the *active* ones of :func:`s2sad.analysis.activity` (they depend on a
differentiated parameter, and the result depends on them); any other value's tangent is zero or not needed.
A name is active or not as a whole (a loop's carried name, a branch's merge name), so every definition of an
active name writes its tangent, a zero (``0.0``, or ``np.zeros(np.shape(x))`` for a value that may be an
array) when nothing differentiated flows into it.

Each call's tangent comes from :mod:`s2sad.tangents` (derived from the rule table: the JVP of an elementwise
entry is its VJP with ``g`` replaced by the argument's tangent); a tangent flowing into an entry without a
forward rule is a located ``no-forward-rule`` error. A statement that reads the name it assigns (``s = s * x``
in a loop) has its tangent written first, from the old values; one whose tangent needs the new value too keeps
the old one under a fresh name. A write ``x[index] = v`` writes the tangent into a copy of ``x``'s tangent
(which may share its array with another tangent). Helpers get ``jvp_h(<h's parameters>, <p>_dot ...)``,
returning ``(value, value_dot)``. Every name invented comes from :mod:`s2sad.names`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from . import ir
from .algebra import simplify
from .analysis import Activity, rule_of
from .diagnostics import Diagnostic, S2sadError
from .names import ModuleNames
from .rules import Rule
from .tangents import dot as template_dot
from .tangents import tangent_of
from .values import Values

__all__ = ["tangent", "FORWARD_CODES"]

#: Diagnostic codes of forward mode's own refusals.
FORWARD_CODES = ("no-forward-rule",)


def tangent(
    fn: ir.Function,
    wrt: tuple[str, ...],
    act: Activity,
    *,
    names: ModuleNames,
    values: Values,
    helpers: Mapping[str, tuple[str, ...]],
    helper: bool = False,
) -> ir.Function:
    """``jvp_<name>``: the function with the tangent of every active value, returning the result and its
    tangent. ``helpers`` maps each helper to the parameters its ``jvp_`` function takes tangents for;
    ``helper``: ``fn`` is one of them (its parameters become plain positional ones, callers pass them all)."""
    return _Tangent(fn, wrt, act, names, values, helpers, helper).build()


class _Tangent:
    def __init__(
        self,
        fn: ir.Function,
        wrt: tuple[str, ...],
        act: Activity,
        names: ModuleNames,
        values: Values,
        helpers: Mapping[str, tuple[str, ...]],
        helper: bool,
    ) -> None:
        self.fn, self.wrt, self.act, self.names, self.values = fn, wrt, act, names, values
        self.helpers, self.helper = helpers, helper
        self.namer = names.local(fn)
        self._dots: dict[str, str] = {}
        self.problems: list[Diagnostic] = []
        for p in wrt:  # the parameters' tangents are named first: x_dot, whatever the body invents
            self.dot(p)

    def dot(self, name: str) -> str:
        if name not in self._dots:
            self._dots[name] = self.namer.fresh(f"{name}_dot")
        return self._dots[name]

    # ----- tangents of values ------------------------------------------------------------------------------
    def zero(self, e: ir.Expr) -> ir.Expr:
        """A zero tangent for ``e``: ``0.0`` for a number, else zeros of its shape (floating point)."""
        if isinstance(e, ir.Const) or self.values.scalar(e):
            return ir.Const(0.0)
        return ir.Call("numpy.zeros", (ir.Call("numpy.shape", (e,)),))

    def tan(self, e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.Var) and self.act.active(e.name):
            return ir.Var(self.dot(e.name))
        return self.zero(e)

    # ----- building ------------------------------------------------------------------------------------------
    def build(self) -> ir.Function:
        fn = self.fn
        if fn.bundles:
            assert fn.origin is not None
            self.problems.append(
                ir.diagnostic(
                    fn.path,
                    fn.origin,
                    "forward mode does not take dictionary parameters yet",
                    "no-forward-rule",
                    "pass the entries as parameters of their own",
                )
            )
        body = self.block(fn.body)
        if self.problems:
            raise S2sadError(self.problems)
        if self.helper:
            params = tuple(replace(p, default=None, kwonly=False) for p in fn.params)
            dots = tuple(ir.Param(self.dot(p)) for p in self.wrt)
        else:
            params = fn.params
            # after a default or a keyword-only parameter, the tangents are keyword-only (Python's order)
            kw = any(p.default is not None or p.kwonly for p in params)
            dots = tuple(ir.Param(self.dot(p), kwonly=kw) for p in self.wrt)
        return replace(fn, name=self.names.tangent(fn.name), params=params + dots, body=tuple(body))

    def block(self, stmts: Sequence[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for s in stmts:
            if isinstance(s, ir.Assign):
                out.extend(self.assign(s))
            elif isinstance(s, ir.For):
                out.append(replace(s, body=tuple(self.block(s.body))))
            elif isinstance(s, ir.If):
                out.append(replace(s, body=tuple(self.block(s.body)), orelse=tuple(self.block(s.orelse))))
            elif isinstance(s, ir.While):
                out.append(replace(s, setup=tuple(self.block(s.setup)), body=tuple(self.block(s.body))))
            elif isinstance(s, ir.Return):
                if len(s.values) != 1:  # a tuple result: (the values), (their tangents)
                    dots = tuple(self.tan(v) for v in s.values)
                    out.append(replace(s, values=(ir.Call(ir.TUPLE, s.values), ir.Call(ir.TUPLE, dots))))
                    continue
                out.append(replace(s, values=(s.values[0], self.tan(s.values[0]))))
            else:
                out.append(s)
        return out

    def assign(self, s: ir.Assign) -> list[ir.Stmt]:
        if not self.act.active(s.target):
            return [s]
        v, target = s.value, self.dot(s.target)
        if isinstance(v, ir.Var):
            return [s, ir.Assign(target, self.tan(v), s.origin)]
        if not isinstance(v, ir.Call):  # a constant, a library call on data, an 'and': no derivative
            return [s, ir.Assign(target, self.zero(ir.Var(s.target)), s.origin)]
        if v.fn in self.helpers:
            call = ir.Call(self.names.tangent(v.fn), v.args + tuple(self.helper_dots(v)))
            return [ir.Unpack((s.target, target), call)]
        return self.call(s, v, target)

    def helper_dots(self, v: ir.Call) -> list[ir.Expr]:
        rule = rule_of(v)
        assert rule is not None
        return [self.tan(a) for p, a in zip(rule.params, v.args) if p in self.helpers[v.fn]]

    def call(self, s: ir.Assign, v: ir.Call, target: str) -> list[ir.Stmt]:
        rule = rule_of(v)
        assert rule is not None
        active = {
            p: a
            for p, a in zip(rule.params, v.args)
            if p in rule.adjoints and isinstance(a, ir.Var) and self.act.active(a.name)
        }
        if not active:
            # an empty list's tangent is an empty list, which the tangents of its elements are appended to
            zero = ir.Call(ir.LIST, ()) if v == ir.Call(ir.LIST, ()) else self.zero(ir.Var(s.target))
            return [s, ir.Assign(target, zero, s.origin)]
        t = tangent_of(rule)
        if t is None:
            assert s.origin is not None
            short = rule.fn.split(".")[-1]
            self.problems.append(
                ir.diagnostic(
                    self.fn.path,
                    s.origin,
                    f"'{short}' has no forward-mode (tangent) rule, and its argument depends on a differentiated "
                    "value",
                    "no-forward-rule",
                    "use reverse mode (s2sad grad) for this function, or pass values that do not depend on the "
                    "differentiated parameters (see --wrt)",
                )
            )
            return [s]
        reads_itself = s.target in ir.expr_names(v)
        env: dict[str, ir.Expr] = dict(zip(rule.params, v.args))
        for p, a in zip(rule.params, v.args):
            env[template_dot(p)] = self.tan(a) if p in active else self.zero(a)
        if t.whole is not None:
            if v.fn == ir.SETITEM:  # written in place: into a copy of the tangent, which may share its array
                x = v.args[0]
                first = ir.Call("numpy.copy", (env[template_dot("x")],)) if "x" in active else self.zero(x)
                write = ir.Call(ir.SETITEM, (ir.Var(target), v.args[1], env[template_dot("v")]))
                return [s, ir.Assign(target, first, s.origin), ir.Assign(target, write, s.origin)]
            return self.ordered(s, target, ir.substitute(t.whole, env), reads_itself)
        marker = ir.Var("$ans")
        env["ans"] = marker
        total: ir.Expr | None = None
        for p in active:
            term = simplify(ir.substitute(t.terms[p], env))
            total = term if total is None else ir.Call("operator.add", (total, term))
        assert total is not None
        if self.needs_broadcast(s, rule, active):
            total = ir.Call("numpy.broadcast_to", (total, ir.Call("numpy.shape", (marker,))))
        uses_ans = "$ans" in ir.expr_names(total)
        if reads_itself and uses_ans:  # the old value, under a name of its own, for the tangent after
            old = self.namer.fresh(f"{s.target}_old")
            total = ir.substitute(total, {s.target: ir.Var(old)})
            total = ir.substitute(total, {"$ans": ir.Var(s.target)})
            return [ir.Assign(old, ir.Var(s.target)), s, ir.Assign(target, total, s.origin)]
        return self.ordered(s, target, ir.substitute(total, {"$ans": ir.Var(s.target)}), reads_itself)

    @staticmethod
    def ordered(s: ir.Assign, target: str, tangent: ir.Expr, reads_itself: bool) -> list[ir.Stmt]:
        """The statement and its tangent; the tangent first when the statement overwrites a value it reads."""
        t = ir.Assign(target, tangent, s.origin)
        return [t, s] if reads_itself else [s, t]

    def needs_broadcast(self, s: ir.Assign, rule: Rule, active: Mapping[str, ir.Expr]) -> bool:
        """Whether the tangent of a broadcasting operation may be smaller than its result (``a + b``, ``a`` a
        differentiated number, ``b`` an array of data: ``a_dot`` has ``a``'s shape, the result ``b``'s)."""
        if not (rule.broadcasts or rule.shape == "elementwise") or self.values.scalar(s.target):
            return False
        assert isinstance(s.value, ir.Call)
        if all(isinstance(b, ir.Const) or b in active.values() for b in s.value.args):
            return False  # the tangents of every operand: their sum has the shape they broadcast to
        for a in active.values():
            others = [b for b in s.value.args if b != a]
            if all(isinstance(b, ir.Const) or self.values.scalar(b) for b in others):
                return False
            if self.values.alike(a, s.target):
                return False
        return True

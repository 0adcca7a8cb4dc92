"""Reverse mode: the SSA function -> the gradient function, in IR (no text).

The gradient function is the forward pass (only the statements whose values the reverse pass or the result
reads), then the reverse pass: the statements walked backwards, each adding ``adjoint(operand) +=
template(g=adjoint(target))`` from the rule table. This is back-substitution on the triangular system of the
Lagrange multipliers: an adjoint is complete once every use of its value has been walked.

Adjoints: ``x_bar`` for ``x``; the first contribution assigns, later ones accumulate, and an adjoint that
nobody contributes to is never written (it is zero). The output's own adjoint, 1, is substituted into the
last statement's templates rather than stored.

Structure is kept: a loop is reversed as a loop over the same range backwards, a branch as the same branch.
Values the reverse pass reads but the forward pass overwrites (each iteration of a loop rewrites its body's
names) are recorded on a per-variable stack, ``x_stack``, and restored at the mirror point:

- a name defined inside a loop is pushed at the end of the block that defines it and popped at the start of
  that block's reverse (one record per iteration), unless it is cheap to recompute from the loop indices and
  values the loop does not change;
- a *carried* name (defined before the loop, rewritten in it) is pushed just before the statement that
  overwrites it and popped just before that statement's reverse, which then recomputes the statement's
  result from the restored operands where its rule needs it (``ans``).

With this, at every point of the reverse pass each value it reads equals the value the forward pass had at
the mirror point, so re-evaluating a branch test or a ``range`` is the same as recording it (a test that the
branch itself invalidates is recorded as ``cond``; a ``range`` argument the loop reassigns is copied before
it). A statement that overwrites a name ends the adjoint of the value it overwrites, even when nothing flows
through it (``x = 0.0``). :mod:`s2sad.recording` decides the forward pass and its records; this module writes
the adjoint statements. Every name either invents comes from :mod:`s2sad.names`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from . import checkpoint, fixed_point, ir, parts, specialise
from .algebra import simplify
from .increments import without_shared_increments
from .analysis import Activity, rule_of
from .diagnostics import InternalError, S2sadError, Span
from .inplace import in_place, passed_to_records, records
from .names import ModuleNames
from .propagation import propagate
from .records import iterated
from .recording import G as _G
from .recording import Recording
from .shape_source import Adjoints, ShapeSource
from .shapes import Array, rank
from .values import Values, analyse

if TYPE_CHECKING:
    from .saving import Saving

__all__ = ["gradient", "adjoint", "primal"]


def gradient(
    fn: ir.Function,
    wrt: tuple[str, ...],
    act: Activity,
    *,
    with_value: bool = False,
    helpers: dict[str, tuple[str, ...]] | None = None,
    names: ModuleNames | None = None,
    saving: Mapping[str, Saving] | None = None,
    values: Values | None = None,
    fixed_points: Mapping[Span, fixed_point.FixedPoint] | None = None,
    seeded: bool = False,
    records: Mapping[str, frozenset[int]] | None = None,
) -> ir.Function:
    """``grad_<name>`` (or ``value_and_grad_<name>``): the forward pass, the reverse pass, the gradient.
    ``helpers`` maps each helper to the parameters its adjoint function returns adjoints for; ``names`` are
    the generated module's names; ``saving`` says how each helper's adjoint is called (see
    :mod:`s2sad.saving`); ``values`` what :mod:`s2sad.values` knows of ``fn``'s names. ``seeded``: the
    vector-Jacobian product ``vjp_<name>(*params, out_bar)`` instead, the reverse pass seeded with the
    parameter ``out_bar`` (the result's shape; a tuple of adjoints for a tuple result) rather than 1.
    ``records``: the positions of each helper's parameters its adjoint may return as an array of objects (a
    tuple's adjoint, see :func:`s2sad.inplace.records`)."""
    names = names or ModuleNames.of([fn])
    mode = "vjp" if seeded else "gradient"
    g = _Gradient(
        fn,
        wrt,
        act,
        with_value,
        helpers or {},
        names,
        mode,
        saving=saving,
        values=values,
        fixed=fixed_points,
        records=records,
    )
    return g.build()


def adjoint(
    fn: ir.Function,
    wrt: tuple[str, ...],
    act: Activity,
    helpers: dict[str, tuple[str, ...]],
    names: ModuleNames | None = None,
    saving: Mapping[str, Saving] | None = None,
    values: Values | None = None,
) -> ir.Function:
    """``adjoint_<helper>(*params, <result>_bar)``: the helper's vector-Jacobian product, for its callers'
    reverse passes: it runs the helper's forward pass again, then its reverse pass seeded with the adjoint of
    its result, and returns the adjoints of ``wrt`` (:mod:`s2sad.saving` splits it in two instead)."""
    names = names or ModuleNames.of([fn])
    return _Gradient(fn, wrt, act, False, helpers, names, mode="adjoint", saving=saving, values=values).build()


def primal(fn: ir.Function, names: ModuleNames | None = None) -> ir.Function:
    """The helper itself, for the forward passes that call it: only what its result needs."""
    inactive = Activity(frozenset(), frozenset())
    return _Gradient(fn, (), inactive, True, {}, names or ModuleNames.of([fn]), mode="primal").build()


def _bundled(fn: ir.Function, wrt: tuple[str, ...], grads: list[ir.Expr]) -> list[ir.Expr]:
    """The gradients, with those of a dictionary's entries (consecutive in ``wrt``) as one dictionary with
    the dictionary's keys: ``bundle(params, ("W1", "b1"), params_W1_bar, params_b1_bar)``."""
    out = list(grads)
    for p, entries in reversed(fn.bundles):
        names = [e for _, e in entries]
        if names[0] not in wrt:
            continue
        first = wrt.index(names[0])
        keys = ir.Const(tuple(k for k, _ in entries))
        out[first : first + len(names)] = [
            ir.Call("s2sad.bundle", (ir.Var(p.name), keys, *out[first : first + len(names)]))
        ]
    return out


# --------------------------------------------------------------------------------------------------------------
# The transformation
# --------------------------------------------------------------------------------------------------------------
class _Gradient(ShapeSource, Recording):
    """The gradient (or adjoint, or primal) function of one function: the forward pass (see
    :class:`~s2sad.recording.Recording`), then the adjoint statements of the reverse pass."""

    def __init__(
        self,
        fn: ir.Function,
        wrt: tuple[str, ...],
        act: Activity,
        with_value: bool,
        helpers: dict[str, tuple[str, ...]],
        names: ModuleNames,
        mode: str = "gradient",
        saving: Mapping[str, Saving] | None = None,
        values: Values | None = None,
        fixed: Mapping[Span, fixed_point.FixedPoint] | None = None,
        results: tuple[int, ...] = (),
        records: Mapping[str, frozenset[int]] | None = None,
    ) -> None:
        self.results = results  #: a helper returning several values: those whose adjoints its adjoint takes
        #: each helper's parameters its adjoint may return as an array of objects (see s2sad.inplace.records)
        self.records = records or {}
        # a function analysed alone: the one differentiated, or a helper whose callers are not known
        self.values = values or analyse(fn, None if mode in ("gradient", "vjp") else {})
        self.helpers = helpers
        self.saving = saving or {}
        self.names = names
        self.mode = mode
        self.wrt = wrt
        self.act = act
        self.with_value = with_value
        self.namer = names.local(fn)
        self._bars = Adjoints()
        self._seed = self._seed_name(fn) if mode == "vjp" else None
        self._discard: str | None = None
        self.fn = fn = replace(fn, body=tuple(self._record_tests(fn.body)))
        self.fixed_points = fixed or {}  #: the step of each fixed-point loop, by its position
        self.part_shapes: dict[str, str] = {}  #: a value of a helper's in a loop -> its shape's name (see parts)
        self.fn = fn = replace(fn, body=parts.shapes_recorded(self, fn.body))
        self.fixed_inside = fixed_point.inside(fn, self.fixed_points)
        self.saved_names = {
            id(s): self.namer.fresh(f"{s.target}_saved")
            for s in ir.walk(fn.body)
            if isinstance(s, ir.Assign)
            and isinstance(s.value, ir.Call)
            and s.value.fn in helpers
            and s.value.fn in self.saving
            and self.saving[s.value.fn].saves
            and act.active(s.target)
        }
        # a helper's tuple result t: its values' names (t -> k -> a for each a = part(t, k)), and the adjoints
        # of those values, taken from the parts as the reverse pass meets them (just before the call's reverse)
        self.parts = parts.named(fn)
        self.part_seeds: dict[str, dict[int, ir.Expr]] = {}
        self._stacks: dict[str, str] = {}
        self._contribs: dict[int, dict[str, ir.Expr]] = {}
        self._olds: dict[int, tuple[str, str | None]] = {}
        self._raw: dict[int, dict[str, ir.Expr]] = {}
        self._value_reads: set[str] | None = None
        self.def_count: dict[str, int] = {}
        for s in ir.walk(fn.body):
            if isinstance(s, ir.Assign):  # (what an assignment defines: its target)
                self.def_count[s.target] = self.def_count.get(s.target, 0) + 1
        for p in fn.params:
            self.def_count[p.name] = self.def_count.get(p.name, 0) + 1
        self._definitions()
        self.overwriting = self._overwriting(fn.body, ())
        self.returned = next((s for s in fn.body if isinstance(s, ir.Return)), None)
        # Adjoints known as an expression rather than stored: the output's seed 1.0, and the adjoint of an
        # invented intermediate (used exactly once) when it is a constant or an adjoint that stays fixed.
        self.const_adj: dict[str, ir.Expr] = {}
        self.reads_all, self.recomputed = self._reads_and_recomputed()
        self.zero_reads = self._zero_reads()
        self.needed = self._needed()
        self.foldable = self._foldable()
        self.restored: set[str] = set()

    # ----- names -------------------------------------------------------------------------------------------
    def _seed_name(self, fn: ir.Function) -> str:
        """``out_bar``, named before anything else; a result that is one value has it as its adjoint."""
        seed = self.namer.fresh("out_bar")
        ret = next((s for s in fn.body if isinstance(s, ir.Return)), None)
        if ret is not None and len(ret.values) == 1 and isinstance(ret.values[0], ir.Var):
            self._bars[ret.values[0].name] = seed
        return seed

    def _seeds(self, ret: ir.Return, live: set[str]) -> list[ir.Stmt]:
        """The adjoints of a tuple result's values, read from ``out_bar`` (added where a value repeats)."""
        assert self._seed is not None
        by_name: dict[str, list[ir.Expr]] = {}
        for k, v in enumerate(ret.values):
            if isinstance(v, ir.Var) and self.act.active(v.name):
                by_name.setdefault(v.name, []).append(ir.Call(ir.GETITEM, (ir.Var(self._seed), ir.Const(k))))
        out: list[ir.Stmt] = []
        for name, terms in by_name.items():
            total = terms[0]
            for t in terms[1:]:
                total = ir.Call("operator.add", (total, t))
            out.append(ir.Assign(self.bar(name), total))
            live.add(name)
        return out

    def bar(self, name: str) -> str:
        if name not in self._bars:
            self._bars[name] = self.namer.fresh(f"{name}_bar")
        return self._bars[name]

    def discard(self) -> str:
        """``_``: a loop counter nobody reads, an adjoint nobody needs; another name if the user has a ``_``."""
        if self._discard is None:
            self._discard = self.namer.fresh("_")
        return self._discard

    # ----- what the reverse pass reads ------------------------------------------------------------------------
    def contributions(self, s: ir.Assign) -> dict[str, ir.Expr]:
        """Operand -> its adjoint contribution, in terms of the placeholder ``$g``; a value read only for its
        shape is read from its shape source (see ``_shape_source``)."""
        key = id(s)
        if key not in self._contribs:
            self._contribs[key] = {n: self._shape_reads(e) for n, e in self._raw_contributions(s).items()}
        return self._contribs[key]

    def _raw_contributions(self, s: ir.Assign) -> dict[str, ir.Expr]:
        key = id(s)
        if key in self._raw:
            return self._raw[key]
        out: dict[str, ir.Expr] = {}
        if self.act.active(s.target):
            if isinstance(s.value, ir.Var):
                if self.act.active(s.value.name):
                    out[s.value.name] = ir.Var(_G)
            elif isinstance(s.value, ir.Call) and s.value.fn in self.helpers:
                call = self.helper_call(s, ir.Var(_G))
                rule = rule_of(s.value)
                assert rule is not None
                for p, arg in zip(rule.params, s.value.args):
                    if p in self.helpers[s.value.fn] and isinstance(arg, ir.Var) and self.act.active(arg.name):
                        out[arg.name] = call  # the adjoint function's result for p (see adjoint_assign)
            elif isinstance(s.value, ir.Call):
                rule = rule_of(s.value)
                assert rule is not None
                env: dict[str, ir.Expr] = dict(zip(rule.params, s.value.args))
                env["g"] = ir.Var(_G)
                # After an overwritten value is restored, the result is recomputed from the operands.
                env["ans"] = s.value if id(s) in self.overwriting else ir.Var(s.target)
                templates = specialise.adjoints(rule, s.value.args, self.values)
                for p, arg in zip(rule.params, s.value.args):
                    if p in templates and isinstance(arg, ir.Var) and self.act.active(arg.name):
                        term = simplify(ir.substitute(templates[p], env))
                        if rule.broadcasts and not isinstance(term, ir.Const):
                            term = self.unbroadcast(term, arg, s)
                        out[arg.name] = ir.Call("operator.add", (out[arg.name], term)) if arg.name in out else term
        self._raw[key] = out
        return out

    def has_work(self, stmts: Sequence[ir.Stmt]) -> bool:
        """Whether the reverse of ``stmts`` does anything: propagate an adjoint, or end one (an active name
        assigned again, even by a constant, ends the adjoint of its previous value)."""
        return any(
            isinstance(s, ir.Assign) and (self.contributions(s) or self.act.active(s.target))
            for s in ir.walk(tuple(stmts))
        )

    # ----- building ----------------------------------------------------------------------------------------
    def build(self) -> ir.Function:
        fn = self.fn
        forward = self.forward(fn.body, loops=())
        ret = self.returned
        value: ir.Expr | None = None
        if self.mode == "gradient" and ret is not None and (rank(self.values.result) or 0) > 0:
            assert ret.origin is not None
            message = f"'{fn.name}' must return a scalar for its gradient; it returns an array"
            if isinstance(self.values.result, Array) and self.values.result.dims:
                message += f" of shape ({', '.join(str(d) if d is not None else '?' for d in self.values.result.dims)})"
            help = "reduce it to one number (np.sum, np.mean), or differentiate each element separately"
            raise S2sadError([ir.diagnostic(fn.path, ret.origin, message, "non-scalar-return", help)])
        if self.checks_result():
            # only run time knows the result's shape, and a gradient needs a scalar
            scalar = ir.Call("operator.eq", (ir.Call("numpy.ndim", ret.values), ir.Const(0)))
            forward.append(
                ir.Require(scalar, f"'{fn.name}' must return a scalar for its gradient; it returned an array")
            )
        if self.with_value and ret is not None:
            kept = []
            for v in ret.values if self.mode == "adjoint" else ret.values[:1]:
                if isinstance(v, ir.Var) and v.name in self.restored:
                    snapshot = self.namer.fresh("value")
                    forward.append(ir.Assign(snapshot, v))
                    v = ir.Var(snapshot)
                kept.append(v)
            value = kept[0] if len(kept) == 1 else ir.Call(ir.TUPLE, tuple(kept))
        live: set[str] = set()
        seed: ir.Param | None = None
        several: list[ir.Param] = []  # the adjoints of a helper's values (several of them), as parameters
        if self.mode == "primal":
            assert value is not None and ret is not None
            if len(ret.values) > 1:  # a tuple result (the target of a Jacobian)
                return replace(fn, body=tuple(forward) + (ir.Return(ret.values),))
            last = forward[-1] if forward else None
            if isinstance(last, ir.Assign) and value == ir.Var(last.target) and last.target in fn.invented:
                forward, value = forward[:-1], last.value  # return the expression itself
            return replace(fn, body=tuple(forward) + (ir.Return((value,)),))
        seeds: list[ir.Stmt] = []
        if self.mode == "adjoint" and ret is not None and len(ret.values) > 1:
            several = parts.result_params(self, ret, live, seeds)
        elif self._seed is not None:  # after a default or a keyword-only parameter, keyword-only (Python's order)
            seed = ir.Param(self._seed, kwonly=any(p.default is not None or p.kwonly for p in fn.params))
            if ret is not None and len(ret.values) > 1:
                seeds = self._seeds(ret, live)
            elif ret is not None and isinstance(ret.values[0], ir.Var) and self.act.active(ret.values[0].name):
                live.add(ret.values[0].name)
        elif ret is not None and isinstance(ret.values[0], ir.Var) and self.act.active(ret.values[0].name):
            if self.mode == "adjoint":  # the incoming adjoint is a parameter
                seed = ir.Param(self.bar(ret.values[0].name))
                live.add(ret.values[0].name)
            else:
                self.const_adj[ret.values[0].name] = ir.Const(1.0)
        backward = self.reverse(fn.body, live)
        backward[:0] = seeds  # into the list itself, as below
        if self.values.scalar_code:  # += where no other name can see it (a 0-d array changes in place)
            params = [p.name for p in fn.params] + ([seed.name] if seed else []) + [p.name for p in several]
            backward[:] = without_shared_increments(backward, params, forward)  # the same list (see s2sad.saving)
        grads: list[ir.Expr] = []
        for p in self.wrt:
            if p in self.const_adj:
                grads.append(self.const_adj[p])
            elif p in live:
                grads.append(ir.Var(self.bar(p)))
            else:  # a parameter the result does not depend on
                grads.append(ir.Const(0.0) if self.values.scalar(p) else ir.Call("numpy.zeros_like", (ir.Var(p),)))
        items = records(fn, self.values, self.records)
        if self.mode in ("gradient", "vjp"):  # a tuple's adjoint is a tuple of its items' (see s2sad.inplace)
            shaped = items | passed_to_records(fn, self.records)
            grads = [ir.Call("s2sad.shaped_as", (d, ir.Var(p))) if p in shaped else d for p, d in zip(self.wrt, grads)]
        grads = _bundled(fn, self.wrt, grads)
        result: tuple[ir.Expr, ...] = tuple(grads) if len(grads) != 1 else (grads[0],)
        if value is not None:
            result = (value, grads[0] if len(grads) == 1 else ir.Call(ir.TUPLE, tuple(grads)))
        body: list[ir.Stmt] = [ir.Comment("forward"), *forward] if forward else []
        # written into the list itself: a helper's split (s2sad.saving) finds the reverse pass by its length
        backward[:] = in_place(backward, self._bars, self.values, items)
        backward[:] = propagate(
            backward, forward, ir.Return(result), self._bars.values(), scalar=self.values.scalar_code
        )
        if self.mode == "gradient":  # a helper's split reads its reverse pass's pops (see s2sad.saving)
            backward[:] = iterated(backward, forward)
        body += [ir.Comment("reverse"), *backward]
        body.append(ir.Return(result))
        if self.mode == "adjoint":
            name = self.names.adjoint(fn.name)
        elif self.mode == "vjp":
            name = self.names.entry("vjp_", fn.name)
        else:
            name = self.names.gradient(fn.name, with_value=self.with_value)
        params = fn.params + ((seed,) if seed is not None else ()) + tuple(several)
        if fn.bundles:  # the dictionary, and its entries read first
            body[:0] = [
                ir.Assign(e, ir.Call(ir.GETITEM, (ir.Var(p.name), ir.Const(k)))) for p, es in fn.bundles for k, e in es
            ]
            firsts = {es[0][1]: p for p, es in fn.bundles}
            rest = {e for _, es in fn.bundles for _, e in es[1:]}
            params = tuple(firsts.get(q.name, q) for q in params if q.name not in rest)
        return replace(fn, name=name, params=params, body=tuple(body))

    # ----- the reverse pass ----------------------------------------------------------------------------------
    def reverse(self, stmts: Sequence[ir.Stmt], live: set[str], shown: ir.Origin | None = None) -> list[ir.Stmt]:
        """The reverse of ``stmts``; ``shown`` is the source statement whose comment is already in view."""
        out: list[ir.Stmt] = []
        for s in reversed(stmts):
            if isinstance(s, ir.Assign):
                part = self.reverse_assign(s, live)
            elif isinstance(s, ir.If):
                part = self.reverse_if(s, live, shown)
            elif isinstance(s, (ir.For, ir.While)):
                part = self.reverse_loop(s, live)
            else:
                part = []
            if part and isinstance(s, ir.Assign) and s.origin is not None and s.origin != shown:
                out.append(ir.Comment(s.origin.text))
                shown = s.origin
            out.extend(part)
        return out

    def materialize(self, live: set[str]) -> list[ir.Stmt]:
        """Store the seed adjoint before control flow, which needs adjoints in variables."""
        out: list[ir.Stmt] = [ir.Assign(self.bar(n), e) for n, e in sorted(self.const_adj.items())]
        live |= set(self.const_adj)
        self.const_adj.clear()
        return out

    def reverse_assign(self, s: ir.Assign, live: set[str]) -> list[ir.Stmt]:
        restore: list[ir.Stmt] = [ir.Pop(s.target, self.stack(s.target))] if self.restores(s) else []
        return restore + self.adjoint_assign(s, live) + self.restore_write(s)

    def adjoint_assign(self, s: ir.Assign, live: set[str]) -> list[ir.Stmt]:
        if isinstance(s.value, ir.Call) and s.value.fn == ir.PART:
            return parts.part_adjoint(self, s, live)
        if s.target in self.parts:
            return parts.several_adjoint(self, s, live)
        contribs = self.contributions(s)
        if not contribs:
            # The value is complete here even when nothing flows on (x = constant): a name assigned again in a
            # loop must not carry this value's adjoint over to its previous value.
            live.discard(s.target)
            self.const_adj.pop(s.target, None)
            return []
        out: list[ir.Stmt] = []
        if s.target in self.const_adj:
            g: ir.Expr = self.const_adj.pop(s.target)
            if any(self.bar(n) in ir.expr_names(g) for n in contribs):  # this statement changes what g reads
                out.append(ir.Assign(self.bar(s.target), g, s.origin))
                g = ir.Var(self.bar(s.target))
        elif s.target in live:
            g = ir.Var(self.bar(s.target))
        else:
            return []  # nothing uses the value: its adjoint is zero
        live.discard(s.target)
        if isinstance(s.value, ir.Call) and len(self.helpers.get(s.value.fn, ())) > 1:
            return out + self.helper_adjoints(s, {_G: g}, live)
        # A carried name's old and new values share one adjoint: read it everywhere before overwriting it.
        for name in sorted(contribs, key=lambda n: n == s.target):
            term = simplify(self._unbroadcast_scalar(ir.substitute(contribs[name], {_G: g}), s))
            if name in self.fn.invented and name not in live and self._stays_fixed(term):
                self.const_adj[name] = term
                continue
            if term == ir.Var(self.bar(name)) and name not in live:
                live.add(name)  # x_bar = x_bar: the old and new values of a carried name share an adjoint
                continue
            out.extend(self.add_adjoint(name, term, s.origin, live))
        return out

    def add_adjoint(self, name: str, term: ir.Expr, origin: ir.Origin | None, live: set[str]) -> list[ir.Stmt]:
        """``term`` added to ``name``'s adjoint: accumulated into a live adjoint, else its first value."""
        out = self._write_aliases(name, live)
        if name in live:
            out.append(self.accumulate(name, term, origin))
        else:
            out.append(ir.Assign(self.bar(name), term, origin))
            live.add(name)
        return out

    def _write_aliases(self, name: str, live: set[str]) -> list[ir.Stmt]:
        """Before ``name``'s adjoint changes, intermediates whose adjoint is still written as that adjoint
        (``t_bar`` kept as ``x_bar``) get their own variable."""
        target = self.bar(name)
        out: list[ir.Stmt] = []
        for alias, e in list(self.const_adj.items()):
            if target in ir.expr_names(e):
                out.append(ir.Assign(self.bar(alias), e))
                live.add(alias)
                del self.const_adj[alias]
        return out

    def helper_adjoints(self, s: ir.Assign, env: dict[str, ir.Expr], live: set[str]) -> list[ir.Stmt]:
        """``x_bar, w_bar = adjoint_dense(x, w, b, y_bar)``: one call gives every adjoint the caller needs;
        an adjoint that already has a value gets the result through a temporary and ``+=``. ``env`` gives
        the incoming adjoints (``$g``; ``$g#k`` for value k of a helper returning several)."""
        assert isinstance(s.value, ir.Call)
        helper = s.value.fn
        rule = rule_of(s.value)
        assert rule is not None
        call = ir.substitute(self.helper_call(s, ir.Var(_G)), env)
        assert isinstance(call, ir.Call)
        targets: list[str] = []
        after: list[ir.Stmt] = []
        before: list[ir.Stmt] = []
        for p in self.helpers[helper]:
            arg = s.value.args[rule.params.index(p)]
            if isinstance(arg, ir.Var):
                before.extend(self._write_aliases(arg.name, live))
            if not (isinstance(arg, ir.Var) and self.act.active(arg.name)):
                targets.append(self.discard())
            elif arg.name in live or self.bar(arg.name) in targets:
                temp = self.namer.fresh(f"{arg.name}_bar_{helper}")
                targets.append(temp)
                after.append(self.accumulate(arg.name, ir.Var(temp), s.origin))
            else:
                targets.append(self.bar(arg.name))
                live.add(arg.name)
        return [*before, ir.Unpack(tuple(targets), call), *after]

    def helper_call(self, s: ir.Assign, g: ir.Expr) -> ir.Call:
        """``adjoint_h(h_saved, <the arguments the adjoint reads>, g)``: what the forward function saved
        (when it saves anything), then the arguments the adjoint function still reads."""
        assert isinstance(s.value, ir.Call)
        saving = self.saving.get(s.value.fn)
        if saving is None:  # the adjoint function runs the helper's forward pass itself
            return ir.Call(self.names.adjoint(s.value.fn), s.value.args + (g,))
        rule = rule_of(s.value)
        assert rule is not None
        args = tuple(a for p, a in zip(rule.params, s.value.args) if p in saving.params)
        saved = self.saved_of(s)
        seeds = parts.seeds(self, s, saving.results) if saving.results else (g,)
        return ir.Call(self.names.adjoint(s.value.fn), ((ir.Var(saved),) if saved else ()) + args + seeds)

    def accumulate(self, name: str, term: ir.Expr, origin: ir.Origin | None = None) -> ir.Stmt:
        """``x_bar += term`` in scalar code; where arrays may appear ``x_bar = x_bar + term``, since an adjoint
        may share its array (even a 0-d one, as ``np.where`` returns) with another (``a_bar = c_bar``) and
        ``+=`` would change both."""
        if not self.values.scalar_code:
            return ir.Assign(self.bar(name), simplify(ir.Call("operator.add", (ir.Var(self.bar(name)), term))), origin)
        return ir.Accumulate(self.bar(name), term, origin)

    def zero(self, name: str) -> ir.Stmt:
        """An adjoint that must exist before a loop or after a branch, and is zero: with the value's shape."""
        scalar = self.values.scalar(name)
        if not scalar and name not in self.needed and name not in self.recomputed:  # see Recording._zero_reads
            if all(p.name != name for p in self.fn.params):
                raise InternalError(f"the zero adjoint of '{name}' reads a value the forward pass does not compute")
        value: ir.Expr = ir.Const(0.0) if scalar else ir.Call("numpy.zeros_like", (ir.Var(name),))
        return ir.Assign(self.bar(name), value)

    def reverse_if(self, s: ir.If, live: set[str], shown: ir.Origin | None) -> list[ir.Stmt]:
        if not self.has_work([s]) and not self.restores_in(s):
            return []
        out = self.materialize(live)
        branches: list[list[ir.Stmt]] = []
        lives: list[set[str]] = []
        loops = self._loops_around(s)
        for block in (s.body, s.orelse):
            branch_live = set(live)
            part = self.block_pops(block, loops) + self.reverse(block, branch_live, shown)
            # an adjoint kept as an expression for an intermediate defined before the branch is stored here:
            # the other branch does not compute it
            part += self.materialize(branch_live)
            branches.append(part)
            lives.append(branch_live)
        merged = lives[0] | lives[1]
        for part, branch_live in zip(branches, lives):
            for n in sorted(merged - branch_live):
                part.append(self.zero(n))
        live.clear()
        live |= merged
        if branches[0] or branches[1]:
            out.append(ir.If(s.test, tuple(branches[0]), tuple(branches[1]), s.origin))
        return out

    def reverse_loop(self, s: ir.For | ir.While, live: set[str]) -> list[ir.Stmt]:
        if not self.has_work([s]) and not self.restores_in(s):
            return []
        if fixed_point.implicit(self, s):  # type: ignore[arg-type]
            return fixed_point.reverse(self, s, live)
        out = self.materialize(live)
        defined = ir.assigned_names(s.body) | ir.assigned_names(s.setup if isinstance(s, ir.While) else ())
        outside = self._names_outside(s)
        keep = defined & outside  # values that flow into or out of the loop: their adjoints carry over
        written = {n for t in ir.walk(s.body) if isinstance(t, ir.Assign) for n in self.contributions(t)}
        carried_adjoints = {n for n in written if n not in defined or n in keep}
        carried_adjoints |= {n for n in keep if self.act.active(n)}
        for n in sorted(carried_adjoints - live):
            out.append(self.zero(n))
        live |= carried_adjoints
        body_live = set(live) - (defined - keep)
        loops = self._loops_around(s) + (s,)
        body = self.block_pops(s.body, loops) + self.reverse(s.body, body_live)
        for n in sorted(carried_adjoints - body_live):
            body.append(self.zero(n))
        if isinstance(s, ir.For) and checkpoint.applies(self, s):
            out.extend(checkpoint.reverse(self, s, tuple(body)))  # segments recomputed from snapshots
        elif isinstance(s, ir.For):
            out.append(ir.For(s.index, s.range_args, not s.reverse, tuple(body), s.origin))
        else:
            counter = self.counter(s)
            if loops[:-1]:  # the trip count of this enclosing iteration, recorded when the while ended
                out.append(ir.Pop(counter, self.stack(counter)))
            out.append(ir.For(self.discard(), (ir.Var(counter),), False, tuple(body), s.origin))
        return out

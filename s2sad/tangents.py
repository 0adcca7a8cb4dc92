"""Tangent rules for forward mode, derived from the derivative rule table (:mod:`s2sad.rules`) wherever possible.

A rule's templates give vector-Jacobian products: the adjoint contribution of each argument, linear in ``g``.
Forward mode needs Jacobian-vector products. Three sources, in this order:

1. **Diagonal entries** (the ``shape`` column says ``number``, ``elementwise``, ``comparison`` or ``either``:
   every ``math.*`` function, the operators, the ufuncs, ``scipy.special``'s elementwise functions). Their
   Jacobian with respect to each argument is diagonal (each entry of the result depends on the same entry of
   the argument only, after broadcasting), and a diagonal matrix is its own transpose, so the JVP equals the
   VJP: the tangent contribution of argument ``p`` is the reverse template with ``g`` replaced by ``p_dot``
   (``math.sin``: ``g * math.cos(x)`` -> ``x_dot * math.cos(x)``). The same holds for a symmetric Jacobian
   (:data:`SYMMETRIC`: ``softmax``). No second table: a new elementwise entry gets its tangent for free.
2. **Linear maps applied to the tangent** (:data:`SAME`): for a function linear in its one differentiable
   argument (``np.sum``, ``np.transpose``, ``x[index]``, ``np.cumsum``), the tangent is the same call with the
   argument replaced by its tangent, the other arguments (axes, indices, shapes) as they are.
3. **Explicit templates** (:data:`EXPLICIT`): products (``a @ b``: ``a_dot @ b + a @ b_dot``), extrema, linear
   algebra, and the functions linear in several arguments at once (``np.array`` of elements, a tuple element
   chosen at run time), written in the rules' own template language with ``<param>_dot`` for the tangents.

An entry with none of these has no forward rule, and forward mode refuses a tangent flowing into it
(``no-forward-rule``) rather than guess. ``tests/test_forward.py`` checks every tangent this module gives
against central finite differences along random directions, by iterating the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import ir
from .rules import RULES, Rule, parse_template

__all__ = ["Tangent", "tangent_of", "zero", "DIAGONAL_SHAPES", "SAME", "EXPLICIT", "SYMMETRIC", "WHOLE"]

#: ``shape`` column values whose entries have a diagonal Jacobian in every argument
DIAGONAL_SHAPES = frozenset({"number", "elementwise", "comparison", "either"})

#: Entries whose Jacobian is symmetric (``softmax``), or diagonal although their ``shape`` column does not say
#: so (``multigammaln`` is elementwise in ``a``): the JVP is the VJP with ``g`` -> ``p_dot``.
SYMMETRIC = frozenset({"scipy.special.softmax", "scipy.special.multigammaln"})

#: Functions linear in their one differentiable argument: the tangent is the same call on the tangent. Each
#: was checked: none depends on the argument's dtype or values other than linearly (not ``np.full_like``, whose
#: dtype is ``a``'s; not ``np.nansum``, which reads where ``a`` is NaN).
SAME = frozenset(
    {
        "builtins.float",
        "numpy.sum",
        "numpy.mean",
        "numpy.transpose",
        "numpy.reshape",
        "operator.getitem",
        "s2sad.part",
        "numpy.copy",
        "numpy.cumsum",
        "numpy.average",
        "numpy.trace",
        "numpy.squeeze",
        "numpy.expand_dims",
        "numpy.ravel",
        "numpy.atleast_1d",
        "numpy.atleast_2d",
        "numpy.swapaxes",
        "numpy.moveaxis",
        "numpy.flip",
        "numpy.roll",
        "numpy.broadcast_to",
        "numpy.full",
        "numpy.diag",
        "numpy.diagonal",
        "numpy.tril",
        "numpy.triu",
        "numpy.repeat",
        "numpy.tile",
        # lists (s2sad.frontend.writes): a list's tangent is the list of its elements' tangents
        "numpy.stack",
        "numpy.asarray",
        "numpy.atleast_3d",
        "numpy.ndarray.flatten",
        "builtins.sum",
    }
)


def _expanded(v: str) -> str:
    return f"(numpy.expand_dims({v}, axis) if axis is not None and not keepdims else {v})"


_REDUCED = "(numpy.size(a) / numpy.size(ans))"  # how many entries each result entry reduces
_CENTRED = "(a - numpy.mean(a, axis, True))"
_EXTREMUM = (
    f"numpy.sum(numpy.where(a == {_expanded('ans')}, a_dot, 0.0), axis, keepdims)"
    f" / numpy.sum(a == {_expanded('ans')}, axis, keepdims)"
)

#: ``fn`` -> per differentiable parameter, its tangent contribution (in ``<param>_dot``, the parameters and
#: ``ans``); the contributions of the differentiated arguments are added.
EXPLICIT: dict[str, dict[str, str]] = {
    "operator.matmul": {"a": "a_dot @ b", "b": "a @ b_dot"},
    "numpy.matmul": {"a": "numpy.matmul(a_dot, b)", "b": "numpy.matmul(a, b_dot)"},
    "numpy.dot": {"a": "numpy.dot(a_dot, b)", "b": "numpy.dot(a, b_dot)"},
    "numpy.outer": {"a": "numpy.outer(a_dot, b)", "b": "numpy.outer(a, b_dot)"},
    # a tie shares the tangent equally among the extremal entries, as the adjoint shares the adjoint
    "numpy.max": {"a": _EXTREMUM},
    "numpy.min": {"a": _EXTREMUM},
    "numpy.amax": {"a": _EXTREMUM},
    "numpy.amin": {"a": _EXTREMUM},
    "numpy.prod": {"a": "ans * numpy.sum(a_dot / a, axis, keepdims)"},  # undefined at 0, as the adjoint
    "numpy.cumprod": {"a": "ans * numpy.cumsum(a_dot / a, axis)"},  # undefined at 0, as the adjoint
    # a NaN entry is left out of the result: its tangent too
    "numpy.nansum": {"a": "numpy.sum(numpy.where(numpy.isnan(a), 0.0, a_dot), axis, keepdims)"},
    "numpy.nanmean": {
        "a": "numpy.sum(numpy.where(numpy.isnan(a), 0.0, a_dot), axis, keepdims)"
        " / numpy.sum(numpy.logical_not(numpy.isnan(a)), axis, keepdims)"
    },
    "numpy.linalg.solve": {"a": "-numpy.linalg.solve(a, a_dot @ ans)", "b": "numpy.linalg.solve(a, b_dot)"},
    "numpy.linalg.inv": {"a": "-(ans @ a_dot @ ans)"},
    "numpy.tensordot": {"a": "numpy.tensordot(a_dot, b, axes)", "b": "numpy.tensordot(a, b_dot, axes)"},
    "numpy.inner": {"a": "numpy.inner(a_dot, b)", "b": "numpy.inner(a, b_dot)"},
    "numpy.vdot": {"a": "numpy.vdot(a_dot, b)", "b": "numpy.vdot(a, b_dot)"},
    "numpy.kron": {"a": "numpy.kron(a_dot, b)", "b": "numpy.kron(a, b_dot)"},
    "numpy.cross": {"a": "numpy.cross(a_dot, b)", "b": "numpy.cross(a, b_dot)"},
    "s2sad.slogdet_logdet": {"a": "numpy.trace(numpy.linalg.solve(a, a_dot), 0, -2, -1)"},
    "s2sad.eigh_values": {"a": "s2sad.eigh_tangent(0, a_dot, a)"},
    "s2sad.eigh_vectors": {"a": "s2sad.eigh_tangent(1, a_dot, a)"},
    "scipy.linalg.solve_triangular": {  # d(op(a)^-1 b) = op(a)^-1 (db - op(da) x), da on the triangle read
        "a": "-scipy.linalg.solve_triangular(a, s2sad.triangular_tangent(a_dot, trans, lower) @ ans, trans, lower)",
        "b": "scipy.linalg.solve_triangular(a, b_dot, trans, lower)",
    },
    # Jacobi's formula, for a stack of matrices too: d det(a) = det(a) tr(a^-1 da)
    "numpy.linalg.det": {"a": "ans * numpy.trace(numpy.linalg.solve(a, a_dot), 0, -2, -1)"},
    "numpy.var": {"a": f"numpy.sum(2 * {_CENTRED} * a_dot, axis, keepdims) / ({_REDUCED} - ddof)"},
    "numpy.std": {"a": f"numpy.sum({_CENTRED} * a_dot, axis, keepdims) / (({_REDUCED} - ddof) * ans)"},
    "numpy.linalg.norm": {"x": "numpy.sum(x * x_dot, axis, keepdims) / ans"},
    "scipy.special.logsumexp": {
        "a": f"numpy.sum((1.0 if b is None else b) * numpy.exp(a - {_expanded('ans')}) * a_dot, axis, keepdims)",
        "b": f"numpy.sum(numpy.exp(a - {_expanded('ans')}) * b_dot, axis, keepdims)",
    },
    "scipy.special.log_softmax": {"x": "x_dot - numpy.sum(numpy.exp(ans) * x_dot, axis, True)"},
}
_EINSUM = {  # by number of operands
    1: {"a": "numpy.einsum(subscripts, a_dot)"},
    2: {"a": "numpy.einsum(subscripts, a_dot, b)", "b": "numpy.einsum(subscripts, a, b_dot)"},
    3: {
        "a": "numpy.einsum(subscripts, a_dot, b, c)",
        "b": "numpy.einsum(subscripts, a, b_dot, c)",
        "c": "numpy.einsum(subscripts, a, b, c_dot)",
    },
}

#: Functions linear in all their differentiable arguments together: the same call on the tangents, an
#: argument that is not differentiated given a zero tangent (``np.array([x_dot, 0.0])``).
WHOLE = frozenset({"numpy.array", "s2sad.select", "s2sad.setitem", "s2sad.append"})
WHOLE |= {"numpy.concatenate", "numpy.stack", "numpy.hstack", "numpy.vstack", "numpy.column_stack"}


@dataclass(frozen=True)
class Tangent:
    """How a call's tangent is built. ``terms``: per parameter, a contribution in ``<param>_dot`` (added over
    the differentiated arguments); ``whole``: one expression of every tangent (zeros for the others)."""

    source: str  #: ``diagonal``, ``symmetric``, ``same``, ``explicit``, ``whole``
    terms: Mapping[str, ir.Expr]
    whole: ir.Expr | None = None


def dot(param: str) -> str:
    """The template name of ``param``'s tangent."""
    return f"{param}_dot"


def zero(e: ir.Expr, scalar: bool) -> ir.Expr:
    """A zero tangent for ``e``: ``0.0`` for a number (``scalar``), an empty list for an empty list (a stack),
    else zeros of its shape (floating point)."""
    if e == ir.Call(ir.LIST, ()):
        return e
    if scalar:
        return ir.Const(0.0)
    return ir.Call("numpy.zeros", (ir.Call("numpy.shape", (e,)),))


def tangent_of(rule: Rule) -> Tangent | None:
    """The tangent rule of a table entry, or None: no forward rule."""
    if rule.kind == "helper":
        return None
    diffable = [p for p in rule.params if p in rule.adjoints]
    if rule.shape in DIAGONAL_SHAPES or rule.fn in SYMMETRIC:
        terms = {p: ir.substitute(rule.adjoints[p], {"g": ir.Var(dot(p))}) for p in diffable}
        return Tangent("diagonal" if rule.fn not in SYMMETRIC else "symmetric", terms)
    allowed = frozenset(rule.params) | {dot(p) for p in rule.params} | {"ans"}
    if rule.fn in SAME and len(diffable) == 1:
        p = diffable[0]
        call = ir.Call(rule.fn, tuple(ir.Var(dot(q) if q == p else q) for q in rule.params))
        return Tangent("same", {p: call})
    if rule.fn in WHOLE:
        call = ir.Call(rule.fn, tuple(ir.Var(dot(q) if q in diffable else q) for q in rule.params))
        return Tangent("whole", {}, call)
    table = _EINSUM.get(len(rule.params) - 1) if rule.fn == "numpy.einsum" else EXPLICIT.get(rule.fn)
    if table is None or set(table) != set(diffable):
        return None
    return Tangent("explicit", {p: parse_template(t, allowed) for p, t in table.items()})


#: Every built-in entry that has a forward rule, with it (tests iterate this).
TANGENTS: dict[tuple[str, int], Tangent] = {
    key: t for key, rule in RULES.items() if rule.adjoints for t in [tangent_of(rule)] if t is not None
}


#: Tangents of the support functions a gradient program calls (:data:`s2sad.emit.SUPPORT`), for forward mode
#: over reverse mode (:mod:`s2sad.over_reverse`): per function, the positions of the arguments it is linear in
#: (each one with the others fixed: ``matmul_adjoint_a(g, a, b)`` is linear in ``g`` and in ``b``), and those
#: it reads only for their shape, dtype or a count (``unbroadcast(g, x)`` reads ``x``'s shape). Its tangent is
#: the sum, over the linear arguments that carry one, of the same call with that argument replaced by its
#: tangent. ``REST`` stands for every position from there on (``bundle(d, keys, *adjoints)``). An argument in
#: neither set that carries a tangent (``a`` of ``solve_transposed(a, g)``) is refused (``no-forward-rule``).
REST = -1
SUPPORT_TANGENTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "s2sad.unbroadcast": ((0,), (1,)),
    "s2sad.scatter": ((0,), (1, 2)),
    "s2sad.bundle": ((2, REST), (0, 1)),
    "s2sad.setitem_adjoint_x": ((0,), (1,)),
    "s2sad.setitem_adjoint_v": ((0,), (1, 2, 3)),
    "s2sad.but_last": ((0,), ()),
    "s2sad.shaped_as": ((0,), (1,)),
    "s2sad.zeros_of": ((), (0,)),
    "s2sad.matmul_adjoint_a": ((0, 2), (1,)),
    "s2sad.matmul_adjoint_b": ((0, 1), (2,)),
    "s2sad.dot_adjoint_a": ((0, 2), (1,)),
    "s2sad.dot_adjoint_b": ((0, 1), (2,)),
    "s2sad.gathered": ((0,), (1, 2)),
    "s2sad.cumsum_adjoint": ((0,), (1, 2)),
    "s2sad.average_adjoint": ((0,), (1, 2)),
    "s2sad.trace_adjoint": ((0,), (1,)),
    "s2sad.diag_adjoint": ((0,), (1, 2)),
    "s2sad.solve_transposed": ((1,), ()),
    "s2sad.solve_adjoint_a": ((0, 1), (2,)),
    "s2sad.det_adjoint": ((0,), ()),
    "s2sad.cholesky_adjoint": ((0,), ()),
    "s2sad.concatenate_adjoint": ((0,), (1, 2, REST)),
    "s2sad.hstack_adjoint": ((0,), (1, 2, REST)),
    "s2sad.vstack_adjoint": ((0,), (1, 2, REST)),
    "s2sad.column_stack_adjoint": ((0,), (1, 2, REST)),
    "s2sad.solve_triangular_adjoint_a": ((0, 1), ()),
    "numpy.take": ((0,), ()),  # np.stack's adjoint: the k-th slice of g
}

#: Support functions ``f(k, g, a, b, ...)`` giving the adjoint of operand ``k`` (0: a, 1: b) of a product:
#: linear in ``g`` and in the other operand; operand ``k`` gives only a shape.
_BY_OPERAND = frozenset({"s2sad.tensordot_adjoint", "s2sad.inner_adjoint", "s2sad.kron_adjoint"})


def support_positions(fn: str, args: tuple[ir.Expr, ...]) -> tuple[set[int], set[int]] | None:
    """The positions of ``args`` a support function call is linear in, and those it reads only for their
    shape (see :data:`SUPPORT_TANGENTS`); None: not a support function with a tangent."""
    if fn == "s2sad.einsum_adjoint":  # einsum_adjoint(k, g, subscripts, *operands): operand k gives a shape
        k = args[0]
        if not isinstance(k, ir.Const) or not isinstance(k.value, int):
            return None
        return {1} | set(range(3, len(args))) - {3 + k.value}, {0, 2, 3 + k.value}
    if fn in _BY_OPERAND:
        k = args[0]
        if not isinstance(k, ir.Const) or k.value not in (0, 1):
            return None
        other = 3 if k.value == 0 else 2
        return {1, other}, set(range(len(args))) - {1, other}
    found = SUPPORT_TANGENTS.get(fn)
    if found is None:
        return None

    def expand(ps: tuple[int, ...]) -> set[int]:
        if REST in ps:
            start = ps[ps.index(REST) - 1]
            return set(ps[:-2]) | set(range(start, len(args)))
        return set(ps)

    return expand(found[0]), expand(found[1])


def _call(fn: str, *args: ir.Expr) -> ir.Call:
    return ir.Call(fn, args)


def _swapped(e: ir.Expr) -> ir.Expr:
    return _call("numpy.swapaxes", e, ir.Const(-1), ir.Const(-2))


_ARG0, _ARG1, _DOT, _ANS = ir.Var("arg0"), ir.Var("arg1"), ir.Var("dot"), ir.Var("ans")

#: Tangents of functions that only adjoint templates call, and that have no entry in the table of their own
#: (``polygamma(1, x)`` in digamma's adjoint): (function, position) -> the term, as below.
SUPPORT_EXPLICIT_LIBRARY: dict[tuple[str, int], ir.Expr] = {
    ("scipy.special.polygamma", 1): _call(
        "operator.mul", _DOT, _call("scipy.special.polygamma", _call("operator.add", _ARG0, ir.Const(1)), _ARG1)
    ),
}

#: Tangent terms of support functions in an argument they are not linear in: (function, position) -> the term,
#: in the call's arguments ``arg0``, ``arg1``..., that argument's tangent ``dot`` and the call's value ``ans``.
#: ``solve_transposed(a, g)`` is y = a^-T g: a^T y = g gives dy = -a^-T (da^T y); ``det_adjoint(g, a)`` is
#: g a^-T (g one number per matrix), whose derivative is -g a^-T da^T a^-T = -(da a^-1)^T ans.
SUPPORT_EXPLICIT: dict[tuple[str, int], ir.Expr] = {
    ("s2sad.solve_transposed", 0): _call(
        "operator.neg",
        _call(
            "s2sad.solve_transposed",
            _ARG0,
            _call(
                ir.IFEXP,
                _call(
                    "operator.eq",
                    _call("numpy.ndim", _ANS),
                    _call("operator.sub", _call("numpy.ndim", _ARG0), ir.Const(1)),
                ),
                _call("numpy.einsum", ir.Const("...ji,...j->...i"), _DOT, _ANS),
                _call("operator.matmul", _swapped(_DOT), _ANS),
            ),
        ),
    ),
    ("s2sad.det_adjoint", 1): _call(
        "operator.neg",
        _call("operator.matmul", _swapped(_call("operator.matmul", _DOT, _call("numpy.linalg.inv", _ARG1))), _ANS),
    ),
}
SUPPORT_EXPLICIT.update(SUPPORT_EXPLICIT_LIBRARY)

"""The shape rules of the NumPy and SciPy library entries (issue 14): joins, shape functions, reductions with
other keywords, contractions, linear algebra. Each takes the arguments' values and expressions and gives the
result's value, as :data:`s2sad.shapes.SHAPE_RULES` does (which merges :data:`LIBRARY_SHAPES`);
``tests/test_values.py`` checks every entry of the table against NumPy on random operands.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import ir
from .shapes import (
    UNKNOWN,
    Array,
    Dim,
    Scalar,
    ShapeRule,
    Value,
    _array,
    _broadcast,
    _const,
    _elementwise,
    _new,
    _reduce,
    dims,
    rank,
)

__all__ = ["LIBRARY_SHAPES"]


def _axes(e: ir.Expr, n: int) -> tuple[int, ...] | None:
    """A literal axis or tuple of axes, normalised against rank ``n``; None when not literal or out of range."""
    literal = _const(e)
    parts = literal if isinstance(literal, tuple) else (literal,)
    if not all(isinstance(x, int) and not isinstance(x, bool) and -n <= x < n for x in parts):
        return None
    return tuple(x % n for x in parts if isinstance(x, int))


def _rank_only(v: Value, n: int | None) -> Value:
    """An array of rank ``n`` (unknown dimensions), or of unknown rank."""
    return Array(n) if n is not None else (Array(None) if isinstance(v, Array) else UNKNOWN)


def _cumulative(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.cumsum(a, axis=None)``: flattened without an axis, else ``a``'s shape."""
    d = dims(values[0])
    if _const(exprs[1]) is None:
        return Array(1, (d[0] if d is not None and len(d) == 1 else 1 if d == () else None,))
    return Array(len(d), d) if d else _rank_only(values[0], None)


def _reduce_at(keepdims: int) -> ShapeRule:
    """A reduction ``(a, axis, ..., keepdims)`` whose ``keepdims`` is argument ``keepdims``."""
    return lambda values, exprs: _reduce(values[:2] + values[keepdims:], [*exprs[:2], *exprs[keepdims:]])


def _trace(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    return _array(d[2:]) if d is not None and len(d) >= 2 else _rank_only(values[0], None)


def _squeeze(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    if d is None:
        return _rank_only(values[0], None)
    if _const(exprs[1]) is None:  # every dimension of size 1 goes: only known sizes say which
        return _array([x for x in d if x != 1]) if all(isinstance(x, int) for x in d) else Array(None)
    axes = _axes(exprs[1], len(d))
    return _array([x for i, x in enumerate(d) if i not in axes]) if axes is not None else Array(None)


def _expand_dims(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    literal = _const(exprs[1])
    count = len(literal) if isinstance(literal, tuple) else 1
    if d is None:
        return Array(None)
    axes = _axes(exprs[1], len(d) + count)
    if axes is None:
        return Array(len(d) + count)
    out, rest = [], iter(d)
    for i in range(len(d) + count):
        out.append(1 if i in axes else next(rest))
    return _array(out)


def _ravel(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    if d is not None and all(isinstance(x, int) for x in d):
        size = 1
        for x in d:
            size *= x if isinstance(x, int) else 1
        return Array(1, (size,))
    return Array(1, (d[0],)) if d is not None and len(d) == 1 else Array(1)


def _at_least(n: int) -> ShapeRule:
    """``np.atleast_1d`` (2d, 3d): dimensions of size 1 added as NumPy adds them."""

    def rule(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
        d = dims(values[0])
        if d is None:
            return _rank_only(values[0], None)
        if len(d) >= n:
            return _array(d)
        if n == 3 and len(d) == 2:
            return _array(d + (1,))
        if n == 3 and len(d) == 1:
            return _array((1,) + d + (1,))
        return _array((1,) * (n - len(d)) + d)

    return rule


def _swapaxes(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    if d is None or not d:
        return _rank_only(values[0], None)
    i, j = _axes(exprs[1], len(d)), _axes(exprs[2], len(d))
    if i is None or j is None or len(i) != 1 or len(j) != 1:
        return Array(len(d))
    out = list(d)
    out[i[0]], out[j[0]] = d[j[0]], d[i[0]]
    return _array(out)


def _moveaxis(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    if d is None or not d:
        return _rank_only(values[0], None)
    source, destination = _axes(exprs[1], len(d)), _axes(exprs[2], len(d))
    if source is None or destination is None or len(source) != len(destination):
        return Array(len(d))
    order = [i for i in range(len(d)) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return _array([d[i] for i in order])


def _broadcast_to(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    return _new(values[1:], exprs[1:])


def _diag(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    r = rank(values[0])
    if r == 1:
        return Array(2)
    return Array(1) if r == 2 else Array(None)


def _diagonal(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    r = rank(values[0])
    return Array(r - 1) if r is not None and r >= 2 else Array(None)


def _triangle(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.tril(m)``: ``m``'s shape; a vector is the rows of a square matrix."""
    d = dims(values[0])
    if d is not None and len(d) == 1:
        return Array(2, (d[0], d[0]))
    return _array(d) if d is not None and len(d) >= 2 else Array(None)


def _repeat(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    if _const(exprs[2]) is None:
        return Array(1)
    return Array(len(d)) if d else Array(None)


def _tile(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    r, reps = rank(values[0]), _const(exprs[1])
    count = len(reps) if isinstance(reps, tuple) else 1 if isinstance(reps, int) else None
    return Array(max(r, count)) if r is not None and count is not None else Array(None)


def _logsumexp(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``logsumexp(a, axis, b, keepdims)``: a reduction of ``a`` broadcast against ``b``."""
    a = _elementwise([values[0], values[2]], [exprs[0], exprs[2]])
    if isinstance(a, Scalar) and _const(exprs[3]) is not False:
        return UNKNOWN  # SciPy gives a number kept dimensions
    return _reduce([a, values[1], values[3]], [exprs[0], exprs[1], exprs[3]])


def _like_array(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """The first argument's shape, as an array (``np.linalg.inv``, ``softmax``: never a Python number)."""
    v = values[0]
    return Array(v.rank, v.dims) if isinstance(v, Array) else Array(0, ()) if isinstance(v, Scalar) else UNKNOWN


def _det(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    return _array(d[:-2]) if d is not None and len(d) >= 2 else Array(None) if rank(values[0]) is None else UNKNOWN


def _solve(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.linalg.solve(a, b)``: b's shape when both are known matrices or b a vector; else an array."""
    a, b = dims(values[0]), dims(values[1])
    if a is not None and b is not None and len(a) == 2 and len(b) in (1, 2):
        return _array(b)
    return Array(None)


def _einsum(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.einsum(subscripts, ...)``: the output's letters, sized by the operands' (no ellipsis)."""
    spec = _const(exprs[0])
    if not isinstance(spec, str) or "." in spec:
        return Array(None)
    inputs, arrow, output = spec.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if not arrow:
        joined = "".join(terms)
        output = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    sizes: dict[str, Dim] = {}
    for term, v in zip(terms, values[1:]):
        d = dims(v)
        if d is None or len(d) != len(term):
            return Array(len(output))
        for c, x in zip(term, d):
            if x != 1:
                sizes[c] = x if sizes.get(c, x) == x else None
    return _array([sizes.get(c, 1) for c in output])


def _eigenvalues(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    return _array(d[:-1]) if d is not None and len(d) >= 2 else Array(None) if rank(values[0]) is None else UNKNOWN


def _scalar(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """A number whatever the arguments (``np.vdot``), without ``number``'s diagonal Jacobian."""
    return Scalar()


def _inner(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.inner(a, b)``: a product with a number, else the sum over the last axes."""
    a, b = dims(values[0]), dims(values[1])
    if a == () or b == ():
        return _broadcast(values[:2])
    return _array(a[:-1] + b[:-1]) if a is not None and b is not None else Array(None)


def _kron(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    ranks = [rank(v) for v in values[:2]]
    if any(r is None for r in ranks):
        return Array(None)
    return Array(max(r for r in ranks if r is not None))


def _tensordot(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.tensordot(a, b, axes)``: the free axes of a, then b's (their number known for literal axes)."""
    ra, rb, axes = rank(values[0]), rank(values[1]), _const(exprs[2])
    if ra is None or rb is None:
        return Array(None)
    if isinstance(axes, int) and not isinstance(axes, bool):
        n = ra + rb - 2 * axes
        return Array(n) if n > 0 else Scalar() if n == 0 else UNKNOWN
    return Array(None)


def _cross(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.cross(a, b)`` of 3-vectors along the last axis: the operands broadcast."""
    out = _broadcast(values[:2])
    d = dims(out)
    return out if d and d[-1] == 3 else Array(None)


def _joined(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.concatenate([x0, ...], axis)`` and kin: an array (of a rank that depends on the function)."""
    return Array(None)


def _stack_of(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.stack(arrays)`` of a list of arrays (an array itself in the analysis): the same array."""
    return values[0] if isinstance(values[0], Array) else Array(None)


#: The library entries' part of the ``shape`` column's vocabulary.
LIBRARY_SHAPES: dict[str, ShapeRule] = {
    "cumulative": _cumulative,  # (a, axis=None): flattened, or a's shape
    "reduce_ddof": _reduce_at(3),  # np.var(a, axis, ddof, keepdims)
    "reduce_no_keepdims": lambda values, exprs: _reduce(values[:2], exprs[:2]),  # np.average(a, axis, weights)
    "trace": _trace,
    "squeeze": _squeeze,
    "expand_dims": _expand_dims,
    "ravel": _ravel,
    "atleast_1d": _at_least(1),
    "atleast_2d": _at_least(2),
    "atleast_3d": _at_least(3),
    "swapaxes": _swapaxes,
    "moveaxis": _moveaxis,
    "broadcast_to": _broadcast_to,  # (array, shape)
    "diag": _diag,
    "diagonal": _diagonal,
    "triangle": _triangle,  # np.tril, np.triu
    "repeat": _repeat,
    "tile": _tile,
    "logsumexp": _logsumexp,
    "like_array": _like_array,
    "det": _det,
    "solve": _solve,
    "einsum": _einsum,
    "joined": _joined,
    "stack_of": _stack_of,
    "scalar": _scalar,
    "inner": _inner,
    "kron": _kron,
    "tensordot": _tensordot,
    "cross": _cross,
    "eigenvalues": _eigenvalues,
}

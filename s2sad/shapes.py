"""The lattice of values and the rule table's ``shape`` column: what a value is (a number, an array of some
rank with symbolic dimensions, a tuple, unknown) and how each primitive's result follows from its arguments'.

The lattice is JAX's abstract values made small: :class:`Unknown` above everything; values of different kinds
join to ``Unknown``, arrays of different ranks to ``Array(None)``, a dimension known on one side only to
unknown. Symbols come from the user's annotations: two dimensions named ``n`` are equal. Each entry of
:data:`s2sad.rules.RULES` names one rule of :data:`SHAPE_RULES`; ``tests/test_values.py`` checks every entry
against NumPy on random operands of random kinds and ranks. :mod:`s2sad.values` runs the analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import ir
from .rules import RULES, Rule, TemplateError

__all__ = [
    "Unknown",
    "Scalar",
    "Array",
    "Tuple",
    "Value",
    "UNKNOWN",
    "FLOAT",
    "INT",
    "BOOL",
    "join",
    "rank",
    "dims",
    "same_shape",
    "annotated",
    "SHAPE_RULES",
    "apply_shape",
]

Dim = int | str | None  #: a dimension: its size, a symbol (``"n"``: equal to every other ``"n"``), or unknown


@dataclass(frozen=True, slots=True)
class Unknown:
    """Nothing is known: the generic code of the reverse pass, as for any Python value."""


@dataclass(frozen=True, slots=True)
class Scalar:
    """``np.ndim(value) == 0``: a Python number, a NumPy scalar or a 0-d array."""

    dtype: str | None = None  #: "float", "int", "bool" when known


@dataclass(frozen=True, slots=True)
class Array:
    """An ndarray; ``rank`` None: any rank (possibly 0); ``dims``, when known, has ``rank`` entries."""

    rank: int | None = None
    dims: tuple[Dim, ...] | None = None


@dataclass(frozen=True, slots=True)
class Tuple:
    items: tuple[Value, ...]


Value = Unknown | Scalar | Array | Tuple
UNKNOWN = Unknown()
FLOAT = Scalar("float")
INT = Scalar("int")
BOOL = Scalar("bool")


def join(a: Value | None, b: Value | None) -> Value | None:
    """The least value covering both (None: not yet seen, below everything)."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        return Scalar(a.dtype if a.dtype == b.dtype else None)
    if isinstance(a, Array) and isinstance(b, Array):
        if a.rank != b.rank:
            return Array(None)
        if a.dims is None or b.dims is None:
            return Array(a.rank)
        return Array(a.rank, tuple(x if x == y else None for x, y in zip(a.dims, b.dims)))
    if isinstance(a, Tuple) and isinstance(b, Tuple) and len(a.items) == len(b.items):
        return Tuple(tuple(join(x, y) or UNKNOWN for x, y in zip(a.items, b.items)))
    return UNKNOWN


def rank(v: Value) -> int | None:
    """The number of dimensions, when known (a scalar has 0)."""
    if isinstance(v, Scalar):
        return 0
    return v.rank if isinstance(v, Array) else None


def dims(v: Value) -> tuple[Dim, ...] | None:
    if isinstance(v, Scalar):
        return ()
    if isinstance(v, Array) and v.rank is not None:
        return v.dims if v.dims is not None else (None,) * v.rank
    return None


def same_shape(a: Value, b: Value) -> bool:
    """Whether ``a`` and ``b`` provably have one shape (every dimension known, and equal)."""
    da, db = dims(a), dims(b)
    return da is not None and da == db and all(d is not None for d in da)


def _array(dimensions: Sequence[Dim]) -> Value:
    return Array(len(dimensions), tuple(dimensions)) if dimensions else Scalar()


# --------------------------------------------------------------------------------------------------------------
# Annotations
# --------------------------------------------------------------------------------------------------------------
def annotated(annotation: str | None) -> Value:
    """The value a parameter annotation states (see :attr:`ir.Param.annotation`). Dimensions are written as in
    jaxtyping: names and integers separated by spaces; ``...`` or ``*batch`` stands for any number of them
    (the rank is then unknown); a name starting with ``_`` or ``#`` (unchecked, broadcastable) is unknown."""
    if annotation in ("float", "int", "bool"):
        return Scalar(annotation)
    if annotation == "ndarray":
        return Array(None)
    if annotation is None or not annotation.startswith("ndarray:"):
        return UNKNOWN
    out: list[Dim] = []
    for word in annotation[len("ndarray:") :].split():
        if word == "..." or word.startswith("*"):
            return Array(None)
        if word.isdigit():
            out.append(int(word))
        elif word.isidentifier() and not word.startswith("_"):
            out.append(word)
        else:
            out.append(None)
    return _array(out)


# --------------------------------------------------------------------------------------------------------------
# Shape rules: how a primitive's result follows from its arguments (the ``shape`` column of the rule table)
# --------------------------------------------------------------------------------------------------------------
ShapeRule = Callable[[Sequence[Value], Sequence[ir.Expr]], Value]


def _broadcast(values: Sequence[Value]) -> Value:
    """NumPy's broadcasting: scalars take the other operand's shape; dimensions aligned from the right."""
    if any(isinstance(v, (Unknown, Tuple)) for v in values):
        if any(isinstance(v, Array) and v.rank for v in values):
            return Array(None)  # an array broadcast with anything is an array
        return UNKNOWN
    arrays = [v for v in values if isinstance(v, Array)]
    if not arrays:
        dtypes = {v.dtype for v in values if isinstance(v, Scalar)}
        return Scalar(dtypes.pop() if len(dtypes) == 1 else None)
    shapes = [dims(v) for v in arrays]
    if any(s is None for s in shapes):
        return Array(None)
    n = max(len(s) for s in shapes if s is not None)
    out: list[Dim] = []
    for i in range(1, n + 1):
        column = {s[-i] for s in shapes if s is not None and len(s) >= i} - {1}
        out.append(column.pop() if len(column) == 1 else (1 if not column else None))
    return _array(out[::-1])


def _number(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    return Scalar()


def _elementwise(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    return _broadcast([v for v, e in zip(values, exprs) if e != ir.Const(None)])


def _comparison(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    out = _broadcast(values)
    return BOOL if isinstance(out, Scalar) else out


def _const(e: ir.Expr) -> ir.Value | str:
    """A literal argument (``axis=1``, ``keepdims=True``), or ``"?"``."""
    if isinstance(e, ir.Const):
        return e.value
    if isinstance(e, ir.Call) and e.fn == ir.TUPLE and all(isinstance(a, ir.Const) for a in e.args):
        return tuple(a.value for a in e.args if isinstance(a, ir.Const))
    return "?"


def _reduce(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.sum(a, axis=None, keepdims=False)`` and its kin (``np.argmax(a, axis)``)."""
    a = values[0]
    axis = _const(exprs[1]) if len(exprs) > 1 else None
    keepdims = _const(exprs[2]) if len(exprs) > 2 else False
    if isinstance(a, Scalar) and keepdims in (False, True) and axis in (None, 0, -1, ()):
        return Scalar()
    shape = dims(a)
    if axis is None and keepdims is False:
        return Scalar() if not isinstance(a, Tuple) else UNKNOWN
    if shape is None or keepdims not in (False, True) or axis == "?":
        return Array(None) if isinstance(a, Array) else UNKNOWN
    axes = axis if isinstance(axis, tuple) else tuple(range(len(shape))) if axis is None else (axis,)
    if not all(isinstance(x, int) and not isinstance(x, bool) and -len(shape) <= x < len(shape) for x in axes):
        return UNKNOWN
    reduced = {x % len(shape) for x in axes if isinstance(x, int)}
    out = (
        [1 if i in reduced else d for i, d in enumerate(shape)]
        if keepdims
        else [d for i, d in enumerate(shape) if i not in reduced]
    )
    return _array(out)


def _matmul(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``a @ b``: 1-D operands are a row (a) or a column (b); stacks of matrices broadcast."""
    a, b = (dims(v) for v in values[:2])
    if a is None or b is None:
        return Array(None) if any(isinstance(v, Array) for v in values[:2]) else UNKNOWN
    if not a or not b:
        return UNKNOWN  # matmul refuses scalars
    if len(a) == 1 and len(b) == 1:
        return Scalar()
    if len(a) == 1:
        return _array(b[:-2] + b[-1:])
    if len(b) == 1:
        return _array(a[:-1])
    batch = _broadcast([_array(a[:-2]), _array(b[:-2])])
    batch_dims = dims(batch)
    return _array(batch_dims + (a[-2], b[-1])) if batch_dims is not None else Array(None)


def _dot(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.dot(a, b)``: a product with a scalar; else a @ b's for 1-D and 2-D operands."""
    a, b = (dims(v) for v in values[:2])
    if a == () or b == ():
        return _broadcast(values[:2])
    if a is None or b is None:
        return UNKNOWN
    if len(a) <= 2 and len(b) <= 2:
        return _matmul(values, exprs)
    return _array(a[:-1] + (b[:-2] + b[-1:] if len(b) > 1 else ()))


def _outer(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.outer(a, b)`` flattens its operands."""
    sizes = [d[0] if d is not None and len(d) == 1 else 1 if d == () else None for d in map(dims, values[:2])]
    return Array(2, tuple(sizes))


def _transpose(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    if d is None:
        return Array(None) if isinstance(values[0], Array) else UNKNOWN
    return _array(d[::-1])


def _reshape(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    shape = values[1] if len(values) > 1 else UNKNOWN
    literal = _const(exprs[1]) if len(exprs) > 1 else "?"
    if isinstance(literal, int) and not isinstance(literal, bool):
        return Array(1, (literal if literal >= 0 else None,))
    if isinstance(shape, Tuple):
        sizes = [_const(e) for e in exprs[1].args] if isinstance(exprs[1], ir.Call) else [None] * len(shape.items)
        return _array([s if isinstance(s, int) and s >= 0 else None for s in sizes])
    if isinstance(literal, tuple):
        return _array([s if isinstance(s, int) and s >= 0 else None for s in literal])
    return Array(None)


def _getitem(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``a[index]``: an element of a tuple, or basic indexing of an array (integers drop a dimension, slices
    keep it); anything else (fancy indexing, ``None``) is unknown."""
    a, index = values[0], exprs[1]
    if isinstance(a, Tuple):
        literal = _const(index)
        if isinstance(literal, int) and -len(a.items) <= literal < len(a.items):
            return a.items[literal]
        return UNKNOWN
    shape = dims(a)
    parts: tuple[ir.Expr, ...] = (index,)
    if isinstance(index, ir.Call) and index.fn == ir.TUPLE:
        parts = index.args
    elif isinstance(index, ir.Const) and isinstance(index.value, tuple):
        parts = tuple(ir.Const(v) for v in index.value)
    if shape is None or len(parts) > len(shape):
        return UNKNOWN
    index_values = values[1].items if isinstance(values[1], Tuple) else (values[1],) * len(parts)
    out: list[Dim] = []
    for i, (part, value) in enumerate(zip(parts, index_values)):
        if isinstance(part, ir.Slice):
            out.append(_sliced(shape[i], part))
        elif isinstance(value, Scalar) and value.dtype == "int" or isinstance(_const(part), int):
            continue
        else:
            return UNKNOWN
    return _array(out + list(shape[len(parts) :]))


def _sliced(d: Dim, part: ir.Slice) -> Dim:
    """The length of ``a[start:stop]`` along a dimension ``d``: exact for a known size; for a symbol ``n``,
    ``n-k`` when the slice drops ``k`` entries at the ends (``x[1:]`` and ``x[:-1]`` are both ``n-1``: a symbol
    no annotation can spell, equal only to another slice of ``n`` as long). Else unknown."""
    bounds = [_const(p) for p in (part.start, part.stop, part.step)]
    if not all(b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in bounds):
        return None
    start, stop, step = bounds
    if isinstance(d, int):
        return len(range(d)[slice(start, stop, step)]) if step != 0 else None
    if d is None or step not in (None, 1) or (start is not None and start < 0) or (stop is not None and stop >= 0):
        return None
    dropped = (start or 0) + (-stop if stop is not None else 0)
    if not dropped:
        return d
    name, _, k = d.partition("-")
    return f"{name}-{int(k or 0) + dropped}"


def _like(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    return values[0]


def _new(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.zeros(shape)`` and kin: an array of the given shape (``np.eye(n)``: a matrix)."""
    return _reshape([UNKNOWN, *values], [ir.Const(None), *exprs])


def _array_of(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """``np.array([x0, ..., xn])``: a vector of the elements, when they are scalars."""
    return Array(1, (len(values),)) if all(isinstance(v, Scalar) for v in values) else Array(None)


def _shape_of(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    d = dims(values[0])
    return Tuple((INT,) * len(d)) if d is not None else UNKNOWN


def _select(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    out: Value | None = None
    for v in values[1:]:
        out = join(out, v)
    return out or UNKNOWN


def _either(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    out: Value | None = None
    for v in values:
        out = join(out, v)
    return out or UNKNOWN


def _unknown(values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    return UNKNOWN


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


#: The vocabulary of the rule table's ``shape`` column.
SHAPE_RULES: dict[str, ShapeRule] = {
    "number": _number,  # a Python number whatever the arguments (math.*, float, len)
    "elementwise": _elementwise,  # NumPy broadcasting of the arguments (None arguments ignored)
    "comparison": _comparison,  # elementwise, of booleans
    "reduce": _reduce,  # (a, axis=None, keepdims=False): axes removed, or kept as 1
    "matmul": _matmul,
    "dot": _dot,
    "outer": _outer,
    "transpose": _transpose,
    "reshape": _reshape,  # (a, shape)
    "getitem": _getitem,
    "like": _like,  # the first argument's value (np.zeros_like)
    "new": _new,  # (shape): an array of that shape
    "eye": lambda values, exprs: Array(2, (None, None)),  # np.eye(n)
    "range": lambda values, exprs: Array(1, (None,)),  # np.arange(stop)
    "array": _array_of,  # np.array of its elements
    "shape": _shape_of,  # np.shape: a tuple of integers
    "select": _select,  # one of the items after the index
    "either": _either,  # one of the arguments, whole (builtins.max: no broadcasting)
    "unknown": _unknown,
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


_UNDEFINED = sorted({r.shape for r in RULES.values()} - set(SHAPE_RULES))
if _UNDEFINED:
    raise TemplateError(f"rule table: unknown shape rule(s) {_UNDEFINED}")


def apply_shape(rule: Rule, values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """The value of ``rule``'s result for arguments ``values`` (their expressions: ``exprs``)."""
    return SHAPE_RULES[rule.shape](values, exprs)

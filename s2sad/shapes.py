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
}


# The rules of the NumPy/SciPy library entries (issue 14), in a module of their own; it builds on the lattice
# and the rules above (``import s2sad`` always imports this module first, so the cycle is never entered there).
from .shapes_library import LIBRARY_SHAPES  # noqa: E402

SHAPE_RULES.update(LIBRARY_SHAPES)

_UNDEFINED = sorted({r.shape for r in RULES.values()} - set(SHAPE_RULES))
if _UNDEFINED:
    raise TemplateError(f"rule table: unknown shape rule(s) {_UNDEFINED}")


def apply_shape(rule: Rule, values: Sequence[Value], exprs: Sequence[ir.Expr]) -> Value:
    """The value of ``rule``'s result for arguments ``values`` (their expressions: ``exprs``)."""
    return SHAPE_RULES[rule.shape](values, exprs)

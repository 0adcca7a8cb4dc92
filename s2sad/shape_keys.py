"""Shape keys: which values provably have one shape, even where nothing is known of their rank.

The lattice of :mod:`s2sad.shapes` proves two values alike only when it knows every dimension of both. Yet
``x[1:] - x[:-1] ** 2`` has one shape for any ``x`` that can be sliced (an array of any rank >= 1, a list, a
tuple): along the first axis both slices have ``max(n - 1, 0)`` entries, the other axes are ``x``'s. A *shape
key* names a shape symbolically, per call of one function: two values with one key have one ``np.shape``.
Keys are hash-consed (a small integer each) and built from roots and structure:

- a parameter: ``("param", p)``, its shape on entry;
- a name with every dimension known to the lattice: ``("dims", dims)`` (a number: ``("dims", ())``);
- ``x[a:-b]`` with ``a >= 0``, ``b > 0`` (either omitted) and step 1, or a tuple of such slices and integers:
  ``("index", key(x), lost)``, ``lost`` what each axis loses (``x[1:]`` and ``x[:-1]`` both lose 1 entry of
  axis 0, since ``len(range(n)[a:-b]) == max(n - a - b, 0)``; an integer index loses the axis);
- an elementwise primitive (the rule table's ``elementwise``, NumPy's elementwise tests) whose operands each
  have one key or are numbers: that key; a ``like`` rule (``np.zeros_like``, a write into an array): its first
  argument's; ``a if t else b``, ``max(a, b)``: the key both have;
- failing all that, a name assigned once at the top of the body (it runs once per call): ``("def", name)``.

A name defined several times (a loop-carried name, a branch's merge name, a reassigned parameter) has the key
every one of its definitions gives, or none: the keys are a fixed point from below, like the values, so by
induction on the run each definition leaves the name with that shape. A key is thus the same at every iteration
of a loop, and never compares one iteration's value with another's. s2sad's contract for arithmetic holds
here as in the generic code: its operands are numbers or NumPy arrays (``+`` of two lists would concatenate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from . import ir
from .rules import lookup
from .shapes import Array, Scalar, Tuple, Value, dims

__all__ = ["ShapeKeys"]

#: nothing proved (above every key); a name absent from the table is below every key (not reached yet)
_TOP = -1
#: rules whose result has the shape its operands broadcast to (operator comparisons are excluded: ``==`` of two
#: lists is one bool)
_ELEMENTWISE = "elementwise"
_NUMPY_TESTS = ("numpy.isnan", "numpy.isfinite", "numpy.isinf", "numpy.logical_not")


class ShapeKeys:
    """The shape key of every name of one function (see the module docstring), and of expressions over them.
    ``value`` gives the lattice's value of an expression."""

    def __init__(
        self, fn: ir.Function, value: Callable[[ir.Expr], Value], params: Iterable[str], checked: bool = False
    ) -> None:
        self.value = value
        self._ids: dict[tuple[object, ...], int] = {}
        self.scalar = self._intern(("dims", ()))
        self._fn, self._params = fn, tuple(params)
        self._env: dict[str, int] | None = None  # solved when first asked (most analyses never are)
        #: the function's parameters are checked at run time (``list_guards``): slices of them are keyed
        self._checked = checked
        #: (parameter of unknown kind, what its axes lose) -> the indices that slice it so
        self._slicings: dict[tuple[str, tuple[int | str, ...]], set[ir.Expr]] = {}

    def sliced_parameters(self) -> set[str]:
        """The parameters, of unknown kind and never reassigned, two of whose different slices get one key: on a
        list of arrays of different shapes, ``xs[1:]`` and ``xs[:-1]`` differ in shape (``np.shape([b])`` (1, 3, 1),
        ``np.shape([a])`` (1, 3)), so the generated code checks that each is no list or tuple
        (:mod:`s2sad.list_guards`). One slice alone (``zip(xs, xs[1:])``) is compared with nothing of another
        list's: a list there needs no check."""
        self._solved()
        return {p for (p, _), indices in self._slicings.items() if len(indices) > 1}

    @property
    def env(self) -> dict[str, int]:
        """The key of each name that has one."""
        return {n: k for n, k in self._solved().items() if k != _TOP}

    def _solved(self) -> dict[str, int]:
        if self._env is None:
            definitions, once_at_top = _definitions(self._fn)
            roots = {p: self._intern(("param", p)) for p in self._params}
            self._env = dict(roots)
            self._solve(definitions, {n: self._intern(("def", n)) for n in once_at_top})
        return self._env

    def _intern(self, key: tuple[object, ...]) -> int:
        return self._ids.setdefault(key, len(self._ids))

    def _solve(self, definitions: list[tuple[str, ir.Expr | None]], own: dict[str, int]) -> None:
        """Each name's key: the join of its definitions' (and its root's), to a fixed point from below. A name
        of ``own`` (assigned once, at the top of the body) whose definition proves nothing is its own root."""
        env = self._env
        assert env is not None
        changed = True
        while changed:
            changed = False
            for name, e in definitions:
                k = _TOP if e is None else self.of(e)
                if k is None:
                    continue
                before = env.get(name)
                after = k if before is None or before == k else _TOP
                if after == _TOP and name in own:
                    after = own[name]
                if after != before:
                    env[name] = after
                    changed = True

    # ----- keys of expressions -----------------------------------------------------------------------------
    def of(self, e: ir.Expr) -> int | None:
        """``e``'s key; :data:`_TOP` if none is proved; None if an operand is not reached yet."""
        v = self.value(e)
        if isinstance(v, Tuple):
            return _TOP  # + of two tuples concatenates
        known = dims(v)
        if known is not None and all(d is not None for d in known):
            return self._intern(("dims", known))
        if isinstance(e, ir.Var):
            assert self._env is not None
            return self._env.get(e.name)
        if isinstance(e, ir.Call) and not isinstance(e, ir.LibraryCall):
            return self._call(e)
        return _TOP

    def _call(self, e: ir.Call) -> int | None:
        if e.fn == ir.IFEXP and len(e.args) == 3:
            return self._same(e.args[1:])
        if e.fn == ir.GETITEM and len(e.args) == 2:
            return self._index(e.args[0], e.args[1])
        rule = lookup(e.fn, len(e.args))
        if rule is None:
            return _TOP
        if rule.shape == _ELEMENTWISE or e.fn in _NUMPY_TESTS:
            return self._broadcast([a for a in e.args if a != ir.Const(None)])
        if rule.shape == "like" and e.args:
            return self.of(e.args[0])
        if rule.shape == "either":
            return self._same(e.args)
        return _TOP

    def _broadcast(self, args: Iterable[ir.Expr]) -> int | None:
        """The key of values broadcast together: the one key of those that are not numbers."""
        found = self._keys(args)
        if not isinstance(found, set):
            return found
        found.discard(self.scalar)
        return found.pop() if len(found) == 1 else self.scalar if not found else _TOP

    def _same(self, args: Iterable[ir.Expr]) -> int | None:
        """The key of one of ``args``, whichever: the key they all have."""
        found = self._keys(args)
        if not isinstance(found, set):
            return found
        return found.pop() if len(found) == 1 else _TOP

    def _keys(self, args: Iterable[ir.Expr]) -> set[int] | int | None:
        """The keys of ``args``; or None (one not reached yet), or :data:`_TOP` (one with no key)."""
        found: set[int] = set()
        for a in args:
            k = self.of(a)
            if k is None or k == _TOP:
                return k
            found.add(k)
        return found

    def _index(self, x: ir.Expr, index: ir.Expr) -> int | None:
        """``x[index]``: basic slices that keep ``n - a - b`` entries of an axis, and integers."""
        base = self.of(x)
        if base is None or base == _TOP or base == self.scalar:
            return None if base is None else _TOP
        parts: tuple[ir.Expr, ...] = (index,)
        if isinstance(index, ir.Call) and index.fn == ir.TUPLE:
            parts = index.args
        elif isinstance(index, ir.Const) and isinstance(index.value, tuple):
            parts = tuple(ir.Const(v) for v in index.value)
        elif not isinstance(index, ir.Slice) and not isinstance(self.value(x), Array):
            # one integer: an entry of a list or tuple, which may have a shape of its own (xs[0] (3, 1), xs[1]
            # (3,)); only an array's entries along an axis have one shape (a tuple index needs an array anyway)
            return _TOP
        if not isinstance(self.value(x), Array) and not (
            self._checked and isinstance(x, ir.Var) and base == self._ids.get(("param", x.name))
        ):
            # a slice of a list of arrays of different shapes: xs[1:] and xs[:-1] are [b] and [a], two shapes;
            # only an array's, or a parameter's the generated code checks is no list (sliced_parameters)
            return _TOP
        lost: list[int | str] = []
        for part in parts:
            if isinstance(part, ir.Slice):
                dropped = _dropped(part)
                if dropped is None:
                    return _TOP
                lost.append(dropped)
            elif _integer(part, self.value(part)):
                lost.append("axis")
            else:
                return _TOP  # None (a new axis), Ellipsis, an array of indices, a slice of unknown bounds
        while lost and lost[-1] == 0:
            lost.pop()
        if not isinstance(self.value(x), Array) and isinstance(x, ir.Var):
            self._slicings.setdefault((x.name, tuple(lost)), set()).add(index)
        return self._intern(("index", base, tuple(lost))) if lost else base

    # ----- the question ------------------------------------------------------------------------------------
    def alike(self, a: ir.Expr, b: ir.Expr) -> bool:
        """Whether ``a`` and ``b`` provably have one shape (one key)."""
        self._solved()
        ka = self.of(a)
        return ka is not None and ka != _TOP and ka == self.of(b)


def _dropped(part: ir.Slice) -> int | None:
    """How many entries ``start:stop`` drops from an axis of any length, when that does not depend on the
    length: ``a:-b`` with ``a >= 0`` and ``b > 0`` (either omitted), step 1."""
    bounds = []
    for p in (part.start, part.stop, part.step):
        if not isinstance(p, ir.Const) or not (p.value is None or type(p.value) is int):
            return None
        bounds.append(p.value)
    start, stop, step = bounds
    if step not in (None, 1) or (start is not None and start < 0) or (stop is not None and stop >= 0):
        return None
    return (start or 0) + (-stop if stop is not None else 0)


def _integer(part: ir.Expr, value: Value) -> bool:
    if isinstance(part, ir.Const):
        return type(part.value) is int
    return isinstance(part, ir.Var) and isinstance(value, Scalar) and value.dtype == "int"


def _definitions(fn: ir.Function) -> tuple[list[tuple[str, ir.Expr | None]], set[str]]:
    """Every definition of every name, in program order (None: a value of no known key), and the names
    assigned once, at the top of the body."""
    out: list[tuple[str, ir.Expr | None]] = []
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign):
            out.append((s.target, s.value))
        elif isinstance(s, ir.Accumulate):
            inplace = isinstance(s.value, ir.Call) and s.value.fn in (ir.INDEXED, ir.ADD_AT)
            # into part of an array: its shape stays; ``t += v`` has the shape of ``t + v``
            out.append(
                (s.target, ir.Var(s.target) if inplace else ir.Call("operator.add", (ir.Var(s.target), s.value)))
            )
        elif isinstance(s, ir.Unpack):
            out.extend((t, None) for t in s.targets)
        elif isinstance(s, ir.Pop):
            out.append((s.name, None))
        elif isinstance(s, ir.Push):
            out.append((s.stack, None))
        elif isinstance(s, ir.For):
            out.append((s.index, None))
            out.extend((name, None) for name, _ in s.stacks)
        elif isinstance(s, ir.While) and s.counter is not None:
            out.append((s.counter, None))
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn == ir.APPEND:
            # appended in place: the list a name holds grows, whatever its definition says
            out.extend((a.name, None) for a in s.value.args[:1] if isinstance(a, ir.Var))
    counts: dict[str, int] = {}
    for name, _ in out:
        counts[name] = counts.get(name, 0) + 1
    params = {p.name for p in fn.params}
    top = {s.target for s in fn.body if isinstance(s, ir.Assign)}
    once = {n for n in top if counts[n] == 1 and n not in params}
    return out, once

"""Which values of unknown kind are taken for numbers: per value, not per function (an analysis stage, read by
:mod:`s2sad.values`; the generated code checks every such assumption at run time, see
:mod:`s2sad.number_guards`).

A value of unknown kind is a parameter nothing annotates, or read from one: an item (``obs = observed[i][0]``),
``sum``, ``min`` or ``max`` of it (a number for a list of numbers, an array for a list of arrays). It is
*taken for a number* when its uses, and the uses of everything computed from it, are those of scalar code:
arithmetic and comparisons (``operator.*`` but ``[]``, ``@`` and ``in``), ``math.*`` but ``fsum``/``prod``, a
few builtins on numbers (``abs``, ``float``, ``int``, ``round``, ``pow``, ``bool``, ``range``, ``min``/``max``
of several arguments), the tuples the function builds and reads back, ``if``-expressions, and a helper whose
parameter is itself taken for a number there. An index (``xs[i]``) and a loop's bounds are uses of a number
whose value passes into nothing: ``xs[i]`` is computed from ``xs``, not from ``i``. A value the result is not
computed from is not taken for a number either: used only there (``range`` and ``[]`` refuse an array
themselves), or only in code whose value is dropped, nothing needs it to be one, and its zero adjoint keeps its
shape. One use otherwise (indexed,
iterated, ``len``, ``sum``, any NumPy or SciPy call, a user's rule) and the value keeps its unknown kind and
the generic code, right for any shape, even where another value of the same function is taken for a number.

Why this is safe: the code written for a number differs from the generic code only where shapes could differ
(no ``unbroadcast``, ``0.0`` for a zero adjoint, ``+=``). It is right when every value taken for a number is
one, and then every value computed from numbers alone by the uses above is a number too. So each value taken
for a number is checked where it enters the function, a parameter at the top, an item after the statement
that binds it: one ``getattr`` per value (see :mod:`s2sad.number_guards`). A check of the result alone would
not do: an item read in an iteration whose value the result no longer depends on (``r = (p - obs[i]) ** 2``,
overwritten by the next iteration) gets a zero adjoint of the item's shape, which scalar code adds into
``p``'s adjoint unsummed; ``math.sin`` turns an array of one element into a float, so a result that is a
number proves nothing of the operands before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import ir

__all__ = ["numbers", "items"]

#: builtins that take numbers and return one (``min``/``max`` only with several arguments: one is iterated)
_NUMBER_BUILTINS = frozenset(
    f"builtins.{n}" for n in ("abs", "float", "int", "round", "pow", "bool", "range", "divmod")
)
#: operators on numbers that are no scalar code's: an item, a matrix product, membership
_NOT_SCALAR = frozenset({ir.GETITEM, "operator.matmul", "operator.contains", "operator.concat", ir.SETITEM})
#: calls that pass their operands' values on as they are
_PASSING = frozenset({ir.TUPLE, ir.IFEXP, "s2sad.select", ir.PART})


def numbers(fn: ir.Function, candidates: Iterable[str], helpers: Mapping[str, ir.Function] = {}) -> set[str]:
    """The ``candidates`` (names of ``fn``: parameters, items) whose uses, and the uses of everything computed
    from them, are scalar code's (see the module docstring)."""
    return _Uses(fn, helpers, {}).numbers(set(candidates))


#: builtins that reduce an iterable to one of its items or their sum: ``sum(xs)`` is a number for a list of
#: numbers, an array for a list of arrays or a 2-d array
_REDUCING = frozenset({"builtins.sum", "builtins.min", "builtins.max"})


def items(fn: ir.Function, data: Iterable[str]) -> set[str]:
    """The names bound to an item (at an index that is no slice) of one of ``data``, or of such an item, or to
    ``sum``, ``min`` or ``max`` of one."""
    out: set[str] = set()
    bases = set(data)
    changed = True
    while changed:
        changed = False
        for s in ir.walk(fn.body):
            if not isinstance(s, ir.Assign) or not isinstance(s.value, ir.Call) or s.target in out:
                continue
            e = s.value
            base = e.args[0] if e.args else None
            if not isinstance(base, ir.Var) or base.name not in bases:
                continue
            item = e.fn == ir.GETITEM and len(e.args) == 2 and not isinstance(e.args[1], ir.Slice)
            if item or (e.fn in _REDUCING and len(e.args) == 1):
                out.add(s.target)
                bases.add(s.target)
                changed = True
    return out


class _Uses:
    def __init__(self, fn: ir.Function, helpers: Mapping[str, ir.Function], memo: dict[tuple[str, int], bool]) -> None:
        self.fn, self.helpers, self.memo = fn, helpers, memo
        self.stmts = list(ir.walk(fn.body))
        #: names every definition of which is a tuple the function builds: reading an item of one is no index
        built: dict[str, bool] = {}
        for s in self.stmts:
            if isinstance(s, ir.Assign):
                ok = isinstance(s.value, ir.Call) and s.value.fn == ir.TUPLE
                built[s.target] = built.get(s.target, True) and ok
        self.tuples = {n for n, ok in built.items() if ok} - {p.name for p in fn.params}

    def numbers(self, candidates: set[str]) -> set[str]:
        if not candidates:
            return set()
        taint = self._taint(candidates)
        bad: set[str] = set()
        returned: set[str] = set()  # the sources the result is computed from
        for s in self.stmts:
            if isinstance(s, ir.Require):  # a check computes nothing (the guards' own read the value's type)
                continue
            for e in ir.expressions(s):
                bad |= self._misused(e, taint)
                if isinstance(s, ir.Return):
                    returned |= self._of(e, taint)
        return (candidates - bad) & returned

    def _taint(self, sources: set[str]) -> dict[str, set[str]]:
        """name -> the sources its value is computed from (through any operation)."""
        taint: dict[str, set[str]] = {n: {n} for n in sources}
        changed = True
        while changed:
            changed = False
            for s in self.stmts:
                if not isinstance(s, ir.Assign):
                    continue
                found = self._of(s.value, taint)
                if found - taint.get(s.target, set()):
                    taint.setdefault(s.target, set()).update(found)
                    changed = True
        return taint

    def _of(self, e: ir.Expr, taint: Mapping[str, set[str]]) -> set[str]:
        """The sources the value of ``e`` is computed from: an index or a slice's bounds pass into nothing."""
        if isinstance(e, ir.Var):
            return taint.get(e.name, set())
        if isinstance(e, (ir.Call, ir.LibraryCall)):
            args = e.args[:1] if e.fn == ir.GETITEM else e.args
            return set().union(*(self._of(a, taint) for a in args))
        if isinstance(e, ir.BoolOp):
            return set().union(*(self._of(v, taint) for v in e.values))
        return set()

    def _misused(self, e: ir.Expr, taint: Mapping[str, set[str]]) -> set[str]:
        """The sources some part of ``e`` uses as no scalar code does."""
        bad: set[str] = set()
        if isinstance(e, ir.BoolOp):
            for v in e.values:
                bad |= self._misused(v, taint)
        if not isinstance(e, (ir.Call, ir.LibraryCall)):
            return bad
        for k, a in enumerate(e.args):
            bad |= self._misused(a, taint)
            if isinstance(a, ir.Slice):
                continue
            used = self._of(a, taint)
            if used and not self._scalar_use(e, k):
                bad |= used
        return bad

    def _scalar_use(self, call: ir.Call | ir.LibraryCall, k: int) -> bool:
        """Whether argument ``k`` of ``call`` may be a number that scalar code uses."""
        fn = call.fn
        if isinstance(call, ir.LibraryCall):
            return False
        if fn == ir.GETITEM:  # the index, or an item of a tuple the function built
            base = call.args[0]
            return k == 1 or (isinstance(base, ir.Var) and base.name in self.tuples)
        if fn in _PASSING or fn in _NUMBER_BUILTINS:
            return True
        if fn in ("builtins.min", "builtins.max"):
            return len(call.args) > 1
        if fn.startswith("operator."):
            return fn not in _NOT_SCALAR
        if fn.startswith("math."):
            return fn not in ("math.fsum", "math.prod")
        if fn in self.helpers and k < len(self.helpers[fn].params):
            return self._helper_param(fn, k)
        return False

    def _helper_param(self, name: str, k: int) -> bool:
        key = (name, k)
        if key not in self.memo:
            self.memo[key] = False  # a recursive call (refused elsewhere) proves nothing
            h = self.helpers[name]
            p = h.params[k].name
            self.memo[key] = p in _Uses(h, self.helpers, self.memo).numbers({p})
        return self.memo[key]

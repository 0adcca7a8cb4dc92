"""In place: contributions are added into an adjoint array s2sad owns, rather than into a new array each time.

An adjoint that several statements contribute to is written ``x_bar = x_bar + term``: a new array per
contribution, since ``x_bar`` may share its array with another adjoint (``a_bar = c_bar``) or with the user's.
The reverse of ``y = x[i]`` contributes ``scatter(y_bar, x, i)``, x's shape, zero outside ``x[i]``: in a loop, a
new full-size array per iteration. Where ``x_bar`` provably holds an array s2sad made and nobody else refers
to, the term is added in place instead: ``x_bar += term``; a slice's contribution where it belongs,
``x_bar[i] += y_bar`` for an index of integers and slices (basic indexing reaches each entry once),
``np.add.at(x_bar, i, y_bar)`` for any other index (unbuffered: an entry the index repeats gets every
contribution, as ``scatter`` gives it). A first contribution ``x_bar = scatter(g, x, i)`` is written the same
way, into ``x_bar = np.zeros(np.shape(x))``.

Ownership is a forward data-flow fact over the generated function (loops to a fixed point, branches met):
``x_bar`` is owned after ``x_bar = np.zeros_like(x)``, ``scatter(...)`` or ``x_bar + scatter(...)`` (each a new
array), and stays owned through its own in-place sums; any other read of ``x_bar`` (``a_bar = x_bar``, a push, a
helper call, a view) may keep a second reference, so it ends ownership, as any other assignment does. An
in-place sum into a ``np.zeros_like(x)`` makes that ``np.zeros(np.shape(x))``: float64 like ``scatter``'s, since
``+=`` into an integer array would truncate the adjoint.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from . import ir
from .shapes import INT, Tuple, Unknown
from .values import Values

__all__ = ["in_place", "records", "passed_to_records", "ZEROS_OF"]

#: an owned adjoint -> the ``np.zeros_like`` statements (by id) that may have made its array
_Owned = dict[str, frozenset[int]]
_SCATTER = "s2sad.scatter"
#: zeros for an adjoint that may be a tuple's (see :func:`an_item`)
ZEROS_OF = "s2sad.zeros_of"


def in_place(
    body: Sequence[ir.Stmt], bars: Mapping[str, str], values: Values, records: frozenset[str] = frozenset()
) -> tuple[ir.Stmt, ...]:
    """``body`` with every ``x_bar = x_bar + term`` whose ``x_bar`` is owned added in place.
    ``bars`` maps each value to its adjoint's name; ``values`` says which indices are integers; ``records``
    are the parameters whose adjoint starts from ``zeros_of`` (see :func:`records`)."""
    flow = _Flow({b: x for x, b in bars.items()}, values, {ir.Var(r) for r in records})
    out, _ = flow.block(tuple(body), {}, emit=True)
    if not flow.convert and not records:
        return out
    return _zeros(out, flow.convert, flow.records)


def records(fn: ir.Function, values: Values, helpers: Mapping[str, Collection[int]] = {}) -> frozenset[str]:
    """The names of unknown kind (parameters, and items of them) ``fn`` reads only item by item (``a, b = p``,
    ``p[0]``, ``p[i]``), by ``len`` or as an argument of a helper (``helpers``: the positions of each helper's
    records, whose adjoints return an array of objects for a tuple): they may be tuples whose items differ in
    shape (an array and a number), whose adjoint ``np.zeros(np.shape(p))`` cannot hold; it starts from
    ``zeros_of(p)`` instead, and the gradient returns it as a tuple (``shaped_as``)."""
    candidates = {p.name for p in fn.params if isinstance(values.of(p.name), (Unknown, Tuple))}
    read: set[str] = set()
    whole: set[str] = set()
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Require):
            continue  # a run-time check (s2sad.list_guards) reads it, whatever it is
        for e in ir.expressions(s):
            if not (isinstance(s, ir.Assign) and e is s.value and isinstance(e, ir.Call)):
                whole.update(ir.expr_names(e))
            elif e.fn in (ir.GETITEM, "builtins.len") and isinstance(e.args[0], ir.Var):
                if e.fn == "builtins.len" or _one_item(values, e.args[1]):
                    read.add(e.args[0].name)
                    whole.update(n for a in e.args[1:] for n in ir.expr_names(a))
                    if e.fn == ir.GETITEM and isinstance(values.of(s.target), (Unknown, Tuple)):
                        candidates.add(s.target)  # an item may be a tuple too
                else:
                    whole.update(ir.expr_names(e))
            elif e.fn in helpers:  # an argument the helper reads item by item: its adjoint may be zeros_of's
                read.update(a.name for i, a in enumerate(e.args) if isinstance(a, ir.Var) and i in helpers[e.fn])
            else:
                whole.update(ir.expr_names(e))
    return frozenset(candidates & read - whole)


def passed_to_records(fn: ir.Function, helpers: Mapping[str, Collection[int]]) -> set[str]:
    """The names ``fn`` passes to a helper where the helper reads its parameter item by item (``helpers``, see
    :func:`records`): the helper's adjoint returns an array of objects for a tuple."""
    return {
        a.name
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn in helpers
        for i, a in enumerate(s.value.args)
        if isinstance(a, ir.Var) and i in helpers[s.value.fn]
    }


def _one_item(values: Values, index: ir.Expr) -> bool:
    if isinstance(index, ir.Const):
        return isinstance(index.value, int) and not isinstance(index.value, bool)
    return isinstance(index, ir.Var) and values.of(index) == INT


def _meet(a: _Owned, b: _Owned) -> _Owned:
    return {n: ids | b[n] for n, ids in a.items() if n in b}


def _reads(s: ir.Stmt) -> set[str]:
    if isinstance(s, ir.Push):
        return {s.name}
    return {n for e in ir.expressions(s) for n in ir.expr_names(e)}


class _Flow:
    def __init__(self, primal_of: Mapping[str, str], values: Values, records: set[ir.Var]) -> None:
        self.primal_of = primal_of
        self.values = values
        self.records = records
        self.convert: set[int] = set()  #: the ``np.zeros_like`` statements an in-place sum relies on

    def block(self, stmts: tuple[ir.Stmt, ...], state: _Owned, emit: bool) -> tuple[tuple[ir.Stmt, ...], _Owned]:
        out: list[ir.Stmt] = []
        for s in stmts:
            made, state = self.statement(s, state, emit)
            out.extend(made if isinstance(made, list) else (made,))
        return tuple(out), state

    def statement(self, s: ir.Stmt, state: _Owned, emit: bool) -> tuple[ir.Stmt | list[ir.Stmt], _Owned]:
        if isinstance(s, ir.For):
            state = self.killed(state, _reads(s))
            state.pop(s.index, None)
            inside = state
            while True:  # the state at the top of the body: what enters, met with what one iteration leaves
                _, after = self.block(s.body, self.killed(inside, {s.index}), emit=False)
                again = _meet(state, after)
                if again == inside:
                    break
                inside = again
            body, _ = self.block(s.body, self.killed(inside, {s.index}), emit)
            return replace(s, body=body), inside
        if isinstance(s, ir.While):
            inside = state
            while True:
                _, tested = self.block(s.setup, inside, emit=False)
                _, after = self.block(s.body, self.killed(tested, _reads(s)), emit=False)
                again = _meet(state, after)
                if again == inside:
                    break
                inside = again
            setup, tested = self.block(s.setup, inside, emit)
            tested = self.killed(tested, _reads(s))
            body, _ = self.block(s.body, tested, emit)
            return replace(s, setup=setup, body=body), tested
        if isinstance(s, ir.If):
            state = self.killed(state, _reads(s))
            body, a = self.block(s.body, state, emit)
            orelse, b = self.block(s.orelse, state, emit)
            return replace(s, body=body, orelse=orelse), _meet(a, b)
        if isinstance(s, ir.Assign):
            return self.assign(s, state, emit)
        state = self.killed(state, _reads(s))
        if isinstance(s, ir.Unpack):
            state = self.killed(state, set(s.targets))
        elif isinstance(s, ir.Pop):
            state = self.killed(state, {s.name})
        return s, state  # an Accumulate (x_bar += term) changes an owned array in place: it stays owned

    def assign(self, s: ir.Assign, state: _Owned, emit: bool) -> tuple[ir.Stmt | list[ir.Stmt], _Owned]:
        t, e = s.target, s.value
        first = self.slice_of(t, e) if t not in ir.expr_names(e) else None
        if first is not None:  # x_bar = scatter(g, x, i): a new float64 array of zeros, g added at i
            state = self.killed(state, set(ir.expr_names(e)) | {t})
            state[t] = frozenset()
            if not emit:
                return s, state
            assert isinstance(e, ir.Call)
            index, g = first
            x = e.args[1]
            zeros = ir.Assign(t, ir.Call("numpy.zeros", (ir.Call("numpy.shape", (x,)),)), s.origin)
            if x in self.records:  # x may be a tuple of an array and a number
                zeros = ir.Assign(t, ir.Call(ZEROS_OF, (x,)), s.origin)
            return [zeros, ir.Accumulate(t, ir.Call(self.into(index), (index, g)), s.origin)], state
        term = self.sum_into(s)
        if term is not None:
            after = self.killed(state, set(ir.expr_names(term)))
            if t not in state:  # a new array, owned if the term is one of float64 (a scatter)
                after.pop(t, None)
                if isinstance(term, ir.Call) and term.fn == _SCATTER:
                    after[t] = frozenset()
                return s, after
            after[t] = state[t]  # x_bar + term == x_bar with term added in place, when nobody else sees x_bar
            if not emit:
                return s, after
            self.convert |= state[t]
            slice_of = self.slice_of(t, term)
            if slice_of is None:
                return ir.Accumulate(t, term, s.origin), after
            index, g = slice_of
            return ir.Accumulate(t, ir.Call(self.into(index), (index, g)), s.origin), after
        state = self.killed(state, set(ir.expr_names(e)) | {t})
        made = self.made(s)
        if made is not None:
            state[t] = made
        return s, state

    @staticmethod
    def sum_into(s: ir.Assign) -> ir.Expr | None:
        """``term`` for ``x_bar = x_bar + term`` (or ``- term``) where ``term`` does not read ``x_bar``."""
        e = s.value
        if not (isinstance(e, ir.Call) and e.fn in ("operator.add", "operator.sub") and e.args[0] == ir.Var(s.target)):
            return None
        term = e.args[1] if e.fn == "operator.add" else ir.Call("operator.neg", (e.args[1],))
        return None if s.target in ir.expr_names(term) else term

    def slice_of(self, target: str, term: ir.Expr) -> tuple[ir.Expr, ir.Expr] | None:
        """``(i, g)`` for ``term`` = ``scatter(g, x, i)`` where ``target`` is ``x``'s adjoint."""
        if not (isinstance(term, ir.Call) and term.fn == _SCATTER and len(term.args) == 3):
            return None
        g, x, index = term.args
        return (index, g) if x == ir.Var(self.primal_of.get(target, "")) else None

    def made(self, s: ir.Assign) -> frozenset[int] | None:
        """For a statement that makes a new array nobody else refers to: the ``np.zeros_like`` it may be."""
        e = s.value
        if not isinstance(e, ir.Call):
            return None
        if e.fn == "numpy.zeros_like" and len(e.args) == 1 and e.args[0] == ir.Var(self.primal_of.get(s.target, "")):
            return frozenset({id(s)})
        if e.fn == _SCATTER:
            return frozenset()
        return None

    def into(self, index: ir.Expr) -> str:
        """``x_bar[i] += g`` where ``i`` reaches each entry once, else ``np.add.at(x_bar, i, g)``."""
        return ir.INDEXED if self.basic(index) else ir.ADD_AT

    def basic(self, index: ir.Expr) -> bool:
        """Whether ``index`` is provably basic: integers and slices only (each entry reached once)."""
        parts = index.args if isinstance(index, ir.Call) and index.fn == ir.TUPLE else (index,)
        if not parts:
            return False
        for p in parts:
            if isinstance(p, ir.Slice):
                continue
            if isinstance(p, ir.Const) and isinstance(p.value, int) and not isinstance(p.value, bool):
                continue
            if isinstance(p, ir.Var) and self.values.of(p) == INT:
                continue
            return False
        return True

    @staticmethod
    def killed(state: _Owned, names: set[str]) -> _Owned:
        if not state:  # nothing owned (scalar code): a new empty state, which the caller may fill
            return {}
        return {n: ids for n, ids in state.items() if n not in names}


def _zeros(stmts: tuple[ir.Stmt, ...], convert: set[int], records: set[ir.Var]) -> tuple[ir.Stmt, ...]:
    """``np.zeros_like(x)`` -> ``np.zeros(np.shape(x))`` for the statements in ``convert``; ``zeros_of(x)``
    for every one of a record's (``records``: its items may differ in shape)."""
    out: list[ir.Stmt] = []
    for s in stmts:
        v = s.value if isinstance(s, ir.Assign) else None
        if isinstance(v, ir.Call) and v.fn == "numpy.zeros_like" and len(v.args) == 1 and v.args[0] in records:
            s = replace(s, value=ir.Call(ZEROS_OF, v.args))
        elif isinstance(s, ir.Assign) and id(s) in convert:
            assert isinstance(s.value, ir.Call)
            s = replace(s, value=ir.Call("numpy.zeros", (ir.Call("numpy.shape", s.value.args),)))
        elif isinstance(s, ir.For):
            s = replace(s, body=_zeros(s.body, convert, records))
        elif isinstance(s, ir.If):
            s = replace(s, body=_zeros(s.body, convert, records), orelse=_zeros(s.orelse, convert, records))
        elif isinstance(s, ir.While):
            s = replace(s, setup=_zeros(s.setup, convert, records), body=_zeros(s.body, convert, records))
        out.append(s)
    return tuple(out)

"""Propagation: constants and copies of adjoints carried forward through the reverse pass, as a person would.

The reverse pass writes one adjoint statement per contribution: the seed ``d_bar = 1.0``, a copy for each
operand of a sum (``a_bar = c_bar``, ``b_bar = c_bar``), the constants of a linear function (``b2_bar = 5.0``,
then ``a_bar = b2_bar * 3``). This stage reads the finished gradient function and, within each straight run of
statements, replaces a read of an adjoint known to hold a number or another name's value by that number or
name (``b_bar * 2 * a`` becomes ``c_bar * 2 * a``; ``5.0 * 3`` becomes ``15.0``: the same operation on the
same numbers, so the same result, bit for bit), writes ``x_bar = c; x_bar += t`` as ``x_bar = c + t``, writes
an adjoint ``-t_bar`` or ``2.0 * u`` into the one statement that reads it (where the algebra folds the sign:
``a - b``), and drops the assignments nobody reads any more. A loop's carried name, whose old and new values
share one adjoint, had its adjoint copied before being overwritten (``t_bar = x_bar; x_bar = x_bar * 0.5``,
then reads of ``t_bar``): the overwriting statement moves past those few reads instead, and the copy goes.

What makes it safe: a fact ``x_bar = e`` holds from its assignment until a name it mentions is bound again or
changed in place (any assignment, increment, unpacking, pop, loop or write into an array ends it), so a read
replaced by ``e`` reads the same object, or an equal new one where ``e`` is an operation read exactly once;
numbers are immutable. Facts flow into a loop or a branch only for names the loop or branch does not bind.
Only adjoints (the names ``bars`` lists) are tracked: the forward pass stays the user's code. ``x_bar += t``
becomes an assignment only in scalar code, where ``+=`` rebinds (a name that may share a 0-d array was
already written ``x_bar = x_bar + t``: see :mod:`s2sad.increments`). A statement moves only past assignments
that neither read nor bind what it reads or binds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from . import ir
from .algebra import simplify

__all__ = ["propagate"]


def _fact(e: ir.Expr) -> bool:
    """A value worth carrying: a finite number (not a boolean) or another variable."""
    if isinstance(e, ir.Var):
        return True
    if isinstance(e, ir.Const) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
        return e.value == e.value and abs(e.value) != float("inf")
    return False


def _cheap(e: ir.Expr) -> bool:
    """``-x`` or ``c * x`` (``x`` a variable, ``c`` a number): worth writing into the one place that reads it,
    where the algebra may fold it away (``a + -b`` is ``a - b``, ``-(2.0 * u)`` is ``-2.0 * u``)."""
    if not isinstance(e, ir.Call):
        return False
    if e.fn == "operator.neg":
        return isinstance(e.args[0], ir.Var)
    return (
        e.fn == "operator.mul"
        and _fact(e.args[0])
        and isinstance(e.args[0], ir.Const)
        and isinstance(e.args[1], ir.Var)
    )


class _Facts:
    """What is known of the adjoints at one point: ``x_bar`` holds ``e``; indexed by the names each ``e`` reads,
    so that binding a name ends the facts that read it at once."""

    def __init__(self) -> None:
        self.values: dict[str, ir.Expr] = {}
        self.readers: dict[str, set[str]] = {}  #: name -> the adjoints whose known value reads it

    def get(self, name: str) -> ir.Expr | None:
        return self.values.get(name)

    def set(self, name: str, value: ir.Expr) -> None:
        self.kill({name})
        self.values[name] = value
        for n in ir.expr_names(value):
            self.readers.setdefault(n, set()).add(name)

    def _remove(self, name: str) -> None:
        for n in ir.expr_names(self.values.pop(name)):
            self.readers.get(n, set()).discard(name)

    def kill(self, names: Collection[str]) -> None:
        """``names`` are bound again: what was known of them, or of values read from them, ends."""
        for n in names:
            if n in self.values:
                self._remove(n)
            for k in list(self.readers.pop(n, ())):
                if k in self.values:
                    self._remove(k)

    def copies_of(self, name: str) -> set[str]:
        return {k for k in self.readers.get(name, ()) if self.values.get(k) == ir.Var(name) and k != name}

    def without(self, names: Collection[str]) -> _Facts:
        out = _Facts()
        for k, v in self.values.items():
            out.set(k, v)
        out.kill(names)
        return out


class _Index:
    """Where each name is read and bound in one block (a read or binding inside a compound statement counts
    at the compound's position)."""

    def __init__(self, stmts: Sequence[ir.Stmt], reads: _Reads) -> None:
        self.top: dict[str, list[int]] = {}  #: reads by the block's own statements, one entry per read
        self.reads: dict[str, list[int]] = {}
        self.binds: dict[str, list[int]] = {}
        for k, t in enumerate(stmts):
            here: dict[str, int] = {}
            for n in reads.own(t):
                here[n] = here.get(n, 0) + 1
            for n, c in here.items():
                self.top.setdefault(n, []).extend([k] * c)
            inner = here  # a statement without blocks reads nothing more at depth
            if type(t) in ir.COMPOUND and ir.nested(t):
                inner = {}
                reads.count((t,), inner)
            for n in inner:
                self.reads.setdefault(n, []).append(k)
            for n in _binds(t):
                self.binds.setdefault(n, []).append(k)


def _plain(s: ir.Stmt) -> bool:
    """``x += t`` itself, not an increment of part of ``x`` (``x[i] += t``, ``np.add.at``)."""
    return isinstance(s, ir.Accumulate) and not (isinstance(s.value, ir.Call) and s.value.fn in (ir.INDEXED, ir.ADD_AT))


#: rounds of removing what nobody reads (each may leave a copy unread: a chain of copies takes one a link)
_ROUNDS = 8
#: how far (in statements) an assignment may move down past the reads of its copies
_WINDOW = 16


class _Propagation:
    def __init__(self, bars: Collection[str], scalar: bool, counts: dict[str, int], reads: _Reads) -> None:
        self.bars = frozenset(bars)
        self.reads = reads
        self.scalar = scalar
        self.counts = counts  #: how many times each name is read in the whole function

    def _read_once(self, index: _Index, i: int, name: str) -> bool:
        """Whether the value ``stmts[i]`` gives ``name`` is read exactly once, by a statement of this block
        (not inside a loop or a branch), every read of ``name`` being one."""
        top = index.top.get(name, [])
        if len(top) != self.counts.get(name):
            return False
        later = [k for k in index.binds.get(name, []) if k > i]
        end = later[0] if later else len(top) + max(top, default=0)  # past the last read
        return sum(1 for k in top if i < k <= end) == 1  # a statement that rebinds it may read it first

    def expr(self, e: ir.Expr, facts: _Facts) -> ir.Expr:
        if not facts.values or facts.values.keys().isdisjoint(ir.expr_names(e)):
            return e
        if isinstance(e, ir.Call) and e.fn in (ir.SETITEM, ir.APPEND):
            # the array or list written in place keeps its name
            return ir.Call(e.fn, (e.args[0], *(self.expr(a, facts) for a in e.args[1:])))
        return simplify(ir.substitute(e, facts.values))

    def block(self, stmts: Sequence[ir.Stmt], facts: _Facts) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        stmts = list(stmts)
        index = _Index(stmts, self.reads)
        i = 0
        while i < len(stmts):
            s = stmts[i]
            i += 1
            if isinstance(s, ir.Assign) and self._sunk(stmts, index, i - 1, facts):
                index = _Index(stmts, self.reads)
                i -= 1
                continue
            if isinstance(s, ir.Assign):
                value = self.expr(s.value, facts)
                facts.kill({s.target, *_in_place(s)})
                if s.target in self.bars and value != ir.Var(s.target) and s.target not in ir.expr_names(value):
                    if _fact(value) or (_cheap(value) and self._read_once(index, i - 1, s.target)):
                        facts.set(s.target, value)
                if value is not s.value:
                    s = ir.Assign(s.target, value, s.origin)
            elif isinstance(s, ir.Accumulate):
                value = self.expr(s.value, facts)
                known = facts.get(s.target)
                facts.kill({s.target})
                if known is not None and _plain(s) and self.scalar:
                    total = simplify(ir.Call("operator.add", (known, value)))
                    s = ir.Assign(s.target, total, s.origin)
                    if _fact(total) and total != ir.Var(s.target):
                        facts.set(s.target, total)
                else:
                    s = replace(s, value=value)
            elif isinstance(s, ir.Unpack):
                s = replace(s, value=self.expr(s.value, facts))
                facts.kill(set(s.targets))
            elif isinstance(s, ir.Pop):
                facts.kill({s.name})
            elif isinstance(s, ir.Return):
                s = replace(s, values=tuple(self.expr(v, facts) for v in s.values))
            elif isinstance(s, ir.Require):
                s = replace(s, test=self.expr(s.test, facts))
            elif isinstance(s, ir.For):
                bound = ir.assigned_names(s.body) | {s.index}
                args = tuple(self.expr(a, facts) for a in s.range_args)
                s = replace(s, range_args=args, body=tuple(self.block(s.body, facts.without(bound))))
                facts.kill(bound)
            elif isinstance(s, ir.If):
                bound = ir.assigned_names(s.body) | ir.assigned_names(s.orelse)
                test = self.expr(s.test, facts)
                body = self.block(s.body, facts.without(bound))
                orelse = self.block(s.orelse, facts.without(bound))
                s = replace(s, test=test, body=tuple(body), orelse=tuple(orelse))
                facts.kill(bound)
            elif isinstance(s, ir.While):
                bound = ir.assigned_names(s.setup) | ir.assigned_names(s.body)
                if s.counter is not None:
                    bound.add(s.counter)
                setup = self.block(s.setup, facts.without(bound))
                test = self.expr(s.test, facts.without(bound))
                s = replace(s, setup=tuple(setup), test=test, body=tuple(self.block(s.body, facts.without(bound))))
                facts.kill(bound)
            out.append(s)
        return self.fused(out) if self.scalar else out

    def _sunk(self, stmts: list[ir.Stmt], index: _Index, i: int, facts: _Facts) -> bool:
        """Move ``x_bar = e`` (``stmts[i]``) past the few statements after it that read a copy of ``x_bar``
        (``t_bar = x_bar``) and nothing else ``x_bar = e`` touches, so that the copy can be read as ``x_bar``
        itself: the carried name of a loop, whose old and new values share one adjoint."""
        s = stmts[i]
        assert isinstance(s, ir.Assign)
        if s.target not in self.bars:
            return False
        copies = facts.copies_of(s.target)
        if not copies or _writes_in_place(s):
            return False
        last = max((k for c in copies for k in index.reads.get(c, ())), default=i)
        if not i < last <= i + _WINDOW:
            return False
        reads = set(ir.expr_names(s.value))
        for t in stmts[i + 1 : last + 1]:
            if not isinstance(t, (ir.Assign, ir.Accumulate)) or _writes_in_place(t):
                return False
            if t.target == s.target or t.target in reads or s.target in ir.expr_names(t.value):
                return False
        stmts[i : last + 1] = [*stmts[i + 1 : last + 1], s]
        return True

    def fused(self, stmts: list[ir.Stmt]) -> list[ir.Stmt]:
        """``x_bar = a`` then (comments between) ``x_bar += b``, where ``b`` does not read ``x_bar``:
        ``x_bar = a + b``."""
        out: list[ir.Stmt] = []
        last: int | None = None  # index in out of the last statement that is not a comment
        for s in stmts:
            if (
                _plain(s)
                and last is not None
                and isinstance(out[last], ir.Assign)
                and out[last].target == s.target  # type: ignore[union-attr]
                and s.target in self.bars
                and s.target not in set(ir.expr_names(s.value))  # type: ignore[union-attr]
            ):
                first = out.pop(last)
                assert isinstance(first, ir.Assign) and isinstance(s, ir.Accumulate)
                s = ir.Assign(s.target, simplify(ir.Call("operator.add", (first.value, s.value))), s.origin)
            if not isinstance(s, ir.Comment):
                last = len(out)
            out.append(s)
        return out


def _writes_in_place(s: ir.Stmt) -> bool:
    return isinstance(s, ir.Assign) and isinstance(s.value, ir.Call) and s.value.fn in (ir.SETITEM, ir.APPEND)


def _in_place(s: ir.Assign) -> set[str]:
    """The array or list a write changes in place, besides naming it anew."""
    if _writes_in_place(s):
        assert isinstance(s.value, ir.Call)
        return set(ir.expr_names(s.value.args[0]))
    return set()


class _Reads:
    """What each statement reads, one entry per read (of the statement itself, not of its blocks): found once
    per statement, for the several counts below (keyed by id; each entry keeps its statement alive)."""

    def __init__(self) -> None:
        self.memo: dict[int, tuple[ir.Stmt, list[str]]] = {}

    def own(self, s: ir.Stmt) -> list[str]:
        known = self.memo.get(id(s))
        if known is not None and known[0] is s:
            return known[1]
        kind = type(s)  # the IR's classes are final (see ir.walk)
        if kind is ir.Assign:
            names = ir.expr_names(s.value)  # type: ignore[union-attr]
        elif kind is ir.Push:
            names = [s.name]  # type: ignore[union-attr]
        else:
            names = [n for e in ir.expressions(s) for n in ir.expr_names(e)]
            if kind is ir.Accumulate:  # x += t reads x
                names.append(s.target)  # type: ignore[union-attr]
        self.memo[id(s)] = (s, names)
        return names

    def count(self, stmts: Sequence[ir.Stmt], counts: dict[str, int], nested: bool = True) -> None:
        for s in stmts:
            for n in self.own(s):
                counts[n] = counts.get(n, 0) + 1
            if nested and type(s) in ir.COMPOUND:
                self.count(ir.nested(s), counts)

    def all(self, s: ir.Stmt) -> set[str]:
        """Every name ``s`` reads, at any depth."""
        if type(s) not in ir.COMPOUND:
            return set(self.own(s))
        counts: dict[str, int] = {}
        self.count((s,), counts)
        return set(counts)


def _binds(s: ir.Stmt) -> Sequence[str]:
    """The names ``s`` binds (:func:`ir.assigned_names` of it alone), without a walk for a simple statement."""
    kind = type(s)
    if kind is ir.Assign or kind is ir.Accumulate:
        return (s.target,)  # type: ignore[union-attr]
    if kind is ir.Comment or kind is ir.Push or kind is ir.Return or kind is ir.Require:
        return ()
    return list(ir.assigned_names((s,)))


def _pruned(stmts: Sequence[ir.Stmt], dead: Collection[str], bars: Collection[str], reads: _Reads) -> list[ir.Stmt]:
    """Without the copies and constants assigned to ``dead`` names or to adjoints assigned again in the same
    block before anything reads them, and without the comments left describing nothing (the last statements
    of a block)."""
    overwritten: set[str] = set()  # adjoints this block assigns again before reading them (walking backwards)
    kept: list[ir.Stmt] = []
    for s in reversed(stmts):
        if type(s) is ir.Assign:
            value, target = s.value, s.target  # type: ignore[union-attr]
            kind = type(value)
            if kind is ir.Var and value.name == target:  # type: ignore[union-attr]
                continue
            if (kind is ir.Var or kind is ir.Const or _cheap(value)) and (target in dead or target in overwritten):
                continue
            if target in bars:  # the statement reads first, then assigns
                overwritten.add(target)
        if overwritten:
            overwritten -= reads.all(s)
        kept.append(s)
    out: list[ir.Stmt] = []
    for s in reversed(kept):
        if isinstance(s, ir.For):
            s = replace(s, body=tuple(_pruned(s.body, dead, bars, reads)))
        elif isinstance(s, ir.If):
            s = replace(
                s, body=tuple(_pruned(s.body, dead, bars, reads)), orelse=tuple(_pruned(s.orelse, dead, bars, reads))
            )
        elif isinstance(s, ir.While):
            s = replace(
                s, setup=tuple(_pruned(s.setup, dead, bars, reads)), body=tuple(_pruned(s.body, dead, bars, reads))
            )
        out.append(s)
    while out and isinstance(out[-1], ir.Comment):
        out.pop()
    return out


def propagate(
    backward: Sequence[ir.Stmt], forward: Sequence[ir.Stmt], returned: ir.Return, bars: Collection[str], *, scalar: bool
) -> list[ir.Stmt]:
    """The reverse pass ``backward`` with the constants and copies of the adjoints ``bars`` propagated and
    the assignments left unread removed; ``forward`` (the statements that run first) and ``returned`` (the
    gradient function's return, which stays as it is) only count reads. ``scalar``: the function's code is
    scalar code (``+=`` rebinds)."""
    bars = frozenset(bars)
    reads = _Reads()
    before: dict[str, int] = {}  # the reads of what does not change, counted once
    reads.count([*forward, returned], before)
    counts = dict(before)
    reads.count(backward, counts)
    out = _Propagation(bars, scalar, counts, reads).block([*backward, returned], _Facts())[:-1]
    for _ in range(_ROUNDS):
        counts = dict(before)
        reads.count(out, counts)
        dead = {n for n in bars if not counts.get(n)}
        pruned = _pruned(out, dead, bars, reads)
        # the statements kept are the same objects; only a compound one is rebuilt (compared by value)
        if len(pruned) == len(out) and all(a is b or a == b for a, b in zip(pruned, out)):
            break
        out = pruned
    return out

"""Shape sources: where the reverse pass may read a value's shape from a value it keeps anyway.

``t = r * r`` has ``r``'s shape; so the adjoint of ``np.mean(r * r)`` reads ``np.size(r)``, and ``t`` is not
computed at all (``r_bar = 2.0 / np.size(r) * r``). Only facts the value analysis proved are used: an
elementwise primitive's operand has its result's shape when the other operands are numbers, or when the two
are provably alike (the same known dimensions, or one shape key: ``x[1:] - x[:-1]``). The same facts decide
where an adjoint needs summing back to a broadcast operand's shape (``unbroadcast``), and where a broadcast
number stays a number. A mixin of the reverse stage's :class:`~s2sad.reverse._Gradient`.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import ir
from .analysis import rule_of
from .algebra import simplify
from .shapes import Scalar, dims
from .values import Values

__all__ = ["Adjoints", "ShapeSource", "SHAPE_ONLY"]

#: functions of a value that read only its shape
SHAPE_ONLY = ("numpy.shape", "numpy.size", "numpy.ndim")


_SHAPE_READS = frozenset({*SHAPE_ONLY, "s2sad.unbroadcast"})
_BROADCAST = frozenset({"numpy.broadcast_to"})


def _calls(e: ir.Expr, fns: frozenset[str]) -> bool:
    """Whether ``e`` calls one of ``fns`` at any depth."""
    if type(e) is not ir.Call:
        return False
    return e.fn in fns or any(_calls(a, fns) for a in e.args)  # type: ignore[union-attr]


def _value_names(e: ir.Expr) -> set[str]:
    """The names ``e`` reads other than for their shape."""
    if isinstance(e, ir.Call) and e.fn in SHAPE_ONLY:
        return set()
    if isinstance(e, ir.Call) and e.fn == "s2sad.unbroadcast" and len(e.args) == 2:
        return _value_names(e.args[0])
    if isinstance(e, ir.Call):
        return set().union(*map(_value_names, e.args)) if e.args else set()
    return set(ir.expr_names(e))


class Adjoints(dict[str, str]):
    """Each name's adjoint variable (and each ``while`` loop's counter), with the set of those variables (is
    a name one of them: asked once per statement, without going through them all)."""

    def __init__(self) -> None:
        super().__init__()
        self.given: set[str] = set()

    def __setitem__(self, key: str, value: str) -> None:
        replaced = key in self
        super().__setitem__(key, value)
        if replaced:
            self.given = set(self.values())
        else:
            self.given.add(value)


class ShapeSource:
    """The shape queries of the reverse stage (see the module docstring)."""

    fn: ir.Function
    values: Values
    def_count: dict[str, int]
    _value_reads: set[str] | None
    _top: dict[str, ir.Assign]
    _bars: Adjoints

    def _raw_contributions(self, s: ir.Assign) -> Mapping[str, ir.Expr]:
        raise NotImplementedError

    def _defined_once_outside_loops(self, name: str) -> bool:
        if not hasattr(self, "_top"):
            self._top = {s.target: s for s in self.fn.body if isinstance(s, ir.Assign)}
        return self.def_count.get(name) == 1 and (name in self._top or any(p.name == name for p in self.fn.params))

    def _shape_source(self, name: str) -> str:
        """A value that provably has ``name``'s shape, for the reverse pass to read the shape from, so that
        ``name`` need not be kept for it: ``r`` for ``t = r * r`` (an elementwise operation whose operand has the
        result's shape), followed down while each value is defined once outside loops (so it is the same value
        wherever the reverse pass reads it, even in an adjoint kept as an expression and written out later: see
        ``_broadcast_number``). The first one the user named, or the reverse pass reads anyway; else ``name``."""
        if self._value_reads is None:
            self._value_reads = set()
            for t in ir.walk(self.fn.body):
                if isinstance(t, ir.Assign):
                    for e in self._raw_contributions(t).values():
                        self._value_reads |= _value_names(e)
        chain = [name]
        while self._defined_once_outside_loops(name) and name in self._top:
            operands = [a for a in self._same_shape_operands(self._top[name]) if self._defined_once_outside_loops(a)]
            if not operands or operands[0] in chain:
                break
            name = operands[0]
            chain.append(name)
        params = {p.name for p in self.fn.params}
        kept = [n for n in chain[1:] if n in params or n in self._value_reads]  # there anyway
        named = [n for n in chain[1:] if n not in self.fn.invented]
        return (kept or named or chain)[0]

    def _same_shape(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` provably have one shape: one shape source, or alike (see Values.alike)."""
        return self._shape_source(a) == self._shape_source(b) or self.values.alike(a, b)

    def _shape_reads(self, e: ir.Expr) -> ir.Expr:
        """``e`` with the values it reads only for their shape (``np.shape``, ``np.size``, ``np.ndim``, the
        second argument of ``unbroadcast``) read from their shape source: a value computed only for its shape
        then need not be computed at all (``np.mean(r * r)``: ``2.0 / np.size(r) * r``)."""
        if not isinstance(e, ir.Call) or not _calls(e, _SHAPE_READS):
            return e  # nothing read for its shape: the same expression (most adjoints)
        args = tuple(self._shape_reads(a) for a in e.args)
        if e.fn in SHAPE_ONLY and len(args) == 1 and isinstance(args[0], ir.Var):
            args = (ir.Var(self._shape_source(args[0].name)),)
        elif e.fn == "s2sad.unbroadcast" and len(args) == 2 and isinstance(args[1], ir.Var):
            args = (args[0], ir.Var(self._shape_source(args[1].name)))
        return ir.Call(e.fn, args)

    def _same_shape_operands(self, s: ir.Assign) -> list[str]:
        """The operands of ``s``, an elementwise primitive, that provably have its result's shape: those the
        other operands (numbers) cannot broadcast, or alike the result."""
        if not isinstance(s.value, ir.Call) or isinstance(s.value, ir.LibraryCall):
            return []
        rule = rule_of(s.value)
        if rule is None or rule.shape != "elementwise":
            return []
        out: list[str] = []
        for a in s.value.args:
            others = [b for b in s.value.args if b != a]
            if isinstance(a, ir.Var) and (
                all(self.values.scalar(b) for b in others)  # a tuple constant is no number
                or self.values.alike(a, s.target)
            ):
                out.append(a.name)
        return out

    def unbroadcast(self, term: ir.Expr, arg: ir.Var, s: ir.Assign) -> ir.Expr:
        """The adjoint ``term`` (shaped like ``s``'s result) summed back to the shape of the operand ``arg``,
        which broadcasting may have stretched: nothing to do where the shapes provably agree (scalars; the
        other operands scalars: 0.5 * x, x * x; alike: the same dimensions or shape key), a plain sum where the
        operand's dimensions are provably the result's last ones, the generic ``unbroadcast`` otherwise."""
        assert isinstance(s.value, ir.Call)
        others = [a for a in s.value.args if a != arg]
        if all(self.values.scalar(a) for a in others) or self.values.alike(arg, s.target):
            return term
        operand, result = self.values.of(arg), self.values.of(ir.Var(s.target))
        if isinstance(operand, Scalar):  # a number broadcast against anything: its adjoint is the sum
            return term if isinstance(result, Scalar) else ir.Call("numpy.sum", (term, ir.Const(None), ir.Const(False)))
        kept, full = dims(operand), dims(result)
        if kept is None or full is None or len(full) < len(kept):
            return ir.Call("s2sad.unbroadcast", (term, arg))
        lead = len(full) - len(kept)
        ones: list[int] = []  # the operand's axes of length 1 (summing over them is right whatever the result's)
        for i, (k, f) in enumerate(zip(kept, full[lead:])):
            if k == 1:
                ones.append(i)
            elif k is None or k != f:
                return ir.Call("s2sad.unbroadcast", (term, arg))
        if lead:
            term = ir.Call("numpy.sum", (term, _axes(tuple(range(lead))), ir.Const(False)))
        if ones:
            term = ir.Call("numpy.sum", (term, _axes(tuple(ones)), ir.Const(True)))
        return term

    def _stays_fixed(self, e: ir.Expr) -> bool:
        """A constant, or another adjoint (until that one changes: see ``_write_aliases``), or a number
        broadcast to a shape (the adjoint of a sum or mean: see ``_unbroadcast_scalar``)."""
        return (
            isinstance(e, ir.Const)
            or (isinstance(e, ir.Var) and e.name in self._bars.given)
            or self._broadcast_number(e) is not None
        )

    def _broadcast_number(self, e: ir.Expr) -> ir.Var | None:
        """For ``np.broadcast_to(c, np.shape(x))``, where ``c`` is made of constants and ``np.size`` of values
        that never change (defined once, outside loops): ``x``."""
        if not (isinstance(e, ir.Call) and e.fn == "numpy.broadcast_to" and len(e.args) == 2):
            return None
        number, shape = e.args
        if not (isinstance(shape, ir.Call) and shape.fn == "numpy.shape" and isinstance(shape.args[0], ir.Var)):
            return None

        def fixed(part: ir.Expr) -> bool:
            if isinstance(part, ir.Const):
                return isinstance(part.value, (int, float))
            if isinstance(part, ir.Call) and part.fn == "numpy.size":
                return all(isinstance(a, ir.Var) and self._defined_once_outside_loops(a.name) for a in part.args)
            arithmetic = ("operator.truediv", "operator.mul")
            return isinstance(part, ir.Call) and part.fn in arithmetic and all(map(fixed, part.args))

        target = shape.args[0]
        return target if fixed(number) and self._defined_once_outside_loops(target.name) else None

    def _unbroadcast_scalar(self, e: ir.Expr, s: ir.Assign) -> ir.Expr:
        """``np.broadcast_to(c, np.shape(t)) * x`` -> ``c * x`` in the adjoint of ``t = x * x`` (any
        elementwise operation of ``x`` and numbers): ``x`` has ``t``'s shape already, and ``c`` is a number."""
        if not isinstance(e, ir.Call) or not _calls(e, _BROADCAST):
            return e  # no number broadcast in it: the same expression (most adjoints)
        if e.fn == "operator.add" and len(e.args) == 2 and e.args[0] == e.args[1]:  # x * x: g * x + g * x
            twice = e.args[0]
            if isinstance(twice, ir.Call) and twice.fn == "operator.mul" and len(twice.args) == 2:
                number, other = twice.args
                if self._broadcast_number(other) is not None:
                    number, other = other, number
                if self._broadcast_number(number) is not None:
                    e = ir.Call("operator.mul", (ir.Call("operator.mul", (ir.Const(2), number)), other))
        args = tuple(self._unbroadcast_scalar(a, s) for a in e.args)
        if e.fn == "operator.neg" and self._broadcast_number(args[0]) is not None:  # -c broadcast: a number
            number, shape = args[0].args  # type: ignore[union-attr]
            return ir.Call("numpy.broadcast_to", (simplify(ir.Call("operator.neg", (number,))), shape))
        if e.fn == "operator.mul" and len(args) == 2:
            for number, other in (args, args[::-1]):
                scale: ir.Expr = ir.Const(1)
                if isinstance(number, ir.Call) and number.fn == "operator.mul" and len(number.args) == 2:
                    # 2 * np.broadcast_to(c, np.shape(t)): the number 2 * c
                    constants = [a for a in number.args if isinstance(a, ir.Const)]
                    if len(constants) == 1 and isinstance(constants[0].value, (int, float)):
                        scale, number = constants[0], next(a for a in number.args if not isinstance(a, ir.Const))
                found = self._broadcast_number(number)
                if found is not None and scale == ir.Const(1) and _number(other):
                    # np.broadcast_to(c, shape) * 100.0: the number c * 100.0, broadcast (each entry is c * 100.0)
                    assert isinstance(number, ir.Call)
                    product = simplify(ir.Call("operator.mul", (other, number.args[0])))
                    return ir.Call("numpy.broadcast_to", (product, number.args[1]))
                if found is not None and self._same_shape(found.name, s.target) and self._shaped_like(other, s):
                    assert isinstance(number, ir.Call)
                    coefficient = simplify(ir.Call("operator.mul", (scale, number.args[0])))
                    if isinstance(other, ir.Var) and isinstance(coefficient, ir.Const) and coefficient.value == 1:
                        continue  # 1.0 * x would simplify to x: an adjoint sharing the user's array
                    return ir.Call("operator.mul", (coefficient, other))
        return ir.Call(e.fn, args)

    def _shaped_like(self, x: ir.Expr, s: ir.Assign) -> bool:
        """Whether ``x`` provably has the shape of ``s``'s result: an elementwise expression (at least one
        variable) of the result and of operands ``s`` combines, elementwise, with numbers only."""
        if not isinstance(s.value, ir.Call):
            return False
        rule = rule_of(s.value)
        if rule is None or rule.shape != "elementwise":
            return False
        shaped = {s.target, *self._same_shape_operands(s)}

        def elementwise(e: ir.Expr) -> bool:
            if isinstance(e, ir.Var):
                return e.name in shaped
            if isinstance(e, ir.Const):
                return isinstance(e.value, (int, float)) and not isinstance(e.value, bool)
            if isinstance(e, ir.Call) and e.fn != ir.IFEXP:
                inner = rule_of(e)
                return inner is not None and inner.shape == "elementwise" and all(map(elementwise, e.args))
            return False

        return elementwise(x) and any(n in shaped for n in ir.expr_names(x))


def _axes(axes: tuple[int, ...]) -> ir.Const:
    return ir.Const(axes[0] if len(axes) == 1 else axes)


def _number(e: ir.Expr) -> bool:
    return isinstance(e, ir.Const) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool)

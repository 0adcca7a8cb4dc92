"""Shape sources: where the reverse pass may read a value's shape from a value it keeps anyway.

``t = r * r`` has ``r``'s shape; so the adjoint of ``np.mean(r * r)`` reads ``np.size(r)``, and ``t`` is not
computed at all (``r_bar = 2.0 / np.size(r) * r``). Only facts the value analysis proved are used: an
elementwise primitive's operand has its result's shape when the other operands are numbers, or when both have
the same known dimensions. A mixin of the reverse stage's :class:`~s2sad.reverse._Gradient`.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import ir
from .analysis import rule_of
from .shapes import same_shape
from .values import Values

__all__ = ["ShapeSource", "SHAPE_ONLY"]

#: functions of a value that read only its shape
SHAPE_ONLY = ("numpy.shape", "numpy.size", "numpy.ndim")


def _value_names(e: ir.Expr) -> set[str]:
    """The names ``e`` reads other than for their shape."""
    if isinstance(e, ir.Call) and e.fn in SHAPE_ONLY:
        return set()
    if isinstance(e, ir.Call) and e.fn == "s2sad.unbroadcast" and len(e.args) == 2:
        return _value_names(e.args[0])
    if isinstance(e, ir.Call):
        return set().union(*map(_value_names, e.args)) if e.args else set()
    return set(ir.expr_names(e))


class ShapeSource:
    """The shape queries of the reverse stage (see the module docstring)."""

    fn: ir.Function
    values: Values
    def_count: dict[str, int]
    _value_reads: set[str] | None
    _top: dict[str, ir.Assign]

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
        """Whether ``a`` and ``b`` provably have one shape: one shape source, or the same known dimensions."""
        return self._shape_source(a) == self._shape_source(b) or same_shape(self.values.of(a), self.values.of(b))

    def _shape_reads(self, e: ir.Expr) -> ir.Expr:
        """``e`` with the values it reads only for their shape (``np.shape``, ``np.size``, ``np.ndim``, the
        second argument of ``unbroadcast``) read from their shape source: a value computed only for its shape
        then need not be computed at all (``np.mean(r * r)``: ``2.0 / np.size(r) * r``)."""
        if not isinstance(e, ir.Call):
            return e
        args = tuple(self._shape_reads(a) for a in e.args)
        if e.fn in SHAPE_ONLY and len(args) == 1 and isinstance(args[0], ir.Var):
            args = (ir.Var(self._shape_source(args[0].name)),)
        elif e.fn == "s2sad.unbroadcast" and len(args) == 2 and isinstance(args[1], ir.Var):
            args = (args[0], ir.Var(self._shape_source(args[1].name)))
        return ir.Call(e.fn, args)

    def _same_shape_operands(self, s: ir.Assign) -> list[str]:
        """The operands of ``s``, an elementwise primitive, that provably have its result's shape: those the
        other operands (numbers) cannot broadcast, or of the same known dimensions."""
        if not isinstance(s.value, ir.Call) or isinstance(s.value, ir.LibraryCall):
            return []
        rule = rule_of(s.value)
        if rule is None or rule.shape != "elementwise":
            return []
        result = self.values.of(ir.Var(s.target))
        out: list[str] = []
        for a in s.value.args:
            others = [b for b in s.value.args if b != a]
            if isinstance(a, ir.Var) and (
                all(self.values.scalar(b) for b in others)  # a tuple constant is no number
                or same_shape(self.values.of(a), result)
            ):
                out.append(a.name)
        return out

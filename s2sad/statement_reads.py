"""What a statement of the IR reads and defines, the blocks it holds, and which calls recording may treat as
values (deterministic, cheap): the vocabulary :mod:`s2sad.recording` decides with, used by the reverse stage
and its helpers (:mod:`s2sad.checkpoint`, :mod:`s2sad.fixed_point`) too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from . import ir
from .analysis import rule_of

__all__ = ["Loop", "G", "stmt_reads", "checks", "defines", "blocks"]

Loop = ir.For | ir.While
G = "$g"  #: the incoming adjoint, in a template instantiated before the adjoint's name is known
_CHEAP = {"operator.add", "operator.sub", "operator.mul", "operator.neg", "operator.floordiv", "operator.mod"}
_CHEAP |= {"operator.lt", "operator.le", "operator.gt", "operator.ge", "operator.eq", "operator.ne"}
_CHEAP |= {"operator.not_", "builtins.float", "builtins.int", "builtins.len", ir.GETITEM}
#: Calls that make a new mutable value each time: never shared between iterations.
_FRESH = {ir.LIST, "numpy.zeros", "numpy.ones", "numpy.zeros_like", "numpy.ones_like", "numpy.empty", "numpy.eye"}
_FRESH |= {"numpy.arange", "numpy.array", "numpy.copy", "numpy.empty_like", "numpy.full", "numpy.full_like"}


def _deterministic(call: ir.Call) -> bool:
    """Whether ``call`` gives the same value for the same operands, and a value nothing mutates: a primitive
    of the rule table (not a helper, not a function with a rule of the user's, not a new list or array)."""
    rule = rule_of(call)
    library = call.fn.split(".", 1)[0] in ("math", "numpy", "scipy", "operator", "builtins", "s2sad")
    return rule is not None and rule.kind != "helper" and library and call.fn not in _FRESH


def _names(e: ir.Expr) -> set[str]:
    """The forward names ``e`` reads: not the incoming adjoints ``$g`` (``$g#k``: of value k of a helper's
    tuple result, see :mod:`s2sad.reverse`)."""
    return {n for n in ir.expr_names(e) if not n.startswith(G)}


def stmt_reads(s: ir.Stmt) -> set[str]:
    """The names a forward statement reads (the reverse pass's own forms, ``Accumulate`` and ``Unpack``, count
    for nothing here)."""
    if isinstance(s, (ir.Accumulate, ir.Unpack)):
        return set()
    return {n for e in ir.expressions(s) for n in ir.expr_names(e)}


def checks(stmts: Sequence[ir.Stmt]) -> bool:
    """Whether ``stmts`` check the user's values (``Require``): the forward pass keeps every check, and the
    branches and loops around it."""
    return any(isinstance(s, ir.Require) for s in ir.walk(tuple(stmts)))


def defines(s: ir.Stmt) -> set[str]:
    return ir.assigned_names((s,)) - ({s.index} if isinstance(s, ir.For) else set())


def _body(loop: ir.For | ir.While) -> tuple[ir.Stmt, ...]:
    return loop.setup + loop.body if isinstance(loop, ir.While) else loop.body


def blocks(s: ir.Stmt) -> Iterator[tuple[ir.Stmt, ...]]:
    if isinstance(s, ir.For):
        yield s.body
    elif isinstance(s, ir.If):
        yield s.body
        yield s.orelse
    elif isinstance(s, ir.While):
        yield s.setup
        yield s.body

"""Jumps in the function's text: which statements may ``break``, ``continue`` or ``return``, the blocks of
entries the control-flow lowering walks (:mod:`.control`), and the flags' bookkeeping it keeps per loop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias, Union

import libcst as cst

from . import traverse
from .. import ir
from ..ir import must_define as _must_define

__all__ = ["early_returns"]


_JUMPS = (cst.Break, cst.Continue, cst.Return)
_KIND: dict[type[cst.CSTNode], str] = {cst.Break: "break", cst.Continue: "continue", cst.Return: "return"}


@dataclass(frozen=True)
class _Smalls:
    """The small statements of one line (``x = 1; break``) with that line's origin."""

    smalls: tuple[cst.BaseSmallStatement, ...]
    origin: ir.Origin


_Entry: TypeAlias = Union[cst.BaseCompoundStatement, _Smalls]


@dataclass
class _Frame:
    """A loop being lowered (or unrolled): its flags, made when first needed."""

    broke: str | None = None
    skip: str | None = None
    returns: bool = False  #: a ``return`` inside it: it exits when ``done`` is set


@dataclass
class _ControlState:
    frames: list[_Frame] = field(default_factory=list)
    result: str | None = None  #: the result variable, when the function returns early
    done: str | None = None
    flags: set[str] = field(default_factory=set)
    indices: dict[int, str] = field(default_factory=dict)  #: loop depth -> an invented index name


def _suite_statements(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body if isinstance(suite, cst.IndentedBlock) else [suite]


def _exits(node: cst.CSTNode) -> set[str]:
    """The jumps that may leave ``node`` to the statements after it (a loop keeps its break/continue)."""
    if isinstance(node, _JUMPS):
        return {_KIND[type(node)]}
    if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return {_KIND[type(s)] for s in node.body if isinstance(s, _JUMPS)}
    if isinstance(node, (cst.IndentedBlock,)):
        return set().union(*(_exits(s) for s in node.body))
    if isinstance(node, cst.If):
        out = _exits(node.body)
        if node.orelse is not None:
            out |= _exits(node.orelse if isinstance(node.orelse, cst.If) else node.orelse.body)
        return out
    if isinstance(node, (cst.For, cst.While)):
        return {"return"} if _has_return(node) else set()
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return set()
    out = set()
    for child in traverse.children(node):
        if traverse.may_hold(type(child), _JUMPS):  # not expressions, whitespace, operators
            out |= _exits(child)
    return out


def _has_return(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.Return):
        return True
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    return any(_has_return(c) for c in traverse.children(node) if traverse.may_hold(type(c), (cst.Return,)))


def _always(entries: Sequence[_Entry], kinds: frozenset[str]) -> bool:
    """Whether every path through ``entries`` ends in a jump of one of ``kinds`` (loops never count)."""
    for e in entries:
        if isinstance(e, _Smalls):
            for s in e.smalls:
                if isinstance(s, _JUMPS):
                    return _KIND[type(s)] in kinds
        elif isinstance(e, cst.If) and e.orelse is not None:
            orelse = [e.orelse] if isinstance(e.orelse, cst.If) else _plain_entries(e.orelse.body)
            if _always(_plain_entries(e.body), kinds) and _always(orelse, kinds):
                return True
    return False


def _plain_entries(suite: cst.BaseSuite) -> list[_Entry]:
    """Entries without origins, for the static questions (:func:`_always`)."""
    dummy = ir.Origin(span=None, text="")  # type: ignore[arg-type]
    out: list[_Entry] = []
    for s in _suite_statements(suite):
        if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            out.append(_Smalls(tuple(s.body), dummy))
        elif isinstance(s, cst.BaseCompoundStatement):
            out.append(s)
    return out


def early_returns(body: Sequence[cst.BaseStatement]) -> bool:
    """Whether a function body returns anywhere but in its last statement."""
    for k, stmt in enumerate(body):
        last = k == len(body) - 1
        if isinstance(stmt, cst.SimpleStatementLine):
            jumps = [s for s in stmt.body if isinstance(s, cst.Return)]
            if jumps and not (last and stmt.body[-1] is jumps[0] and len(jumps) == 1):
                return True
        elif _has_return(stmt):
            return True
    return False


def _not_any(flags: Sequence[str]) -> ir.Expr:
    inner: ir.Expr = ir.Var(flags[0]) if len(flags) == 1 else ir.BoolOp("or", tuple(ir.Var(f) for f in flags))
    return ir.Call("operator.not_", (inner,))


def _reads(stmts: Sequence[ir.Stmt]) -> set[str]:
    out: set[str] = set()
    for s in ir.walk(tuple(stmts)):
        for e in ir.expressions(s):
            out.update(ir.expr_names(e))
    return out


def _prune(stmts: Sequence[ir.Stmt], unread: set[str]) -> list[ir.Stmt]:
    """``stmts`` without the assignments to ``unread`` flags, and without ``if``s left with nothing to do."""
    out: list[ir.Stmt] = []
    for s in stmts:
        if isinstance(s, ir.Assign) and s.target in unread:
            continue
        if isinstance(s, ir.If):
            body, orelse = _prune(s.body, unread), _prune(s.orelse, unread)
            if body or orelse:
                out.append(ir.If(s.test, tuple(body), tuple(orelse), s.origin))
            continue
        if isinstance(s, ir.For):
            s = replace(s, body=tuple(_prune(s.body, unread)))
        elif isinstance(s, ir.While):
            s = replace(s, body=tuple(_prune(s.body, unread)))
        out.append(s)
    return out

"""``ast.unparse`` for the expressions the emitter builds, written without its machinery.

``ast.unparse`` makes an unparser per call, dispatches every node by name and opens a generator-based context
manager for every operator's parentheses: at 10,000 statements it was a tenth of the whole generation. The
emitter's expressions use a handful of node kinds (names, numbers, operators, calls, attributes, subscripts);
:func:`unparse` writes those here, by the same rules (CPython's ``ast._Unparser``: an operand is parenthesised
when its operator binds less tightly than its place requires), and hands anything else to ``ast.unparse``
whole. tests/test_unparse.py compares the two on every expression the test programs' modules contain and on
random ones.
"""

from __future__ import annotations

import ast

__all__ = ["unparse"]

# Python's precedence levels, as ast._Unparser numbers them (TEST is a top-level expression's, ATOM the tightest).
_TEST, _CMP, _BOR, _BXOR, _BAND, _SHIFT, _ARITH, _TERM, _FACTOR, _POWER, _ATOM = 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18

_BINARY: dict[type, tuple[str, int]] = {
    ast.Add: ("+", _ARITH),
    ast.Sub: ("-", _ARITH),
    ast.Mult: ("*", _TERM),
    ast.MatMult: ("@", _TERM),
    ast.Div: ("/", _TERM),
    ast.Mod: ("%", _TERM),
    ast.FloorDiv: ("//", _TERM),
    ast.LShift: ("<<", _SHIFT),
    ast.RShift: (">>", _SHIFT),
    ast.BitOr: ("|", _BOR),
    ast.BitXor: ("^", _BXOR),
    ast.BitAnd: ("&", _BAND),
    ast.Pow: ("**", _POWER),  # the one right-associative operator
}
_UNARY: dict[type, str] = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}  # ``not`` is left to ast.unparse
_COMPARE: dict[type, str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


class _Other(Exception):
    """A node this module does not write: the whole expression goes to ``ast.unparse``."""


def unparse(node: ast.expr) -> str:
    """``ast.unparse(node)``, the same text. ``node`` must not hold one node object in two places (the
    emitter builds a new node for every occurrence), as ``ast.unparse`` keeps a precedence per node object."""
    out: list[str] = []
    try:
        _write(node, _TEST, out)
    except _Other:
        return ast.unparse(node)
    return "".join(out)


def _write(node: ast.AST, level: int, out: list[str]) -> None:
    """Write ``node`` where an expression binding at least as tightly as ``level`` is needed."""
    kind = type(node)
    if kind is ast.Name:
        out.append(node.id)  # type: ignore[attr-defined]
    elif kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        if node.kind is not None or not (  # type: ignore[attr-defined]
            value is None or isinstance(value, (bool, int)) or (type(value) is float and value - value == 0)
        ):
            raise _Other  # strings, bytes, tuples, infinities and NaNs are spelled by special rules
        out.append(repr(value))
    elif kind is ast.BinOp:
        op, own = _BINARY.get(type(node.op), ("", 0))  # type: ignore[attr-defined]
        if not op:
            raise _Other
        left, right = (own + 1, own) if op == "**" else (own, own + 1)
        _open(level > own, out)
        _write(node.left, left, out)  # type: ignore[attr-defined]
        out.append(f" {op} ")
        _write(node.right, right, out)  # type: ignore[attr-defined]
        _close(level > own, out)
    elif kind is ast.UnaryOp:
        op = _UNARY.get(type(node.op))  # type: ignore[attr-defined]
        if op is None:
            raise _Other
        _open(level > _FACTOR, out)
        out.append(op)
        _write(node.operand, _FACTOR, out)  # type: ignore[attr-defined]
        _close(level > _FACTOR, out)
    elif kind is ast.Compare:
        _open(level > _CMP, out)
        _write(node.left, _CMP + 1, out)  # type: ignore[attr-defined]
        for o, e in zip(node.ops, node.comparators):  # type: ignore[attr-defined]
            if type(o) not in _COMPARE:
                raise _Other
            out.append(f" {_COMPARE[type(o)]} ")
            _write(e, _CMP + 1, out)
        _close(level > _CMP, out)
    elif kind is ast.Call:
        _write(node.func, _ATOM, out)  # type: ignore[attr-defined]
        out.append("(")
        first = True
        for a in node.args:  # type: ignore[attr-defined]
            if not first:
                out.append(", ")
            first = False
            _write(a, _TEST, out)
        for k in node.keywords:  # type: ignore[attr-defined]
            if k.arg is None:
                raise _Other
            if not first:
                out.append(", ")
            first = False
            out.append(f"{k.arg}=")
            _write(k.value, _TEST, out)
        out.append(")")
    elif kind is ast.Attribute:
        _write(node.value, _ATOM, out)  # type: ignore[attr-defined]
        value = node.value  # type: ignore[attr-defined]
        if type(value) is ast.Constant and isinstance(value.value, int):
            out.append(" ")  # '3 .real': '3.real' is a syntax error
        out.append(f".{node.attr}")  # type: ignore[attr-defined]
    elif kind is ast.Subscript:
        _write(node.value, _ATOM, out)  # type: ignore[attr-defined]
        out.append("[")
        index = node.slice  # type: ignore[attr-defined]
        if type(index) is ast.Tuple and index.elts:
            _items(index.elts, out)
        else:
            _write(index, _TEST, out)
        out.append("]")
    elif kind is ast.Slice:
        for k, part in enumerate((node.lower, node.upper)):  # type: ignore[attr-defined]
            if k:
                out.append(":")
            if part is not None:
                _write(part, _TEST, out)
        if node.step is not None:  # type: ignore[attr-defined]
            out.append(":")
            _write(node.step, _TEST, out)  # type: ignore[attr-defined]
    elif kind is ast.Tuple:
        parens = not node.elts or level > 2  # type: ignore[attr-defined]  # 2: a tuple's own level
        _open(parens, out)
        _items(node.elts, out)  # type: ignore[attr-defined]
        _close(parens, out)
    elif kind is ast.List:
        out.append("[")
        for k, e in enumerate(node.elts):  # type: ignore[attr-defined]
            if k:
                out.append(", ")
            _write(e, _TEST, out)
        out.append("]")
    elif kind is ast.IfExp:
        _open(level > _TEST, out)
        _write(node.body, _TEST + 1, out)  # type: ignore[attr-defined]
        out.append(" if ")
        _write(node.test, _TEST + 1, out)  # type: ignore[attr-defined]
        out.append(" else ")
        _write(node.orelse, _TEST, out)  # type: ignore[attr-defined]
        _close(level > _TEST, out)
    else:
        raise _Other


def _items(elts: list[ast.expr], out: list[str]) -> None:
    """A tuple's elements, as ``ast._Unparser.items_view`` writes them (one element keeps its comma)."""
    for k, e in enumerate(elts):
        if k:
            out.append(", ")
        _write(e, _TEST, out)
    if len(elts) == 1:
        out.append(",")


def _open(parens: bool, out: list[str]) -> None:
    if parens:
        out.append("(")


def _close(parens: bool, out: list[str]) -> None:
    if parens:
        out.append(")")

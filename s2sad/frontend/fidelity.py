"""Fidelity: LibCST must read a function as CPython does, or s2sad refuses rather than guess.

s2sad lowers LibCST's tree but Python runs CPython's. The two parsers agree on every input we know of
(U+2028 in a comment, form feeds, ``\\r`` line endings ...), and s2sad's own line handling follows CPython's
tokenizer (:func:`s2sad.source.source_lines`); this check is the net under both: the names a function reads
and writes, line by line, must be the same in the two trees.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import libcst as cst

from . import traverse
from ..bindings import child_nodes
from ..diagnostics import Diagnostic, Span

__all__ = ["misread"]

#: Statements and expressions whose names the two trees spell differently (strings in CPython's): not compared.
_NOT_COMPARED = (
    cst.Global,
    cst.Nonlocal,
    cst.Import,
    cst.ImportFrom,
    cst.Lambda,
    cst.FunctionDef,
    cst.ClassDef,
    cst.Match,
    cst.Try,
)
_AST_NOT_COMPARED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Match, ast.Try)


class _Names(cst.CSTVisitor):
    """The names a statement reads or writes, as CPython's tree has them (see :func:`misread`)."""

    def __init__(self) -> None:
        self.found: list[cst.Name] = []

    def visit_Name(self, n: cst.Name) -> None:
        if n.value not in ("True", "False", "None"):  # constants in CPython's tree
            self.found.append(n)

    def visit_Attribute(self, n: cst.Attribute) -> bool:
        traverse.visit(n.value, self)  # 'exp' in 'math.exp' is an attribute, not a name
        return False

    def visit_Arg(self, n: cst.Arg) -> bool:
        traverse.visit(n.value, self)  # 'k' in 'h(k=1.0)' is a keyword, not a name
        return False


def _not_compared(self: _Names, n: cst.CSTNode) -> bool:
    return False


for _kind in _NOT_COMPARED:  # one hook each, so that a walk knows which nodes it stops at
    setattr(_Names, f"visit_{_kind.__name__}", _not_compared)


def misread(
    node: cst.FunctionDef, tree: ast.FunctionDef, line_of: Callable[[cst.CSTNode], int], path: str, lines: list[str]
) -> Diagnostic | None:
    """A diagnostic at the first line where LibCST's ``node`` and CPython's ``tree`` of one function read
    different names (``line_of`` maps a LibCST node to its line in the user's file); None when they agree."""
    names = _Names()
    for stmt in node.body.body:
        traverse.visit(stmt, names)
    ours = names.found
    mine = sorted((line_of(n), n.value) for n in ours)
    theirs = sorted((n.lineno, n.id) for n in _names(tree.body))
    if mine == theirs:
        return None
    line = (sorted(set(mine) ^ set(theirs)) or mine)[0][0]
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = len(text) - len(text.lstrip())
    return Diagnostic(
        path,
        Span(line, indent, line, max(indent + 1, len(text.rstrip()))),
        "s2sad's parser reads this line differently from Python's; refusing rather than guessing",
        "unsupported-source",
        "look for unusual characters (line or paragraph separators, form feeds) and remove them",
        text or None,
    )


def _names(body: list[ast.stmt]) -> list[ast.Name]:
    out: list[ast.Name] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if type(node) is ast.Name:
            out.append(node)  # below it only its context (Load, Store, Del)
        elif type(node) is not ast.Constant and not isinstance(node, _AST_NOT_COMPARED):
            stack.extend(child_nodes(node))
    return out

"""Source files, before any parsing into IR: reading them, CPython's syntax check, and the reduction of a
module to what one function needs. Uses only the standard library's ``ast``.
"""

from __future__ import annotations

import ast

from . import files
from .diagnostics import Diagnostic, S2sadError, Span

__all__ = ["read_source", "check_syntax", "reduce", "function_names"]


def read_source(path: str) -> str:
    """The text of ``path``; unreadable, special, oversized, binary and non-UTF-8 files are diagnostics."""
    data = files.read_bytes(path)  # a regular file, size-limited, inside the project when there is one
    if b"\0" in data:
        raise S2sadError([Diagnostic(path, None, "binary file, not Python source", "not-python")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise S2sadError(
            [Diagnostic(path, None, f"not UTF-8 text (byte {err.start})", "not-python", "save the file as UTF-8")]
        ) from None


def check_syntax(source: str, path: str) -> ast.Module:
    try:
        tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        assert isinstance(tree, ast.Module)
        return tree
    except SyntaxError as err:
        line = err.lineno or 1
        col = max((err.offset or 1) - 1, 0)
        lines = source.splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else None
        span = Span(line, col, line, col + 1)
        raise S2sadError([Diagnostic(path, span, err.msg.lower(), "syntax-error", None, text)]) from None


def function_names(source: str, path: str) -> list[str]:
    """The names of the functions defined at the top level of a module."""
    return [s.name for s in check_syntax(source, path).body if isinstance(s, ast.FunctionDef)]


def reduce(source: str, tree: ast.Module, name: str, line: int | None) -> tuple[str, list[int]]:
    """The part of ``source`` that can matter to ``name``, and the original number of each of its lines.

    LibCST's scope analysis costs time in proportion to the whole module; the function only needs the
    module's imports, its numeric constants and itself. Other functions keep a one-line stub so that a call
    to one is still recognised as a call to a helper. Columns are unchanged, lines are mapped back.
    """
    lines = source.splitlines(keepends=True)
    kept: list[str] = []
    numbers: list[int] = []
    for stmt in tree.body:
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        last = stmt.end_lineno or stmt.lineno
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not ((stmt.name == name and line is None) or (line is not None and first <= line <= last)):
                kept.append(f"def {stmt.name}(): pass\n")
                numbers.append(first)
                continue
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and not _numeric_ast(stmt.value):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:  # keep the name defined: reading it is then a precise diagnostic
                if isinstance(t, ast.Name):
                    kept.append(f"{t.id} = None\n")
                    numbers.append(first)
            continue
        elif isinstance(stmt, ast.ClassDef):
            kept.append(f"class {stmt.name}: pass\n")
            numbers.append(first)
            continue
        elif not isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign)):
            continue
        if numbers and numbers[-1] >= first:  # statements sharing a line with one already kept
            continue
        for number in range(first, last + 1):
            text = lines[number - 1]
            kept.append(text if text.endswith(("\n", "\r")) else text + "\n")
            numbers.append(number)
    return "".join(kept), numbers


def _numeric_ast(node: ast.expr | None) -> bool:
    """A numeric literal expression: what a module constant may be (``K = 3.0``, ``HALF = -1 / 2``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return _numeric_ast(node.operand)
    if isinstance(node, ast.BinOp):
        return _numeric_ast(node.left) and _numeric_ast(node.right)
    return False

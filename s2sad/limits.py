"""Limits: what s2sad refuses because Python or a float cannot hold it.

- Numbers: a literal the differentiated code reads must be a finite float. An integer beyond the float range
  (a 400-digit literal, ``10**400``) makes Python raise ``OverflowError`` when it meets a float; a float literal
  such as ``1e400`` is silently ``inf``. Both are refused, located (``number-out-of-range``).
- Depth: the stages walk expressions recursively. An expression nested more than :data:`MAX_EXPRESSION_DEPTH`
  levels (``-`` a thousand times, 150 nested ``abs(``) is refused before any stage runs, the same way whatever
  the caller's stack; a ``RecursionError`` that still escapes a stage becomes the same located diagnostic
  (``too-deep``). A gradient whose blocks would nest deeper than CPython's indentation limit (a conditional
  expression becomes a branch) is refused too.
"""

from __future__ import annotations

import ast
import io
import math
import sys
import tokenize
from collections.abc import Iterator
from contextlib import contextmanager

from . import ir, literals
from .bindings import child_nodes
from .diagnostics import Diagnostic, InternalError, S2sadError, Span
from .source import parse, source_lines

__all__ = ["MAX_EXPRESSION_DEPTH", "MAX_BLOCK_DEPTH", "check_source", "check_numbers", "check_blocks", "guard"]

#: Nested operators, calls, subscripts and conditional expressions in one expression. Each level costs the
#: stages (LibCST's visitors most) about eight Python frames, well inside the default limit of 1000.
MAX_EXPRESSION_DEPTH = 100
#: CPython's tokenizer allows 100 levels of indentation; the function body is the first.
MAX_BLOCK_DEPTH = 99

_HELP_DEPTH = "split the expression into named intermediate steps (e.g. a loop, or one assignment per level)"


def check_source(source: str, path: str, name: str, line: int | None) -> None:
    """Refuse the function ``name`` (at ``line``, for a nested one) if an expression in it is too deep."""
    try:
        tree = parse(source, path)  # the frontend's syntax check takes this tree
    except (SyntaxError, ValueError):
        return  # the frontend reports CPython's own message
    except (RecursionError, MemoryError):
        raise S2sadError([_too_deep(source, path, None)]) from None
    target = _function(tree, name, line)
    if target is None:
        return  # the frontend reports the missing function
    depth, where = _deepest(target)
    if depth > MAX_EXPRESSION_DEPTH and where is not None:
        raise S2sadError([_too_deep(source, path, where, depth)])


@contextmanager
def guard(source: str, path: str, name: str, line: int | None) -> Iterator[None]:
    """Turn a ``RecursionError`` out of any stage into a located ``too-deep`` diagnostic."""
    try:
        yield
    except InternalError as err:
        if not isinstance(err.__cause__, RecursionError):  # emit's self-check wraps what black raised
            raise
        raise S2sadError([_located_too_deep(source, path, name, line)]) from None
    except RecursionError:
        raise S2sadError([_located_too_deep(source, path, name, line)]) from None


def _located_too_deep(source: str, path: str, name: str, line: int | None) -> Diagnostic:
    """The diagnostic for a ``RecursionError``: at the deepest expression of the function, else of the file."""
    where: ast.AST | None = None
    depth = 0
    try:
        tree = ast.parse(source)
        target = _function(tree, name, line)
        depth, where = _deepest(target if target is not None else tree)
        if depth <= MAX_EXPRESSION_DEPTH:  # not in the function itself: a helper it calls, maybe in this file
            depth, where = _deepest(tree)
        if depth <= MAX_EXPRESSION_DEPTH:  # no deep expression: the statements are nested too deeply
            depth, where = 0, target
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return _too_deep(source, path, where, depth or None)


def check_numbers(functions: list[ir.Function]) -> None:
    """Refuse number literals that are not finite floats, in the functions s2sad differentiates or copies."""
    found: list[Diagnostic] = []
    for fn in functions:
        for s in ir.walk(fn.body):
            origin: ir.Origin | None = getattr(s, "origin", None)
            problems = [p for p in map(_out_of_range, _expressions(s)) if p is not None]
            if origin is not None and problems:
                found.append(ir.diagnostic(fn.path, origin, problems[0], "number-out-of-range", _HELP_RANGE))
        if fn.origin is not None:
            for c in fn.constants:  # copied into the output as written: ``K = 10**400``
                problem = _constant_out_of_range(c.text)
                if problem is not None:
                    message = f"'{fn.name}' reads the module constant '{c.name}': {problem}"
                    found.append(ir.diagnostic(fn.path, fn.origin, message, "number-out-of-range", _HELP_RANGE))
            for p in fn.params:
                problem = _out_of_range(p.default) if p.default is not None else None
                if problem is not None:
                    found.append(ir.diagnostic(fn.path, fn.origin, problem, "number-out-of-range", _HELP_RANGE))
    if found:
        raise S2sadError(found)


def check_blocks(fn: ir.Function, path: str) -> None:
    """Refuse a generated function whose blocks would nest deeper than CPython can compile."""
    deepest: tuple[int, ir.Stmt | None] = (0, None)
    stack: list[tuple[tuple[ir.Stmt, ...], int]] = [(fn.body, 1)]
    while stack:
        block, depth = stack.pop()
        for s in block:
            if depth > deepest[0] and getattr(s, "origin", None) is not None:
                deepest = (depth, s)
            if isinstance(s, ir.If):
                stack += [(s.body, depth + 1), (s.orelse, depth + 1)]
            elif isinstance(s, ir.For):
                stack.append((s.body, depth + 1))
            elif isinstance(s, ir.While):
                stack += [(s.setup, depth + 1), (s.body, depth + 1)]
    depth, stmt = deepest
    if depth > MAX_BLOCK_DEPTH and stmt is not None:
        origin = getattr(stmt, "origin")
        raise S2sadError(
            [
                ir.diagnostic(
                    path,
                    origin,
                    f"the gradient would nest {depth} blocks deep; Python allows {MAX_BLOCK_DEPTH} "
                    "(each conditional expression becomes a branch)",
                    "too-deep",
                    _HELP_DEPTH,
                )
            ]
        )


# ------------------------------------------------------------------------------------------------------------
# Numbers
# ------------------------------------------------------------------------------------------------------------
_HELP_RANGE = "a float holds magnitudes up to about 1.8e308; rescale the constant, or write math.inf for infinity"
_LOG10_MAX = math.log10(sys.float_info.max)


def _expressions(s: ir.Stmt) -> Iterator[ir.Expr]:
    """Every sub-expression a statement holds (iteratively: depth is limited elsewhere)."""
    todo = list(ir.expressions(s))
    while todo:
        e = todo.pop()
        yield e
        if isinstance(e, ir.Call):
            todo.extend(e.args)
        elif isinstance(e, ir.LibraryCall):
            todo.extend(e.operands())
        elif isinstance(e, ir.BoolOp):
            todo.extend(e.values)
        elif isinstance(e, ir.Slice):
            todo.extend((e.start, e.stop, e.step))


def _out_of_range(e: ir.Expr) -> str | None:
    if isinstance(e, ir.Const):
        v = e.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        if isinstance(v, float) and math.isinf(v):
            return "this number literal is beyond the range of a float: Python reads it as infinity"
        if isinstance(v, int) and abs(v) > sys.float_info.max:
            digits = int(v.bit_length() * math.log10(2)) + 1
            return f"an integer literal of about {digits} digits is too large for a float"
    if isinstance(e, ir.Call) and e.fn == "operator.pow" and len(e.args) == 2:
        base, power = e.args
        if isinstance(base, ir.Const) and isinstance(power, ir.Const):
            b, p = base.value, power.value
            if isinstance(b, int) and isinstance(p, int) and not isinstance(b, bool) and not isinstance(p, bool):
                estimate = p * math.log10(abs(b)) if abs(b) > 1 and p > 0 else 0.0
                if estimate > _LOG10_MAX + 1 or (estimate > _LOG10_MAX - 1 and abs(b) ** p > sys.float_info.max):
                    return f"the integer {b}**{p} is too large for a float"
    return None


def _constant_out_of_range(text: str) -> str | None:
    """The problem with a module constant's numeric literal expression ``NAME = ...``, if any."""
    value, problem, code = literals.problem(text.split("=", 1)[1])
    if isinstance(value, float) and math.isinf(value):
        return "this number is beyond the range of a float: Python reads it as infinity"
    return problem if code == "number-out-of-range" else None


# ------------------------------------------------------------------------------------------------------------
# Depth
# ------------------------------------------------------------------------------------------------------------
def _function(tree: ast.AST, name: str, line: int | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The function the frontend will lower: at the top level, or (with ``line``) the one that covers it."""
    defs = (ast.FunctionDef, ast.AsyncFunctionDef)
    if line is None:
        body = tree.body if isinstance(tree, ast.Module) else []
        found = [s for s in body if isinstance(s, defs) and s.name == name]
        return found[0] if found else None
    for node in ast.walk(tree):
        if isinstance(node, defs) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first <= line <= (node.end_lineno or node.lineno):
                return node
    return None


def _deepest(root: ast.AST) -> tuple[int, ast.expr | None]:
    """The depth of the most deeply nested expression under ``root`` and the outermost expression holding it."""
    best: tuple[int, ast.expr | None] = (0, None)
    stack: list[tuple[ast.AST, int, ast.expr | None]] = [(root, 0, None)]
    while stack:
        node, depth, outer = stack.pop()
        if isinstance(node, ast.expr):
            depth += 1
            outer = outer or node
            if depth > best[0]:
                best = (depth, outer)
            if type(node) is ast.Name or type(node) is ast.Constant:
                continue  # no expression below
        for child in child_nodes(node):
            stack.append((child, depth, outer))
    return best


def _too_deep(source: str, path: str, where: ast.AST | None, depth: int | None = None) -> Diagnostic:
    lines = source_lines(source)
    what = "this expression" if isinstance(where, ast.expr) else "this function" if where else "this code"
    if isinstance(where, (ast.expr, ast.stmt)):
        line, text = where.lineno, lines[where.lineno - 1] if where.lineno <= len(lines) else ""
        col = _chars(text, where.col_offset)
        end = (
            _chars(text, where.end_col_offset)
            if where.end_lineno == where.lineno and where.end_col_offset
            else len(text)
        )
    else:
        line = _busiest_line(source)
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        col, end = len(text) - len(text.lstrip()), len(text)
    levels = f" ({depth} levels; s2sad handles {MAX_EXPRESSION_DEPTH})" if depth else ""
    return Diagnostic(
        path,
        Span(line, col, line, max(end, col + 1)),
        f"{what} is nested too deeply{levels}",
        "too-deep",
        _HELP_DEPTH,
        text,
    )


def _chars(text: str, byte_offset: int) -> int:
    """``ast`` columns count UTF-8 bytes; diagnostics count characters."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _busiest_line(source: str) -> int:
    """Where to point when even CPython cannot build the tree: the line with the most tokens."""
    counts: dict[int, int] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            counts[tok.start[0]] = counts.get(tok.start[0], 0) + 1
    except (tokenize.TokenError, SyntaxError):
        pass
    return max(counts, key=lambda k: (counts[k], -k)) if counts else 1

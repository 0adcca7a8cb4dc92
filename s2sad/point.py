"""``--at`` values: a small grammar, parsed with :mod:`ast` and evaluated by walking allow-listed nodes.

::

    value  := number | pi | e | value (+ - * / **) value | -value | +value | (value) | call
    call   := randn(n, ...) | rand(n, ...) | zeros(n, ...) | ones(n, ...)        n: an integer literal

Nothing is ever passed to ``eval``: a value cannot reach an attribute, a builtin or an import (the old
``eval`` with empty builtins could, through ``randn.__globals__``). Shapes are bounded so that a value
cannot exhaust memory, and a power whose result would be enormous is refused. The functions themselves
(seeded random numbers, NumPy arrays) are given by the caller.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from typing import Any

from .diagnostics import Diagnostic, S2sadError

__all__ = ["parse", "evaluate", "number", "CONSTANTS", "FUNCTIONS"]

CONSTANTS: Mapping[str, float] = {"pi": math.pi, "e": math.e}
FUNCTIONS = ("randn", "rand", "zeros", "ones")
MAX_ELEMENTS = 10_000_000
_MAX_LENGTH = 10_000
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: _power(a, b),
}


def _error(name: str, text: str, why: str) -> S2sadError:
    return S2sadError(
        [
            Diagnostic(
                "--at",
                None,
                f"'{name}={text}': {why}",
                "bad-point",
                "values are numbers, pi, e, + - * / ** and parentheses, and randn(...), rand(...), zeros(...), "
                "ones(...) with integer sizes",
            )
        ]
    )


def parse(name: str, text: str, *, calls: bool = True) -> ast.expr:
    """The checked syntax tree of one value; anything outside the grammar is a ``bad-point`` diagnostic."""
    if len(text) > _MAX_LENGTH:
        raise _error(name, text[:20] + "...", "too long")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise _error(name, text, "not a value") from None
    try:
        _check(tree, name, text, calls)
    except RecursionError:
        raise _error(name, text, "nested too deeply") from None
    return tree


def _check(node: ast.expr, name: str, text: str, calls: bool) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _error(name, text, f"{ast.unparse(node)} is not a number")
    elif isinstance(node, ast.Name):
        if node.id not in CONSTANTS:
            raise _error(name, text, f"unknown name '{node.id}'")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand, name, text, calls)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, name, text, calls)
        _check(node.right, name, text, calls)
    elif isinstance(node, ast.Call) and calls:
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS) or node.keywords:
            raise _error(name, text, f"only {', '.join(FUNCTIONS)} can be called")
        size = 1
        for a in node.args:
            if not (isinstance(a, ast.Constant) and type(a.value) is int and 0 <= a.value):
                raise _error(name, text, "sizes are non-negative integer literals")
            size *= a.value
            if size > MAX_ELEMENTS:
                raise _error(name, text, f"more than {MAX_ELEMENTS} elements")
    else:
        why = "explain takes numbers" if isinstance(node, ast.Call) else f"'{ast.unparse(node)}' is not allowed"
        raise _error(name, text, why)


#: The largest integer a point may hold or compute, in bits: ``((9**64)**64)**64`` would take forever.
MAX_BITS = 4096


def _power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if b > 64 or b < 0:
            return float(a) ** b  # an int power could take forever; floats overflow instead
        if a.bit_length() * b > MAX_BITS:  # estimated before computing
            raise OverflowError(f"an integer of more than {MAX_BITS} bits")
    return a**b


def _bounded(result: Any) -> Any:
    if isinstance(result, int) and result.bit_length() > MAX_BITS:
        raise OverflowError(f"an integer of more than {MAX_BITS} bits")
    return result


def evaluate(tree: ast.expr, name: str, text: str, functions: Mapping[str, Callable[..., Any]]) -> Any:
    """The value of a checked tree; ``functions`` gives randn, rand, zeros and ones."""

    def value(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = value(node.operand)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            return _bounded(_BINARY[type(node.op)](value(node.left), value(node.right)))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return functions[node.func.id](*(a.value for a in node.args if isinstance(a, ast.Constant)))

    try:
        return value(tree)
    except (ArithmeticError, ValueError) as err:
        raise _error(name, text, f"{type(err).__name__}: {err}") from None


def number(name: str, text: str) -> int | float:
    """A scalar value (explain): 3 stays an int (a trip count), 0.5 a float."""
    result = evaluate(parse(name, text, calls=False), name, text, {})
    if isinstance(result, complex) or not isinstance(result, (int, float)):
        raise _error(name, text, "not a real number")
    return result

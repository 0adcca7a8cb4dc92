"""Numeric literal expressions (``3.0``, ``-1 / 2``, ``2 ** 3``): their value, computed without running any
code of the user's and within bounds, so that no text s2sad reads can make it work for hours (``9**9**9**9``).

Module constants, parameter defaults and the user's arithmetic on literals all go through :func:`value`.
"""

from __future__ import annotations

import ast
import operator
import sys

__all__ = ["NotNumeric", "OutOfRange", "value", "problem"]


class NotNumeric(Exception):
    """The expression is not a numeric literal expression (it names something, calls something ...)."""


class OutOfRange(Exception):
    """The value cannot be computed, or a float cannot hold it."""


_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


def value(node: ast.expr) -> int | float:
    """The value of ``node``; raises :class:`NotNumeric` or :class:`OutOfRange`."""
    result = _value(node)
    if isinstance(result, int) and abs(result) > sys.float_info.max:
        raise OutOfRange("the integer is too large for a float")
    return result


def problem(text: str) -> tuple[int | float | None, str | None, str | None]:
    """``(value, None, None)`` for the expression ``text``, else ``(None, message, code)``."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
        return value(node), None, None
    except (SyntaxError, NotNumeric):
        return None, "it is an expression, not a numeric literal expression", "unsupported-default"
    except OutOfRange as err:
        return None, str(err), "number-out-of-range"
    except RecursionError:
        return None, "it is nested too deeply", "too-deep"


def _value(node: ast.expr) -> int | float:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        raise NotNumeric(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _value(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        try:
            if isinstance(node.op, ast.Pow):
                if abs(right) > 1024 or (
                    isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > 4096
                ):
                    raise OutOfRange("the power is too large for a float")
                result = left**right
                if isinstance(result, complex):
                    raise OutOfRange("the power is a complex number")
                return result  # type: ignore[no-any-return]
            op = _OPERATORS.get(type(node.op))
            if op is None:
                raise NotNumeric(node)
            return op(left, right)  # type: ignore[no-any-return]
        except (ArithmeticError, ValueError) as err:
            raise OutOfRange(f"it cannot be computed ({err})") from None
    raise NotNumeric(node)

"""The frontend's vocabulary: LibCST node tables and small helpers over LibCST nodes."""

from __future__ import annotations

import ast

import libcst as cst

from . import traverse
from .. import ir, literals

TEMP = ir.TEMP

_DECORATORS = {"s2sad.gradient", "s2sad.api.gradient"}

_RULE_DECORATORS = {"s2sad.rule", "s2sad.api.rule"}

#: Array methods and attributes, as the NumPy functions they stand for (the array is the first argument).
_ARRAY_METHODS = {
    "sum": "numpy.sum",
    "mean": "numpy.mean",
    "max": "numpy.max",
    "reshape": "numpy.reshape",
    "dot": "numpy.dot",
    "transpose": "numpy.transpose",
    "copy": "numpy.copy",
    "flatten": "numpy.ndarray.flatten",
}

_ARRAY_ATTRIBUTES = {"T": "numpy.transpose", "shape": "numpy.shape", "size": "numpy.size", "ndim": "numpy.ndim"}

_BINARY_WORDS = {
    "operator.add": "plus",
    "operator.sub": "minus",
    "operator.mul": "times",
    "operator.truediv": "over",
    "operator.floordiv": "floordiv",
    "operator.mod": "mod",
    "operator.pow": "pow",
    "operator.matmul": "matmul",
    "operator.lt": "lt",
    "operator.le": "le",
    "operator.gt": "gt",
    "operator.ge": "ge",
    "operator.eq": "eq",
    "operator.ne": "ne",
}

_CST_BINARY = {
    cst.Add: ast.Add,
    cst.Subtract: ast.Sub,
    cst.Multiply: ast.Mult,
    cst.Divide: ast.Div,
    cst.FloorDivide: ast.FloorDiv,
    cst.Modulo: ast.Mod,
    cst.Power: ast.Pow,
    cst.MatrixMultiply: ast.MatMult,
}

_CST_AUGMENTED = {
    cst.AddAssign: ast.Add,
    cst.SubtractAssign: ast.Sub,
    cst.MultiplyAssign: ast.Mult,
    cst.DivideAssign: ast.Div,
    cst.FloorDivideAssign: ast.FloorDiv,
    cst.ModuloAssign: ast.Mod,
    cst.PowerAssign: ast.Pow,
    cst.MatrixMultiplyAssign: ast.MatMult,
}

_CST_COMPARE = {
    cst.LessThan: ast.Lt,
    cst.LessThanEqual: ast.LtE,
    cst.GreaterThan: ast.Gt,
    cst.GreaterThanEqual: ast.GtE,
    cst.Equal: ast.Eq,
    cst.NotEqual: ast.NotEq,
}

_MAX_DESCRIPTIVE = 24  # longer descriptive names fall back to "<target>_t<k>"


def _is_stub(node: cst.FunctionDef) -> bool:
    """A one-line ``def name(): pass`` that :func:`_reduce` put in place of a function that does not matter."""
    body = node.body
    return isinstance(body, cst.SimpleStatementSuite) and len(body.body) == 1 and isinstance(body.body[0], cst.Pass)


def _tuple(parts: list[ir.Expr]) -> ir.Expr:
    """A tuple of atoms: a constant when every part is one (a shape, axes)."""
    if all(isinstance(p, ir.Const) for p in parts):
        return ir.Const(tuple(p.value for p in parts if isinstance(p, ir.Const)))
    return ir.Call(ir.TUPLE, tuple(parts))


def _names_in(node: cst.CSTNode) -> list[cst.Name]:
    """The names ``node`` reads as variables (not attribute names: ``exp`` in ``math.exp`` is not one)."""
    found: list[cst.Name] = []

    class Finder(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            traverse.visit(n.value, self)
            return False

    traverse.visit(node, Finder())
    return found


def _all_function_defs(node: cst.CSTNode) -> list[cst.FunctionDef]:
    found: list[cst.FunctionDef] = []

    class Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> None:
            found.append(n)

    traverse.visit(node, Finder())
    return found


def _target_names(node: cst.BaseExpression) -> set[str]:
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, (cst.Tuple, cst.List)):
        return set().union(*(_target_names(e.value) for e in node.elements))
    return set()


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_return(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Return)


def _code(module: cst.Module, node: cst.CSTNode) -> str:
    return module.code_for_node(node).strip()


def evaluate_numeric(node: cst.BaseExpression) -> tuple[int | float | None, str | None, str | None]:
    """The value of a numeric literal expression (``8.0``, ``-1 / 2``, ``2 ** 3``), computed without running
    any code of the user's, or None, what keeps it from being one and the diagnostic's code."""
    return literals.problem(cst.Module([]).code_for_node(node))

"""A read-only walk of a LibCST tree for a ``CSTVisitor``, without rebuilding the tree.

``node.visit(visitor)`` makes a new node for every node it passes (LibCST's visit is also a transform), which
costs about as much as parsing: at 10,000 statements each of the frontend's whole-function visits took most
of a second. :func:`visit` calls the same ``on_visit`` / ``on_leave`` hooks (so ``visit_Name``,
``leave_Call``, a subclass's own ``on_visit``), on the same nodes, in the same order, reading each node's
children from its fields. The order is LibCST's own: read once per node class from the source of its
``_visit_and_replace_children`` (the order of its ``visit_*`` calls). A node class whose children that source
does not list plainly, and a visitor with attribute hooks (``visit_Name_value``), get LibCST's visit.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import libcst as cst

__all__ = ["visit", "children"]

_FIELDS: dict[type, tuple[str, ...] | None] = {}
_HOOKS: dict[type, bool] = {}


def _fields(kind: type) -> tuple[str, ...] | None:
    """The fields LibCST visits, in its order; None when its code does more than list them."""
    if kind in _FIELDS:
        return _FIELDS[kind]
    found: tuple[str, ...] | None = None
    try:
        method = next(
            c.__dict__["_visit_and_replace_children"]
            for c in kind.__mro__
            if "_visit_and_replace_children" in c.__dict__
        )
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
        body = [s for s in tree.body[0].body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Name):
            found = () if body[0].value.id == "self" else None  # a leaf: no children
        elif len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call):
            names = []
            plain = True
            for keyword in body[0].value.keywords:
                value = keyword.value
                if (
                    isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Name)
                    and value.func.id.startswith("visit_")
                ):
                    field = value.args[1] if len(value.args) > 1 else None
                    attribute = value.args[2] if len(value.args) > 2 else None
                    if not (
                        isinstance(field, ast.Constant)
                        and isinstance(attribute, ast.Attribute)
                        and attribute.attr == field.value == keyword.arg
                    ):
                        plain = False
                    names.append(keyword.arg)
                elif any(
                    isinstance(n, ast.Call) and getattr(n.func, "id", "").startswith("visit_") for n in ast.walk(value)
                ):
                    plain = False  # a visit inside an expression: not a plain list
            visits = sum(
                1
                for n in ast.walk(tree)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id.startswith("visit_")
            )
            if plain and visits == len(names):
                found = tuple(names)
    except (OSError, TypeError, StopIteration, SyntaxError):
        found = None
    _FIELDS[kind] = found
    return found


def _plain_visitor(kind: type) -> bool:
    """Whether the visitor class has no attribute hooks of its own (``visit_Name_value``): this walk calls none."""
    if kind not in _HOOKS:
        _HOOKS[kind] = not any(
            name.startswith(("visit_", "leave_"))
            and "_" in name.split("_", 1)[1]
            and getattr(kind, name) is not getattr(cst.CSTVisitor, name, None)
            for name in dir(kind)
        )
    return _HOOKS[kind]


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only reads."""
    if not _plain_visitor(type(visitor)):
        node.visit(visitor)
        return
    _walk(node, visitor)


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    fields = _FIELDS[type(node)] if type(node) in _FIELDS else _fields(type(node))
    if fields is None:
        node.visit(visitor)
        return
    if visitor.on_visit(node):
        for name in fields:
            child = getattr(node, name)
            if isinstance(child, cst.CSTNode):
                _walk(child, visitor)
            elif isinstance(child, (tuple, list)):
                for item in child:
                    if isinstance(item, cst.CSTNode):
                        _walk(item, visitor)
    visitor.on_leave(node)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` (LibCST's order), without rebuilding the node."""
    fields = _FIELDS[type(node)] if type(node) in _FIELDS else _fields(type(node))
    if fields is None:
        return list(node.children)
    out: list[cst.CSTNode] = []
    for name in fields:
        child = getattr(node, name)
        if isinstance(child, cst.CSTNode):
            out.append(child)
        elif isinstance(child, (tuple, list)):
            out.extend(item for item in child if isinstance(item, cst.CSTNode))
    return out

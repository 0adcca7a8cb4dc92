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
import dataclasses
import inspect
import textwrap
import typing
from collections.abc import Callable
from typing import Any

import libcst as cst

__all__ = ["visit", "children", "reach", "may_hold"]

_FIELDS: dict[type, tuple[str, ...] | None] = {}


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


def _walk_cache(visitor: type) -> dict[Any, Any]:
    """What the walk worked out for a visitor class, kept on the class itself: a class defined in a function
    is made anew by each call, and a cache beside it would keep every one alive (with what its methods'
    closures hold: the trees they were walking)."""
    cache = visitor.__dict__.get("_s2sad_walk")
    if cache is None:
        cache = {}
        setattr(visitor, "_s2sad_walk", cache)
    return cache


def _own_names(visitor: type) -> set[str]:
    """The attribute names ``dir(visitor)`` lists that may not be ``CSTVisitor``'s own: those of the classes in
    its MRO that are not in ``CSTVisitor``'s. (A name only those define resolves, in the visitor, to the same
    object as in ``CSTVisitor``: C3 keeps their order. ``dir`` lists about 1,500 names, read for every visitor
    class, and the frontend makes a new class per call.)"""
    base = set(cst.CSTVisitor.__mro__)
    return {name for klass in visitor.__mro__ if klass not in base for name in vars(klass)}


def _plain_visitor(kind: type) -> bool:
    """Whether the visitor class has no attribute hooks of its own (``visit_Name_value``): this walk calls none."""
    cache = _walk_cache(kind)
    if "plain" not in cache:
        cache["plain"] = not any(
            name.startswith(("visit_", "leave_"))
            and "_" in name.split("_", 1)[1]
            and getattr(kind, name) is not getattr(cst.CSTVisitor, name, None)
            for name in _own_names(kind)
        )
    return cache["plain"]


#: Every LibCST node class, by name (the name its hooks use: ``visit_Name``).
_CLASSES: dict[str, type] = {}


def _node_classes() -> dict[str, type]:
    if not _CLASSES:
        stack = [cst.CSTNode]
        while stack:
            kind = stack.pop()
            _CLASSES.setdefault(kind.__name__, kind)
            stack.extend(kind.__subclasses__())
    return _CLASSES


def _hinted(hint: object, out: set[type]) -> bool:
    """Add the node classes a field's type names to ``out`` (a base class stands for its subclasses); False
    when the hint is one this reading does not know."""
    if isinstance(hint, type):
        if cst.CSTNode in hint.__mro__:  # the classes a node can be: not the abstract ones
            out.update(_concrete(hint))
        return True
    if typing.get_origin(hint) is typing.Literal:
        return True
    arguments = typing.get_args(hint)
    if typing.get_origin(hint) is None or not arguments:
        return False
    return all(_hinted(a, out) for a in arguments if a is not Ellipsis)


_CONCRETE: dict[type, frozenset[type]] = {}


def _concrete(kind: type) -> frozenset[type]:
    """The node classes that are ``kind`` or derive from it, not abstract (once per class: many fields name
    the same few base classes)."""
    if kind not in _CONCRETE:
        # read from the MROs: issubclass on LibCST's abstract classes would fill the ABC caches
        below = (k for k in _node_classes().values() if kind in k.__mro__ and not inspect.isabstract(k))
        _CONCRETE[kind] = frozenset(below)
    return _CONCRETE[kind]


_CHILD_CLASSES: dict[type, frozenset[type] | None] = {}


def _child_classes(kind: type) -> frozenset[type] | None:
    """The node classes ``kind``'s children can be, read from the types of all its fields (a superset of
    those a visit passes); None when unknown."""
    if kind not in _CHILD_CLASSES:
        found: set[type] | None = set()
        try:
            hints = typing.get_type_hints(kind)
        except Exception:  # a hint that does not resolve: unknown, so nothing is skipped above it
            hints = None
        if hints is None or not dataclasses.is_dataclass(kind):
            found = None
        else:
            for field in dataclasses.fields(kind):
                if field.name not in hints or not _hinted(hints[field.name], found):  # type: ignore[arg-type]
                    found = None
                    break
        _CHILD_CLASSES[kind] = None if found is None else frozenset(found)
    return _CHILD_CLASSES[kind]


_REACH: dict[type, frozenset[type] | None] = {}


def reach(kind: type) -> frozenset[type] | None:
    """Every node class that can occur in the subtree of a ``kind`` node (``kind`` too); None when unknown.

    A walk skips a subtree where none of these has a hook: the whitespace, comments and operators that make up
    most of a tree, for the visitors that look only at names, calls or statements."""
    if kind not in _REACH:
        seen: set[type] = {kind}
        stack = [kind]
        known = True
        while stack and known:
            below = _child_classes(stack.pop())
            if below is None:
                known = False
                break
            for k in below:
                if k not in seen:
                    seen.add(k)
                    stack.append(k)
        _REACH[kind] = frozenset(seen) if known else None
    return _REACH[kind]


_Plan = tuple[tuple[str, ...] | None, Callable[..., Any] | None, Callable[..., Any] | None, bool]


def _hooks_of(visitor: type) -> frozenset[type] | None:
    """The node classes the visitor has a hook for; None when it overrides ``on_visit`` or ``on_leave`` (it
    may look at any node). Once per visitor class."""
    cache = _walk_cache(visitor)
    if "hooks" not in cache:
        cache["hooks"] = _find_hooks(visitor)
    return cache["hooks"]


def _find_hooks(visitor: type) -> frozenset[type] | None:
    if visitor.on_visit is not cst.CSTVisitor.on_visit or visitor.on_leave is not cst.CSTVisitor.on_leave:
        return None
    classes = _node_classes()
    hooked = set()
    for name in sorted(_own_names(visitor)):  # in dir's order
        if name.startswith(("visit_", "leave_")) and getattr(visitor, name) is not getattr(cst.CSTVisitor, name, None):
            kind = classes.get(name.split("_", 1)[1])
            if kind is None:
                return None  # a hook this walk cannot place: no subtree is skipped
            hooked.add(kind)
    return frozenset(hooked)


def _plan(visitor: type, kind: type) -> _Plan:
    """How the walk treats a ``kind`` node for a ``visitor``: (fields, visit hook, leave hook, skipped)."""
    plans = _walk_cache(visitor)
    if kind not in plans:
        hooked = _hooks_of(visitor)
        fields = _fields(kind)
        if hooked is None:
            on_visit = visitor.on_visit
            # LibCST visits the children when on_visit returns anything true; a visit_* hook, unless it returns False
            plans[kind] = (fields, lambda v, n: bool(on_visit(v, n)), visitor.on_leave, False)
        else:
            below = reach(kind)
            skipped = below is not None and not (below & hooked)
            visit_hook = getattr(visitor, f"visit_{kind.__name__}", None)
            leave_hook = getattr(visitor, f"leave_{kind.__name__}", None)
            plans[kind] = (
                fields,
                (
                    visit_hook
                    if kind in hooked and visit_hook is not getattr(cst.CSTVisitor, f"visit_{kind.__name__}", None)
                    else None
                ),
                (
                    leave_hook
                    if kind in hooked and leave_hook is not getattr(cst.CSTVisitor, f"leave_{kind.__name__}", None)
                    else None
                ),
                skipped,
            )
    return plans[kind]


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only reads."""
    kind = type(visitor)
    if not _plain_visitor(kind):
        node.visit(visitor)
        return
    _walk(node, visitor, _walk_cache(kind))


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor, plans: dict[type, _Plan]) -> None:
    kind = type(node)
    plan = plans.get(kind) or _plan(type(visitor), kind)
    fields, visit_hook, leave_hook, skipped = plan
    if skipped:
        return  # no node below has a hook: LibCST would call only the no-op hooks there
    if fields is None:
        node.visit(visitor)
        return
    if visit_hook is None or visit_hook(visitor, node) is not False:
        for name in fields:
            child = getattr(node, name)
            sort = _SORTS.get(type(child))
            if sort is None:
                sort = _sort(type(child))
            if sort is _NODE:
                _walk(child, visitor, plans)
            elif sort is _SEQUENCE:
                for item in child:
                    if (_SORTS.get(type(item)) or _sort(type(item))) is _NODE:
                        _walk(item, visitor, plans)
    if leave_hook is not None:
        leave_hook(visitor, node)


_NODE, _SEQUENCE, _OTHER = "node", "sequence", "other"
#: The sort of each type of field value met: ``isinstance(x, cst.CSTNode)`` goes through ``ABCMeta``'s
#: ``__instancecheck__``, a cost the walk paid on every field of every node.
_SORTS: dict[type, str] = {}


def _sort(kind: type) -> str:
    sort = _NODE if issubclass(kind, cst.CSTNode) else _SEQUENCE if issubclass(kind, (tuple, list)) else _OTHER
    _SORTS[kind] = sort
    return sort


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


def may_hold(kind: type, targets: tuple[type, ...]) -> bool:
    """Whether a ``kind`` node can have a node of one of ``targets`` in its subtree (itself included)."""
    below = reach(kind)
    return below is None or any(t in below for t in targets)

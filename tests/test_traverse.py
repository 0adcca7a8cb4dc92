"""s2sad.frontend.traverse.visit calls a visitor's hooks on the same nodes, in the same order, as LibCST's own
``node.visit`` (which rebuilds the tree as it goes)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from s2sad.frontend import traverse

ROOT = Path(__file__).resolve().parent.parent
#: s2sad's frontend and the test programs: every construct the frontend reads, and then some
FILES = sorted(str(p.relative_to(ROOT)) for d in ("s2sad/frontend", "examples") for p in (ROOT / d).glob("*.py"))
FILES += sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("*catalogue*.py"))


class _Log(cst.CSTVisitor):
    """Every hook call, in order; lambdas' bodies skipped (a hook that returns False)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.log.append(("visit", id(node)))
        return not isinstance(node, cst.Lambda)

    def on_leave(self, node: cst.CSTNode) -> None:
        self.log.append(("leave", id(node)))


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        traverse.visit(node.value, self)
        return False


class _AttributeHook(cst.CSTVisitor):
    def __init__(self) -> None:
        self.seen = 0

    def visit_Attribute_attr(self, node: cst.Attribute) -> None:
        self.seen += 1


@pytest.mark.parametrize("path", FILES)
def test_the_walk_is_libcst_visit(path: str) -> None:
    module = cst.parse_module((ROOT / path).read_text())
    theirs, ours = _Log(), _Log()
    module.visit(theirs)
    traverse.visit(module, ours)
    assert ours.log == theirs.log
    a, b = _Names(), _Names()
    module.visit(a)
    traverse.visit(module, b)
    assert a.names == b.names


def test_a_visitor_with_attribute_hooks_gets_libcst_visit() -> None:
    module = cst.parse_module("y = math.sin(x) + np.pi\n")
    visitor = _AttributeHook()
    traverse.visit(module, visitor)
    assert visitor.seen == 2


@pytest.mark.parametrize("path", FILES)
def test_children_are_libcsts(path: str) -> None:
    module = cst.parse_module((ROOT / path).read_text())
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        assert [id(c) for c in traverse.children(node)] == [id(c) for c in node.children]
        stack.extend(node.children)


class _Hooks(cst.CSTVisitor):
    """A few hooks of each kind (statements, names, comments, operators; one that stops the descent): the walk
    skips the subtrees none of them can be in, and must call them all as LibCST does."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.log.append(("comment", id(node)))

    def visit_Name(self, node: cst.Name) -> None:
        self.log.append(("name", id(node)))

    def leave_Call(self, node: cst.Call) -> None:
        self.log.append(("call", id(node)))

    def visit_Add(self, node: cst.Add) -> None:
        self.log.append(("add", id(node)))

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self.log.append(("lambda", id(node)))
        return False

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.log.append(("line", id(node)))


@pytest.mark.parametrize("path", FILES)
def test_hooks_are_called_as_libcst_calls_them(path: str) -> None:
    module = cst.parse_module((ROOT / path).read_text())
    theirs, ours = _Hooks(), _Hooks()
    module.visit(theirs)
    traverse.visit(module, ours)
    assert ours.log == theirs.log


@pytest.mark.parametrize("path", FILES)
def test_a_subtree_holds_only_what_its_root_can_reach(path: str) -> None:
    """The node classes read from LibCST's field types (what a walk uses to skip a subtree) cover every node
    found below a node of each class."""
    module = cst.parse_module((ROOT / path).read_text())

    def below(node: cst.CSTNode) -> set[type]:
        found = {type(node)}
        for child in traverse.children(node):
            found |= below(child)
        reach = traverse.reach(type(node))
        assert reach is not None, type(node).__name__
        assert found <= reach, (type(node).__name__, found - reach)
        return found

    below(module)

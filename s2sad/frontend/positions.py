"""Where each node of a LibCST tree stands in the text: LibCST's ``PositionProvider``, computed faster.

LibCST computes positions by generating the module's code with a state that records where each node starts and
ends (its ``PositionProvidingCodegenState``). That costs about six times the code generation itself: each
token is split on a regular expression, each node gets two ``CodePosition`` objects and a ``CodeRange``, each
syntactic position goes through a generator-based context manager and each record hashes the node with a
Python-level ``__hash__``. The state here records the same positions through the same hooks of the same code
generation (so the rules of which node spans what stay LibCST's, whatever its version), as plain tuples keyed by
the node's identity; :class:`Positions` makes the ``CodeRange`` of a node when one is asked for.
(tests/test_positions.py compares the two on every file of the test programs.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange

__all__ = ["Positions", "of"]

_NEWLINE = re.compile(r"\r\n?|\n")

_Point = tuple[int, int]


class Positions(Mapping[cst.CSTNode, CodeRange]):
    """``wrapper.resolve(PositionProvider)``: each node's ``CodeRange`` (lines from 1, columns from 0)."""

    def __init__(self, nodes: dict[int, cst.CSTNode], ranges: dict[int, tuple[_Point, _Point]]) -> None:
        self._nodes = nodes
        self._ranges = ranges
        self._kinds: frozenset[type[cst.CSTNode]] | None = None

    def kinds(self) -> frozenset[type[cst.CSTNode]]:
        """The classes of the tree's nodes: a walk looking for a kind of node the tree has none of need not
        run."""
        if self._kinds is None:
            self._kinds = frozenset(map(type, self._nodes.values()))
        return self._kinds

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        (line, column), (end_line, end_column) = self._ranges[id(node)]
        return CodeRange(CodePosition(line, column), CodePosition(end_line, end_column))

    def points(self, node: cst.CSTNode) -> tuple[_Point, _Point]:
        """``self[node]`` as ``((line, column), (end_line, end_column))``, without making a ``CodeRange``."""
        return self._ranges[id(node)]

    def __contains__(self, node: object) -> bool:
        return id(node) in self._ranges and self._nodes[id(node)] is node

    def __iter__(self) -> Iterator[cst.CSTNode]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._ranges)


class _Record:
    """``with state.record_syntactic_position(node, start_node=..., end_node=...)``, without a generator."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _State, node: cst.CSTNode, start_node: Any, end_node: Any) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc: object) -> None:
        state = self.state
        ranges = state.ranges
        start = ranges[id(self.start_node)][0] if self.start_node is not None else self.start
        end = ranges[id(self.end_node)][1] if self.end_node is not None else (state.line, state.column)
        ranges[id(self.node)] = (start, end)
        state.nodes[id(self.node)] = self.node


class _State(CodegenState):
    """LibCST's ``PositionProvidingCodegenState``, with the positions kept as tuples."""

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.line = 1
        self.column = 0
        self.stack: list[_Point] = []
        self.ranges: dict[int, tuple[_Point, _Point]] = {}
        self.nodes: dict[int, cst.CSTNode] = {}

    def _advance(self, value: str) -> None:
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        segments = _NEWLINE.split(value)
        self.line += len(segments) - 1
        self.column = len(segments[-1])

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        key = id(node)
        if key not in self.ranges:  # a syntactic position recorded inside the node stands
            self.ranges[key] = (start, (self.line, self.column))
            self.nodes[key] = node

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _Record:
        return _Record(self, node, start_node, end_node)


def of(module: cst.Module) -> Positions:
    """The position of every node of ``module``, as LibCST's ``PositionProvider`` gives them."""
    state = _State(module.default_indent, module.default_newline)
    module._codegen(state)
    return Positions(state.nodes, state.ranges)

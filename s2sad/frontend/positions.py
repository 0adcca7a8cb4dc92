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
    """``with state.record_syntactic_position(node, start_node=..., end_node=...)``, without a generator: one
    object per state, the records under way on a stack (they nest: a statement's, then its expressions')."""

    __slots__ = ("state",)

    def __init__(self, state: _State) -> None:
        self.state = state

    def __enter__(self) -> None:
        state = self.state
        state.records.append((state.pending, state.line, state.column))

    def __exit__(self, *exc: object) -> None:
        state = self.state
        (node, start_node, end_node), line, column = state.records.pop()
        ranges = state.ranges
        start = ranges[id(start_node)][0] if start_node is not None else (line, column)
        end = ranges[id(end_node)][1] if end_node is not None else (state.line, state.column)
        ranges[id(node)] = (start, end)
        state.nodes[id(node)] = node


class _State(CodegenState):
    """LibCST's ``PositionProvidingCodegenState``, with the positions kept as tuples."""

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.line = 1
        self.column = 0
        self.stack: list[_Point] = []
        self.ranges: dict[int, tuple[_Point, _Point]] = {}
        self.nodes: dict[int, cst.CSTNode] = {}
        self.pending: tuple[cst.CSTNode, Any, Any] | None = None  #: the record about to be entered
        self.records: list[tuple[Any, int, int]] = []
        self.recorder = _Record(self)

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
        if "\n" not in value and "\r" not in value:  # self._advance(value), without the call
            self.column += len(value)
        else:
            self._advance(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        key = id(node)
        ranges = self.ranges
        if key not in ranges:  # a syntactic position recorded inside the node stands
            ranges[key] = (start, (self.line, self.column))
            self.nodes[key] = node

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _Record:
        self.pending = (node, start_node, end_node)
        return self.recorder


def of(module: cst.Module) -> Positions:
    """The position of every node of ``module``, as LibCST's ``PositionProvider`` gives them."""
    state = _State(module.default_indent, module.default_newline)
    module._codegen(state)
    return Positions(state.nodes, state.ranges)

"""Programs: a function and every helper it reaches, with the user's rules.

Helpers are lowered on demand (callees complete before callers), each from its own file's reduced source;
a helper with ``@s2sad.rule`` is not looked into but copied as written. Recursion is a diagnostic naming the
cycle. Nothing is executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import ir
from ..rules import Rule, lookup
from ..source import check_syntax, read_source, reduce
from .expressions import _Expressions
from .lowering import _Lowerer
from .opaque import Opaque


@dataclass
class Program:
    """The function, the helpers it reaches (callees before callers) and the rules for calls to them."""

    main: ir.Function
    helpers: list[ir.Function] = field(default_factory=list)
    opaque: list[Opaque] = field(default_factory=list)
    rules: dict[tuple[str, int], Rule] = field(default_factory=dict)  #: the user's rules, by (name, arity)


def parse_function(source: str, path: str, name: str, line: int | None = None) -> ir.Function:
    """Lower the function ``name`` of ``source`` into IR (helpers it calls are an error: see parse_program)."""
    return parse_program(source, path, name, line, helpers=False).main


def parse_program(
    source: str,
    path: str,
    name: str,
    line: int | None = None,
    *,
    rules: dict[tuple[str, int], Rule] | None = None,
    helpers: bool = True,
) -> Program:
    """Lower the function ``name`` of ``source``, and every helper it calls, into IR.

    ``line`` (the function's first line, decorators included) selects a nested function, as the Python API
    needs for functions defined inside other functions; without it the function must be at the top level.
    ``rules`` are the user's rules from ``[tool.s2sad.rules]``.
    """
    context = _Context(dict(rules or {}), helpers)
    context.sources[path] = source  # helpers in the same file come from this text, not from the disk
    context.chain.append(name)
    main = context.lower(source, path, name, line)
    return Program(main, context.done, context.opaque, context.rules)


class _Context:
    """What the lowering of one program shares: the helpers lowered so far and the call chain."""

    def __init__(self, rules: dict[tuple[str, int], Rule], helpers: bool) -> None:
        self.rules = rules
        self.allow_helpers = helpers
        self.done: list[ir.Function] = []
        self.opaque: list[Opaque] = []
        self.chain: list[str] = []  #: helpers being lowered, outermost first
        self.sources: dict[str, str] = {}

    def lookup(self, fn: str, nargs: int) -> Rule | None:
        return self.rules.get((fn, nargs)) or lookup(fn, nargs)

    def lower(self, source: str, path: str, name: str, line: int | None) -> ir.Function:
        tree = check_syntax(source, path)
        reduced, line_numbers = reduce(source, tree, name, line)
        wrapper = MetadataWrapper(cst.parse_module(reduced), unsafe_skip_copy=True)
        lowerer = _Lowerer(wrapper, source, path, line_numbers, self)
        return lowerer.lower(lowerer.find(name, line))

    def helper(self, caller: _Expressions, node: cst.Call, name: str, path: str) -> str | None:
        """Lower the helper ``name`` of the file ``path`` (once), for a call at ``node``; its rule's key."""
        known = {f.name for f in self.done} | {o.name for o in self.opaque}
        if name in self.chain:
            cycle = " → ".join(self.chain[self.chain.index(name) :])
            caller.error(
                node,
                f"recursive call to '{name}' ({cycle} → {name}) is not supported",
                "recursion",
                "write the recursion as a loop with a known trip count",
            )
            return None
        if name in known:
            return name
        if path not in self.sources:
            self.sources[path] = read_source(path)
        self.chain.append(name)
        try:
            fn = self.lower(self.sources[path], path, name, None)
        finally:
            self.chain.pop()
        if name not in {o.name for o in self.opaque}:
            self.done.append(fn)
        return name

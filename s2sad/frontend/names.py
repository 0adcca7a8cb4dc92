"""Names in one function: its scope, and what the program shares (the generated module's one namespace).

The frontend asks :mod:`s2sad.bindings` what a name refers to; this module holds the answers for the function
being lowered (:class:`Scope`) and the interface the lowering of one function needs from the program around
it (:class:`Context`, implemented by ``program._Context``): helpers, rules, and the names the generated
module binds at its top level. Each module of the user's has its own namespace; the generated module has
one, so a constant, an import or a helper that comes from another file and would take a name already taken
with another meaning is renamed on copy (or refused where its text is copied as written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import libcst as cst

from .. import ir
from ..bindings import FunctionScope
from ..diagnostics import Diagnostic
from ..rules import Rule


@dataclass
class Scope:
    """The function being lowered: its parameters and the names it binds (local everywhere in it)."""

    params: list[str]
    assigned: set[str]
    free: set[str] = field(default_factory=set)  #: names from an enclosing function

    @classmethod
    def of(cls, scope: FunctionScope) -> Scope:
        return cls(list(scope.params), set(scope.locals), set(scope.free) | scope.nonlocal_)


@dataclass(frozen=True)
class Signature:
    """How a helper's parameters take arguments; calls to it pass every parameter, in this order."""

    name: str  #: the helper's name in the generated module
    label: str  #: the user's name for it, for messages
    positional: tuple[str, ...]  #: positional-only, then positional-or-keyword parameters
    posonly: int  #: how many of ``positional`` are positional-only
    kwonly: tuple[str, ...] = ()
    defaults: dict[str, ir.Expr] = field(default_factory=dict)
    #: a helper that returns several values (``return a, b``): how many; a call reads each with ``ir.PART``
    #: (see :meth:`.results._Results.helper_results`); 0 for a helper returning one value
    several: int = 0
    #: a nested function lifted to a helper: its free variables, passed after its own parameters
    free: tuple[str, ...] = ()
    #: parameters given a tuple (see :class:`Spec`): a call passes its elements, one argument each
    tuples: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Spec:
    """What a call site decides about a helper's parameters; the helper gets a version of its own for it.

    A parameter given a tuple of known length (``h((x, y))``, ``h(state)`` with ``state`` a tuple variable)
    is a tuple variable in that version, one parameter per element, so differentiated values in it are
    followed element by element. A parameter whose default is None is known to be None (the call leaves it
    out, or passes None) or known not to be (the call passes a number, an array, an expression), and the
    version's ``if p is None:`` tests on it are decided when it is lowered (see :mod:`.callsites`)."""

    tuples: tuple[tuple[str, int], ...] = ()  #: (parameter, length), in parameter order
    none: tuple[tuple[str, bool], ...] = ()  #: (parameter, whether it is None), in parameter order

    def __bool__(self) -> bool:
        return bool(self.tuples or self.none)

    @property
    def label(self) -> str:
        """A key for the version, part of its meaning in the generated module's namespace."""
        parts = [f"{p}:tuple{n}" for p, n in self.tuples] + [f"{p}:{'None' if v else 'value'}" for p, v in self.none]
        return f"[{','.join(parts)}]" if parts else ""


class Context(Protocol):
    """What the lowering of one function needs from the program it belongs to."""

    rules: dict[tuple[str, int], Rule]
    allow_helpers: bool
    tuple_result: bool  #: the target may return a tuple
    failures: int  #: calls to helpers whose problems are reported already

    def lookup(self, fn: str, nargs: int) -> Rule | None: ...

    def helper(
        self, caller: object, node: cst.Call, name: str, path: str, *, line: int | None = None, within: str = ""
    ) -> Signature | None: ...

    def claim(self, name: str, meaning: str, taken: frozenset[str] | set[str]) -> str: ...

    def note_read(self, path: str, name: str, where: Callable[[], Diagnostic]) -> None: ...


class Namespace:
    """The top-level names of the generated module: each means one thing (first come, first named)."""

    def __init__(self) -> None:
        self.meanings: dict[str, str] = {}  #: name -> what it stands for
        self.names: dict[str, str] = {}  #: meaning -> its name

    def claim(self, name: str, meaning: str, taken: frozenset[str] | set[str] = frozenset()) -> str:
        """The name for ``meaning``: ``name`` if free (or already this meaning's), else ``name_2``, ..."""
        if meaning in self.names:
            return self.names[meaning]
        candidate, k = name, 1
        while self.meanings.get(candidate, meaning) != meaning or (candidate != name and candidate in taken):
            k += 1
            candidate = f"{name}_{k}"
        self.meanings[candidate] = meaning
        self.names[meaning] = candidate
        return candidate

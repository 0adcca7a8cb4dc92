"""Fresh names: the one place that decides every name of a generated module.

A generated module has one top-level scope (the gradient function, the helpers and their adjoint functions,
the support functions, copied constants, imports) and one local scope per function, and every name it reads
that it does not bind is a builtin. The user's names are kept; every name s2sad introduces is chosen here:

- a top-level name s2sad invents (``grad_f``, ``adjoint_h``, ``unbroadcast``, ``scatter``) is fresh against
  every name the user's code mentions anywhere (any function's locals and parameters, the helpers, constants,
  imports): it replaces nothing, and no local can shadow it;
- a local name s2sad invents (``x_1``, ``sin_x``, ``x_bar``, ``x_stack``, ``iterations``, ``cond``, the loop
  counter ``_``) is fresh against the function's own names, every top-level name and every builtin;
- a module, an object from a module or a builtin the output refers to (``math.cos``, ``np.sum``, ``range``)
  is spelled through a name that nothing else in the generated module binds: the user's own spelling when it
  is free, else the module's own name, else a fresh alias (``import math as math_1``, ``builtins.range``).

Names get a suffix (``x_bar_1``) only where they would collide, so the common case reads as before.
"""

from __future__ import annotations

import ast
import builtins
import functools
import io
import textwrap
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import ir
from .support_library import LIBRARY_SUPPORT

__all__ = [
    "Scope",
    "TangentNames",
    "ModuleNames",
    "Spelling",
    "BUILTINS",
    "SUPPORT_NAMES",
    "identifiers",
    "local_names",
    "bound_names",
    "function_names",
]

#: Every builtin: never chosen as an invented local, so the output's calls of builtins stay builtins.
BUILTINS = frozenset(dir(builtins))
#: The support functions the generated module may define (see :data:`s2sad.emit.SUPPORT`).
SUPPORT_NAMES = (
    "average_adjoint",
    "bundle",
    "but_last",
    "cholesky_adjoint",
    "cumsum_adjoint",
    "det_adjoint",
    "diag_adjoint",
    "einsum_adjoint",
    "gathered",
    "solve_adjoint_a",
    "solve_transposed",
    "trace_adjoint",
    "dot_adjoint_a",
    "dot_adjoint_b",
    "matmul_adjoint_a",
    "matmul_adjoint_b",
    "scatter",
    "select",
    "setitem_adjoint_v",
    "setitem_adjoint_x",
    "unbroadcast",
)
SUPPORT_NAMES += tuple(n for n in LIBRARY_SUPPORT if n not in SUPPORT_NAMES)  # issue 14's last rules, in order
SUPPORT_NAMES += ("zeros_of", "shaped_as")  # the adjoint of a tuple of items of different shapes
SUPPORT_NAMES += ("check_number",)  # a value taken for a number is one (see s2sad.number_guards)


class Scope:
    """Deterministic names in one scope: the user's own name for a first definition, then ``x_1``, ``x_2``.

    Names are handed out in program order, so they depend only on the text of the program, and a suffix is
    skipped when the name is reserved (the user's code, the module's top level or a builtin uses it).
    """

    def __init__(self, reserved: Iterable[str]) -> None:
        self.reserved = frozenset(reserved)
        self.taken: set[str] = set()
        #: per base, a suffix below which every ``base_k`` is taken or reserved: names are only ever added,
        #: so the search resumes there (n versions of one name cost O(n), not O(n^2))
        self._next: dict[str, int] = {}

    def claim(self, name: str) -> str:
        """Take ``name`` itself (a parameter, a loop index)."""
        self.taken.add(name)
        return name

    def fresh(self, base: str, *, own: bool = False) -> str:
        """``base`` if free (``own``: it is the user's own name), else ``base_1``, ``base_2``, ..."""
        if base not in self.taken and (own or base not in self.reserved):
            return self.claim(base)
        k = self._next.get(base, 1)
        while f"{base}_{k}" in self.taken or f"{base}_{k}" in self.reserved:
            k += 1
        self._next[base] = k + 1
        return self.claim(f"{base}_{k}")


class TangentNames:
    """The tangents' names of one function's values, for forward mode (:mod:`s2sad.forward`) and forward over
    reverse (:mod:`s2sad.over_reverse`): ``x_dot`` for ``x``, fresh in the function's scope and the same each
    time asked. ``first`` (the differentiated parameters) are named at once: ``x_dot``, whatever the body
    invents later."""

    def __init__(self, scope: Scope, first: Iterable[str]) -> None:
        self.scope = scope
        self._names: dict[str, str] = {}
        for name in first:
            self(name)

    def __call__(self, name: str) -> str:
        if name not in self._names:
            self._names[name] = self.scope.fresh(f"{name}_dot")
        return self._names[name]


def identifiers(text: str) -> set[str]:
    """Every identifier a piece of Python source binds or reads (attribute names excepted)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(text))):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
    return out


def bound_names(fn: ir.Function) -> set[str]:
    """Every name a function of the IR binds: its parameters and locals."""
    names = {p.name for p in fn.params} | ir.assigned_names(fn.body)
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Unpack):
            names.update(s.targets)
        elif isinstance(s, ir.While) and s.counter is not None:
            names.add(s.counter)
    return {n for n in names if not n.startswith(ir.TEMP)}


def local_names(text: str) -> set[str]:
    """The names a function's source text binds: its own name, its parameters, its locals."""
    return set(_local_names(text))


@functools.lru_cache(maxsize=256)
def _local_names(text: str) -> frozenset[str]:
    # Cached by the text itself (the support functions' texts are read for every module generated): the
    # same text binds the same names.
    out: set[str] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(text))):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            out.add(node.name)
    return frozenset(out)


def function_names(fn: ir.Function) -> set[str]:
    """Every name a function of the IR binds or mentions (its own name excepted)."""
    names = bound_names(fn) | set(fn.user_names) | {b.local for b in fn.imports} | {c.name for c in fn.constants}
    return {n for n in names if not n.startswith(ir.TEMP)}


@dataclass
class ModuleNames:
    """The names of one generated module.

    Built from the user's functions (the target and its helpers, before any stage renamed anything) and the
    helpers copied as written; hands out the top-level names s2sad invents, and a :class:`Scope` per function.
    """

    user: frozenset[str]  #: every name the user's code mentions, top level and locals of every function
    top: frozenset[str]  #: the user's top-level names: helpers, copied helpers, constants, imports
    _scope: Scope = field(init=False)
    _invented: dict[str, str] = field(init=False, default_factory=dict)  #: key -> an invented top-level name

    def __post_init__(self) -> None:
        self._scope = Scope(self.user | self.top | BUILTINS)
        for name in SUPPORT_NAMES:
            self.support(name)

    @classmethod
    def of(cls, functions: Sequence[ir.Function], copied: Iterable[tuple[str, str]] = ()) -> ModuleNames:
        """The names of the module generated from ``functions`` (the target first) and ``copied`` helpers
        (name, source text)."""
        user: set[str] = set()
        top: set[str] = set()
        for i, fn in enumerate(functions):
            user |= function_names(fn)
            top |= {b.local for b in fn.imports} | {c.name for c in fn.constants}
            if i:  # the target itself is not in the module: its gradient is
                top.add(fn.name)
        for name, text in copied:
            top.add(name)
            user |= identifiers(text)
        names = cls(frozenset(user), frozenset(top))
        # every invented top-level name is decided before any local one, whatever the order of the stages
        if functions:
            names.gradient(functions[0].name)
            names.gradient(functions[0].name, with_value=True)
            for prefix in ("vjp_", "jacobian_"):  # the other modes' entry points (see s2sad.modes)
                names.entry(prefix, functions[0].name)
        for fn in functions[1:]:
            names.adjoint(fn.name)
            names.forward(fn.name)
        return names

    def _invent(self, key: str, base: str) -> str:
        if key not in self._invented:
            self._invented[key] = self._scope.fresh(base)
        return self._invented[key]

    def invented(self, key: str) -> str | None:
        """The name invented for ``key`` so far (``"adjoint h"``), None if none was: asks without inventing."""
        return self._invented.get(key)

    def invent(self, key: str, base: str) -> str:
        """A top-level name for ``key`` (the same each time asked), ``base`` or ``base_1`` when taken."""
        return self._invent(key, base)

    def gradient(self, name: str, *, with_value: bool = False) -> str:
        """``grad_f`` (``value_and_grad_f``), or ``grad_f_1`` when the user's code has a ``grad_f``."""
        prefix = "value_and_grad_" if with_value else "grad_"
        return self._invent(f"{prefix}{name}", f"{prefix}{name}")

    def entry(self, prefix: str, name: str) -> str:
        """A mode's function: ``vjp_f``, ``jacobian_f`` (``vjp_f_1`` when the user's code has a ``vjp_f``)."""
        return self._invent(f"{prefix}{name}", f"{prefix}{name}")

    def primal(self, name: str) -> str:
        """The target itself, copied into a module that evaluates it (a Jacobian's): ``f``, or a fresh name."""
        return self._invent(f"primal {name}", name)

    def adjoint(self, helper: str) -> str:
        """The name of the adjoint function of ``helper``: ``adjoint_h``."""
        return self._invent(f"adjoint {helper}", f"adjoint_{helper}")

    def forward(self, helper: str) -> str:
        """The name of the function that runs ``helper`` and keeps what its adjoint reads: ``forward_h``."""
        return self._invent(f"forward {helper}", f"forward_{helper}")

    def split(self) -> list[tuple[str, str]]:
        """``(forward_h, adjoint_h)`` for every helper ``h``: the adjoint reads what the forward function saved."""
        keys = [k[len("adjoint ") :] for k in self._invented if k.startswith("adjoint ")]
        return [
            (self._invented[f"forward {h}"], self._invented[f"adjoint {h}"])
            for h in keys
            if f"forward {h}" in self._invented
        ]

    def tangent(self, name: str) -> str:
        """The name of the forward-mode (tangent) function of ``name``: ``jvp_f``, ``jvp_f_1`` when taken."""
        return self._invent(f"jvp {name}", f"jvp_{name}")

    def hvp(self, name: str) -> str:
        """The name of the Hessian-vector product function of ``name``: ``hvp_f``, ``hvp_f_1`` when taken."""
        return self._invent(f"hvp {name}", f"hvp_{name}")

    def support(self, name: str) -> str:
        """The name of the support function ``name`` (``unbroadcast``, ``scatter``) in this module."""
        return self._invent(f"support {name}", name)

    def top_level(self) -> set[str]:
        """Every top-level name of the module: the user's and the invented ones."""
        return set(self.top) | set(self._invented.values())

    def local(self, fn: ir.Function) -> Scope:
        """A scope for the names invented inside ``fn``: fresh against its own names, the top level and the
        builtins (not its own name: a function never calls itself, and its result may be named after it)."""
        return Scope(function_names(fn) | (self.top - {fn.name}) | set(self._invented.values()) | BUILTINS)


# --------------------------------------------------------------------------------------------------------------
# Spelling: how the output refers to modules, their objects and builtins
# --------------------------------------------------------------------------------------------------------------
class Spelling:
    """The generated module's imports, and how each qualified name is written in it.

    ``bound`` is every name the module binds other than by its imports (functions, constants, every
    function's parameters and locals, every identifier of a function copied as written). An import binds a
    name only if nothing else binds it, so every reference means what it should in every scope;
    ``not_modules`` are names a module must not be imported as (the locals of functions that use modules).
    """

    def __init__(self, bound: Iterable[str], not_modules: Iterable[str] = ()) -> None:
        self.bound = set(bound)
        self.not_modules = frozenset(not_modules)
        self.modules: dict[str, str] = {}  #: prefix as written (``np``, ``scipy.special``) -> module
        self.names: dict[str, set[tuple[str, str]]] = {}  #: module -> {(name, local)}: one object may have two
        self.owners: dict[str, str] = {}  #: a name the imports bind -> what it is bound to
        self.bare_builtins: set[str] = set()  #: builtins written by their own name

    # ----- binding --------------------------------------------------------------------------------------------
    @staticmethod
    def _owner(local: str, qualname: str, is_module: bool) -> tuple[str, str]:
        """(the name an import binds, what it binds it to)."""
        if is_module and local == qualname:  # import a.b binds a, to the package a
            top = qualname.split(".")[0]
            return top, f"module {top}"
        return local.split(".")[0], f"{'module' if is_module else 'object'} {qualname}"

    def free(self, local: str, qualname: str, is_module: bool) -> bool:
        """Whether the import of ``qualname`` as ``local`` can be added without changing any other name."""
        name, owner = self._owner(local, qualname, is_module)
        if self.owners.get(name, owner) != owner or name in self.bound or name in self.bare_builtins:
            return False  # another import, a builtin, or a function or variable somewhere uses the name
        return not (is_module and name in self.not_modules)

    def bind(self, local: str, qualname: str, is_module: bool) -> None:
        name, owner = self._owner(local, qualname, is_module)
        self.owners[name] = owner
        if is_module:
            self.modules[local] = qualname
        else:
            module, attr = qualname.rsplit(".", 1)
            self.names.setdefault(module, set()).add((attr, local))

    def force(self, bindings: Iterable[ir.Binding]) -> None:
        """The imports of a function copied as written: exactly the user's spelling."""
        for b in bindings:
            self.bind(b.local, b.qualname, b.is_module)

    def module(self, module: str, preferred: Sequence[str] = ()) -> str:
        """The prefix the output writes ``module``'s objects with: an existing import of it, one of the
        ``preferred`` names, the module's own name, else a fresh alias."""
        for local, m in sorted(self.modules.items()):
            if m == module and self.free(local, module, True):
                return local
        for local in (*preferred, module):
            if self.free(local, module, True):
                self.bind(local, module, True)
                return local
        base = module.replace(".", "_")
        k = 1
        while not self.free(f"{base}_{k}", module, True):
            k += 1
        self.bind(f"{base}_{k}", module, True)
        return f"{base}_{k}"

    # ----- spelling ------------------------------------------------------------------------------------------
    def name(self, qualname: str, user: Sequence[ir.Binding] = ()) -> str:
        """How ``qualname`` is written, following the user's imports ``user`` (``exp`` after ``from math
        import exp``, ``m.exp`` after ``import math as m``); a name without a module is the module's own."""
        if "." not in qualname:
            return qualname  # a module constant, or a function of the generated module
        module, attr = qualname.rsplit(".", 1)
        if module == "builtins":
            if attr in self.bare_builtins or (attr not in self.bound and attr not in self.owners):
                self.bare_builtins.add(attr)
                return attr
            return f"{self.module('builtins')}.{attr}"
        for b in user:  # the user's own binding of the object
            if b.qualname == qualname and not b.is_module and self.free(b.local, qualname, False):
                self.bind(b.local, qualname, False)
                return b.local
        for b in user:  # the user's binding of its module (or of a package above it)
            if b.is_module and qualname.startswith(b.qualname + ".") and self.free(b.local, b.qualname, True):
                self.bind(b.local, b.qualname, True)
                return b.local + qualname[len(b.qualname) :]
        user_locals = {b.local for b in user}
        from_style = any(not b.is_module and b.qualname.rsplit(".", 1)[0] == module for b in user)
        if from_style and attr not in user_locals and self.free(attr, qualname, False):
            self.bind(attr, qualname, False)
            return attr
        return f"{self.module(module)}.{attr}"

    def lines(self) -> list[str]:
        """The import statements, sorted."""
        lines: list[str] = []
        for local, module in sorted(self.modules.items(), key=lambda item: (item[1], item[0])):
            lines.append(f"import {module}" if local == module else f"import {module} as {local}")
        for module, names in sorted(self.names.items()):
            items = sorted(n if local == n else f"{n} as {local}" for n, local in names)
            lines.append(f"from {module} import {', '.join(items)}")
        return lines

    def rewrite(self, text: str, names: dict[str, str]) -> str:
        """``text`` with each identifier in ``names`` (not an attribute, not a keyword argument) replaced by
        its spelling: how a support function's ``np.`` and builtins are written in this module."""
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        lines = text.splitlines(keepends=True)
        edits: list[tuple[int, int, int, str]] = []
        significant = [t for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)]
        for i, t in enumerate(significant):
            if t.type != tokenize.NAME or t.string not in names:
                continue
            before = significant[i - 1].string if i else ""
            after = significant[i + 1].string if i + 1 < len(significant) else ""
            if before == "." or after == "=":
                continue
            spelled = names[t.string]
            if spelled != t.string:
                edits.append((t.start[0] - 1, t.start[1], t.end[1], spelled))
        for row, start, end, spelled in sorted(edits, reverse=True):
            lines[row] = lines[row][:start] + spelled + lines[row][end:]
        return "".join(lines)

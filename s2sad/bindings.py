"""Bindings: what a name refers to, by Python's own scoping rules. The one place that decides it.

A module's namespace is what its top-level code leaves in it, and any statement anywhere may add to it: an
assignment inside ``if``/``for``/``with``/``try``, a ``for`` or ``with ... as`` target, a walrus, ``del``, an
``import``, a ``def`` or ``class``, a function that declares the name ``global``; ``from m import *`` and writes
through ``globals()``, ``vars()``, ``exec`` or ``sys.modules`` bind names no reading of the text can know.
:class:`ModuleScope` collects every such binding of every name (from CPython's own tree: identifiers are
already NFKC-normalised), and :meth:`ModuleScope.resolve` gives a name exactly one meaning or says why it
cannot: a name with two bindings, or with one that only runs under a condition, is ambiguous. The one
exception is Python's own: several top-level ``def`` of one name, and nothing else, leave the last.

A function's own scope comes from the standard library's ``symtable`` (the compiler's symbol table): a name
assigned anywhere in the function is local everywhere in it, parameters, ``global``/``nonlocal``
declarations, names from an enclosing function.
"""

from __future__ import annotations

import ast
import builtins
import functools
import symtable
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from . import literals

__all__ = ["Site", "Meaning", "ModuleScope", "FunctionScope", "function_scope", "is_numeric"]

_BUILTINS = frozenset(dir(builtins))

#: Calls that write a module's namespace by name, out of sight of its text.
_DYNAMIC_CALLS = {"globals", "vars", "exec", "eval", "locals", "__import__"}


@dataclass(frozen=True)
class Site:
    """One binding of a name in a module's namespace."""

    name: str
    kind: str  #: what binds it, in words: "assignment", "import", "def", "'for' target", ...
    line: int
    col: int
    top: bool  #: a statement of the module's body itself: runs once, unconditionally, at import
    value: ast.expr | None = None  #: for ``name = value`` (one target), the value
    qualname: str | None = None  #: for an import, what it binds: ``numpy`` or ``math.sin``
    is_module: bool = False  #: for an import, a module (``import m``) rather than an object of one
    imported: str | None = None  #: for an import, the module the statement imports: ``pkg.lib``, ``..lib``

    def describe(self) -> str:
        where = "" if self.top or self.name == "*" else " (inside a block)"
        return f"{self.kind} at line {self.line}{where}"


@dataclass(frozen=True)
class Meaning:
    """What a module-level name refers to: exactly one binding, the builtin of that name, or nothing."""

    kind: str  #: "import", "def", "constant", "other", "builtin", "undefined", "ambiguous"
    name: str
    site: Site | None = None
    competing: tuple[Site, ...] = ()  #: for "ambiguous": every binding that could be the one
    reason: str = ""  #: for "ambiguous": why no single binding is known

    @property
    def qualname(self) -> str | None:
        if self.kind == "import" and self.site is not None:
            return self.site.qualname
        if self.kind == "builtin":
            return f"builtins.{self.name}"
        if self.kind in ("def", "constant", "other"):
            return self.name
        return None


class ModuleScope:
    """Every binding of every name in one module's namespace."""

    def __init__(self, tree: ast.Module) -> None:
        self.sites: dict[str, list[Site]] = {}
        self.star: list[Site] = []  #: ``from m import *``
        self.dynamic: list[Site] = []  #: ``globals()[...] = ...``, ``exec(...)``, ``setattr(sys.modules...)``
        #: ``lib.K = 3.0``, ``setattr(lib, ...)``: writes into the namespace named ``base`` here (another
        #: module's, when ``base`` is an import), as ``base.attr`` (``base.*`` when the name is not known)
        self.attribute_writes: list[Site] = []
        #: every variable name the module mentions: each ``Name``'s and each parameter's
        self.words: set[str] = set()
        _Collector(self).module(tree)
        self._resolved: dict[str, Meaning] = {}  #: resolve's answers (a long function reads a name often)

    def add(self, site: Site) -> None:
        self.sites.setdefault(site.name, []).append(site)

    def foreign_writes(self) -> list[tuple[str, Site]]:
        """Each write this module makes into the namespace of another module, with that module's qualified
        name as this module imports it (``..lib`` for ``from .. import lib``, ``pkg.lib`` for
        ``pkg.lib.K = ...`` after ``import pkg.lib``): the site's name is the attribute written."""
        out = []
        for site in self.attribute_writes:
            base, *middle, attr = site.name.split(".")
            meaning = self.resolve(base)
            if meaning.kind == "import" and meaning.qualname is not None:
                into = ".".join([meaning.qualname, *middle])
                out.append((into, Site(attr, site.kind, site.line, site.col, site.top)))
        return out

    def resolve(self, name: str) -> Meaning:
        found = self._resolved.get(name)
        if found is None:
            found = self._resolved[name] = self._resolve(name)
        return found

    def _resolve(self, name: str) -> Meaning:
        sites = self.sites.get(name, [])
        unknowable = self.dynamic + self.star
        if unknowable:
            first = unknowable[0]
            how = "a star import" if first in self.star else first.kind if first.kind[0] == "'" else f"'{first.kind}'"
            return Meaning(
                "ambiguous",
                name,
                competing=tuple(sites) + tuple(unknowable),
                reason=f"{how} at line {first.line} may bind any name of the module",
            )
        if not sites:
            return Meaning("builtin" if name in _BUILTINS else "undefined", name)
        if len(sites) > 1:
            if all(s.kind == "def" and s.top for s in sites):  # Python keeps the last one
                return Meaning("def", name, sites[-1])
            if all(s.kind == "import" and s.top for s in sites):  # 'import math' twice: one meaning
                if len({(s.qualname, s.is_module) for s in sites}) == 1:
                    return Meaning("import", name, sites[-1])
            return Meaning("ambiguous", name, competing=tuple(sites), reason="it is bound more than once")
        site = sites[0]
        if not site.top:
            return Meaning(
                "ambiguous", name, competing=(site,), reason="it is bound only when a block runs (it may be unbound)"
            )
        if site.kind == "import":
            return Meaning("import", name, site)
        if site.kind == "def":
            return Meaning("def", name, site)
        if site.kind == "assignment" and site.value is not None and is_numeric(site.value):
            return Meaning("constant", name, site)
        return Meaning("other", name, site)


def is_numeric(node: ast.expr | None) -> bool:
    """A numeric literal expression: ``3.0``, ``-1 / 2``, ``2 ** 3``. Its value is never computed here; one a
    float cannot hold (``10 ** 400``) is still a constant, which :mod:`s2sad.limits` refuses where it is read."""
    if node is None:
        return False
    try:
        literals.value(node)
    except literals.NotNumeric:
        return False
    except literals.OutOfRange:
        return True
    return True


class _Collector:
    """Walks a module as Python executes it, recording each binding of the module's namespace."""

    def __init__(self, scope: ModuleScope) -> None:
        self.scope = scope
        self.parents: dict[ast.AST, ast.AST] = {}  #: each node's parent, once the module is walked
        self.locals_of: dict[ast.AST, frozenset[str]] = {}  #: memo of :func:`_local`: each scope's locals
        self.declares_global = False  #: some ``global`` statement in the module (see :meth:`nested`)
        self.writes: list[ast.Name | ast.Global] = []  #: names stored or deleted, and ``global`` statements
        self.body_writes: dict[ast.AST, tuple[set[str], set[str]]] | None = None  #: see :meth:`scope_writes`

    def module(self, tree: ast.Module) -> None:
        # One walk in ast.walk's order: each node's parent (the map's keys are the nodes in that order; a name's
        # context is left out).
        parents: dict[ast.AST, ast.AST] = {}
        self.parents = parents
        todo: deque[ast.AST] = deque([tree])
        while todo:
            node = todo.popleft()
            if type(node) is ast.Name:
                continue  # its one child is its context (Load, Store, Del), which no reading here looks at
            children = child_nodes(node)
            for child in children:
                parents[child] = node
            todo.extend(children)
        words = self.scope.words
        writes = self.writes
        for node in parents:
            if isinstance(node, ast.Name):
                words.add(node.id)
                if isinstance(node.ctx, (ast.Store, ast.Del)):
                    writes.append(node)
            elif isinstance(node, ast.arg):
                words.add(node.arg)
            elif isinstance(node, ast.Global):
                self.declares_global = True
                writes.append(node)
        for stmt in tree.body:
            self.statement(stmt, top=True)
        self.dynamic(tree, None)
        for node, parent in parents.items():  # in the walk's order (dynamic reads only a node's ancestors)
            if isinstance(node, (ast.Name, ast.Call, ast.Attribute)):  # the nodes dynamic looks at
                self.dynamic(node, parent)

    def scope_writes(self, scope: ast.AST) -> tuple[set[str], set[str]]:
        """The names the body of a function or lambda (nested scopes included) stores or deletes, and those it
        declares ``global``: each write is walked up to the scopes around it, once for the module."""
        if self.body_writes is None:
            found: dict[ast.AST, tuple[set[str], set[str]]] = {}
            for node in self.writes:
                child: ast.AST = node
                around = self.parents.get(node)
                while around is not None:
                    # in the body, not the header: a def's statements, a lambda's expression
                    if isinstance(around, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(child, ast.stmt):
                        inside = True
                    else:
                        inside = isinstance(around, ast.Lambda) and around.body is child
                    if inside:
                        stored, declared = found.setdefault(around, (set(), set()))
                        if isinstance(node, ast.Global):
                            declared.update(node.names)
                        else:
                            stored.add(node.id)
                    child, around = around, self.parents.get(around)
            self.body_writes = found
        return self.body_writes.get(scope) or (set(), set())

    def bind(self, name: str, kind: str, node: ast.AST, top: bool, **extra: object) -> None:
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        self.scope.add(Site(name, kind, line, col, top, **extra))  # type: ignore[arg-type]

    def statement(self, stmt: ast.stmt, top: bool) -> None:
        """A statement that runs in the module's namespace; ``top``: directly in the module's body."""
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for part in self._header(stmt):
                self.expression(part)
            self.bind(stmt.name, "def" if not isinstance(stmt, ast.ClassDef) else "class", stmt, top)
            self.nested(stmt, set())
            return
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".")[0]
                qualname = alias.name if alias.asname else alias.name.split(".")[0]
                self.bind(local, "import", stmt, top, qualname=qualname, is_module=True, imported=alias.name)
            return
        if isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name == "*":
                    self.scope.star.append(Site("*", "star import", stmt.lineno, stmt.col_offset, top))
                    continue
                module = "." * stmt.level + (stmt.module or "")
                qualname = f"{module}{alias.name}" if stmt.module is None else f"{module}.{alias.name}"
                self.bind(alias.asname or alias.name, "import", stmt, top, qualname=qualname, imported=module)
            return
        if isinstance(stmt, ast.Assign):
            self.expression(stmt.value)
            single = len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            for target in stmt.targets:
                self.target(target, "assignment", top, stmt.value if single else None)
            return
        if isinstance(stmt, ast.AugAssign):
            self.expression(stmt.value)
            self.target(stmt.target, "augmented assignment", top)
            return
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.expression(stmt.value)
                self.target(stmt.target, "assignment", top, stmt.value if isinstance(stmt.target, ast.Name) else None)
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.expression(stmt.iter)
            self.target(stmt.target, "'for' target", False)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.expression(item.context_expr)
                if item.optional_vars is not None:
                    self.target(item.optional_vars, "'with ... as' target", False)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                self.target(target, "'del'", top)
            return
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                if handler.name:
                    self.bind(handler.name, "'except ... as' target", handler, False)
                if handler.type is not None:
                    self.expression(handler.type)
        elif isinstance(stmt, ast.Match):
            self.expression(stmt.subject)
            for case in stmt.cases:
                for node in ast.walk(case.pattern):
                    for attr in ("name", "rest"):
                        bound = getattr(node, attr, None)
                        if isinstance(bound, str) and not isinstance(node, ast.MatchClass):
                            self.bind(bound, "'case' capture", node, False)
                if case.guard is not None:
                    self.expression(case.guard)
        # Every other statement: its expressions (a walrus binds here), then its nested blocks.
        for name, value in ast.iter_fields(stmt):
            if name in ("body", "orelse", "finalbody", "handlers", "cases", "items", "target", "iter"):
                continue
            for part in value if isinstance(value, list) else [value]:
                if isinstance(part, ast.expr):
                    self.expression(part)
        for block in ("body", "orelse", "finalbody"):
            for inner in getattr(stmt, block, []) or []:
                self.statement(inner, top=False)
        for handler in getattr(stmt, "handlers", []) or []:
            for inner in handler.body:
                self.statement(inner, top=False)
        for case in getattr(stmt, "cases", []) or []:
            for inner in case.body:
                self.statement(inner, top=False)

    def _header(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[ast.expr]:
        """The parts of a ``def``/``class`` statement evaluated in the enclosing scope."""
        parts: list[ast.expr] = list(stmt.decorator_list)
        if isinstance(stmt, ast.ClassDef):
            parts += list(stmt.bases) + [k.value for k in stmt.keywords]
        else:
            args = stmt.args
            parts += [d for d in args.defaults + args.kw_defaults if d is not None]
        return parts

    def target(self, node: ast.expr, kind: str, top: bool, value: ast.expr | None = None) -> None:
        if isinstance(node, ast.Name):
            self.bind(node.id, kind, node, top, value=value)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.target(element, kind if kind != "assignment" else "tuple assignment", top)
        elif isinstance(node, ast.Starred):
            self.target(node.value, kind, top)
        else:
            self.expression(node)

    def expression(self, node: ast.expr) -> None:
        """Walrus targets in an expression evaluated in the module's namespace (comprehensions included)."""
        for inner in ast.walk(node):
            if isinstance(inner, ast.NamedExpr) and isinstance(inner.target, ast.Name):
                self.bind(inner.target.id, "walrus ':='", inner, False)
            elif isinstance(inner, ast.Lambda):
                self.nested(inner, set())

    def nested(self, node: ast.AST, declared: set[str]) -> None:
        """A function or class body: only names it declares ``global`` bind the module's namespace."""
        if not declared and not self.declares_global:
            return  # no 'global' anywhere in the module: no nested scope binds a name of its namespace
        body = node.body if isinstance(node.body, list) else [node.body]  # type: ignore[attr-defined]
        declared = set(declared)
        own = _own_nodes(body)
        for inner in own:
            if isinstance(inner, ast.Global):
                declared.update(inner.names)
        for inner in own:
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                if not isinstance(inner, ast.Lambda) and inner.name in declared:
                    self.bind(inner.name, "'global' def", inner, False)
                self.nested(inner, set())  # a nested scope's own 'global' declarations count, not these
            elif isinstance(inner, ast.Name) and isinstance(inner.ctx, (ast.Store, ast.Del)) and inner.id in declared:
                self.bind(inner.id, "'global' assignment", inner, False)
            elif isinstance(inner, (ast.Import, ast.ImportFrom)):
                for alias in inner.names:
                    local = alias.asname or alias.name.split(".")[0]
                    if local in declared:
                        self.bind(local, "'global' import", inner, False)

    def dynamic(self, node: ast.AST, parent: ast.AST | None) -> None:
        """``globals()``, ``vars()``, ``exec``, ``setattr(sys.modules[...], ...)``, a namespace's dictionary
        (``h.__globals__``, ``m.__dict__``, a frame's ``f_globals``; anywhere but copied by ``dict(...)``), a
        dunder attribute written or called (``f.__code__ = ...``, ``m.__setattr__(...)``), a module from the
        import machinery (``importlib.import_module``): the namespace is not known.
        ``m.K = ...`` and ``setattr(m, ...)``: a write into the namespace ``m`` names (``pkg.lib.K = ...``:
        into ``pkg.lib``). A name used as a value (``L = lib``, ``p(lib)``, ``s = setattr``) hands the object on
        to code that may write into it under another name: a write of any name (``lib.*``), or, for ``setattr``
        and ``delattr``, an unknown namespace."""
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and _passed_on(node, parent)
            and not _local(node, self.parents, self.locals_of, self.scope_writes)
        ):
            if node.id in ("setattr", "delattr"):
                self.scope.dynamic.append(Site("*", f"'{node.id}' used as a value", *where, False))
            else:
                self.scope.attribute_writes.append(Site(f"{node.id}.*", f"'{node.id}' used as a value", *where, False))
            return
        if isinstance(node, ast.Call):
            fn = node.func.id if isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Attribute) and node.func.attr in _IMPORT_CALLS:
                fn = node.func.attr
            first = node.args[0] if node.args else None
            second = node.args[1] if len(node.args) > 1 else None
            attr = second.value if isinstance(second, ast.Constant) and isinstance(second.value, str) else None
            if fn in _DYNAMIC_CALLS or fn in _IMPORT_CALLS:
                self.scope.dynamic.append(Site("*", f"{fn}()", *where, False))
            elif fn in ("getattr", "hasattr") and (attr is None or not _harmless(attr)) and second is not None:
                self.scope.dynamic.append(Site("*", f"{fn}()", *where, False))
            elif fn in ("setattr", "delattr") and first is not None and _mentions_modules(first):
                self.scope.dynamic.append(Site("*", f"{fn}()", *where, False))
            elif fn in ("setattr", "delattr") and first is not None:
                base = _dotted(first)
                if base is None or (attr is not None and _is_dunder(attr)):
                    self.scope.dynamic.append(Site("*", f"{fn}()", *where, False))
                else:
                    self.scope.attribute_writes.append(Site(f"{base}.{attr or '*'}", f"{fn}()", *where, False))
        elif isinstance(node, ast.Attribute) and (_is_dunder(node.attr) or node.attr in _NAMESPACES):
            if not _harmless_use(node, parent):
                self.scope.dynamic.append(Site("*", f"'.{node.attr}'", *where, False))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = _dotted(node.value)
            if base is None:  # 'f().K = ...', 'd["m"].K = ...': into a namespace no reading of the text knows
                self.scope.dynamic.append(Site("*", f"'.{node.attr}' assignment", *where, False))
            else:
                kind = f"'{base}.{node.attr}' assignment"
                self.scope.attribute_writes.append(Site(f"{base}.{node.attr}", kind, *where, False))
        elif isinstance(node, ast.Attribute) and node.attr == "modules":
            if isinstance(node.value, ast.Name) and node.value.id == "sys":
                self.scope.dynamic.append(Site("*", "'sys.modules'", *where, False))


#: Calls that give a module object by a name computed at run time (``importlib.import_module("m").K = 5.0``).
_IMPORT_CALLS = {"import_module", "reload", "__import__"}
#: Attributes that are a namespace, or hold values a function reads as if they were (a frame's namespaces,
#: keyword defaults, closure cells, the module of a builtin: ``len.__self__``).
_NAMESPACES = {
    "__globals__",
    "__dict__",
    "__builtins__",
    "__self__",
    "__kwdefaults__",
    "__closure__",
    "f_globals",
    "f_locals",
    "f_builtins",
}
#: Dunder attributes a call to does not change a namespace.
_HARMLESS_CALLS = {"__init__", "__repr__", "__str__", "__len__", "__hash__", "__eq__", "__format__"}
#: Builtins that only copy or describe their argument: ``dict(f.__globals__, np=anp)`` is a new dictionary.
_COPIES = {"dict", "list", "tuple", "set", "frozenset", "sorted", "len", "repr", "str", "print", "id", "type"}


def _is_dunder(attr: str) -> bool:
    return attr.startswith("__") and attr.endswith("__") and len(attr) > 4


def _harmless(attr: str) -> bool:
    """``getattr(x, attr)`` cannot give write access to a namespace."""
    return not (_is_dunder(attr) or attr in _NAMESPACES) or attr in ("__name__", "__qualname__", "__doc__")


def _harmless_use(node: ast.Attribute, parent: ast.AST | None) -> bool:
    """``x.__dunder__`` here cannot write a namespace: read only, and not a namespace given away."""
    if isinstance(node.ctx, (ast.Store, ast.Del)):
        return False
    copied = isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name)
    if node.attr in _NAMESPACES:
        return copied and parent.func.id in _COPIES  # type: ignore[union-attr]
    called = isinstance(parent, ast.Call) and parent.func is node
    return not called or node.attr in _HARMLESS_CALLS


def _dotted(node: ast.expr) -> str | None:
    """``a`` or ``a.b.c`` as text; None for any other expression."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _local(
    node: ast.Name,
    parents: dict[ast.AST, ast.AST],
    memo: dict[ast.AST, frozenset[str]],
    writes: Callable[[ast.AST], tuple[set[str], set[str]]],
) -> bool:
    """``node`` names a local of a function, lambda or comprehension around it (a parameter or a name it
    assigns), not the module's binding of that name. ``memo`` keeps each scope's locals, so that a module's
    names are checked in time linear in its size."""
    scope = parents.get(node)
    while scope is not None:
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            names = memo.get(scope)
            if names is None:
                names = memo[scope] = _scope_locals(scope, *writes(scope))
            if node.id in names:
                return True
        scope = parents.get(scope)
    return False


def _scope_locals(
    scope: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, stored: set[str], declared: set[str]
) -> frozenset[str]:
    """The parameters of a function or lambda, and the names its body (nested scopes included) assigns or
    deletes (``stored``) without declaring them ``global`` anywhere in it (``declared``)."""
    arguments = scope.args
    every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
    every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return frozenset({a.arg for a in every} | (stored - declared))


def _passed_on(node: ast.Name, parent: ast.AST | None) -> bool:
    """``node`` is used as a value, not only read from (``lib.K``) or called (``h(x)``)."""
    if isinstance(parent, ast.Attribute) and parent.value is node:
        return False
    return not (isinstance(parent, ast.Call) and parent.func is node)


def _mentions_modules(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) and n.id in ("sys", "__name__") for n in ast.walk(node))


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """``list(ast.iter_child_nodes(node))``, without its generators."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            out.append(value)
        elif isinstance(value, list):
            out.extend(item for item in value if isinstance(item, ast.AST))
    return out


def _own_nodes(body: list[ast.stmt] | list[ast.expr]) -> list[ast.AST]:
    """The nodes of a scope's body, not descending into nested scopes (whose headers are included)."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            header: list[ast.AST] = []
            if isinstance(node, ast.ClassDef):
                header = [*node.decorator_list, *node.bases]
            elif isinstance(node, ast.Lambda):
                header = [d for d in node.args.defaults + node.args.kw_defaults if d is not None]
            else:
                header = [*node.decorator_list, *(d for d in node.args.defaults + node.args.kw_defaults if d)]
            stack.extend(reversed(header))
            continue
        stack.extend(reversed(child_nodes(node)))
    return out


@dataclass
class FunctionScope:
    """One function's names, by the compiler's symbol table."""

    params: list[str]  #: in order: positional-only, positional, keyword-only
    locals: set[str]  #: every name the function binds (parameters excluded): local everywhere in it
    declared_global: set[str] = field(default_factory=set)
    nonlocal_: set[str] = field(default_factory=set)
    free: set[str] = field(default_factory=set)  #: names from an enclosing function
    globals_read: set[str] = field(default_factory=set)  #: names read from the module (or builtins)


@functools.lru_cache(maxsize=16)
def module_table(source: str, path: str) -> symtable.SymbolTable:
    """The compiler's symbol table of a module (once per text: the syntax check builds it first)."""
    return symtable.symtable(source, path, "exec")


def function_scope(source: str, path: str, node: ast.FunctionDef) -> FunctionScope:
    """The scope of the function ``node`` of ``source`` (found by its name and line in the symbol table)."""
    table = _find_table(module_table(source, path), node)
    args = node.args
    params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if args.vararg:
        params.append(args.vararg.arg)
    if args.kwarg:
        params.append(args.kwarg.arg)
    if table is None:  # pragma: no cover - the symbol table always has the function
        return FunctionScope(params, set())
    scope = FunctionScope(params, set())
    for sym in table.get_symbols():
        name = sym.get_name()
        if sym.is_parameter():
            continue
        if sym.is_declared_global():
            scope.declared_global.add(name)
        elif sym.is_nonlocal():
            scope.nonlocal_.add(name)
        elif sym.is_free():
            scope.free.add(name)
        elif sym.is_local():
            scope.locals.add(name)
        elif sym.is_global():
            scope.globals_read.add(name)
    return scope


def _find_table(table: symtable.SymbolTable, node: ast.FunctionDef) -> symtable.SymbolTable | None:
    lines = {node.lineno} | {d.lineno for d in node.decorator_list}
    for child in table.get_children():
        if child.get_type() == "function" and child.get_name() == node.name and child.get_lineno() in lines:
            return child
        found = _find_table(child, node)
        if found is not None:
            return found
    return None

"""Programs: a function and every helper it reaches, with the user's rules.

Helpers are lowered on demand (callees complete before callers), each from its own file's reduced source;
a helper with ``@s2sad.rule`` is not looked into but copied as written. Recursion is a diagnostic naming the
cycle. Nothing is executed.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import tokenize
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper

from .. import ir
from ..bindings import ModuleScope
from ..diagnostics import Diagnostic, S2sadError, Span
from ..rules import CONSTANTS, RULES, Rule, lookup
from ..source import check_syntax, normalise_identifiers, read_source, reduce, source_lines, strip_form_feeds
from .finder import NotFollowed, find_module, modules_run, user_file_for
from .lowering import _Lowerer
from .names import Namespace, Signature, Spec
from .opaque import Opaque


@dataclass
class Program:
    """The function, the helpers it reaches (callees before callers) and the rules for calls to them."""

    main: ir.Function
    helpers: list[ir.Function] = field(default_factory=list)
    opaque: list[Opaque] = field(default_factory=list)
    rules: dict[tuple[str, int], Rule] = field(default_factory=dict)  #: the user's rules, by (name, arity)
    read: list[tuple[str, str]] = field(default_factory=list)  #: (file, name as defined there) of each helper


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
    tuple_result: bool = False,
) -> Program:
    """Lower the function ``name`` of ``source``, and every helper it calls, into IR.

    ``line`` (the function's first line, decorators included) selects a nested function, as the Python API
    needs for functions defined inside other functions; without it the function must be at the top level.
    ``rules`` are the user's rules from ``[tool.s2sad.rules]``. ``tuple_result``: the function may end in
    ``return a, b`` (a vector-Jacobian product or a Jacobian takes one adjoint per value).
    """
    name = unicodedata.normalize("NFKC", name)  # as Python reads identifiers
    context = _Context(dict(rules or {}), helpers)
    context.tuple_result = tuple_result
    context.sources[path] = source  # helpers in the same file come from this text, not from the disk
    context.chain.append((path, name))
    context.claim(name, f"def {path}::{name}")
    try:
        main, _ = context.lower(source, path, name, line)
    except S2sadError as err:  # every problem in one run: the function's and its helpers'
        raise S2sadError([*err.diagnostics, *context.collected]) from None
    if context.collected:
        raise S2sadError(context.collected)
    context.check_foreign_writes()
    # Imports are named last: a helper copied from another file keeps its own name even where some module
    # imports it (``from lib import h``; the generated module calls the copy, never that import).
    main, *done = (context.name_imports(fn) for fn in [main, *context.done])
    read = list(dict.fromkeys([*context.signatures, *context.read_helpers]))
    return Program(main, done, context.opaque, context.rules, read)


#: The libraries s2sad knows the functions of (``numpy.sum``, ``math.pi``): by their rules, not their files.
_LIBRARIES = (
    frozenset(q.split(".")[0] for q, _ in RULES)
    | frozenset(q.split(".")[0] for q in CONSTANTS)
    | {"math", "numpy", "scipy", "operator"}
)


def _check_libraries(scope: ModuleScope, source: str, path: str) -> None:
    """An import of a library s2sad has rules for, where Python imports the user's file of that name
    instead (``numpy.py`` next to the module), is refused at the import: the rules would not be Python's."""
    found = []
    lines = source_lines(source)
    for site in sorted((s for sites in scope.sites.values() for s in sites), key=lambda s: (s.line, s.col)):
        top = (site.imported or "").split(".")[0]
        if site.kind != "import" or top not in _LIBRARIES:
            continue
        shadow = user_file_for(path, top)
        if shadow is not None:
            text = lines[site.line - 1] if 0 < site.line <= len(lines) else None
            found.append(
                Diagnostic(
                    path,
                    Span(site.line, site.col, site.line, site.col + 1),
                    f"'{top}' here is the file {shadow}, not the library s2sad has rules for",
                    "shadowed-library",
                    f"rename {shadow} (Python imports it before the installed '{top}')",
                    text,
                )
            )
    if found:
        raise S2sadError(found)


def _module_file(importer: str, module: str) -> str | None:
    try:
        found = find_module(importer, module)
    except NotFollowed:
        return None
    return None if found is None else str(found)


def _same_file(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


class _Context:
    """What the lowering of one program shares: the helpers lowered so far, the call chain, and the
    generated module's namespace."""

    def __init__(self, rules: dict[tuple[str, int], Rule], helpers: bool) -> None:
        self.rules = rules
        self.allow_helpers = helpers
        self.tuple_result = False  #: the target may return a tuple (see parse_program)
        self.done: list[ir.Function] = []
        self.opaque: list[Opaque] = []
        self.chain: list[tuple[str, str]] = []  #: helpers being lowered (file, name), outermost first
        self.sources: dict[str, str] = {}
        self.modules: dict[str, tuple[ast.Module, ModuleScope]] = {}
        self.signatures: dict[tuple[str, str], Signature] = {}
        self.lifted: dict[tuple[str, str], Signature] = {}  #: nested functions lifted to helpers
        self.versions: dict[tuple[str, str, str], Signature] = {}  #: helpers' versions for call sites (Spec)
        self.failed_versions: set[tuple[str, str, str]] = set()
        self.read_helpers: dict[tuple[str, str], None] = {}  #: versioned helpers read, in order
        self.collected: list[Diagnostic] = []  #: the problems of helpers, reported with the target's
        self.failed: set[tuple[str, str]] = set()  #: helpers with problems (calls to them are not reported)
        self.failures = 0  #: calls to such helpers so far (see _Calls.call)
        self.namespace = Namespace()
        self.words: set[str] = set()  #: every variable name of the files read so far
        #: (file, name, where): module-level names read, where (for a diagnostic) made when asked for
        self.reads: list[tuple[str, str, Callable[[], Diagnostic]]] = []

    def lookup(self, fn: str, nargs: int) -> Rule | None:
        return self.rules.get((fn, nargs)) or lookup(fn, nargs)

    def claim(self, name: str, meaning: str, taken: frozenset[str] | set[str] = frozenset()) -> str:
        """The generated module's name for ``meaning``; a new name is none the user's files use."""
        return self.namespace.claim(name, meaning, set(taken) | self.words)

    def module(self, source: str, path: str) -> tuple[ast.Module, ModuleScope]:
        """CPython's tree of the file and its bindings (once per file)."""
        if path not in self.modules:
            tree = check_syntax(source, path)
            self.modules[path] = (tree, ModuleScope(tree))
            _check_libraries(self.modules[path][1], source, path)
            self.words |= self.modules[path][1].words
        return self.modules[path]

    def lower(
        self,
        source: str,
        path: str,
        name: str,
        line: int | None,
        output: str | None = None,
        lifted: bool = False,
        spec: Spec = Spec(),
    ) -> tuple[ir.Function, Signature]:
        tree, bindings = self.module(source, path)
        reduced, line_numbers = reduce(source, tree, name, line)
        lines = source_lines(source)
        try:
            plain, moved = strip_form_feeds(reduced)
            normal, shifts = normalise_identifiers(plain)
            for number, moves in moved.items():
                shifts.setdefault(number, []).extend(moves)
            module = cst.parse_module(normal)
        except (tokenize.TokenError, SyntaxError, cst.ParserSyntaxError) as err:
            at = getattr(err, "raw_line", None) or getattr(err, "lineno", None) or 1
            number = line_numbers[min(max(at, 1), len(line_numbers)) - 1] if line_numbers else 1
            raise S2sadError(
                [
                    Diagnostic(
                        path,
                        Span(number, 0, number, 1),
                        "s2sad's parser cannot read this line as Python does; refusing rather than guessing",
                        "unsupported-source",
                        "look for unusual characters (line or paragraph separators, form feeds) and remove them",
                        lines[number - 1] if 0 < number <= len(lines) else None,
                    )
                ]
            ) from None
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        lowerer = _Lowerer(
            wrapper,
            source,
            path,
            line_numbers,
            self,
            tree=tree,
            bindings=bindings,
            lines=lines,
            shifts=shifts,
            helper=output is not None,
        )
        lowerer.output_name = output
        lowerer.lifted = lifted
        lowerer.spec = spec
        node = lowerer.find(name, line)
        fn = lowerer.lower(node)
        return fn, lowerer.signature(node, fn.name)

    def name_imports(self, fn: ir.Function) -> ir.Function:
        """One namespace in the generated module: an import whose name another meaning took moves."""
        imports = []
        for b in fn.imports:
            local = self.claim(b.local, f"import {b.qualname} {b.is_module}", fn.user_names)
            imports.append(dataclasses.replace(b, local=local))
        return dataclasses.replace(fn, imports=tuple(imports))

    def note_read(self, path: str, name: str, where: Callable[[], Diagnostic]) -> None:
        self.reads.append((path, name, where))

    def check_foreign_writes(self) -> None:
        """A module-level name read from a file that another module of the project rebinds from outside
        (``lib.K = 3.0``, ``setattr(lib, "K", 3.0)``), or whose names some module of the project can rebind
        out of sight (``lib.__dict__["K"] = 3.0``, ``importlib.import_module("lib").K = 3.0``,
        ``h.__globals__``), has no single binding: refused where it is read."""
        scopes = self._project()
        found: list[Diagnostic] = []
        for other, scope in scopes.items():  # 'math.sin = math.cos': the rules are no longer Python's
            for into, site in scope.foreign_writes():
                top = into.split(".")[0]
                # math.sin or an exception class as an argument: common, and not a module that can be written
                # into under another name; the module itself (L = math; L.sin = ...) is refused like a write
                handed_on = site.kind.endswith("used as a value") and "." in into
                if (top in _LIBRARIES or top == "builtins") and not handed_on:
                    text = source_lines(self.sources[other]) if other in self.sources else []
                    found.append(
                        Diagnostic(
                            other,
                            Span(site.line, site.col, site.line, site.col + 1),
                            f"'{into}.{site.name}' is rebound here; s2sad differentiates '{top}' by its own rules",
                            "ambiguous-binding",
                            "do not rebind library functions; define your own function and call it",
                            text[site.line - 1] if 0 < site.line <= len(text) else None,
                        )
                    )
        if found:
            raise S2sadError(found)
        for path, name, read in self.reads:
            where: Diagnostic | None = None
            for other, scope in scopes.items():
                for into, site in scope.foreign_writes():
                    if site.name in (name, "*") and _same_file(_module_file(other, into), path):
                        message = (
                            f"cannot tell which definition of '{name}' this is: {other} rebinds it from outside "
                            f"({site.kind} at line {site.line})"
                        )
                        where = where or read()
                        found.append(dataclasses.replace(where, message=message))
                for site in scope.dynamic[:1]:
                    message = (
                        f"cannot tell which definition of '{name}' this is: {other} may rebind any name of any "
                        f"module ({site.kind} at line {site.line})"
                    )
                    where = where or read()
                    found.append(dataclasses.replace(where, message=message))
        if found:
            raise S2sadError(found)

    def _project(self) -> dict[str, ModuleScope]:
        """The bindings of every file read, and of the user's modules they import (next to them), packages
        included."""
        scopes = {path: scope for path, (_, scope) in self.modules.items()}
        queue = list(scopes)
        while queue:
            path = queue.pop()
            for site in (s for sites in scopes[path].sites.values() for s in sites if "import" in s.kind):
                imported = site.imported or ""
                # 'import pkg.lib': pkg and pkg.lib; 'from lib import x': lib, and lib.x when x is a module
                for module in sorted({imported, site.qualname or ""} if imported else set()):
                    try:
                        run = modules_run(path, module) if module.strip(".") else []
                    except NotFollowed:
                        continue  # Python cannot import it either, or s2sad refuses it where it is called
                    for candidate in run:
                        key = str(candidate)
                        if key in scopes or any(_same_file(key, p) for p in scopes):
                            continue
                        try:
                            tree = ast.parse(read_source(key))
                        except (S2sadError, SyntaxError, ValueError):
                            continue  # Python cannot import it either
                        scopes[key] = ModuleScope(tree)
                        queue.append(key)
        return scopes

    def helper(
        self, caller: _Lowerer, node: cst.Call, name: str, path: str, *, line: int | None = None, within: str = ""
    ) -> Signature | None:
        """Lower the helper ``name`` of the file ``path`` (once), for a call at ``node``; how to call it.
        With ``line``: the function of that name defined on that line inside the function ``within``, lifted
        (see :mod:`.nested`); its text is part of ``within``'s, so it is not listed among the helpers read."""
        key = (path, name if line is None else f"{within}.<locals>.{name}:{line}")
        spec = Spec()
        if line is None and key not in self.chain and key not in self.failed:
            if path not in self.sources:
                self.sources[path] = read_source(path)
            tree, _ = self.module(self.sources[path], path)
            defs = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name]
            if defs:
                spec = caller.call_spec(node, defs[-1])
        if spec:
            return self._version(caller, node, name, path, key, spec)
        if key in self.chain:
            names = [n for _, n in self.chain[self.chain.index(key) :]]
            cycle = " → ".join(names)
            caller.error(
                node,
                f"recursive call to '{name}' ({cycle} → {name}) is not supported",
                "recursion",
                "write the recursion as a loop with a known trip count",
            )
            return None
        if key in self.signatures:
            return self.signatures[key]
        if key in self.lifted:
            return self.lifted[key]
        if key in self.failed:
            self.failures += 1
            return None
        if path not in self.sources:
            self.sources[path] = read_source(path)
        output = self.claim(name, f"def {path}::{key[1]}")
        self.chain.append(key)
        try:
            fn, signature = self.lower(self.sources[path], path, name, line, output, lifted=line is not None)
        except S2sadError as err:  # reported with the target's problems: the caller goes on
            self.collected.extend(err.diagnostics)
            self.failed.add(key)
            self.failures += 1
            return None
        finally:
            self.chain.pop()
        opaque = [o for o in self.opaque if o.name == fn.name]
        if opaque:
            clash = [
                b.local
                for b in opaque[0].imports
                if self.claim(b.local, f"import {b.qualname} {b.is_module}") != b.local
            ]
            if output != name or clash:
                caller.error(
                    node,
                    f"the helper '{name}' (with a rule, copied as written) would share the name "
                    f"'{clash[0] if clash else name}' with another definition in the generated module",
                    "ambiguous-binding",
                    "rename one of the two definitions",
                )
                return None
        elif fn.body and isinstance(fn.body[-1], ir.Return) and len(fn.body[-1].values) > 1:
            signature = self._several(fn, signature)
        else:
            self.done.append(fn)
        (self.signatures if line is None else self.lifted)[key] = signature
        return signature

    def _version(
        self, caller: _Lowerer, node: cst.Call, name: str, path: str, key: tuple[str, str], spec: Spec
    ) -> Signature | None:
        """The helper's version for what the call decides (see :class:`.names.Spec`), lowered once."""
        versioned = (*key, spec.label)
        if versioned in self.versions:
            return self.versions[versioned]
        if versioned in self.failed_versions:
            self.failures += 1
            return None
        output = self.claim(name, f"def {path}::{key[1]}{spec.label}")
        self.chain.append(key)
        try:
            fn, signature = self.lower(self.sources[path], path, name, None, output, spec=spec)
        except S2sadError as err:
            self.collected.extend(err.diagnostics)
            self.failed_versions.add(versioned)
            self.failures += 1
            return None
        finally:
            self.chain.pop()
        if any(o.name == fn.name for o in self.opaque):
            caller.error(
                node,
                f"the helper '{name}' has a rule of its own ('@s2sad.rule'): pass its arguments as values, not "
                "as a tuple, and give every argument",
                "unsupported-syntax",
            )
            return None
        if fn.body and isinstance(fn.body[-1], ir.Return) and len(fn.body[-1].values) > 1:
            signature = self._several(fn, signature)
        else:
            self.done.append(fn)
        self.versions[versioned] = signature
        self.read_helpers.setdefault(key, None)
        return signature

    def _several(self, fn: ir.Function, signature: Signature) -> Signature:
        """A helper returning several values (``return a, b``) stays one function returning the tuple: a call
        reads each value with ``ir.PART`` (see ``.results``), so the helper's body runs once per call in every
        mode, its adjoint once too."""
        self.done.append(fn)
        ret = fn.body[-1]
        assert isinstance(ret, ir.Return) and fn.name == signature.name
        return dataclasses.replace(signature, several=len(ret.values))

"""Live functions: the text a function object was compiled from, and the proof that it still is.

s2sad reads a live function's file; it never executes it again. The file may have been edited since the
module was imported, and then the text would not be the function the caller holds: s2sad would differentiate
the new text while the program runs the old code. So the text is compiled (not run) as CPython compiled it
when the module was imported, and the function's code object is compared with the one the text gives, recursively
(bytecode, constants and nested code, names, arguments). Any difference is a ``stale-source`` error; a function
without a file (a REPL, ``exec``, a lambda) is a ``no-source`` error.

The code is not all a function runs: it reads globals and has defaults. :func:`check_program` walks the live
objects from ``f`` as the calls do (each function's ``__globals__``, and the modules they hold) and checks each
against the text s2sad read:

- every module constant a function reads (``K = 2.0`` in its file) has that value, of that type, in the
  function's live globals (``lib.K = 5.0`` after the import, or the file edited since): ``stale-constant``;
- every name the file binds to a helper (``def h``, ``from lib import h as k``, ``lib3.g``) is bound to that
  helper's function, and every helper s2sad read is reached that way (``lib.h = h3``): ``stale-helper``;
  helpers reached are checked as ``f`` is, recursively, so a helper of a helper in a module ``f`` never names is
  checked too. A helper that cannot be reached through the live objects cannot be vouched for and is refused;
- each function's ``__defaults__`` and ``__kwdefaults__`` are the defaults its text gives: ``stale-default``;
- every other name it reads is what the file says: a builtin is the builtin (not ``lib.abs = ...``), an
  imported name or module is the object the import gives (not ``lib.sin = math.cos``, ``lib.math = ...``),
  where that module is loaded: ``rebound-name``. (A library module patched for everyone, ``math.sin = ...``,
  is not detected.)

A wrapper (anything with ``__wrapped__``, as ``functools.wraps`` makes) is never unwrapped: what it wraps is not
what it computes (``decorated-function``); only ``functools.cache`` / ``lru_cache`` is looked through. ``@s2sad.gradient`` and ``@s2sad.rule`` return the function itself.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import linecache
import sys
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import CodeType, FunctionType, ModuleType
from typing import Any

from . import literals
from .diagnostics import Diagnostic, S2sadError, Span
from .source import source_lines

__all__ = ["source_of", "check_program", "unwrap_cache"]

#: ``co_flags`` bits that describe the code itself (CO_OPTIMIZED ... CO_ASYNC_GENERATOR); the ``__future__``
#: bits above them depend on how the text was compiled (an IPython cell inherits them), not on the function.
_CODE_FLAGS = 0xFFFF


def source_of(f: Callable[..., Any]) -> tuple[str, str, str, int]:
    """(module text, path, name, first line) of a live function, read from its file and checked against it."""
    f = unwrap_cache(f)
    _refuse_wrapper(f)
    code = getattr(f, "__code__", None)
    if not isinstance(code, CodeType):
        raise TypeError(f"s2sad differentiates Python functions, not {type(f).__name__}")
    path, name, line = code.co_filename, code.co_name, code.co_firstlineno
    if name == "<lambda>":
        raise S2sadError(
            [
                Diagnostic(
                    path,
                    Span(line, 0, line, 0),
                    "a lambda has no name s2sad can find in the file",
                    "no-source",
                    "define the function with 'def'",
                    _line(path, line),
                )
            ]
        )
    linecache.checkcache(path)  # as inspect.getsource: the file as it is now, not an old snapshot
    lines = linecache.getlines(path, getattr(f, "__globals__", None))
    if not lines:
        raise S2sadError(
            [
                Diagnostic(
                    path,
                    None,
                    f"the source of '{name}' is not available: it was not defined in a file",
                    "no-source",
                    "define the function in a file and import it; s2sad reads its source, it never executes it again",
                )
            ]
        )
    source = "".join(lines)
    _check(code, source, path)
    return source, path, name, line


def check_program(
    f: Callable[..., Any], source: str, helpers: Iterable[tuple[str, str, str]], *, loading: bool = False
) -> None:
    """The live objects ``f`` runs are the text s2sad read: ``source`` for ``f``, and each helper
    ``(path, name as defined there, text)`` (see the module docstring). ``f`` itself passed :func:`source_of`.

    ``loading``: ``f``'s module may still be running (``@s2sad.gradient``), so a name its file binds below ``f``
    is not bound yet: such a name is not refused, nor a helper not reached yet (what is bound is checked)."""
    f = unwrap_cache(f)
    wanted = {_key(p, n): (p, n, t) for p, n, t in helpers}
    files: dict[str, _File] = {}
    found: set[tuple[str, str]] = set()
    seen = {id(f)}
    todo = [(f, source)]
    while todo:
        fn, text = todo.pop()
        code: CodeType = fn.__code__
        file = files.get(_real(code.co_filename))
        if file is None:
            file = files[_real(code.co_filename)] = _File.read(code.co_filename, text)
        _check_defaults(fn, file)
        names = sorted({n for c in _code_objects(code) for n in c.co_names})
        namespace: dict[str, Any] = fn.__globals__
        for n in names:
            if n in file.constants and not (n not in namespace and loading and _below(n, file, f)):
                _check_constant(n, namespace, file)
        _check_names(fn, names, file, wanted)
        for n, value, expected in _reached(namespace, names, file):
            value = unwrap_cache(value)
            key = _function_key(value)
            if isinstance(expected, str):  # from ... import name as n: the helper of that name
                mismatch = any(w[1] == expected for w in wanted) and (key not in wanted or key[1] != expected)
            else:
                mismatch = expected in wanted and key != expected
            if mismatch:
                _stale_helper(fn, n, value, wanted, expected, file)
            if key in wanted:
                found.add(key)
                if id(value) not in seen:
                    seen.add(id(value))
                    assert isinstance(value, FunctionType)
                    _check(value.__code__, wanted[key][2], wanted[key][0])
                    todo.append((value, wanted[key][2]))
    if loading:
        return
    for key in sorted(set(wanted) - found):
        path, name, text = wanted[key]
        where = _File.read(path, text).defs.get(name)
        raise S2sadError(
            [
                _at(
                    path,
                    where,
                    text,
                    f"the helper '{name}' s2sad read is not reached from '{f.__name__}' through the live modules: "
                    "s2sad cannot tell that it is the code that runs",
                    "stale-helper",
                    "call helpers by the names their modules bind them to (h(x), lib.h(x)), and reload the "
                    "modules if they were rebound or edited",
                )
            ]
        )


def _reached(
    namespace: dict[str, Any], names: list[str], file: _File
) -> Iterator[tuple[str, object, tuple[str, str] | str | None]]:
    """``(name, live object, what the file binds it to)`` for each global a function's code names, and for each
    member of a module it names that its code names too (``lib3.g``, ``pkg.sub.g``): the file binds a name to
    ``(file, name)`` (``def``, a module's member), to ``name`` (``from M import name as n``), or ``None``."""
    modules: list[tuple[str, ModuleType]] = []
    for n in names:
        if n not in namespace:
            continue
        value = namespace[n]
        if isinstance(value, ModuleType):
            modules.append((n, value))
        else:
            yield n, value, _key(file.path, n) if n in file.defs else file.imported.get(n)
    done = {id(m) for _, m in modules}
    while modules:
        n, module = modules.pop()
        module_file = getattr(module, "__file__", None)
        for a in names:
            member = vars(module).get(a)  # no module __getattr__ runs
            if isinstance(member, ModuleType):
                if id(member) not in done:
                    done.add(id(member))
                    modules.append((n, member))
            elif member is not None:
                yield n, member, _key(module_file, a) if isinstance(module_file, str) else None


def _below(name: str, file: _File, f: Callable[..., Any]) -> bool:
    """``name`` is bound in ``f``'s file below ``f``: while the module runs, it is not bound yet."""
    code: CodeType = getattr(f, "__code__")
    where = file.bindings.get(name)
    return _same_file(file.path, code.co_filename) and where is not None and where.lineno > code.co_firstlineno


def _check_names(fn: Any, names: list[str], file: _File, wanted: dict[tuple[str, str], Any]) -> None:
    """Each global ``fn``'s code reads that is neither a constant nor a helper is what its file says it is."""
    namespace: dict[str, Any] = fn.__globals__
    live_builtins: dict[str, Any] = getattr(fn, "__builtins__", vars(builtins))
    for n in names:
        if n.startswith("__") or "*" in file.counts:  # a star import binds names s2sad cannot list
            continue
        if n in file.counts:  # bound in the file: an import (constants and helpers are checked elsewhere)
            stmt = file.bindings.get(n)
            if not isinstance(stmt, (ast.Import, ast.ImportFrom)) or n not in namespace:
                continue
            value, expected = namespace[n], _imported(stmt, n, namespace)
            if expected is _UNKNOWN or value is expected:
                continue
            if _function_key(value) in wanted or _function_key(expected) in wanted:
                continue  # a helper: its code is checked, and a reloaded module gives new function objects
            said = f"what '{ast.unparse(stmt)}' gives"
        elif n in namespace and hasattr(builtins, n):
            value, stmt, said = namespace[n], None, f"the builtin '{n}'"
        elif n not in namespace and n in live_builtins and hasattr(builtins, n):
            value, stmt, said = live_builtins[n], None, f"the builtin '{n}'"
            if getattr(value, "__module__", None) == "builtins" and getattr(value, "__name__", None) == n:
                continue
        else:
            continue
        raise S2sadError(
            [
                _at(
                    file.path,
                    stmt if stmt is not None else _definition(fn, file),
                    file.text,
                    f"'{n}', which '{fn.__code__.co_name}' reads, is {_describe(value)} in the running program, "
                    f"not {said}: s2sad differentiates what the file says",
                    "rebound-name",
                    "reload the module, and do not rebind names of a module whose functions you differentiate",
                )
            ]
        )


def _imported(stmt: ast.Import | ast.ImportFrom, name: str, namespace: dict[str, Any]) -> object:
    """The object the import ``stmt`` binds to ``name``, from the loaded modules; ``_UNKNOWN`` if not loaded."""
    for alias in stmt.names:
        bound = alias.asname or alias.name.split(".")[0]
        if bound != name:
            continue
        if isinstance(stmt, ast.Import):
            module = sys.modules.get(alias.name if alias.asname else bound)
            return module if module is not None else _UNKNOWN
        try:
            package = namespace.get("__package__") or None
            module_name = importlib.util.resolve_name("." * stmt.level + (stmt.module or ""), package)
        except (ImportError, ValueError, TypeError):
            return _UNKNOWN
        module = sys.modules.get(module_name)
        if module is None:
            return _UNKNOWN
        if alias.name in vars(module):
            return vars(module)[alias.name]
        return sys.modules.get(f"{module_name}.{alias.name}", _UNKNOWN)
    return _UNKNOWN


def _describe(value: object) -> str:
    code = getattr(value, "__code__", None)
    if isinstance(code, CodeType):
        return f"'{code.co_name}' of {code.co_filename}:{code.co_firstlineno}"
    return f"{getattr(value, '__name__', type(value).__name__)!r} ({type(value).__name__})"


def _definition(fn: Any, file: _File) -> ast.AST | None:
    line = fn.__code__.co_firstlineno
    return next((n for n in ast.walk(file.tree) if getattr(n, "lineno", 0) == line), None) if file.tree else None


_UNKNOWN = object()


@dataclass
class _File:
    """What a file's text binds at its top level, each name bound once (the frontend refuses the others)."""

    path: str
    text: str
    constants: dict[str, ast.Assign | ast.AnnAssign] = field(default_factory=dict)  #: NAME = <value>
    defs: dict[str, ast.stmt] = field(default_factory=dict)  #: def NAME
    imported: dict[str, str] = field(default_factory=dict)  #: from M import name as NAME -> name
    bindings: dict[str, ast.stmt] = field(default_factory=dict)  #: every name bound once, and where
    counts: dict[str, int] = field(default_factory=dict)  #: how many top-level statements bind each name
    tree: ast.Module | None = None

    @classmethod
    def read(cls, path: str, text: str) -> _File:
        file = cls(path, text)
        try:
            file.tree = _parsed(text, path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return file  # not the code that runs either: _check refuses it
        count = file.counts
        for stmt in file.tree.body:
            for name in _bound(stmt):
                count[name] = count.get(name, 0) + 1
                file.bindings[name] = stmt
        for stmt in file.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                file.constants[stmt.targets[0].id] = stmt
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                file.constants[stmt.target.id] = stmt
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                file.defs[stmt.name] = stmt
            elif isinstance(stmt, ast.ImportFrom):
                file.imported.update({a.asname or a.name: a.name for a in stmt.names})
        for table in (file.constants, file.defs, file.imported, file.bindings):
            for name in [n for n in table if count.get(n, 0) != 1]:
                del table[name]
        return file


def _bound(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names]
    return [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))]


def _literal(node: ast.expr | None) -> object:
    """The value of a literal the text gives, computed without running anything; else ``_UNKNOWN``."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
        return node.value  # None, True, a string
    if node is None:
        return _UNKNOWN
    value, problem, _ = literals.problem(ast.unparse(node))
    return _UNKNOWN if problem is not None else value


def _equal(live: object, text: object) -> bool:
    """The same value of the same type: 2 is not 2.0, -0.0 is not 0.0, nan is nan."""
    if type(live) is not type(text):
        return False
    if isinstance(live, float):
        return repr(live) == repr(text)
    return live == text


def _check_constant(name: str, namespace: dict[str, Any], file: _File) -> None:
    stmt = file.constants[name]
    value = _literal(stmt.value)
    if value is _UNKNOWN or (name in namespace and _equal(namespace[name], value)):
        return
    live = f"is {namespace[name]!r}" if name in namespace else "is not defined"
    raise S2sadError(
        [
            _at(
                file.path,
                stmt,
                file.text,
                f"'{name}' {live} in the running program, not what the file says: s2sad would copy the file's value",
                "stale-constant",
                "reload the module if the file changed; a value that changes at run time should be a parameter",
            )
        ]
    )


def _check_defaults(fn: Any, file: _File) -> None:
    """``fn``'s live defaults are the ones its definition in the file gives."""
    code: CodeType = fn.__code__
    nodes = ast.walk(file.tree) if file.tree is not None else iter(())
    node = next(
        (
            n
            for n in nodes
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name == code.co_name
            and min([n.lineno] + [d.lineno for d in n.decorator_list]) == code.co_firstlineno
        ),
        None,
    )
    if node is None:
        return
    positional = [a.arg for a in node.args.posonlyargs + node.args.args]
    written = dict(zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults))
    written.update({a.arg: d for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None})
    names = code.co_varnames[: code.co_argcount]
    defaults = fn.__defaults__ or ()
    live = dict(zip(names[len(names) - len(defaults) :], defaults)) if defaults else {}
    live.update(fn.__kwdefaults__ or {})
    for param in sorted(set(written) | set(live), key=lambda p: (p not in positional, p)):
        text = _literal(written.get(param))
        if param in written and text is _UNKNOWN:
            continue  # not a literal: the frontend decides whether it can read it
        if param in written and param in live and _equal(live[param], text):
            continue
        now = f"is {live[param]!r}" if param in live else "is not set"
        said = f"'{ast.unparse(written[param])}'" if param in written else "none"
        raise S2sadError(
            [
                _at(
                    file.path,
                    node,
                    file.text,
                    f"the default of '{param}' of '{code.co_name}' {now} in the running program, but the file "
                    f"says {said}",
                    "stale-default",
                    "reload the module if the file changed; do not assign __defaults__ or __kwdefaults__ of a "
                    "function you differentiate",
                )
            ]
        )


def _stale_helper(
    fn: Any, name: str, value: object, wanted: dict[tuple[str, str], tuple[str, str, str]], expected: Any, file: _File
) -> None:
    code = getattr(value, "__code__", None)
    actual = (
        f"'{code.co_name}' of {code.co_filename}:{code.co_firstlineno}"
        if isinstance(code, CodeType)
        else f"a {type(value).__name__}"
    )
    helper = wanted.get(expected) if not isinstance(expected, str) else None
    read = f"'{helper[1]}' of {helper[0]}" if helper else f"the helper '{expected}'"
    raise S2sadError(
        [
            _at(
                file.path,
                file.bindings.get(name),
                file.text,
                f"'{name}', which '{fn.__code__.co_name}' calls, is {actual} in the running program, not {read}, "
                "which s2sad read",
                "stale-helper",
                "reload the modules, or do not rebind the functions you differentiate through",
            )
        ]
    )


def _at(path: str, node: ast.AST | None, text: str, message: str, code: str, help: str) -> Diagnostic:
    lines = source_lines(text)
    line = getattr(node, "lineno", 0)
    source = lines[line - 1] if 0 < line <= len(lines) else None
    span = Span(line, 0, line, len(source)) if source is not None else None
    return Diagnostic(path, span, message, code, help, source)


def unwrap_cache(f: Any) -> Any:
    """What ``functools.cache`` / ``functools.lru_cache`` caches (the cache returns what it returns, and the
    source must say '@functools.cache': see frontend.decorators); anything else as it is."""
    wrapped = getattr(f, "__wrapped__", None)
    if isinstance(f, functools._lru_cache_wrapper) and isinstance(wrapped, FunctionType):
        return wrapped
    return f


def _function_key(value: object) -> tuple[str, str] | None:
    value = unwrap_cache(value)
    code = value.__code__ if isinstance(value, FunctionType) else None
    return _key(code.co_filename, code.co_name) if code is not None else None


def _key(path: str, name: str) -> tuple[str, str]:
    return _real(path), name


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _refuse_wrapper(f: Callable[..., Any]) -> None:
    """A wrapper computes something else than what it wraps (``10 * fn(x)``): never unwrapped, refused."""
    if not hasattr(f, "__wrapped__"):
        return
    code = getattr(f, "__code__", None)
    path, line = (code.co_filename, code.co_firstlineno) if isinstance(code, CodeType) else ("<unknown>", 0)
    text = _line(path, line) if line else None
    raise S2sadError(
        [
            Diagnostic(
                path,
                Span(line, 0, line, len(text or "")) if text is not None else None,
                f"'{getattr(f, '__name__', f)}' is a wrapper (it has __wrapped__): s2sad differentiates what a "
                "function's own text computes, and a wrapper's is not the function it wraps",
                "decorated-function",
                "differentiate the undecorated function, and apply the decorator's arithmetic yourself",
                text,
            )
        ]
    )


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _check(code: CodeType, source: str, path: str) -> None:
    """The text compiles to a code object equal to ``code`` at the same line, or the file changed."""
    module = _compiled(source, path)
    if module is not None and any(
        _same(c, code)
        for c in _code_objects(module)
        if (c.co_name, c.co_firstlineno) == (code.co_name, code.co_firstlineno)
    ):
        return
    line = code.co_firstlineno
    lines = source_lines(source)
    text = lines[line - 1] if 0 < line <= len(lines) else None
    raise S2sadError(
        [
            Diagnostic(
                path,
                Span(line, 0, line, len(text or "")),
                f"the file changed since '{code.co_name}' was loaded: the function no longer matches its source",
                "stale-source",
                "reload the module (importlib.reload, or restart the interpreter) and differentiate the reloaded "
                "function; s2sad reads the file, so it must be the code that runs",
                text,
            )
        ]
    )


@functools.lru_cache(maxsize=8)
def _compiled(source: str, path: str) -> CodeType | None:
    """The text compiled as the import system does (nothing runs); once per text, not once per function of a
    module that decorates many (code objects are immutable)."""
    try:
        return compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@functools.lru_cache(maxsize=8)
def _parsed(text: str, path: str) -> ast.Module:
    """CPython's tree of a file's text, once per text (only read, never changed, by the checks here)."""
    return ast.parse(text, path)


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    stack = [code]
    while stack:
        c = stack.pop()
        yield c
        stack.extend(k for k in c.co_consts if isinstance(k, CodeType))


def _same(a: CodeType, b: CodeType) -> bool:
    """Equal code: what runs, not where it is (line numbers may move when lines above change)."""
    return (
        a.co_code == b.co_code
        and a.co_names == b.co_names
        and a.co_varnames == b.co_varnames
        and a.co_freevars == b.co_freevars
        and a.co_cellvars == b.co_cellvars
        and a.co_argcount == b.co_argcount
        and a.co_posonlyargcount == b.co_posonlyargcount
        and a.co_kwonlyargcount == b.co_kwonlyargcount
        and a.co_flags & _CODE_FLAGS == b.co_flags & _CODE_FLAGS
        and getattr(a, "co_exceptiontable", b"") == getattr(b, "co_exceptiontable", b"")
        and len(a.co_consts) == len(b.co_consts)
        and all(_same_constant(x, y) for x, y in zip(a.co_consts, b.co_consts))
    )


def _same_constant(x: object, y: object) -> bool:
    if type(x) is not type(y):  # 1 == 1.0 == True, but they are different programs
        return False
    if isinstance(x, CodeType):
        assert isinstance(y, CodeType)
        return _same(x, y)
    if isinstance(x, tuple):
        assert isinstance(y, tuple)
        return len(x) == len(y) and all(_same_constant(p, q) for p, q in zip(x, y))
    if isinstance(x, (float, complex)):
        return repr(x) == repr(y)  # -0.0 is not 0.0; nan is nan
    return x == y


def _line(path: str, line: int) -> str | None:
    lines = linecache.getlines(path)
    return lines[line - 1] if 0 < line <= len(lines) else None

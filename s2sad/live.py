"""Live functions: the text a function object was compiled from, and the proof that it still is.

s2sad reads a live function's file; it never executes it again. The file may have been edited since the
module was imported, and then the text would not be the function the caller holds: s2sad would differentiate
the new text while the program runs the old code. So the text is compiled (not run) as CPython compiled it
when the module was imported, and the function's code object is compared with the one the text gives, recursively
(bytecode, constants and nested code, names, arguments). Any difference is a ``stale-source`` error; a function
without a file (a REPL, ``exec``, a lambda) is a ``no-source`` error.
"""

from __future__ import annotations

import inspect
import linecache
import os
from collections.abc import Callable, Iterable, Iterator
from types import CodeType, ModuleType
from typing import Any

from .diagnostics import Diagnostic, S2sadError, Span

__all__ = ["source_of", "check_helpers"]

#: ``co_flags`` bits that describe the code itself (CO_OPTIMIZED ... CO_ASYNC_GENERATOR); the ``__future__``
#: bits above them depend on how the text was compiled (an IPython cell inherits them), not on the function.
_CODE_FLAGS = 0xFFFF


def source_of(f: Callable[..., Any]) -> tuple[str, str, str, int]:
    """(module text, path, name, first line) of a live function, read from its file and checked against it."""
    f = inspect.unwrap(f)
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


def check_helpers(f: Callable[..., Any], helpers: Iterable[tuple[str, str, str]]) -> None:
    """Each helper ``(path, name, text)`` s2sad read that ``f``'s module can reach must be the code it runs."""
    namespace: dict[str, Any] = getattr(inspect.unwrap(f), "__globals__", {})
    for path, name, text in helpers:
        for live in _reachable(namespace, name, path):
            _check(live, text, path)


def _reachable(namespace: dict[str, Any], name: str, path: str) -> Iterator[CodeType]:
    """The code objects of functions called ``name`` from file ``path`` in a module's namespace, or in the
    modules it imported."""
    candidates = [namespace.get(name)]
    candidates += [getattr(v, name, None) for v in namespace.values() if isinstance(v, ModuleType)]
    seen: set[int] = set()
    for candidate in candidates:
        if not callable(candidate):
            continue
        code = getattr(inspect.unwrap(candidate), "__code__", None)
        if isinstance(code, CodeType) and code.co_name == name and _same_file(code.co_filename, path):
            if id(code) not in seen:
                seen.add(id(code))
                yield code


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _check(code: CodeType, source: str, path: str) -> None:
    """The text compiles to a code object equal to ``code`` at the same line, or the file changed."""
    try:
        module = compile(source, path, "exec", dont_inherit=True)  # as the import system does; nothing runs
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        module = None
    if module is not None and any(
        _same(c, code)
        for c in _code_objects(module)
        if (c.co_name, c.co_firstlineno) == (code.co_name, code.co_firstlineno)
    ):
        return
    line = code.co_firstlineno
    text = source.splitlines()[line - 1] if 0 < line <= len(source.splitlines()) else None
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

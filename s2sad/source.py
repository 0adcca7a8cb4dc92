"""Source files, before any parsing into IR: reading them, CPython's syntax check, and the reduction of a
module to what one function needs. Uses only the standard library's ``ast``.
"""

from __future__ import annotations

import ast
import codecs
import contextvars
import io
import re
import threading
import tokenize
import unicodedata

from . import files
from .bindings import is_numeric, module_table
from .diagnostics import Diagnostic, S2sadError, Span

__all__ = [
    "read_source",
    "parse",
    "check_syntax",
    "reduce",
    "function_names",
    "source_lines",
    "normalise_identifiers",
    "strip_form_feeds",
    "original_column",
]

#: CPython's tokenizer ends a line at ``\r\n``, ``\r`` or ``\n`` only; ``str.splitlines`` also splits at
#: U+2028, U+2029, ``\x0b``, ``\x0c``, ``\x1c``-``\x1e`` and ``\x85``, which Python keeps inside a line
#: (in a comment, a string, or as whitespace).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def source_lines(source: str, keepends: bool = False) -> list[str]:
    """The lines of ``source`` as CPython's tokenizer counts them (``str.splitlines`` does not)."""
    lines = _LINE.findall(source)
    return lines if keepends else [line.rstrip("\r\n") for line in lines]


#: PEP 263: a comment on line 1 or 2 naming the file's encoding (the tokenizer's own pattern)
_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)


#: While a gradient is generated for the cache (see :mod:`s2sad.cache`): every file read, with its text, so
#: that the entry names what it was made from.
reads: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar("reads", default=None)


def read_source(path: str) -> str:
    """The text of ``path`` as CPython decodes it; unreadable, special, oversized, binary files and files in
    any encoding but UTF-8 are diagnostics.

    CPython decodes a source file by its coding declaration (PEP 263) or byte order mark, UTF-8 otherwise;
    :func:`tokenize.detect_encoding` applies the same rules. Decoding a Latin-1 file as UTF-8 would read
    other names than Python does (``x\xc2\xaa`` is ``xª``, NFKC ``xa``, in UTF-8; two letters in Latin-1).
    A file in another encoding is read only when its text is the same in both (ASCII, mostly).
    """
    data = files.read_bytes(path)  # a regular file, size-limited, inside the project when there is one
    if b"\0" in data:
        raise S2sadError([Diagnostic(path, None, "binary file, not Python source", "not-python")])
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as err:  # an unknown encoding, a BOM with another declaration, or not UTF-8 text
        declared = _encoding_diagnostic(path, data, str(err))
        if declared is not None:
            raise S2sadError([declared]) from None
        encoding = "utf-8"  # no declaration: not UTF-8 text, said below
    if codecs.lookup(encoding).name != "utf-8" and encoding != "utf-8-sig" and not _same_text(data, encoding):
        declared = _encoding_diagnostic(path, data, None)
        assert declared is not None  # only a declaration names another encoding than UTF-8
        raise S2sadError([declared])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise S2sadError(
            [Diagnostic(path, None, f"not UTF-8 text (byte {err.start})", "not-python", "save the file as UTF-8")]
        ) from None
    recording = reads.get()
    if recording is not None:
        recording.append((path, text))
    return text


def _same_text(data: bytes, encoding: str) -> bool:
    """``data`` reads the same in ``encoding`` as in UTF-8 (an ASCII file with ``# coding: latin-1``)."""
    try:
        return data.decode(encoding) == data.decode("utf-8")
    except (UnicodeDecodeError, LookupError):
        return False


def _encoding_diagnostic(path: str, data: bytes, problem: str | None) -> Diagnostic | None:
    """A refused coding declaration, located at the declaration (line 1 or 2); ``problem``: CPython's.
    None when the file has no declaration."""
    lines = data.split(b"\n", 2)[:2]
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip(b"\r").removeprefix(b"\xef\xbb\xbf").decode("latin-1")
        match = _COOKIE.match(text)
        if match:
            span = Span(number, match.start(1), number, match.end(1))
            declared = f"the file declares the encoding '{match.group(1)}'"
            return Diagnostic(
                path,
                span,
                f"{declared} ({problem.lower()})" if problem else f"{declared}; s2sad reads UTF-8 source only",
                "unsupported-encoding",
                "save the file as UTF-8 and remove the coding line",
                text,
            )
    return None


#: The tree :func:`parse` made last in this thread, for the :func:`check_syntax` that follows (taken once).
_parsed = threading.local()


def parse(source: str, path: str) -> ast.Module:
    """CPython's tree of ``source``, raising what ``compile`` raises; the next :func:`check_syntax` of the
    same text takes this tree instead of parsing it again (:mod:`s2sad.limits` reads it first)."""
    tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    assert isinstance(tree, ast.Module)
    _parsed.last = (source, path, tree)
    return tree


def _taken(source: str, path: str) -> ast.Module | None:
    last = getattr(_parsed, "last", None)
    _parsed.last = None
    return last[2] if last is not None and last[0] is source and last[1] == path else None


def check_syntax(source: str, path: str) -> ast.Module:
    try:
        tree = _taken(source, path) or compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        assert isinstance(tree, ast.Module)
        module_table(source, path)  # the compiler's scope errors ('nonlocal' with no binding ...)
        return tree
    except SyntaxError as err:
        line = err.lineno or 1
        col = max((err.offset or 1) - 1, 0)
        lines = source_lines(source)
        text = lines[line - 1] if 0 < line <= len(lines) else None
        span = Span(line, col, line, col + 1)
        raise S2sadError([Diagnostic(path, span, err.msg.lower(), "syntax-error", None, text)]) from None


def function_names(source: str, path: str) -> list[str]:
    """The names of the functions defined at the top level of a module."""
    return list(dict.fromkeys(s.name for s in check_syntax(source, path).body if isinstance(s, ast.FunctionDef)))


def reduce(source: str, tree: ast.Module, name: str, line: int | None) -> tuple[str, list[int]]:
    """The part of ``source`` that can matter to ``name``, and the original number of each of its lines.

    LibCST's scope analysis costs time in proportion to the whole module; the function only needs the
    module's imports, its numeric constants and itself. Other functions keep a one-line stub so that a call
    to one is still recognised as a call to a helper. Columns are unchanged, lines are mapped back.
    """
    lines = source_lines(source, keepends=True)
    kept: list[str] = []
    numbers: list[int] = []
    defs = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == name]
    target = defs[-1] if defs else None  # Python keeps the last 'def' of a name
    for stmt in tree.body:
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        last = stmt.end_lineno or stmt.lineno
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not ((stmt is target and line is None) or (line is not None and first <= line <= last)):
                kept.append(f"def {stmt.name}(): pass\n")
                numbers.append(first)
                continue
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and not is_numeric(stmt.value):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:  # keep the name defined: reading it is then a precise diagnostic
                if isinstance(t, ast.Name):
                    kept.append(f"{t.id} = None\n")
                    numbers.append(first)
            continue
        elif isinstance(stmt, ast.ClassDef):
            kept.append(f"class {stmt.name}: pass\n")
            numbers.append(first)
            continue
        elif not isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign)):
            continue
        if numbers and numbers[-1] >= first:  # statements sharing a line with one already kept
            continue
        for number in range(first, last + 1):
            text = lines[number - 1]
            kept.append(text.rstrip("\r\n") + "\n")
            numbers.append(number)
    return "".join(kept), numbers


def strip_form_feeds(text: str) -> tuple[str, dict[int, list[tuple[int, int]]]]:
    """``text`` without the leading whitespace up to the last form feed of each line, and for each line that
    moved, its shift (as :func:`normalise_identifiers` gives them).

    CPython's tokenizer ignores that whitespace (a form feed resets the indentation count), so the program is
    the same; LibCST reads the same tree but counts columns differently after it. Lines inside a string
    are kept as they are.
    """
    if "\x0c" not in text:
        return text, {}
    inside: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            inside.update(range(token.start[0] + 1, token.end[0] + 1))
    lines = source_lines(text, keepends=True)
    shifts: dict[int, list[tuple[int, int]]] = {}
    for number, line in enumerate(lines, start=1):
        lead = len(line) - len(line.lstrip(" \t\x0c"))
        cut = line.rfind("\x0c", 0, lead) + 1
        if cut and number not in inside:
            lines[number - 1] = line[cut:]
            shifts[number] = [(0, -cut)]
    return "".join(lines), shifts


def normalise_identifiers(text: str) -> tuple[str, dict[int, list[tuple[int, int]]]]:
    """``text`` with every identifier in NFKC form, as Python reads it (``coeﬃcient`` is ``coefficient``, ``𝐱``
    is ``x``), and for each line whose columns moved, the (column in the new text, shift) of each change.

    ``text`` has been accepted by CPython already; only identifiers change, so strings and comments are kept.
    """
    if text.isascii():
        return text, {}
    changes: list[tuple[int, int, int, str]] = []  # line, column, length, replacement
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME and not token.string.isascii():
            normal = unicodedata.normalize("NFKC", token.string)
            if normal != token.string:
                changes.append((token.start[0], token.start[1], len(token.string), normal))
    if not changes:
        return text, {}
    lines = source_lines(text, keepends=True)
    shifts: dict[int, list[tuple[int, int]]] = {}
    for line, col, length, normal in sorted(changes, reverse=True):  # right to left: columns stay valid
        old = lines[line - 1]
        lines[line - 1] = old[:col] + normal + old[col + length :]
    for line, col, length, normal in sorted(changes):
        moved = shifts.setdefault(line, [])
        before = sum(delta for _, delta in moved)
        moved.append((col + before + len(normal), len(normal) - length))
    return "".join(lines), shifts


def original_column(shifts: dict[int, list[tuple[int, int]]], line: int, col: int) -> int:
    """The column in the user's text of ``col`` on ``line`` of the normalised text."""
    moved = shifts.get(line)
    return col - sum(delta for end, delta in moved if end <= col) if moved else col

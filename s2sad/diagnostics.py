"""Diagnostics: the leaf module every stage may import.

A user error is a :class:`Diagnostic` with a file position, a stable kebab-case code and a hint of what to do;
:class:`S2sadError` carries every diagnostic of one run, sorted by position. A bug in s2sad itself is an
:class:`InternalError`, which the CLI reports differently ("please report").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Span", "Diagnostic", "S2sadError", "InternalError", "render"]

#: The most of a source line a diagnostic quotes: a line of a hostile file (a configuration that is really
#: ``/proc/self/environ``, a minified module) is shown around the error, never whole.
QUOTED = 200


@dataclass(frozen=True, slots=True)
class Span:
    """A range of source text; lines are 1-based, columns 0-based (as in LibCST and ``ast``)."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: str  #: the file as the user named it
    span: Span | None  #: None when the problem is the file as a whole
    message: str  #: lowercase, no final period, names in single quotes
    code: str  #: stable kebab-case identifier, e.g. ``unsupported-syntax``
    help: str | None = None  #: what to do about it
    source_line: str | None = None  #: the text of ``span.line``, for the caret display

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.span is None:
            return (self.path, 0, 0, self.message)
        return (self.path, self.span.line, self.span.col, self.message)


class S2sadError(Exception):
    """The input is outside what s2sad supports, or cannot be read. Carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        unique = {d.sort_key() + (d.code,): d for d in diagnostics}
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(unique.values(), key=Diagnostic.sort_key))
        super().__init__("\n".join(render(d) for d in self.diagnostics))


class InternalError(Exception):
    """A bug in s2sad: an invariant between stages does not hold."""

    def __init__(self, message: str) -> None:
        super().__init__(f"internal error: {message}\nthis is a bug in s2sad; please report it with the input file")


def _inert(text: str) -> str:
    """``text`` with every non-printable character but spaces escaped: a quoted line moves no cursor."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def render(d: Diagnostic) -> str:
    """``path:line:col: error: message [code]``, the source line with a caret range, then ``help:``."""
    if d.span is None:
        lines = [f"{d.path}: error: {d.message} [{d.code}]"]
    else:
        lines = [f"{d.path}:{d.span.line}:{d.span.col + 1}: error: {d.message} [{d.code}]"]
        if d.source_line is not None:
            text = d.source_line.rstrip("\r\n").expandtabs(1)
            number = str(d.span.line)
            gutter = " " * len(number)
            end = d.span.end_col if d.span.end_line == d.span.line else len(text)
            start = max(0, min(d.span.col - QUOTED // 2, len(text) - QUOTED))
            piece = text[start : start + QUOTED]
            shown, col = _inert(piece), len(_inert(piece[: d.span.col - start]))
            width = max(1, len(_inert(piece[: max(0, end - start)])) - col)
            prefix, suffix = ("..." if start else ""), ("..." if start + QUOTED < len(text) else "")
            lines.append(f"{number} | {prefix}{shown}{suffix}")
            lines.append(f"{gutter} | {' ' * (col + len(prefix))}{'^' * width}")
    if d.help:
        lines.append(f"help: {d.help}")
    return "\n".join(lines)

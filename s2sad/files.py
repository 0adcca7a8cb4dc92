"""The files s2sad touches: what it reads, where it may write, and how it writes.

s2sad runs in pre-commit hooks and CI over repositories cloned from others, so the files a project names are
untrusted input. The rules, in one place:

- Reads are of regular files only (never a FIFO, a device or ``/proc``), at most :data:`MAX_BYTES`. Inside
  :func:`project` every read must resolve, after symlinks, inside the project root; every file read is
  recorded (:func:`recording`), so that no output can overwrite an input.
- Writes replace regular files only: a symlink, a device, a FIFO or a folder is never written through or
  replaced. A new file gets ``0666 & ~umask``; an existing file keeps its mode. Each write goes through a
  temporary file in the same folder and a rename.
- Paths that end up in generated code (headers) carry no control characters or line separators.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .diagnostics import Diagnostic, S2sadError

__all__ = [
    "MAX_BYTES",
    "read_bytes",
    "project",
    "recording",
    "inside",
    "unsafe_character",
    "shown",
    "escape",
    "check_output",
    "write_atomically",
]

MAX_BYTES = 4 * 1024 * 1024  #: the largest file s2sad reads (sources, configuration, committed outputs)

_ROOT: contextvars.ContextVar[str | None] = contextvars.ContextVar("s2sad_root", default=None)
_READS: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("s2sad_reads", default=None)


def inside(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` resolves (after symlinks) to ``root`` or below it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


@contextlib.contextmanager
def project(root: str | Path) -> Iterator[None]:
    """Inside the block, reading a file that resolves outside ``root`` is a diagnostic."""
    token = _ROOT.set(os.path.realpath(root))
    try:
        yield
    finally:
        _ROOT.reset(token)


@contextlib.contextmanager
def working_directory(folder: str | Path) -> Iterator[None]:
    """Run the block in ``folder``: a project's paths (and its helpers' imports) are relative to its root,
    whichever folder s2sad was started from."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


@contextlib.contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the real path of every file read inside the block (the inputs of a generation)."""
    reads: set[str] = set()
    outer = _READS.get()
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)
        if outer is not None:
            outer |= reads


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` that could end a line or hide text in generated code or on a
    terminal: control characters (C0, DEL, C1), line and paragraph separators, bidirectional controls and
    every other invisible format character (category Cf: U+200B, U+FEFF, U+2060, tag characters), Hangul
    fillers (which show as blank), and lone surrogates (a file name that is not UTF-8: ``b"\\xff"``)."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch in _BIDI or ch in _FILLERS:
            return ch
    return None


def shown(text: str) -> str:
    """``text`` for a message: as is, or escaped (``'a\\nb'``) when it holds an unsafe character."""
    return text if unsafe_character(text) is None else repr(text)[1:-1]


def escape(text: str, keep: str = "") -> str:
    """``text`` with every unsafe character (but those in ``keep``) written as its escape (``\\n``,
    ``\\x0b``, ``\\u2028``): safe inside a comment of generated code and on a terminal."""
    if unsafe_character(text) is None:
        return text
    out = []
    for ch in text:
        if ch not in keep and unsafe_character(ch) is not None:
            ch = repr(ch)[1:-1] if repr(ch)[1:-1] != ch else f"\\u{ord(ch):04x}"
        out.append(ch)
    return "".join(out)


_FILLERS = set("\u115f\u1160\u3164\uffa0")
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def read_bytes(path: str | Path, *, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path``; anything else is a diagnostic naming ``path``."""
    shown = str(path)
    root = _ROOT.get()
    if root is not None and not inside(path, root):
        raise S2sadError(
            [
                Diagnostic(
                    shown,
                    None,
                    "resolves outside the project folder (the folder of pyproject.toml)",
                    "outside-project",
                    "s2sad reads and writes only files inside the project",
                )
            ]
        )
    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal stays ours
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise S2sadError([Diagnostic(shown, None, "no such file", "file-not-found")]) from None
    except IsADirectoryError:
        raise S2sadError([Diagnostic(shown, None, "is a directory, not a file", "file-not-found")]) from None
    except OSError as err:
        raise S2sadError([Diagnostic(shown, None, f"cannot read the file: {err.strerror}", "unreadable")]) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise S2sadError([Diagnostic(shown, None, "is a directory, not a file", "file-not-found")])
        if not stat.S_ISREG(info.st_mode):
            raise S2sadError(
                [Diagnostic(shown, None, "is not a regular file (a device, a FIFO or a socket)", "not-a-regular-file")]
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise S2sadError([Diagnostic(shown, None, f"larger than {limit // (1024 * 1024)} MiB", "file-too-large")])
    except OSError as err:
        raise S2sadError([Diagnostic(shown, None, f"cannot read the file: {err.strerror}", "unreadable")]) from None
    finally:
        os.close(fd)
    reads = _READS.get()
    if reads is not None:
        reads.add(os.path.realpath(path))
    return b"".join(chunks)


def check_output(
    path: str | Path, inputs: set[str] = frozenset(), *, compare: bool = False  # type: ignore[assignment]
) -> str | None:
    """Why ``path`` cannot be written as a generated module, or None: it must be a regular file or absent
    (a symlink, a special file or a folder is refused), its folder must exist, and it must not be one of
    ``inputs`` (real paths of the files read to generate it). With ``compare`` (``grad --check``, which
    reads the file only where it would write it) a read-only file is fine."""
    text = str(path)
    if not text or text.endswith(("/", os.sep)) or os.path.basename(text) in ("", ".", ".."):
        return "is not a file name"
    ch = unsafe_character(text)
    if ch is not None:
        return f"contains the unsafe character {ch!r}"
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        return f"its folder '{os.path.dirname(text) or '.'}' does not exist"
    try:
        info = os.lstat(text)
    except FileNotFoundError:
        info = None
    except OSError as err:
        return f"cannot be examined: {err.strerror}"
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            return "is a symbolic link; s2sad writes only regular files"
        if stat.S_ISDIR(info.st_mode):
            return "is a directory"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a device, a FIFO or a socket)"
        if not compare and not os.access(text, os.W_OK):
            return "is read-only; s2sad does not replace a file you cannot write"
    real = os.path.realpath(text)
    if real in inputs or (info is not None and any(_same_file(info, p) for p in inputs)):
        return "is an input of the generation (a source file or the configuration); it would be overwritten"
    return None


def _same_file(info: os.stat_result, other: str) -> bool:
    """Hard links to one file are one file."""
    try:
        o = os.stat(other)
    except OSError:
        return False
    return (o.st_dev, o.st_ino) == (info.st_dev, info.st_ino)


def write_atomically(path: Path | str, text: str) -> None:
    """Replace the regular file ``path`` (or create it) with ``text``, through a temporary file in the same
    folder and a rename. An existing file keeps its mode; a new one gets ``0666 & ~umask``. The caller has
    checked ``path`` with :func:`check_output`; the check is repeated here, just before the rename."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise S2sadError([Diagnostic(str(path), None, "is not a regular file; not written", "not-a-regular-file")])
    if info is not None:
        mode = stat.S_IMODE(info.st_mode)
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".s2sad-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:  # a read-only or special folder, a full disk: the user's problem, located
        _remove(tmp)
        raise S2sadError(
            [Diagnostic(shown(str(path)), None, f"cannot write here: {err.strerror or err}", "bad-output")]
        ) from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str | None) -> None:
    if tmp is not None and os.path.lexists(tmp):
        with contextlib.suppress(OSError):
            os.unlink(tmp)

"""``pyproject.toml``: finding the project's ``[tool.s2sad]`` table and reading ``[tool.s2sad.rules]``.

::

    [tool.s2sad.rules]
    "scipy.special.expit" = { x = "g * out * (1 - out)" }
    "mylib.scaled" = { args = ["x", "k"], x = "g * k" }       # args: every argument, in order

A rule is the rule table's format: one template per differentiable argument, in ``g`` (the incoming adjoint),
``ans`` or ``out`` (the result) and the arguments. Arguments default to the templated ones, in order. A
template is a restricted expression (see :func:`s2sad.user_rules.user_rule`), never code that s2sad runs as is.

A configuration file is untrusted input: it is read size-limited, and every problem with it (not UTF-8, not
TOML, nested too deeply, an entry of the wrong type) is a diagnostic located in it (:func:`diagnostic`).
A ``pyproject.toml`` in a parent folder that does not mention s2sad is ignored, even when it is broken.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from . import files
from .diagnostics import Diagnostic, S2sadError, Span
from .rules import Rule, TemplateError, built_in
from .user_rules import user_rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["nearest", "load", "rules_from", "section", "diagnostic"]

#: Text that shows a broken file was meant to configure s2sad: ``[tool.s2sad...``, ``tool.s2sad... =``, or
#: ``s2sad = ...`` / ``s2sad.x = ...`` (inside ``[tool]``).
_MENTIONS = re.compile(rb"^\s*(\[\s*tool\s*\.\s*[\"']?s2sad|tool\s*\.\s*[\"']?s2sad|[\"']?s2sad[\"']?\s*[.=])", re.M)


def _bad(path: Path, message: str, span: Span | None = None, line: str | None = None) -> S2sadError:
    return S2sadError([Diagnostic(str(path), span, message, "bad-config", None, line)])


def _read(path: Path) -> bytes:
    """The bytes of a configuration file, read like any input (:func:`files.read_bytes`: a regular file,
    bounded). A ``pyproject.toml`` that is a symlink resolving outside its own folder (to
    ``/proc/self/environ``, to another project's secrets) is refused without reading it."""
    if os.path.islink(path) and not files.inside(path, os.path.dirname(os.path.abspath(path))):
        raise _bad(path, "is a symbolic link that resolves outside its folder; s2sad does not follow it")
    return files.read_bytes(path)


def load(path: Path) -> dict[str, Any]:
    """The TOML document of ``path``; anything that keeps s2sad from reading it is a ``bad-config``."""
    data = _read(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _bad(path, f"not UTF-8 text (byte {err.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err)) or "invalid TOML"
        if found:
            line, col = int(found[1]), int(found[2]) - 1
            lines = _lines(text)
            source = lines[line - 1] if 0 < line <= len(lines) else None
            raise _bad(path, f"invalid TOML: {message.lower()}", Span(line, col, line, col + 1), source) from None
        raise _bad(path, f"invalid TOML: {message.lower()}") from None
    except RecursionError:
        raise _bad(path, "invalid TOML: nested too deeply") from None


def _lines(text: str) -> list[str]:
    """TOML's lines: only ``\\n`` (or ``\\r\\n``) ends one (``str.splitlines`` also splits at U+2028 and more)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def section(data: dict[str, Any]) -> dict[str, Any]:
    tool = data.get("tool")
    found = tool.get("s2sad") if isinstance(tool, dict) else None
    return found if isinstance(found, dict) else {}


def _mentions_s2sad(path: Path) -> bool:
    try:
        return _MENTIONS.search(_read(path)) is not None
    except S2sadError:
        return False


def nearest(start: Path, *, strict: bool = False) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` with a ``[tool.s2sad]`` table.

    A file that cannot be read or parsed is skipped unless its text mentions s2sad (then it is a
    diagnostic); ``strict`` (``sync`` and ``check``, which need the configuration) reports every one."""
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        try:
            present = candidate.is_file()
        except OSError:
            present = False
        if not present:
            continue
        try:
            data = load(candidate)
        except S2sadError:
            if strict or _mentions_s2sad(candidate):
                raise
            continue
        if section(data):
            return candidate
    return None


# ----------------------------------------------------------------------------------------------------------
# Locating an entry in the TOML text, for diagnostics
# ----------------------------------------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*\[\[?(?P<keys>[^\]]+)\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*(?P<keys>(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)
_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)""")


def _keys(text: str) -> tuple[str, ...]:
    parts = [m[1] for m in _PART.finditer(text.strip())]
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def locate(text: str, table: tuple[str, ...], key: str | None = None, inner: str | None = None) -> Span | None:
    """Where ``table.key`` (and its entry ``inner``, in an inline table or a sub-table) is written."""
    wanted = table + ((key,) if key is not None else ())
    current: tuple[str, ...] = ()
    best: Span | None = None
    for number, line in enumerate(_lines(text), start=1):
        header = _HEADER.match(line)
        if header:
            current = _keys(header["keys"])
            if current == wanted and inner is None:
                return Span(number, line.index("["), number, len(line.rstrip()))
            if current == wanted and best is None:
                best = Span(number, line.index("["), number, len(line.rstrip()))
            continue
        entry = _KEY.match(line)
        if not entry:
            continue
        path = current + _keys(entry["keys"])
        start = entry.start("keys")
        if inner is not None and path == wanted + (inner,):
            return Span(number, start, number, entry.end("keys"))
        if path == wanted or (key is not None and path[: len(wanted)] == wanted):
            if inner is not None:
                found = re.search(rf"""(?<![\w"'.-])["']?{re.escape(inner)}["']?\s*=""", line[entry.end() :])
                if found:
                    col = entry.end() + found.start()
                    return Span(number, col, number, col + len(inner))
            if best is None or best.line <= 0 or inner is None:
                best = Span(number, start, number, entry.end("keys"))
            if inner is None:
                return best
    return best


def diagnostic(
    path: Path,
    message: str,
    code: str,
    table: tuple[str, ...],
    key: str | None = None,
    inner: str | None = None,
    help: str | None = None,
) -> Diagnostic:
    """A diagnostic located at ``table.key`` (``.inner``) of the configuration file ``path``."""
    try:
        text = _read(path).decode("utf-8", "replace")
    except S2sadError:
        text = ""
    span = locate(text, table, key, inner)
    line = _lines(text)[span.line - 1] if span is not None else None
    return Diagnostic(str(path), span, files.escape(message), code, help, files.escape(line, "\t") if line else line)


_RULES = ("tool", "s2sad", "rules")
_TEMPLATE_HELP = (
    "a template is an expression in g, ans (or out), the arguments and numbers, calling functions of math, "
    'numpy, scipy.special or operator by qualified name, e.g. "g * math.exp(x)"'
)


def rules_from(config: Path | None) -> dict[tuple[str, int], Rule]:
    """The rules of ``[tool.s2sad.rules]``; a rule that does not parse is a diagnostic naming it."""
    if config is None:
        return {}
    table = section(load(config)).get("rules", {})
    found: list[Diagnostic] = []
    out: dict[tuple[str, int], Rule] = {}
    if not isinstance(table, dict):
        raise S2sadError([diagnostic(config, "[tool.s2sad.rules] must be a table", "bad-rule", _RULES)])
    for fn, entry in table.items():
        if not all(part.isidentifier() and not part.startswith("__") for part in fn.split(".")):
            found.append(diagnostic(config, f"rule '{fn}': not a qualified function name", "bad-rule", _RULES, fn))
            continue
        if built_in(fn):
            found.append(
                diagnostic(
                    config,
                    f"'{fn}' has a built-in rule; a project's rule cannot replace it",
                    "bad-rule",
                    _RULES,
                    fn,
                    help="write a rule for a function of your own that calls it",
                )
            )
            continue
        if not isinstance(entry, dict):
            found.append(diagnostic(config, f"rule '{fn}': expected {{ x = \"template\" }}", "bad-rule", _RULES, fn))
            continue
        templates = {k: v for k, v in entry.items() if k != "args"}
        args = entry.get("args", list(templates))
        if not isinstance(args, list) or not all(isinstance(a, str) and a.isidentifier() for a in args):
            found.append(
                diagnostic(
                    config,
                    f"rule '{fn}': args must be a list of argument names",
                    "bad-rule",
                    _RULES,
                    fn,
                    "args" if "args" in entry else None,
                    'for example: args = ["x", "k"]',
                )
            )
            continue
        bad = next((k for k, v in templates.items() if not isinstance(v, str)), None)
        if bad is not None:
            found.append(diagnostic(config, f"rule '{fn}': templates must be strings", "bad-rule", _RULES, fn, bad))
            continue
        try:
            rule = user_rule(fn, tuple(args), templates)
        except TemplateError as err:
            where = getattr(err, "argument", None) or ("args" if "args" in entry else None)
            found.append(diagnostic(config, f"rule '{fn}': {err}", "bad-rule", _RULES, fn, where, _TEMPLATE_HELP))
            continue
        out[(fn, len(args))] = rule
    if found:
        raise S2sadError(found)
    return out

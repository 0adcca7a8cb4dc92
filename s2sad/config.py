"""``pyproject.toml``: finding the project's ``[tool.s2sad]`` table and reading ``[tool.s2sad.rules]``.

::

    [tool.s2sad.rules]
    "scipy.special.expit" = { x = "g * out * (1 - out)" }
    "mylib.scaled" = { args = ["x", "k"], x = "g * k" }       # args: every argument, in order

A rule is the rule table's format: one template per differentiable argument, in ``g`` (the incoming adjoint),
``ans`` or ``out`` (the result) and the arguments. Arguments default to the templated ones, in order.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, S2sadError
from .rules import Rule, TemplateError, user_rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["nearest", "load", "rules_from"]


def load(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise S2sadError([Diagnostic(str(path), None, f"invalid TOML: {err}", "bad-config")]) from None


def section(data: dict[str, Any]) -> dict[str, Any]:
    tool = data.get("tool")
    found = tool.get("s2sad") if isinstance(tool, dict) else None
    return found if isinstance(found, dict) else {}


def nearest(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` with a ``[tool.s2sad]`` table."""
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and section(load(candidate)):
            return candidate
    return None


def rules_from(config: Path | None) -> dict[tuple[str, int], Rule]:
    """The rules of ``[tool.s2sad.rules]``; a rule that does not parse is a diagnostic naming it."""
    if config is None:
        return {}
    table = section(load(config)).get("rules", {})
    found: list[Diagnostic] = []
    out: dict[tuple[str, int], Rule] = {}
    for fn, entry in (table.items() if isinstance(table, dict) else []):
        if not isinstance(entry, dict):
            found.append(Diagnostic(str(config), None, f"rule '{fn}': expected {{ x = \"template\" }}", "bad-rule"))
            continue
        templates = {k: v for k, v in entry.items() if k != "args"}
        args = entry.get("args", list(templates))
        if not all(isinstance(v, str) for v in templates.values()) or not isinstance(args, list):
            found.append(Diagnostic(str(config), None, f"rule '{fn}': templates must be strings", "bad-rule"))
            continue
        try:
            rule = user_rule(fn, tuple(args), templates)
        except TemplateError as err:
            found.append(Diagnostic(str(config), None, f"[tool.s2sad.rules] '{fn}': {err}", "bad-rule"))
            continue
        out[(fn, len(args))] = rule
    if found:
        raise S2sadError(found)
    return out

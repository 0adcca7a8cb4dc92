"""A helper the frontend does not look into: it has the user's own rule."""

from __future__ import annotations

from dataclasses import dataclass

from .. import ir


@dataclass(frozen=True)
class Opaque:
    """A helper with the user's own rule (``@s2sad.rule``): not looked into, copied as written."""

    name: str
    text: str  #: the function's source without its decorators
    imports: tuple[ir.Binding, ...]  #: the module-level imports its text uses

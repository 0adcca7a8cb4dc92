"""Directives: whole-line comments ``# s2sad: NAME [N]`` that say how to differentiate the loop below them.

A directive belongs to the loop statement it stands directly above (in the block of comment lines that ends on
the line before the loop, with no blank line between):

    # s2sad: fixed-point        a ``while`` loop that iterates ``state = g(state, parameters)`` to convergence
    # s2sad: checkpoint [N]     a ``for`` loop whose reverse pass recomputes segments from N snapshots

Anything else that starts with ``# s2sad:`` is refused where it stands (``unknown-directive``,
``misplaced-directive``): a directive that is ignored silently would leave the user believing it took effect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from . import traverse

__all__ = ["DIRECTIVES", "Directive", "Problem", "loop_directive", "stray_directives"]

#: Each directive's name, the loop statement it applies to, and whether it takes a number.
DIRECTIVES: dict[str, tuple[type[cst.CSTNode], bool]] = {
    "fixed-point": (cst.While, False),
    "checkpoint": (cst.For, True),
}

_DIRECTIVE = re.compile(r"#\s*s2sad\s*:\s*(.*?)\s*$")
_FORM = re.compile(r"([a-z][a-z-]*)(?:\s+([0-9]{1,6}))?")


@dataclass(frozen=True)
class Directive:
    name: str  #: one of :data:`DIRECTIVES`
    argument: int | None  #: the number after the name, where the directive takes one and it is given
    comment: cst.Comment  #: where it is written, for diagnostics


@dataclass(frozen=True)
class Problem:
    node: cst.CSTNode
    message: str
    code: str
    help: str


def _is_directive(comment: cst.Comment) -> bool:
    return _DIRECTIVE.match(comment.value) is not None


def _block_above(stmt: cst.CSTNode) -> list[cst.Comment]:
    """The comments on the lines directly above ``stmt``, nearest last."""
    lines = getattr(stmt, "leading_lines", ())
    block: list[cst.Comment] = []
    for line in reversed(lines):
        if line.comment is None:
            break
        block.append(line.comment)
    return block[::-1]


def loop_directive(stmt: cst.For | cst.While) -> tuple[Directive | None, list[Problem]]:
    """The directive written above the loop ``stmt`` (None when there is none) and what is wrong with it."""
    found = [c for c in _block_above(stmt) if _is_directive(c)]
    problems: list[Problem] = []
    chosen: Directive | None = None
    for comment in found:
        text = _DIRECTIVE.match(comment.value).group(1)  # type: ignore[union-attr]
        form = _FORM.fullmatch(text)
        known = ", ".join(f"'# s2sad: {n}'" for n in DIRECTIVES)
        if form is None or form.group(1) not in DIRECTIVES:
            problems.append(
                Problem(
                    comment,
                    f"unknown directive '{comment.value.strip()}'",
                    "unknown-directive",
                    f"the directives are {known}",
                )
            )
            continue
        name, number = form.group(1), form.group(2)
        kind, takes_number = DIRECTIVES[name]
        if not isinstance(stmt, kind):
            loop = "while" if kind is cst.While else "for"
            problems.append(
                Problem(
                    comment,
                    f"'# s2sad: {name}' applies to a '{loop}' loop",
                    "misplaced-directive",
                    f"put it on the line directly above a '{loop}' statement",
                )
            )
            continue
        if number is not None and not takes_number:
            problems.append(
                Problem(comment, f"'# s2sad: {name}' takes no number", "bad-directive", f"write '# s2sad: {name}'")
            )
            continue
        argument = int(number) if number is not None else None
        if argument is not None and argument < 1:
            problems.append(
                Problem(
                    comment,
                    f"'# s2sad: {name}' needs a positive number",
                    "bad-directive",
                    f"write '# s2sad: {name}' or '# s2sad: {name} 10'",
                )
            )
            continue
        if chosen is not None:
            problems.append(
                Problem(
                    comment, "a loop takes one directive", "bad-directive", "keep one of the directives above this loop"
                )
            )
            continue
        chosen = Directive(name, argument, comment)
    return chosen, problems


def stray_directives(function: cst.FunctionDef) -> list[Problem]:
    """Directives in ``function`` that stand anywhere but directly above a loop (each of those is
    checked by :func:`loop_directive` where the loop is lowered)."""
    placed: set[int] = set()

    class Find(cst.CSTVisitor):
        def __init__(self) -> None:
            self.comments: list[cst.Comment] = []

        def visit_For(self, node: cst.For) -> None:
            placed.update(id(c) for c in _block_above(node))

        def visit_While(self, node: cst.While) -> None:
            placed.update(id(c) for c in _block_above(node))

        def visit_Comment(self, node: cst.Comment) -> None:
            if _is_directive(node):
                self.comments.append(node)

    finder = Find()
    traverse.visit(function.body, finder)
    return [
        Problem(
            c,
            f"'{c.value.strip()}' stands where no loop follows it",
            "misplaced-directive",
            "a directive goes on the line directly above the 'while' or 'for' loop it is for",
        )
        for c in finder.comments
        if id(c) not in placed
    ]

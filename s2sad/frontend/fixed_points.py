"""The form of a ``while`` loop marked ``# s2sad: fixed-point`` that only its syntax shows: no jump out of it.

A ``break``, ``continue`` or ``return`` would make the loop end (or an iteration skip) somewhere other than at
its convergence test, and the implicit adjoint (:mod:`s2sad.fixed_point`) is right only at a converged state
x = g(x, p). The frontend lowers jumps to flags, so they are looked for here, on the user's syntax.
"""

from __future__ import annotations

import libcst as cst

from . import traverse

__all__ = ["jumps"]


def jumps(loop: cst.While) -> list[cst.CSTNode]:
    """The ``return`` statements inside ``loop``, and its own ``break`` and ``continue`` (a nested loop keeps
    those it contains), in source order."""
    found: list[cst.CSTNode] = []

    def visit(node: cst.CSTNode, nested_loop: bool) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return
        if isinstance(node, cst.Return) or (isinstance(node, (cst.Break, cst.Continue)) and not nested_loop):
            found.append(node)
            return
        inner = nested_loop or isinstance(node, (cst.For, cst.While))
        for child in traverse.children(node):
            visit(child, inner)

    visit(loop.body, False)
    return found

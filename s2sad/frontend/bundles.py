"""Dictionaries of parameters: a parameter read only as ``params["W1"]`` with string-literal keys.

Such a parameter is a *bundle*: each key read is an entry, lowered as a parameter of its own (``params_W1``),
so activity, the reverse pass and the adjoints treat it like any parameter. The function records which
entries make up which parameter (``ir.Function.bundles``); the gradient function takes the dictionary, reads
its entries first, and returns the dictionary's adjoint as a dictionary with the same keys (zero for the keys
it does not read). Any other use of the parameter (a key that is not a literal, a write into it, passing it
on, iterating over it) leaves it an ordinary value, and its string keys are refused where they are read.
"""

from __future__ import annotations

import libcst as cst

from . import traverse
from .. import ir
from .lengths import module_names as _module_names

__all__ = ["bundle_reads", "entry_key", "entry_params", "_Bundles"]


def entry_key(node: cst.CSTNode, name: str | None = None) -> str | None:
    """The key of ``name["key"]`` (any name when ``name`` is None); None when ``node`` is not such a read."""
    if not (
        isinstance(node, cst.Subscript)
        and isinstance(node.value, cst.Name)
        and (name is None or node.value.value == name)
        and len(node.slice) == 1
        and isinstance(node.slice[0].slice, cst.Index)
        and isinstance(node.slice[0].slice.value, cst.SimpleString)
    ):
        return None
    key = node.slice[0].slice.value.evaluated_value
    return key if isinstance(key, str) else None


class _Bundles:
    """The dictionary half of the lowering (mixed into ``_Lowerer``)."""

    module: cst.Module
    user_names: set[str]
    _inline: dict[str, ir.Expr]
    _bundle_entries: dict[tuple[str, str], str]  #: (parameter, key) -> the entry's name

    def _entry_name(self, param: str, key: str, k: int) -> str:
        """The parameter standing for ``param[key]``: ``params_W1``, fresh in the module."""
        taken = _module_names(self.module) | self.user_names | set(self._bundle_entries.values())
        candidate = f"{param}_{key}" if key.isidentifier() and key.isascii() else f"{param}_entry{k}"
        while candidate in taken:
            candidate += "_"
        self.user_names.add(candidate)
        return candidate

    def bundle_entry(self, node: cst.BaseExpression) -> ir.Expr | None:
        """``params["W1"]`` of a dictionary parameter: its entry (see .bundles); None for anything else."""
        if (
            isinstance(node, cst.Subscript)
            and isinstance(node.value, cst.Name)
            and node.value.value not in self._inline
        ):
            key = entry_key(node, node.value.value)
            if key is not None and (node.value.value, key) in self._bundle_entries:
                return ir.Var(self._bundle_entries[(node.value.value, key)])
        return None


def bundle_reads(body: cst.BaseSuite, params: list[str]) -> dict[str, list[str]]:
    """The parameters of ``body`` that are bundles, and their keys in the order first read."""
    keys: dict[str, list[str]] = {p: [] for p in params}
    other: set[str] = set()
    entries: set[int] = set()
    targets: set[int] = set()

    class Finder(cst.CSTVisitor):
        def visit_Subscript(self, n: cst.Subscript) -> None:
            key = entry_key(n)
            if key is not None and isinstance(n.value, cst.Name) and n.value.value in keys:
                entries.add(id(n.value))
                if key not in keys[n.value.value]:
                    keys[n.value.value].append(key)

        def visit_AssignTarget(self, n: cst.AssignTarget) -> None:
            targets.update(id(x) for x in _subscripts(n.target))

        def visit_AugAssign(self, n: cst.AugAssign) -> None:
            targets.update(id(x) for x in _subscripts(n.target))

        def visit_AnnAssign(self, n: cst.AnnAssign) -> None:
            targets.update(id(x) for x in _subscripts(n.target))

        def visit_Del(self, n: cst.Del) -> None:
            targets.update(id(x) for x in _subscripts(n.target))

        def visit_Name(self, n: cst.Name) -> None:
            if n.value in keys and id(n) not in entries:
                other.add(n.value)

    traverse.visit(body, Finder())
    written = _written(body, targets)
    return {p: k for p, k in keys.items() if k and p not in other and p not in written}


def _subscripts(node: cst.CSTNode) -> list[cst.Subscript]:
    if isinstance(node, cst.Subscript):
        return [node]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [s for e in node.elements for s in _subscripts(e.value)]
    return []


def _written(body: cst.BaseSuite, targets: set[int]) -> set[str]:
    """Parameters some statement writes an entry of (``params["W1"] = ...``)."""
    found: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_Subscript(self, n: cst.Subscript) -> None:
            if id(n) in targets and isinstance(n.value, cst.Name):
                found.add(n.value.value)

    traverse.visit(body, Finder())
    return found


def entry_params(
    params: list[ir.Param], bundles: dict[str, list[str]], fresh: dict[tuple[str, str], str]
) -> tuple[list[ir.Param], tuple[ir.Bundle, ...]]:
    """The function's parameters with each bundle replaced by its entries, and the bundles' record."""
    out: list[ir.Param] = []
    record = []
    for p in params:
        if p.name not in bundles:
            out.append(p)
            continue
        entries = tuple((key, fresh[(p.name, key)]) for key in bundles[p.name])
        out.extend(ir.Param(name, None, p.kwonly) for _, name in entries)
        record.append((p, entries))
    return out, tuple(record)

"""The frontend's shape: its modules import each other without a cycle, each stays under the size guide, and
the lowerer's mixins never define a method twice (one definition of each name along the MRO)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import s2sad.frontend.lowering as lowering

FRONTEND = Path(lowering.__file__).resolve().parent
MODULES = sorted(p.stem for p in FRONTEND.glob("*.py"))


def _imports(stem: str) -> set[str]:
    """The frontend modules ``stem`` imports at run time (not under ``if TYPE_CHECKING:``)."""
    tree = ast.parse((FRONTEND / f"{stem}.py").read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:
                found |= {a.name for a in node.names if a.name in MODULES}
            else:
                found.add(node.module.split(".")[0])
    return found & set(MODULES)


def test_no_import_cycle():
    graph = {m: _imports(m) for m in MODULES}
    done: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, f"import cycle: {' -> '.join((*path, m))}"
        if m in done:
            return
        for n in sorted(graph[m]):
            visit(n, (*path, m))
        done.add(m)

    for m in MODULES:
        visit(m, ())


@pytest.mark.parametrize("stem", ["expressions", "lowering", "program"])
def test_module_imports_first_in_a_fresh_interpreter(stem):
    """The three the project's brief once found in a cycle, each imported first."""
    subprocess.run([sys.executable, "-c", f"import s2sad.frontend.{stem}"], check=True, cwd=FRONTEND.parent.parent)


@pytest.mark.parametrize("stem", MODULES)
def test_module_size(stem):
    lines = (FRONTEND / f"{stem}.py").read_text().count("\n")
    assert lines <= 600, f"frontend/{stem}.py has {lines} lines (the guide is ~600): split it by concern"


def test_no_method_defined_by_two_mixins():
    owners: dict[str, list[str]] = {}
    for cls in lowering._Lowerer.__mro__:
        for name, value in vars(cls).items():
            if callable(value) and not (name.startswith("__") and name.endswith("__")):
                owners.setdefault(name, []).append(cls.__name__)
    twice = {name: classes for name, classes in owners.items() if len(classes) > 1}
    assert not twice, twice

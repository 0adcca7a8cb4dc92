"""Every generated module is a program that runs: it compiles, is black-clean, imports only math, NumPy,
SciPy and builtins (never s2sad), and its gradient function runs at a sample point.

Two nets: each catalogue case, example and soundness case s2sad differentiates is regenerated here and run at
its own point, without s2sad; and every module any test of the session generated (recorded by
``tests/conftest.py`` around ``s2sad.emit.emit``) is checked statically by the last test of the session.
"""

from __future__ import annotations

import ast
import warnings
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import black
import numpy as np
import pytest

import catalogue
import helpers_catalogue
import numpy_catalogue
import s2sad
from generated import MODULES
from soundness import Case, gradient_function, run_cli, write_project

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"math", "numpy", "scipy", "builtins"}  # builtins: where a local shadows a builtin the output calls


def problems(text: str, user_modules: frozenset[str] = frozenset(), *, formatting: bool = True) -> list[str]:
    """What is wrong with a generated module, statically: [] when nothing. ``user_modules``: modules whose
    functions have the user's own rules, which the module must import to call them. ``formatting``: also run
    black on it (the slow part)."""
    try:
        tree = compile(text, "<generated>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a SyntaxWarning ('is not' with a literal) is a defect too
            compile(text, "<generated>", "exec", dont_inherit=True)
    except (SyntaxError, SyntaxWarning) as err:
        return [f"does not compile cleanly: {err}"]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            roots = [(node.module or "").split(".")[0] if node.level == 0 else "."]
        else:
            continue
        allowed = ALLOWED | user_modules
        found += [f"imports {r!r} (line {node.lineno})" for r in roots if r not in allowed or r == "s2sad"]
    if formatting and black.format_str(text, mode=black.Mode()) != text:
        found.append("is not black-clean")
    if not any(isinstance(s, ast.FunctionDef) and s.name.startswith(("grad_", "value_and_grad_", "jvp_", "hvp_")) for s in tree.body):
        found.append("has no gradient function")
    return found


def run(text: str, args: Sequence[Any], count: int) -> None:
    """Execute the module on its own (a fresh namespace, s2sad not involved) and call its gradient at ``args``."""
    before = set(sys.modules)
    grad = gradient_function(text)
    assert not any(m == "s2sad" or m.startswith("s2sad.") for m in set(sys.modules) - before)
    got = grad(*args)
    values = [got] if count == 1 else list(got)
    assert len(values) == count, f"{count} gradients expected, got {got!r}"
    for v in values:
        assert np.all(np.isfinite(np.asarray(v, dtype=float))), f"not a finite gradient: {v!r}"


def differentiated(text: str) -> list[str]:
    """The parameters the header says the module differentiates (``with respect to x, y.``)."""
    return text.split(" with respect to ", 1)[1].split(". Do not edit", 1)[0].split(", ")


def _names(fn: Any, index: Sequence[int]) -> list[str]:
    params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    return [params[i] for i in index]


# ------------------------------------------------------------------------------------------------------------
# Regenerated here, run at each case's own point
# ------------------------------------------------------------------------------------------------------------
LIVE: list[tuple[str, Any, Any, list[str]]] = []  # (id, function, point or a maker of one, wrt)
for _fn, _args, _index in catalogue.CASES:
    LIVE.append((f"catalogue-{_fn.__name__}", _fn, _args, _names(_fn, _index)))
for _fn, _args, _index in helpers_catalogue.CASES:
    LIVE.append((f"helpers-{_fn.__name__}", _fn, _args, _names(_fn, _index)))
for _fn, _make, _wrt in numpy_catalogue.CASES:
    LIVE.append((f"numpy-{_fn.__name__}", _fn, _make, list(_wrt)))


def _unique(rows: list[tuple[str, Any, Any, list[str]]]) -> list[tuple[str, Any, Any, list[str]]]:
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        seen[row[0]] = seen.get(row[0], 0) + 1
        out.append(row if seen[row[0]] == 1 else (f"{row[0]}-{seen[row[0]]}",) + row[1:])
    return out


@pytest.mark.parametrize("case", _unique(LIVE), ids=lambda row: row[0])
def test_catalogue_module_runs(case: tuple[str, Any, Any, list[str]]) -> None:
    _, fn, point, wrt = case
    args = point() if callable(point) else point
    text = s2sad.grad_source(fn, wrt=wrt)
    assert problems(text) == []
    run(text, args, len(wrt))


rng = np.random.default_rng(0)
EXAMPLES = [
    ("examples/domke.py::f", (0.3,), None),
    ("examples/network.py::c", (1.0,), None),
    ("examples/loop.py::f", (0.3, 0.9, 200), ("x", "y")),
    ("examples/loop.py::g", (0.8, 30), None),
    (
        "examples/mlp.py::loss",
        (
            rng.standard_normal((4, 5)),
            rng.standard_normal(5),
            rng.standard_normal((5, 3)),
            rng.standard_normal(3),
            rng.standard_normal((6, 4)),
            np.eye(3)[[0, 1, 2, 0, 1, 2]],
        ),
        ("W1", "b1", "W2", "b2"),
    ),
]


@pytest.mark.parametrize("target, args, wrt", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_module_runs(target: str, args: tuple[Any, ...], wrt: tuple[str, ...] | None) -> None:
    path, name = target.split("::")
    text = s2sad.generate((ROOT / path).read_text(encoding="utf-8"), path, name, wrt=wrt)
    assert problems(text) == []
    run(text, args, len(differentiated(text)))


def _soundness_cases() -> list[Case]:
    """Every Case in a module-level list of every soundness test file (other catalogues join by existing)."""
    cases: list[Case] = []
    for path in sorted(Path(__file__).parent.glob("test_soundness*.py")):
        module = importlib.import_module(path.stem)
        for value in vars(module).values():
            if isinstance(value, list) and value and all(isinstance(c, Case) for c in value):
                cases += [c for c in value if c.expect != "refused" and c not in cases]
    return cases


SOUNDNESS = _soundness_cases()


@pytest.mark.parametrize("case", SOUNDNESS, ids=[c.id for c in SOUNDNESS])
def test_soundness_module_runs(case: Case, tmp_path: Path) -> None:
    write_project(case, tmp_path)
    argv = ["grad", case.target] + (["--wrt", ",".join(case.wrt)] if case.wrt is not None else [])
    outcome = run_cli(argv, tmp_path)
    if outcome.status == 2:
        return  # refused: nothing generated (the soundness test says whether that is allowed)
    assert outcome.status == 0, outcome.stderr
    assert problems(outcome.stdout) == []
    run(outcome.stdout, case.at, len(differentiated(outcome.stdout)))


def test_problems_are_found() -> None:
    """The static check itself: each kind of problem is reported."""
    good = s2sad.grad_source(catalogue.domke)
    assert problems(good) == []
    assert any("imports 's2sad'" in p for p in problems(good.replace("from math", "import s2sad\nfrom math")))
    assert any("black" in p for p in problems(good.replace("    return", "    return  ")))
    assert any("compile" in p for p in problems(good + "\ndef (:\n"))
    assert problems(good.replace("def grad_", "def other_")) == ["has no gradient function"]


# ------------------------------------------------------------------------------------------------------------
# Everything the session generated (run last: see conftest.py)
# ------------------------------------------------------------------------------------------------------------
def test_every_module_generated_in_this_session() -> None:
    """All of them compile and import only what they may; black runs on the first :data:`FORMATTED` of each
    test function (the seeded random-program tests generate hundreds of similar modules: black on all of them
    would double the suite's time)."""
    assert MODULES, "no generated module was recorded (is tests/conftest.py in place?)"
    failures = {}
    formatted: dict[str, int] = {}
    for text, (test, user_modules) in MODULES.items():
        function = test.split("[", 1)[0]
        formatted[function] = formatted.get(function, 0) + 1
        found = problems(text, user_modules, formatting=formatted[function] <= FORMATTED)
        if found:
            failures[test] = found
    assert not failures, f"{len(failures)} of {len(MODULES)} generated modules: {failures}"


FORMATTED = 20

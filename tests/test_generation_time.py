"""The linear-time versions of quadratic passes give the answers the direct versions gave.

(Timings are in bench/generation.py, never asserted here.)
"""

from __future__ import annotations

import ast
import random

import pytest

from s2sad import bindings
from s2sad.names import Scope


class _DirectScope:
    """The fresh-name service as it was: counting up from ``_1`` on every call."""

    def __init__(self, reserved: set[str]) -> None:
        self.reserved = frozenset(reserved)
        self.taken: set[str] = set()

    def claim(self, name: str) -> str:
        self.taken.add(name)
        return name

    def fresh(self, base: str, *, own: bool = False) -> str:
        if base not in self.taken and (own or base not in self.reserved):
            return self.claim(base)
        k = 1
        while f"{base}_{k}" in self.taken or f"{base}_{k}" in self.reserved:
            k += 1
        return self.claim(f"{base}_{k}")


@pytest.mark.parametrize("seed", range(20))
def test_fresh_names_are_the_same_as_counting_from_one(seed: int) -> None:
    rng = random.Random(seed)
    bases = ["x", "x_1", "x_bar", "y"]
    reserved = {f"{b}_{k}" for b in bases for k in range(1, 6) if rng.random() < 0.3} | {"y"}
    fast, direct = Scope(reserved), _DirectScope(reserved)
    for _ in range(300):
        base = rng.choice(bases)
        if rng.random() < 0.2:  # a name claimed directly (a parameter, a loop index), maybe x_7
            name = f"{base}_{rng.randrange(1, 12)}" if rng.random() < 0.7 else base
            assert fast.claim(name) == direct.claim(name)
        else:
            own = rng.random() < 0.3
            assert fast.fresh(base, own=own) == direct.fresh(base, own=own)
    assert fast.taken == direct.taken


def _direct_local(node: ast.Name, parents: dict[ast.AST, ast.AST]) -> bool:
    """bindings._local as it was: every enclosing scope's body walked again for every name."""
    scope = parents.get(node)
    while scope is not None:
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = scope.args
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            if node.id in {a.arg for a in every}:
                return True
            body = scope.body if isinstance(scope.body, list) else [scope.body]
            declared = {n for s in body for g in ast.walk(s) if isinstance(g, ast.Global) for n in g.names}
            if node.id not in declared and any(
                isinstance(n, ast.Name) and n.id == node.id and isinstance(n.ctx, (ast.Store, ast.Del))
                for s in body
                for n in ast.walk(s)
            ):
                return True
        scope = parents.get(scope)
    return False


MODULE = """
import math
K = 2.0
lib = math

def f(x, *args, k=1, **kw):
    y = lib
    def g(z):
        global K
        K = z
        del w
        return lambda q, y=y: q + y + math + K + x + w
    h = (lambda m: m + lib)(x)
    for i in range(3):
        lib2 = [j for j in args]
    return g, h, lib, y, K, kw

async def a(u):
    nonlocal_name = u
    return nonlocal_name, math
"""


def test_local_names_are_the_same_as_walking_every_scope() -> None:
    tree = ast.parse(MODULE)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    collector = bindings._Collector(bindings.ModuleScope(ast.parse("")))
    collector.module(tree)  # each scope's writes, found by walking up from each write once
    names = [n for n in ast.walk(tree) if isinstance(n, ast.Name)]
    assert len(names) > 30
    for n in names:
        local = bindings._local(n, collector.parents, collector.locals_of, collector.scope_writes)
        assert local == _direct_local(n, parents), (n.id, n.lineno)


def _bench_programs():  # type: ignore[no-untyped-def]
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "generation.py"
    spec = importlib.util.spec_from_file_location("_bench_generation", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calls(source: str) -> int:
    """How many Python functions run while the gradient of ``f`` is generated (a count of work, not a time)."""
    import sys

    from s2sad import generate

    generate(source, "program.py", "f")  # every cache of the first run (rule table, LibCST's classes) filled
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        generate(source, "program.py", "f")
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("kind", ["straight_line", "loop_body"])
def test_generation_work_is_linear_in_the_functions_size(kind: str) -> None:
    """Twice the statements, at most a little over twice the work: every stage is linear (a quadratic pass
    makes the ratio approach 4 as the function grows; the constant part of the work keeps it under 2)."""
    make = getattr(_bench_programs(), kind)
    small, large = _calls(make(150)), _calls(make(300))
    assert large / small < 2.05, (small, large)

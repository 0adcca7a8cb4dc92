"""s2sad.unparse writes what ``ast.unparse`` writes: on every expression of the committed generated modules and
on random expressions of every node kind it writes itself (and some it hands to ``ast.unparse``)."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from s2sad.unparse import _Other, _write, unparse

ROOT = Path(__file__).resolve().parent.parent

_BINARY = [ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod, ast.FloorDiv, ast.Pow]
_BINARY += [ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd]
_UNARY = [ast.USub, ast.UAdd, ast.Invert, ast.Not]
_COMPARE = [ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn]
_CONSTANTS = [0, 1, 3, -2, 0.5, -0.0, 1e-300, 2.5e300, float("inf"), float("nan"), True, None, "s", (1, 2), ...]


def _random(rng: random.Random, depth: int) -> ast.expr:
    if depth == 0 or rng.random() < 0.2:
        return ast.Name(rng.choice("abxy")) if rng.random() < 0.6 else ast.Constant(rng.choice(_CONSTANTS))
    sub = lambda: _random(rng, depth - 1)  # noqa: E731
    kind = rng.randrange(13)
    if kind <= 2:
        return ast.BinOp(sub(), rng.choice(_BINARY)(), sub())
    if kind == 3:
        return ast.UnaryOp(rng.choice(_UNARY)(), sub())
    if kind == 4:
        n = rng.randint(1, 2)
        return ast.Compare(sub(), [rng.choice(_COMPARE)() for _ in range(n)], [sub() for _ in range(n)])
    if kind == 5:
        func = ast.Attribute(ast.Name("np"), "sum") if rng.random() < 0.5 else ast.Name("f")
        keywords = [ast.keyword("axis", sub())] if rng.random() < 0.3 else []
        return ast.Call(func, [sub() for _ in range(rng.randint(0, 3))], keywords)
    if kind == 6:
        return ast.Attribute(sub(), "T")
    if kind == 7:
        index = rng.choice(
            [
                lambda: sub(),
                lambda: ast.Tuple([sub() for _ in range(rng.randint(0, 3))]),
                lambda: ast.Slice(*(sub() if rng.random() < 0.5 else None for _ in range(3))),
                lambda: ast.Tuple([ast.Slice(sub(), None, None), sub()]),
            ]
        )()
        return ast.Subscript(sub(), index)
    if kind == 8:
        return ast.Tuple([sub() for _ in range(rng.randint(0, 3))])
    if kind == 9:
        return ast.List([sub() for _ in range(rng.randint(0, 3))])
    if kind == 10:
        return ast.IfExp(sub(), sub(), sub())
    if kind == 11:
        return ast.BoolOp(rng.choice([ast.And, ast.Or])(), [sub(), sub()])
    return ast.Call(ast.Name("g"), [ast.Starred(sub())], [ast.keyword(None, sub())])


@pytest.mark.parametrize("seed", range(20))
def test_random_expressions(seed: int) -> None:
    rng = random.Random(seed)
    written = 0  # by s2sad.unparse itself, not handed to ast.unparse
    for _ in range(500):
        node = _random(rng, 4)
        assert unparse(node) == ast.unparse(node)
        try:
            _write(node, 4, [])
            written += 1
        except _Other:
            pass
    assert written > 100


def test_every_expression_of_the_generated_examples() -> None:
    checked = 0
    for path in sorted((ROOT / "examples").glob("*_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.expr):
                assert unparse(node) == ast.unparse(node), (path.name, ast.dump(node))
                checked += 1
    assert checked > 1000

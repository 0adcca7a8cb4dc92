"""Random programs that read slices of a value of unknown rank (the shape keys of :mod:`s2sad.shape_keys`):
``x[a:-b]`` along the first axis, integer entries, elementwise operations, loops, branches and a helper. Each
is checked (:func:`shape_programs.check`) on arrays of ranks 1 to 3 and on a list of numbers. Run by
``tests/sweep_values.py`` offline and as a seeded slice in ``tests/test_soundness_hunt.py``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

_SLICES = ["[1:]", "[:-1]", "[2:]", "[:-2]", "[1:-1]", "[:]", "[0:]"]


def slice_program(seed: int) -> str:
    """A random function of x (unannotated: any rank, or a list) and s that reads slices of x."""
    rng = random.Random(seed)
    lines: list[str] = []
    groups: dict[int, list[str]] = {}  # entries dropped -> names of that length (as x[1:] has n - 1)
    counter = iter(range(1, 1000))

    def operand(lost: int, depth: int = 0) -> str:
        same = [s for s in _SLICES if _lost(s) == lost]
        options = [f"x{rng.choice(same)}"] if same else []
        options += groups.get(lost, [])
        if not options or (depth < 2 and rng.random() < 0.5):
            a, b = operand(lost, depth + 1), operand(lost, depth + 1)
            op = rng.choice(["+", "-", "*", "elementwise", "scalar"])
            if op == "elementwise":
                return f"{rng.choice(['np.sin', 'np.tanh', 'np.cos'])}({a})"
            if op == "scalar":
                return f"({a} * {rng.choice(['s', '0.5', 'x[0]', 'np.sum(x[1:])'])})" if rng.random() < 0.7 else a
            return f"({a} {op} {b})"
        return rng.choice(options)

    for _ in range(rng.randint(2, 6)):
        lost = rng.choice([0, 1, 2])
        name = f"t{next(counter)}"
        kind = rng.choice(["assign", "assign", "loop", "branch", "helper", "zeros"])
        if kind == "loop":
            lines.append(f"{name} = {operand(lost)}")
            lines.append(f"for i in range({rng.randint(0, 3)}):")
            lines.append(f"    {name} = np.tanh({name}) * s + {operand(lost, 1)}")
        elif kind == "branch":
            lines.append(f"if np.sum(x) > {rng.choice(['0.0', '0.5'])}:")
            lines.append(f"    {name} = {operand(lost, 1)}")
            lines.append("else:")
            lines.append(f"    {name} = {operand(lost, 1)} * s")
        elif kind == "helper":
            lines.append(f"{name} = pair({operand(lost, 1)}, {operand(lost, 1)})")
        elif kind == "zeros":
            lines.append(f"{name} = np.zeros_like({operand(lost, 1)})")
            lines.append(f"{name} = {name} + {operand(lost, 1)} * s")
        else:
            lines.append(f"{name} = {operand(lost)}")
        groups.setdefault(lost, []).append(name)
    terms = [f"np.sum({n} * {n})" if rng.random() < 0.5 else f"np.mean({n})" for g in groups.values() for n in g]
    body = "\n".join("    " + line for line in lines + ["return " + " + ".join(terms[-4:])])
    helper = "def pair(a, b):\n    return a * np.tanh(b) + b\n\n\n"
    return f"import numpy as np\n\n\n{helper}def f(x, s):\n{body}\n"


def _lost(s: str) -> int:
    start, _, stop = s[1:-1].partition(":")
    return int(start or 0) + (-int(stop) if stop else 0)


def slice_points(seed: int) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    out: list[tuple[Any, ...]] = []
    for shape in [(5,), (4, 3), (3,), (6, 1), (3, 2, 2)]:
        out.append((rng.uniform(-1, 1, shape), float(rng.uniform(0.3, 1))))
    out.append((list(rng.uniform(-1, 1, 4)), float(rng.uniform(0.3, 1))))  # a list of numbers
    return out

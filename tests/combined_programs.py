"""Random programs that combine what was built lately (issue 12): helpers returning several values (``ir.PART``,
:mod:`s2sad.parts`) used partly, in loops, in branches, twice, nested and passed on; loops with ``break``,
``continue``, ``while`` counters and early returns, inside helpers too; fixed-point and checkpointed loops
around such helpers; tuple states. Run by ``tests/sweep_combined.py`` offline and as a seeded slice in
``tests/test_soundness_combined.py``; each program is checked in every mode (``grad``, ``jvp``, ``vjp``,
``jacobian``, ``hvp``) by :func:`shape_programs.check`.

A program is ``f(x, y)`` of two numbers (scalar code, ``math``) or ``f(x, s)`` of a vector and a number
(NumPy), built from one to three helpers. Values stay bounded (``tanh``, ``sin``, small factors) so that finite
differences mean something; branch tests read loop counters or compare values with a margin.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Program:
    source: str
    arrays: bool  #: f(x, s) with x a vector; else f(x, y) of numbers
    modes: tuple[str, ...] = ("grad", "jvp", "vjp", "jacobian", "hvp")


class _Gen:
    def __init__(self, rng: random.Random, arrays: bool) -> None:
        self.rng, self.arrays = rng, arrays
        self.lib = "np" if arrays else "math"
        self.helpers: list[str] = []
        self.arity: dict[str, tuple[int, int]] = {}  #: helper -> (parameters, values returned)
        self.counter = 0

    def fresh(self, base: str = "t") -> str:
        self.counter += 1
        return f"{base}{self.counter}"

    def unary(self, e: str) -> str:
        fn = self.rng.choice(["tanh", "sin", "cos"])
        return f"{self.lib}.{fn}({e})"

    def expr(self, names: list[str], depth: int = 0) -> str:
        """A smooth expression of ``names`` (values of the same kind: numbers, or vectors of one length)."""
        rng = self.rng
        if depth >= 2 or rng.random() < 0.3:
            a = rng.choice(names)
            return a if rng.random() < 0.7 else f"{rng.choice(['0.5', '0.3', '1.2'])} * {a}"
        r = rng.random()
        left, right = self.expr(names, depth + 1), self.expr(names, depth + 1)
        if r < 0.35:
            return f"{left} * {self.unary(right)}"
        if r < 0.6:
            return f"{left} + 0.5 * {right}"
        if r < 0.8:
            return self.unary(f"{left} - {right}")
        return f"{left} * {right} * 0.5"

    def cond(self, names: list[str]) -> str:
        a = self.rng.choice(names)
        value = f"np.sum({a})" if self.arrays else a
        return f"{value} > {self.rng.choice(['-0.35', '0.45', '0.9'])}"

    # ----- helpers ------------------------------------------------------------------------------------------
    def helper(self) -> str:
        rng = self.rng
        name = f"h{len(self.helpers) + 1}"
        params = ["a", "b"] if rng.random() < 0.7 else ["a", "b", "c"]
        results = rng.choice([1, 2, 2, 3])
        lines = [f"def {name}({', '.join(params)}):"]
        names = list(params)
        shape = rng.random()
        if shape < 0.25:  # a loop with a counter read by the arithmetic
            lines += [
                f"    for i in range({rng.randint(1, 4)}):",
                f"        a = {self.expr(names)} * 0.5 + b * i * 0.1",
            ]
            if rng.random() < 0.5:
                lines += [f"        if i > {rng.randint(0, 2)}:", "            break"]
        elif shape < 0.4:  # a while loop with a counter
            lines += [
                "    k = 0",
                f"    while k < {rng.randint(1, 4)}:",
                f"        a = {self.unary('a')} + b * k * 0.2",
            ]
            lines += ["        k += 1"]
        elif shape < 0.55:  # an early return inside a loop (several values from several returns are refused)
            results = 1 if rng.random() < 0.8 else results
            lines += [
                f"    for i in range({rng.randint(2, 4)}):",
                f"        if i > {rng.randint(0, 2)} and {self.cond(names)}:",
            ]
            lines += [f"            return {', '.join(self.expr(names) + ' * i' for _ in range(results))}"]
            lines += [f"        a = {self.expr(names)} * 0.7"]
        elif shape < 0.7:  # a branch
            t = self.fresh("u")
            lines += [f"    if {self.cond(names)}:", f"        {t} = {self.expr(names)}", "    else:"]
            lines += [f"        {t} = {self.expr(names)} * 0.5"]
            names.append(t)
        t = self.fresh("v")
        lines.append(f"    {t} = {self.expr(names)}")
        names.append(t)
        values = [self.expr(names) for _ in range(results)]
        if results > 1 and rng.random() < 0.2:
            values[-1] = rng.choice(params)  # a parameter returned as it is
        lines.append(f"    return {', '.join(values)}")
        self.helpers.append(name)
        self.arity[name] = (len(params), results)
        return "\n".join(lines) + "\n"

    def call(self, names: list[str], target_names: list[str], lines: list[str], indent: str) -> None:
        """A call of a helper: its values unpacked (some unused), indexed, or kept as a tuple and passed on."""
        rng = self.rng
        h = rng.choice(self.helpers)
        n, k = self.arity[h]
        args = ", ".join(self.expr(names, 1) for _ in range(n))
        if k == 1:
            t = self.fresh()
            lines.append(f"{indent}{t} = {h}({args})")
            target_names.append(t)
            return
        r = rng.random()
        if r < 0.5:
            targets = [self.fresh() for _ in range(k)]
            if rng.random() < 0.3:
                targets[rng.randrange(k)] = "_"
            lines.append(f"{indent}{', '.join(targets)} = {h}({args})")
            target_names += [t for t in targets if t != "_"]
        elif r < 0.8:
            t = self.fresh("r")
            lines.append(f"{indent}{t} = {h}({args})")
            u = self.fresh()
            lines.append(f"{indent}{u} = {t}[{rng.randrange(k)}] * {t}[{rng.randrange(k)}]")
            target_names.append(u)
        else:
            u = self.fresh()
            lines.append(f"{indent}{u} = {h}({args})[{rng.randrange(k)}]")
            target_names.append(u)

    # ----- the function differentiated ---------------------------------------------------------------------
    def main(self) -> str:
        rng = self.rng
        second = "s" if self.arrays else "y"
        names = ["x", second] if not self.arrays else ["x"]
        lines = [f"def f(x, {second}):"]
        acc = "acc"
        lines.append(f"    {acc} = {'x * 0.0' if self.arrays else '0.0'}")
        for _ in range(rng.randint(1, 3)):
            shape = rng.random()
            got: list[str] = []
            if shape < 0.3:
                self.call(names, got, lines, "    ")
                names += got
            elif shape < 0.55:  # a loop around a call, carrying a value
                n = rng.randint(1, 4)
                checkpoint = rng.random() < 0.25
                if checkpoint:
                    lines.append("    # s2sad: checkpoint 2")
                lines.append(f"    for i in range({n}):")
                self.call(names, got, lines, "        ")
                lines.append(f"        {acc} = {acc} * 0.5 + {self.expr(got + names[:1], 1)} * 0.3")
                extra = rng.random()
                if extra < 0.2 and not checkpoint:
                    lines += [f"        if i > {rng.randint(0, 2)}:", "            break"]
                elif extra < 0.4:
                    lines += [f"        if i == {rng.randint(0, 2)}:", "            continue"]
                if rng.random() < 0.4:
                    lines.append(f"        x = {self.unary('x')} * 0.9")
            elif shape < 0.7:  # a branch calling helpers
                lines.append(f"    if {self.cond(names)}:")
                self.call(names, got, lines, "        ")
                lines.append(f"        {acc} = {acc} + {self.expr(got, 1)}")
                lines.append("    else:")
                other: list[str] = []
                self.call(names, other, lines, "        ")
                lines.append(f"        {acc} = {acc} - {self.expr(other, 1)} * 0.5")
            elif shape < 0.85:  # a tuple state through a loop
                st = self.fresh("st")
                lines.append(f"    {st} = (x, {'x * ' + second if self.arrays else second})")
                lines.append(f"    for _ in range({rng.randint(1, 3)}):")
                lines.append(f"        p, q = {st}")
                lines.append(f"        {st} = (p * 0.8 + {self.unary('q')} * 0.2, q - 0.1 * p * p)")
                u = self.fresh()
                lines.append(f"    {u} = {st}[0] * {st}[1]")
                names.append(u)
            else:  # a while loop with a counter and an early return
                lines += ["    n = 0", f"    while n < {rng.randint(1, 4)}:"]
                self.call(names, got, lines, "        ")
                lines.append(f"        {acc} = {acc} + {self.expr(got, 1)} * 0.2")
                if rng.random() < 0.5:
                    total = f"np.sum({acc})" if self.arrays else acc
                    lines += [f"        if n > 1 and {total} > 2.5:", f"            return {total} * {second}"]
                lines.append("        n += 1")
        final = self.expr(names + [acc], 1)
        if self.arrays:
            lines.append(f"    return np.sum({final}) * {second} + np.sum({acc})")
        else:
            lines.append(f"    return {final} + {acc}")
        return "\n".join(lines) + "\n"


def program(seed: int) -> Program:
    rng = random.Random(seed)
    arrays = rng.random() < 0.45
    gen = _Gen(rng, arrays)
    helpers = [gen.helper() for _ in range(rng.randint(1, 3))]
    body = gen.main()
    head = "import numpy as np\n" if arrays else "import math\n"
    return Program(head + "\n\n" + "\n\n".join(helpers) + "\n\n" + body, arrays)


def points(prog: Program, seed: int) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    if prog.arrays:
        return [(rng.uniform(-0.9, 0.9, n), float(rng.uniform(0.3, 1.1))) for n in (3, 1, 2)]
    return [(float(rng.uniform(-0.9, 0.9)), float(rng.uniform(0.3, 1.1))) for _ in range(3)]


def specialised(source: str, at_all: list[tuple[Any, ...]], wrt: tuple[str, ...] = ()) -> str:
    """``s2sad.grad(f, specialise=True)`` of ``source``'s ``f`` called at every point in turn (arguments of
    different kinds and sizes; one module per signature, each called at every size of its signature): each
    gradient against central differences. "right", "refused..." or "BUG: ...". Nothing is cached on disk."""
    import importlib.util
    import sys
    import tempfile
    from pathlib import Path

    import s2sad
    from shape_programs import _copy, _fd_agrees, _runs

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "specialised_program.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location("specialised_program", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["specialised_program"] = module
        try:
            spec.loader.exec_module(module)
            f = module.f
            good = [at for at in at_all if _runs(f, at)]
            try:
                df = s2sad.grad(f, list(wrt) or None, specialise=True)
            except s2sad.S2sadError:
                return "refused"
            for at in good:
                try:
                    with np.errstate(all="ignore"):
                        got = df(*_copy(at))
                except s2sad.S2sadError:
                    return "refused"
                except (TypeError, ValueError) as err:
                    if "differentiated for a number only" in str(err) or "not a list or tuple" in str(err):
                        return "refused at run time"
                    return f"BUG: raises {type(err).__name__}: {err}\n{df.source(*at)}"
                names = df.__s2sad_wrt__
                params = list(__import__("inspect").signature(f).parameters)
                got = (got,) if len(names) == 1 else got
                for name, value in zip(names, got):
                    ok, expected = _fd_agrees(f, at, params.index(name), value)
                    big = max(np.max(np.abs(expected), initial=0), np.max(np.abs(value), initial=0)) > 1e5
                    if not ok and not big:
                        kinds = ", ".join(f"{type(a).__name__}{np.shape(a)}" for a in at)
                        return f"BUG: wrong d/d{name} at {kinds}: {value!r} != {expected!r}\n{df.source(*at)}"
        finally:
            sys.modules.pop("specialised_program", None)
    return "right"

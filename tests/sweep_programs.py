"""Random programs with issue 13's later constructs; the suite runs a seeded slice.

    PYTHONPATH=$PWD:$PWD/tests python tests/sweep_programs.py [programs] [seed]

Each program (of x (5,), W (3, 4) and s) calls helpers returning several values (``a, b = pair(...)``), passes
tuples to helpers (displays, tuple variables, a helper's tuple result: ``p = rot(p, c)``), calls helpers whose
``param=None`` defaults are left out, given None, given a value or given a name (a run-time branch), sums
generators, builds comprehensions over ``zip`` and ``enumerate``, and writes into a list's elements (``xs[i] =``,
``xs[i] +=``, ``xs[0], xs[1] = pair(...)``), in loops and branches. A third are scalar programs in a module
without NumPy (math only, comprehensions and generators over a list parameter). Each must be right against
central finite differences of the program itself: the generator makes only programs s2sad should accept.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from soundness import Case, verdict

_HELPERS = {
    "pair": "def pair(a, b):\n    return {tanh}(a * b), a + 0.5 * {sin}(b)\n",
    "rot": ("def rot(p, c):\n    u, v = p\n    return (u * {cos}(c) - v * {sin}(c), u * {sin}(c) + v * {cos}(c))\n"),
    "dot2": "def dot2(p, q):\n    return p[0] * q[0] + p[1] * q[-1]\n",
    "scale": "def scale(v, w=None):\n    if w is None:\n        w = 0.5\n    return v * w\n",
    "shift": "def shift(v, off=None):\n    return v if off is None else v + {tanh}(off)\n",
    "total": "def total(t):\n    s = 0.0\n    for e in t:\n        s = s + e * e\n    return s + len(t)\n",
    "both": "def both(p, k=None):\n    a, b = p\n    if k is not None:\n        a = a * k\n    return a + b, a * b\n",
}


def program(rng: random.Random, numpy: bool) -> str:
    m = "np" if numpy else "math"
    fn = {"tanh": f"{m}.tanh", "sin": f"{m}.sin", "cos": f"{m}.cos"}
    temps: list[str] = []
    lines: list[str] = []
    used: set[str] = set()
    state = {"p": False, "lst": False}

    def scalar(depth: int = 0, i: str = "1") -> str:
        options = ["x", "s", "const"] + (["temp"] if temps else []) + (["p"] if state["p"] else [])
        options += ["lst"] if state["lst"] else []
        options += ["unary", "binary"] if depth < 2 else []
        kind = rng.choice(options)
        if kind == "x":
            return f"x[{rng.choice(['0', '2', '-1', i])}]"
        if kind == "s":
            return "s"
        if kind == "temp":
            return rng.choice(temps)
        if kind == "p":
            return f"p[{rng.choice(['0', '1', '-1'])}]"
        if kind == "lst":
            return f"lst[{rng.choice(['0', '1', i])}]"
        if kind == "unary":
            return f"{rng.choice(list(fn.values()))}({scalar(depth + 1, i)})"
        if kind == "binary":
            return f"({scalar(depth + 1, i)} {rng.choice(['+', '-', '*'])} {scalar(depth + 1, i)})"
        return rng.choice(["0.5", "1.5", "-0.7"])

    def bounded(i: str = "1") -> str:
        return f"{fn['tanh']}({scalar(0, i)})"

    def fresh() -> str:
        name = f"t{len(temps) + len(lines)}"
        return name

    def statement(i: str, pad: str) -> None:
        kinds = ["pair", "tuple", "dot2", "none", "shift", "total", "generator", "both"]
        kinds += ["zip", "enumerate", "listwrite", "listaug", "listpair"] if not pad else ["listwrite", "listaug"]
        kind = rng.choice(kinds)
        if kind in ("listwrite", "listaug", "listpair") and not state["lst"]:
            kind = "generator"
        if kind == "pair":
            a, b = fresh(), fresh() + "b"
            lines.append(f"{pad}{a}, {b} = pair({bounded(i)}, {bounded(i)})")
            used.add("pair")
            if not pad:
                temps.extend([a, b])
            else:
                lines.append(f"{pad}s = s + 0.1 * {a} * {b}")
        elif kind == "tuple":
            used.add("rot")
            if state["p"] and rng.random() < 0.6:
                lines.append(f"{pad}p = rot(p, {bounded(i)})")
            elif not pad:
                lines.append(f"p = ({bounded(i)}, {bounded(i)})")
                state["p"] = True
            else:
                lines.append(f"{pad}s = s + dot2(rot(({bounded(i)}, s), 0.3), (1.0, 0.5))")
                used.add("dot2")
        elif kind == "dot2":
            used.add("dot2")
            first = "p" if state["p"] and rng.random() < 0.5 else f"({bounded(i)}, {bounded(i)})"
            target = fresh() if not pad else "s"
            lines.append(f"{pad}{target} = {'s + ' if pad else ''}0.3 * dot2({first}, ({bounded(i)}, {scalar(1, i)}))")
            if not pad:
                temps.append(target)
        elif kind == "none":
            used.add("scale")
            arg = rng.choice(["", ", None", f", {bounded(i)}", ", w=1.5", ", s"])
            target = fresh() if not pad else "s"
            lines.append(f"{pad}{target} = {'s + ' if pad else ''}scale({bounded(i)}{arg})")
            if not pad:
                temps.append(target)
        elif kind == "shift":
            used.add("shift")
            arg = rng.choice(["", f", {scalar(1, i)}", ", off=None", f", off={bounded(i)}"])
            target = fresh() if not pad else "s"
            lines.append(f"{pad}{target} = {'s + ' if pad else ''}0.5 * shift({bounded(i)}{arg})")
            if not pad:
                temps.append(target)
        elif kind == "total":
            used.add("total")
            items = ", ".join(bounded(i) for _ in range(rng.randint(1, 3)))
            target = fresh() if not pad else "s"
            lines.append(f"{pad}{target} = {'s + ' if pad else ''}0.2 * total(({items},))")
            if not pad:
                temps.append(target)
        elif kind == "both":
            used.add("both")
            first = "p" if state["p"] and rng.random() < 0.5 else f"({bounded(i)}, {scalar(1, i)})"
            arg = rng.choice(["", f", {bounded(i)}", ", k=None", ", s"])
            a, b = fresh(), fresh() + "b"
            lines.append(f"{pad}{a}, {b} = both({first}{arg})")
            if not pad:
                temps.extend([a, b])
            else:
                lines.append(f"{pad}s = s + 0.1 * {fn['tanh']}({a} + {b})")
        elif kind == "generator":
            reader = rng.choice(["sum", "sum", "max", "min"])
            target = fresh() if not pad else "s"
            element = f"{fn['sin']}(v) * {scalar(1, i)}" if rng.random() < 0.5 else f"{fn['tanh']}(v * s)"
            lines.append(f"{pad}{target} = {'s + ' if pad else ''}0.3 * {reader}({element} for v in x)")
            if not pad:
                temps.append(target)
        elif kind == "zip":
            name = fresh()
            second = "W[0]" if numpy else "x[1:]"
            lines.append(f"{name}_list = [a * {fn['tanh']}(b * s) for a, b in zip(x, {second})]")
            lines.append(f"{name} = 0.2 * sum({name}_list)")
            temps.append(name)
        elif kind == "enumerate":
            name = fresh()
            lines.append(f"{name} = 0.1 * sum([k * {fn['sin']}(v) for k, v in enumerate(x)])")
            temps.append(name)
        elif kind == "listwrite":
            lines.append(f"{pad}lst[{i if rng.random() < 0.5 else rng.randrange(3)}] = {bounded(i)}")
        elif kind == "listaug":
            lines.append(f"{pad}lst[{rng.randrange(3)}] += 0.5 * {bounded(i)}")
        else:
            used.add("pair")
            lines.append(f"{pad}lst[0], lst[2] = pair(lst[0], {bounded(i)})")

    if numpy and rng.random() < 0.7:
        lines.append(f"lst = [{fn['sin']}(x[k]) * s for k in range(3)]")
        state["lst"] = True
    for _ in range(rng.randint(3, 7)):
        where = rng.random()
        if where < 0.2:
            lines.append(f"for i in range({rng.randint(0, 2)}):")
            for _ in range(rng.randint(1, 2)):
                statement("i", "    ")
        elif where < 0.3:
            lines.append(f"if {scalar(1)} > 0.0:")
            statement("1", "    ")
            lines.append("else:")
            statement("1", "    ")
        else:
            statement("1", "")
    terms = [*temps, "s"]
    if state["p"]:
        terms.append("p[0] * p[1]")
    if state["lst"]:
        terms.append("sum(lst)")
    lines.append(f"return {' + '.join(terms)}")
    body = "\n".join("    " + line for line in lines)
    helpers = "\n\n".join(_HELPERS[h].format(**fn) for h in sorted(used))
    imports = "import numpy as np\n" if numpy else "import math\n"
    return f"{imports}\n\n{helpers}\n\ndef f(x, W, s):\n{body}\n"


def program_case(seed: int) -> Case:
    rng = random.Random(seed)
    point = np.random.default_rng(seed)
    numpy = seed % 3 != 2  # a third are scalar programs in a module without NumPy
    x = point.normal(size=5)
    at = (x if numpy else [float(v) for v in x], point.normal(size=(3, 4)), float(point.normal()))
    wrt = ("x", "W", "s") if numpy else ("s",)
    return Case(f"programs-{seed}", {"m.py": program(rng, numpy)}, at, wrt=wrt, expect="correct", family="programs")


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 300
    start = int(argv[2]) if len(argv) > 2 else 0
    failed = 0
    for seed in range(start, start + n):
        c = program_case(seed)
        with tempfile.TemporaryDirectory() as tmp:
            try:
                verdict(c, Path(tmp))
            except AssertionError as err:
                failed += 1
                print(f"--- seed {seed}\n{c.files['m.py']}\n{str(err)[:1500]}")
    print(f"{n - failed} of {n} programs right")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Random programs that write into arrays and grow lists (issue 13, items 1 and 3); the suite runs a seeded
slice.

    PYTHONPATH=$PWD:$PWD/tests python tests/sweep_writes.py [programs] [seed]

Each program creates arrays (np.zeros, .copy(), arithmetic), writes into them with constant and loop indices,
slices, rows and columns (``=``, ``+=``, ``*=``), in loops and branches, reads them back between writes, and
returns a scalar of everything; a third grow lists (appends in loops and branches, comprehensions over ranges
and lists, reads by index, len, sum, np.array, np.stack). Each must be right against central finite differences of the program itself;
the generator makes only programs s2sad should accept (fresh arrays, no aliases), so a refusal fails too.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from soundness import Case, verdict


def write_program(rng: random.Random) -> str:
    """A random function of x (5,), W (3, 4) and s that writes into A (3, 4) and y (5,)."""
    lines: list[str] = []
    temps: list[str] = []

    def scalar(depth: int = 0, i: str = "1", j: str = "2") -> str:
        kind = rng.choice(["x", "y", "A", "s", "const", "temp"] + (["unary", "binary"] if depth < 2 else []))
        if kind == "x":
            return f"x[{rng.choice(['0', '3', '-1', i])}]"
        if kind == "y":
            return f"y[{rng.choice(['1', '4', i])}]"
        if kind == "A":
            return f"A[{rng.choice(['0', i])}, {rng.choice(['3', j])}]"
        if kind == "s":
            return "s"
        if kind == "temp" and temps:
            return rng.choice(temps)
        if kind == "unary":
            return f"{rng.choice(['np.sin', 'np.tanh', 'np.cos'])}({scalar(depth + 1, i, j)})"
        if kind == "binary":
            op = rng.choice(["+", "-", "*"])
            return f"({scalar(depth + 1, i, j)} {op} {scalar(depth + 1, i, j)})"
        return rng.choice(["0.5", "1.5", "-0.7"])

    def row(i: str = "1") -> str:  # shape (4,)
        kind = rng.choice(["W", "A", "x", "y", "mix"])
        if kind == "W":
            return f"W[{i}]"
        if kind == "A":
            return f"np.tanh(A[{i}] * {scalar(1, i)})"
        if kind == "x":
            return "x[0:4]"
        if kind == "y":
            return "y[1:5] * 0.5"
        return f"(W[{i}] + A[{i}]) * {scalar(1, i)}"

    def col(j: str = "1") -> str:  # shape (3,)
        return rng.choice([f"W[:, {j}]", f"A[:, {j}] * 0.5", "x[0:3]", "y[2:5] * s", f"np.sin(A[:, {j}])"])

    def bounded(i: str, j: str) -> str:  # values stay moderate, so finite differences stay accurate
        return f"np.tanh({scalar(0, i, j)})"

    def write(i: str, j: str) -> str:
        kind = rng.choice(["entry", "entry", "row", "col", "yentry", "yslice", "aug", "mulaug"])
        if kind == "entry":
            return f"A[{i}, {j}] = {bounded(i, j)}"
        if kind == "row":
            return f"A[{i}] = {row(i)}" if rng.random() < 0.5 else f"A[{i}, :] += {row(i)}"
        if kind == "col":
            return f"A[:, {j}] += {col(j)}" if rng.random() < 0.5 else f"A[:, {j}] = {col(j)}"
        if kind == "yentry":
            return f"y[{i}] = {bounded(i, j)}"
        if kind == "yslice":
            return f"y[{i}:{i} + 2] = np.tanh(y[{i}:{i} + 2] * {scalar(1, i, j)}) + x[0:2]"
        if kind == "aug":
            return f"y[{i}] += {bounded(i, j)}"
        return f"A[{i}, {j}] *= {bounded(i, j)}"

    lines.append(rng.choice(["A = np.zeros((3, 4))", "A = W.copy()", "A = W * 1.0", "A = np.zeros_like(W)"]))
    lines.append(rng.choice(["y = np.zeros(5)", "y = x.copy()", "y = np.copy(x) * s", "y = x + 0.0"]))
    for k in range(rng.randint(3, 7)):
        kind = rng.choice(["write", "write", "loop", "nested", "branch", "temp"])
        if kind == "write":
            lines.append(write(str(rng.randrange(3)), str(rng.randrange(4))))
        elif kind == "loop":
            lines.append(f"for i in range({rng.randint(1, 3)}):")
            for _ in range(rng.randint(1, 3)):
                lines.append("    " + write("i", str(rng.randrange(4))))
        elif kind == "nested":
            lines.append("for i in range(3):")
            lines.append("    for j in range(i + 1):")
            lines.append("        " + write("i", "j"))
        elif kind == "branch":
            lines.append(f"if {scalar(1)} > 0.0:")
            lines.append("    " + write(str(rng.randrange(3)), str(rng.randrange(4))))
            if rng.random() < 0.5:
                lines.append("else:")
                lines.append("    " + write(str(rng.randrange(3)), str(rng.randrange(4))))
        else:
            name = f"t{k}"
            lines.append(f"{name} = {bounded('1', '2') if rng.random() < 0.5 else scalar(2)}")
            temps.append(name)
    extra = " + ".join(temps) if temps else "0.0"
    lines.append(f"return np.sum(np.tanh(A) * W) + np.sum(y * y * x) + {extra}")
    body = "\n".join("    " + line for line in lines)
    return f"import numpy as np\n\n\ndef f(x, W, s):\n{body}\n"


def list_program(rng: random.Random) -> str:
    """A random function of x (5,), W (3, 4) and s that grows lists of scalars and of rows, builds lists by
    comprehensions, and reads them back (indices, len, sum, np.array, np.stack)."""
    start = ["xs = []", "xs.append(x[4] * s)"] if rng.random() < 0.5 else ["xs = [x[0] * s]"]
    lines = [*start, "rows = []"]  # never empty: np.array of an empty list is refused (it has no elements' shape)
    n_xs = 1

    def scalar(i: str) -> str:
        options = [f"x[{i}]", "s", "np.sin(x[1])", f"W[1, {i}]"] + (["xs[-1]", "xs[0]"] if n_xs else [])
        a, b = rng.choice(options), rng.choice(options)
        return rng.choice([f"np.tanh({a} * {b})", f"np.sin({a}) + {b}", f"{a} * 0.5"])

    for _ in range(rng.randint(2, 5)):
        kind = rng.choice(["append", "loop", "rows", "comprehension", "branch"])
        if kind == "append":
            lines.append(f"xs.append({scalar('2')})")
            n_xs += 1
        elif kind == "loop":
            lines.append(f"for i in range({rng.randint(1, 3)}):")
            lines.append(f"    xs.append({scalar('i')})")
            n_xs += 1  # at least once
        elif kind == "rows":
            lines.append("for i in range(3):")
            lines.append(f"    rows.append(np.tanh(W[i] * {scalar('i')}))")
        elif kind == "branch":
            lines.append(f"if x[{rng.randrange(5)}] > 0.0:")
            lines.append(f"    rows.append(W[0] * {scalar('1')})")
            lines.append("else:")
            lines.append(f"    rows.append(np.cos(W[2]) * {scalar('2')})")
        else:
            source = rng.choice(["range(4)", "xs"] if n_xs else ["range(4)"])
            element = "np.sin(v) * s" if source == "xs" else f"x[v] * {scalar('v')}"
            name = f"c{len(lines)}"
            lines.append(f"{name} = [{element} for v in {source}]")
            lines.append(f"xs.append(sum({name}) + len({name}))")
            n_xs += 1
    terms = ["np.sum(np.array(xs) ** 2)", "sum(xs)", "len(xs) * s"]
    terms.append(
        "np.sum(np.stack(rows) * 0.5) + np.sum(sum(rows))" if any("rows.append" in ln for ln in lines) else "0.0"
    )
    lines.append(f"return {' + '.join(terms)}")
    body = "\n".join("    " + line for line in lines)
    return f"import numpy as np\n\n\ndef f(x, W, s):\n{body}\n"


def program_case(seed: int) -> Case:
    rng = random.Random(seed)
    point = np.random.default_rng(seed)
    at = (point.normal(size=5), point.normal(size=(3, 4)), float(point.normal()))
    source = list_program(rng) if seed % 3 == 2 else write_program(rng)  # a third of them grow lists
    return Case(f"writes-{seed}", {"m.py": source}, at, expect="correct", family="writes")


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

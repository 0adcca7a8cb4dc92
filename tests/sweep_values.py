"""Offline sweeps for families 5 and 7 of issue 10, and the value analysis hunt of issue 12 (the suite runs a
seeded slice of each).

    PYTHONPATH=$PWD:$PWD/tests python tests/sweep_values.py [programs] [seed] [modes]

- random NumPy programs of nine shapes (see ``tests/shape_programs.py``), each generated once per mode (grad;
  jvp and hvp on every third, or on every one with ``modes`` = ``grad,jvp,hvp``) and checked at six shapes;
- random programs reading slices of an unannotated x (shape keys), in grad, jvp and hvp, on arrays of ranks 1
  to 3 and on a list;

- random programs with tuples (displays, constant indices and slices, unpacking, max/min/sum/np.sum/np.array,
  loops and branches that rebuild them, now and then a tuple of another length or a run-time index): each must
  be right against finite differences or refused with a located diagnostic;
- matmul / dot / outer on random operand shapes, against autograd.
"""

from __future__ import annotations

import collections
import random
import re
import sys
import tempfile
from pathlib import Path

from soundness import Case, verdict


def tuple_program(rng: random.Random) -> tuple[str, tuple[float, ...]]:
    """A random function of x and y that builds, rebuilds and reads tuples."""
    scalars = ["x", "y"]
    tuples: dict[str, int] = {}
    lines: list[str] = []
    counter = iter(range(1000))

    def expr(depth: int = 0) -> str:
        choices = ["scalar", "scalar", "const"] + (["element"] if tuples else []) + (["binary"] if depth < 2 else [])
        kind = rng.choice(choices)
        if kind == "scalar":
            return rng.choice(scalars)
        if kind == "const":
            return rng.choice(["0.5", "2.0", "-1.5"])
        if kind == "element":
            name = rng.choice(sorted(tuples))
            k = rng.randrange(-tuples[name], tuples[name])
            return f"{name}[{k}]"
        op = rng.choice(["+", "-", "*"])
        inner = f"{expr(depth + 1)} {op} {expr(depth + 1)}"
        return f"math.sin({inner})" if rng.random() < 0.2 else f"({inner})"

    def display(n: int) -> str:
        return "(" + ", ".join(expr() for _ in range(n)) + ("," if n == 1 else "") + ")"

    def statement(indent: str) -> None:
        kind = rng.choice(["tuple", "tuple", "scalar", "unpack", "reduce", "slice", "loop", "branch", "odd"])
        if kind == "tuple" or not tuples:
            name = f"t{next(counter)}" if not tuples or rng.random() < 0.6 else rng.choice(sorted(tuples))
            n = tuples.get(name, rng.randint(1, 4))
            lines.append(f"{indent}{name} = {display(n)}")
            tuples[name] = n
        elif kind == "scalar":
            name = f"s{next(counter)}"
            lines.append(f"{indent}{name} = {expr()}")
            scalars.append(name)
        elif kind == "unpack":
            name = rng.choice(sorted(tuples))
            targets = [f"u{next(counter)}" for _ in range(tuples[name])]
            lines.append(f"{indent}{', '.join(targets)}{',' if len(targets) == 1 else ''} = {name}")
            scalars.extend(targets)
        elif kind == "reduce":
            name = rng.choice(sorted(tuples))
            fn = rng.choice(["max", "min", "sum", "np.sum", "len"])
            target = f"r{next(counter)}"
            lines.append(f"{indent}{target} = {fn}({name})")
            scalars.append(target)
        elif kind == "slice":
            name = rng.choice(sorted(tuples))
            n = tuples[name]
            lo = rng.randrange(0, n)
            target = f"t{next(counter)}"
            lines.append(f"{indent}{target} = {name}[{lo}:]")
            tuples[target] = n - lo
        elif kind == "loop":
            name = rng.choice(sorted(tuples))
            n = tuples[name]
            rotated = ", ".join([f"{name}[{(k + 1) % n}] * 0.9" for k in range(n)]) + ("," if n == 1 else "")
            lines.append(f"{indent}for i in range(2):")
            lines.append(f"{indent}    {name} = ({rotated})")
        elif kind == "branch":
            name = rng.choice(sorted(tuples))
            n = tuples[name]
            lines.append(f"{indent}if {expr()} > 0.1:")
            lines.append(f"{indent}    {name} = {display(n)}")
            lines.append(f"{indent}else:")
            lines.append(f"{indent}    {name} = {display(n)}")
        else:  # another length, a run-time index; and what must be refused: lengths that depend on the path,
            # a tuple concatenated (no rule follows its elements)
            name = rng.choice(sorted(tuples))
            kind = rng.choice(["length", "index", "branch-length", "concatenate"])
            if kind == "length":
                lines.append(f"{indent}{name} = {display(tuples[name] + 1)}")
                tuples[name] += 1
            elif kind == "index":
                target = f"s{next(counter)}"
                lines.append(f"{indent}{target} = {name}[int(y > 0) % {tuples[name]}]")
                scalars.append(target)
            elif kind == "branch-length":
                lines.append(f"{indent}if {expr()} > 0.1:")
                lines.append(f"{indent}    {name} = {display(tuples[name] + 1)}")
            else:
                target = f"s{next(counter)}"
                lines.append(f"{indent}{target} = np.sum({name} + {name})")
                scalars.append(target)

    for _ in range(rng.randint(2, 7)):
        statement("    ")
    used = rng.sample(scalars, min(3, len(scalars))) + [f"{t}[0]" for t in sorted(tuples)[:2]]
    lines.append("    return " + " + ".join(used))
    source = "import math\nimport numpy as np\n\n\ndef f(x, y):\n" + "\n".join(lines) + "\n"
    point = [round(rng.uniform(-1.5, 1.5), 4) for _ in range(2)]
    # a test compares with 0.1: a point there would put finite differences across the jump
    return source, tuple(v if abs(v - 0.1) > 1e-3 else v + 0.05 for v in point)


def sweep_tuples(programs: int, seed: int) -> collections.Counter[str]:
    rng = random.Random(seed)
    outcomes: collections.Counter[str] = collections.Counter()
    for k in range(programs):
        source, at = tuple_program(rng)
        case = Case(f"tuples-{seed}-{k}", {"m.py": source}, at, wrt=("x", "y"))
        with tempfile.TemporaryDirectory() as folder:
            try:
                outcome = verdict(case, Path(folder))
            except AssertionError as err:
                outcomes["WRONG"] += 1
                print(f"--- program {k} ---\n{source}\n{err}\n")
                continue
            except (ZeroDivisionError, ValueError, OverflowError, TypeError) as err:
                outcomes[f"user code raised ({type(err).__name__})"] += 1
                continue
        codes = sorted(set(re.findall(r"error: .* \[([a-z0-9-]+)\]$", outcome.stderr, re.M)))
        outcomes["refused: " + ", ".join(codes) if outcome.refused else "correct"] += 1
    return outcomes


def sweep_shapes(programs: int, seed: int, modes: tuple[str, ...] | None) -> collections.Counter[str]:
    from shape_programs import check, points, program

    outcomes: collections.Counter[str] = collections.Counter()
    for k in range(seed, seed + programs):
        p = program(k)
        result = check(p.source, points(p, k), modes or (("grad", "jvp", "hvp") if k % 3 == 0 else ("grad",)))
        outcomes[result.verdict if not result.verdict.startswith("BUG") else "BUG"] += 1
        if result.verdict.startswith("BUG"):
            print(f"--- program {k}: {result.verdict} ---\n{p.source}\n{result.detail[:3000]}\n", flush=True)
    return outcomes


def sweep_slices(programs: int, seed: int) -> collections.Counter[str]:
    from shape_programs import check
    from slice_programs import slice_points, slice_program

    outcomes: collections.Counter[str] = collections.Counter()
    for k in range(seed, seed + programs):
        source = slice_program(k)
        result = check(source, slice_points(k), ("grad", "jvp", "hvp"))
        outcomes[result.verdict if not result.verdict.startswith("BUG") else "BUG"] += 1
        if result.verdict.startswith("BUG"):
            print(f"--- slice program {k}: {result.verdict} ---\n{source}\n{result.detail[:3000]}\n", flush=True)
    return outcomes


def main(argv: list[str]) -> int:
    programs = int(argv[0]) if argv else 500
    seed = int(argv[1]) if len(argv) > 1 else 0
    modes = tuple(argv[2].split(",")) if len(argv) > 2 else None
    print("shape programs:", dict(sweep_shapes(programs, seed, modes)), flush=True)
    print("slices of unknown rank:", dict(sweep_slices(programs, seed)), flush=True)
    print("tuple programs:", dict(sweep_tuples(programs, seed)))
    from test_soundness_values import linalg_mismatches

    checked, bad = linalg_mismatches(seed, programs)
    print(f"matmul/dot/outer shapes: {checked} checked against autograd, {len(bad)} mismatches", bad[:5])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""How long s2sad takes to generate a gradient module, and what ``@s2sad.gradient``'s cache saves.

Three tables, each a range (min–max) over several runs, one thread:

1. the examples, in process (``generate()``: frontend to black), as before;
2. generated programs end to end (``python -m s2sad grad FILE::f``, a new process each run, as a user runs it,
   with Python's bytecode cache on (in a temporary ``PYTHONPYCACHEPREFIX``, warmed by a first run): the
   command line's own cost is ``s2sad --help`` and the small ``examples/domke.py::f`` (6 statements)): straight-line
   functions of 100 / 1,000 / 10,000 statements and loop bodies of 100 / 1,000 / 2,000 statements, written
   deterministically by :func:`straight_line` and :func:`loop_body`; beside it ``generate()`` alone, CPU time in
   a new process (no start-up, no imports); ``--s2sad DIR`` runs this table with another checkout's s2sad
   (e.g. ``/work/main``, for a before and after on one machine);
3. importing a module of 20 ``@s2sad.gradient`` functions: without the cache, first import (cache written),
   second import (cache read), per function.

Run: python bench/generation.py [--runs N] [--quick] [--only programs] [--s2sad DIR]
(--quick: skip the 10,000-statement program). On a shared machine read the CPU columns: wall time counts the
other processes' turns.
The programs are written to a temporary folder; ``--keep DIR`` writes them there instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from s2sad import generate  # noqa: E402

EXAMPLES = [
    ("examples/domke.py", "f"),
    ("examples/network.py", "c"),
    ("examples/loop.py", "g"),
    ("tests/catalogue.py", "several_statements"),
]

#: One thread everywhere (BLAS, OpenMP), as for the other benchmarks.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_HEADER = "from math import sin, exp\n\n\ndef f(x, y):\n    a = x\n    b = y\n    c = x * y\n    d = x + y\n"


def _statements(n: int, indent: str) -> list[str]:
    """``n`` statements over four variables, each reassigned again and again (``a = c * b``, ``b = b + 0.5 *
    c``, ``c = sin(d)``, ``d = exp(0.001 * c)``, in turn): every statement makes a new version of a name, as
    a long computation does. Deterministic: the operands follow a fixed pattern."""
    names = "abcd"
    out = []
    for i in range(n):
        target, p, q = names[i % 4], names[(i * 7 + 3) % 4], names[(i * 5 + 1) % 4]
        kind = (i // 4 + i) % 4
        value = [f"{p} * {q}", f"{p} + 0.5 * {q}", f"sin({p})", f"exp(0.001 * {p})"][kind]
        out.append(f"{indent}{target} = {value}")
    return out


def straight_line(n: int) -> str:
    """A function of ``n`` straight-line statements (plus four to start and a return)."""
    return _HEADER + "\n".join(_statements(n, "    ")) + "\n    return a + b + c + d\n"


def loop_body(n: int) -> str:
    """A function whose loop (three iterations) has a body of ``n`` statements."""
    return _HEADER + "    for i in range(3):\n" + "\n".join(_statements(n, "        ")) + "\n    return a + b + c + d\n"


def _range(times: list[float], unit: float = 1.0, digits: int = 2) -> str:
    lo, hi = min(times) / unit, max(times) / unit
    return f"{lo:.{digits}f}–{hi:.{digits}f}" if f"{lo:.{digits}f}" != f"{hi:.{digits}f}" else f"{lo:.{digits}f}"


def examples(runs: int) -> None:
    print("| function | lines | generation in process, wall (median of 30) | CPU (median of 30) |")
    print("|---|---|---|---|")
    for path, name in EXAMPLES:
        source = (ROOT / path).read_text()
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu = [], []
            for _ in range(30):
                start, start_cpu = time.perf_counter(), time.process_time()
                generate(source, path, name)
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            walls.append(statistics.median(wall))
            cpus.append(statistics.median(cpu))
        print(
            f"| `{path}::{name}` | {len(source.splitlines())} in the file | {_range(walls, 1e-3, 0)} ms "
            f"| {_range(cpus, 1e-3, 0)} ms |"
        )


def _cli(path: Path | str | None, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``s2sad grad`` process (``s2sad --help`` without a path)."""
    before = os.times()
    start = time.perf_counter()
    target = ["grad", path if isinstance(path, str) else f"{path}::f"] if path is not None else ["--help"]
    # from a folder of its own: 'python -m' puts the working directory first on the path, before PYTHONPATH
    folder = env["PYTHONPYCACHEPREFIX"]
    subprocess.run([sys.executable, "-m", "s2sad", *target], check=True, stdout=subprocess.DEVNULL, env=env, cwd=folder)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


#: ``generate()`` alone, in a new process (after a first, small generation): CPU seconds
_IN_PROCESS = (
    "import sys, time\nfrom s2sad import generate\n"
    "generate(open(sys.argv[2]).read(), sys.argv[2], 'f')\n"
    "source = open(sys.argv[1]).read()\nstart = time.process_time()\n"
    "generate(source, sys.argv[1], 'f')\nprint(time.process_time() - start)\n"
)


def _in_process(path: Path, env: dict[str, str]) -> float:
    small = str(ROOT / "examples" / "domke.py")
    out = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, str(path), small],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=env["PYTHONPYCACHEPREFIX"],
    )
    return float(out.stdout.split()[-1])


def programs(folder: Path, runs: int, quick: bool, tree: Path = ROOT) -> None:
    """The generated programs, with the s2sad of ``tree`` (this checkout, or another's: ``--s2sad DIR``)."""
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": str(folder / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as users run it: s2sad's, black's and LibCST's bytecode cached
    (folder / "pycache").mkdir(exist_ok=True)
    cases = [("straight line", n, straight_line) for n in (100, 1_000, 10_000) if not (quick and n == 10_000)]
    cases += [("loop body", n, loop_body) for n in (100, 1_000, 2_000)]
    print(f"s2sad of {tree}")
    print("| program | statements | `s2sad grad` CPU (s) | wall (s) | `generate()` CPU in process (s) |")
    print("|---|---|---|---|---|")
    _cli(f"{ROOT / 'examples' / 'domke.py'}::f", env)  # the bytecode cache written
    for label, target in [("`s2sad --help`", None), ("`examples/domke.py::f`", f"{ROOT / 'examples' / 'domke.py'}::f")]:
        walls, cpus = zip(*(_cli(target, env) for _ in range(runs)))
        print(f"| {label} | {'–' if target is None else '6'} | {_range(list(cpus))} | {_range(list(walls))} | |")
    for kind, n, make in cases:
        path = folder / f"gen_{kind.replace(' ', '_')}_{n}.py"
        path.write_text(make(n))
        walls, cpus = zip(*(_cli(path, env) for _ in range(runs)))
        inside = [_in_process(path, env) for _ in range(runs)]
        print(f"| {kind} | {n:,} | {_range(list(cpus))} | {_range(list(walls))} | {_range(inside)} |")


_DECORATED = "@s2sad.gradient\ndef f{i}(x, y):\n    z = math.sin(x) * y + {i}.0 * x\n    w = z * math.exp(-y)\n    return w * z\n"


def cached_imports(folder: Path, runs: int) -> None:
    """Import a module of 20 decorated functions in a new process: cache off, cold, warm."""
    count = 20
    module = folder / "decorated.py"
    module.write_text("import math\n\nimport s2sad\n\n\n" + "\n\n".join(_DECORATED.format(i=i) for i in range(count)))
    script = (
        "import sys, time\nsys.path.insert(0, sys.argv[1])\nimport s2sad\n"
        "start, cpu = time.perf_counter(), time.process_time()\nimport decorated\n"
        "print(time.perf_counter() - start, time.process_time() - cpu)\n"
    )
    rows: dict[str, list[tuple[float, float]]] = {
        "cache off (S2SAD_CACHE=0)": [],
        "first import (cache written)": [],
        "second import (cache read)": [],
    }
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache_home:
            base = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": cache_home}
            base.pop("PYTHONDONTWRITEBYTECODE", None)
            for label, extra in zip(rows, [{"S2SAD_CACHE": "0"}, {}, {}]):
                out = subprocess.run(
                    [sys.executable, "-c", script, str(folder)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**base, **extra},
                )
                wall, cpu = (float(v) / count for v in out.stdout.split())
                rows[label].append((wall, cpu))
            for stale in (folder / "__pycache__").glob("decorated.*.json"):
                stale.unlink()
    print(f"| import of a module with {count} `@s2sad.gradient` functions | per function, wall (ms) | CPU (ms) |")
    print("|---|---|---|")
    for label, times in rows.items():
        print(f"| {label} | {_range([w for w, _ in times], 1e-3, 1)} | {_range([c for _, c in times], 1e-3, 2)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--only", choices=["examples", "programs", "cache"])
    parser.add_argument("--s2sad", type=Path, default=ROOT, help="the checkout whose s2sad the programs table runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if args.only in (None, "examples"):
            examples(args.runs)
            print()
        if args.only in (None, "programs"):
            programs(folder, args.runs, args.quick, args.s2sad.resolve())
            print()
        if args.only in (None, "cache"):
            cached_imports(folder, args.runs)


if __name__ == "__main__":
    main()

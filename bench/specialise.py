"""Per-signature modules (``s2sad.grad(f, specialise=True)``): what the dispatch costs per call, and what the
specialised module gains over the generic one, on the unannotated Rosenbrock and RNN of ``arrays.py``.

Run: python bench/specialise.py   (about a minute; prints a Markdown table for bench/README.md)

Columns: the generic module (``s2sad.grad(f)``), the specialised one called through its dispatch
(``s2sad.grad(f, specialise=True)``), and the text annotated with dimension names (``arrays.py``'s
``ANNOTATIONS``), each as time(gradient) / time(f), best of several rounds taken in turn (CPU time, one thread:
see ``common.best_times``). The dispatch overhead is the time of a call through the dispatch less that of a
call of the module it dispatches to, on arguments small enough that the module's own time is a few
microseconds (a vector of 3; four small arrays or numbers, positional or by keyword; a tuple).
"""

from __future__ import annotations

import common  # noqa: F401  (one thread, before NumPy)

import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np
from arrays import ANNOTATIONS, CASES_SOURCE
from cases import inputs
from common import best_times, check, figure

import s2sad

HEADER = "from typing import Annotated\n\n"
TINY = """import numpy as np


def four(a, b, c, d):
    return np.sum(a * b + c * d)


def pair(p, s):
    x, y = p
    return np.sum(x * y) * s
"""
ROUNDS, TARGET = 7, 0.2


def _load(folder: Path, name: str, text: str):
    path = folder / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _overhead(fn, args, kwargs) -> float:
    """Seconds per call spent in the dispatch: through it, less the module it dispatches to."""
    fn(*args, **kwargs)
    (module,) = fn._modules.values()
    through, direct = best_times(
        [(lambda: fn(*args, **kwargs), ()), (lambda: module(*args, **kwargs), ())], ROUNDS, TARGET
    )
    return through - direct


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="s2sad-specialise-"))
    plain = _load(folder, "plain", CASES_SOURCE)
    annotated_text = CASES_SOURCE
    for old, new in ANNOTATIONS.items():
        annotated_text = annotated_text.replace(old, new)
    annotated = _load(folder, "annotated", annotated_text.replace("import numpy as np", HEADER + "import numpy as np"))
    rows = []
    for case, wrt in (("rosenbrock", None), ("rnn", ("W", "U", "h0"))):
        args = inputs(case)
        f = getattr(plain, case)
        generic = s2sad.grad(f, wrt=wrt)
        specialised = s2sad.grad(f, wrt=wrt, specialise=True)
        stated = s2sad.grad(getattr(annotated, case), wrt=wrt)
        expected = generic(*args)
        for name, fn in (("specialised", specialised), ("annotated", stated)):
            check(name, case, fn(*args), expected)
        times = best_times([(f, args), (generic, args), (specialised, args), (stated, args)], ROUNDS, TARGET)
        rows.append((case, [t / times[0] for t in times[1:]]))
    tiny = _load(folder, "tiny", TINY)
    small = {
        "rosenbrock, x of 3": (s2sad.grad(plain.rosenbrock, specialise=True), (np.array([0.5, 1.0, 1.5]),), {}),
        "4 numbers": (s2sad.grad(tiny.four, specialise=True), (0.5, 1.0, 1.5, 2.0), {}),
        "4 arrays": (s2sad.grad(tiny.four, specialise=True), (np.ones((2, 2)), np.ones(2), np.ones(2), np.ones((2, 2))), {}),
        "2 arrays, 2 by keyword": (
            s2sad.grad(tiny.four, specialise=True),
            (np.ones((2, 2)), np.ones(2)),
            {"c": np.ones(2), "d": np.ones(2)},
        ),
        "a tuple of 2 arrays, a number": (s2sad.grad(tiny.pair, specialise=True), ((np.ones(2), np.ones(2)), 2.0), {}),
    }
    print("| case | s2sad generic | s2sad specialised (through the dispatch) | s2sad annotated |")
    print("|---|---|---|---|")
    for case, ratios in rows:
        print(f"| {case} | " + " | ".join(figure(r) for r in ratios) + " |")
    print()
    print("| dispatch overhead per call | µs |")
    print("|---|---|")
    for label, (fn, args, kwargs) in small.items():
        print(f"| {label} | {_overhead(fn, args, kwargs) * 1e6:.1f} |")
    print(f"\nPython {sys.version.split()[0]}, NumPy {np.__version__}")


if __name__ == "__main__":
    main()

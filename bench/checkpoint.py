"""Taped vs checkpointed gradients of a long loop: CPU time and peak memory, at 1,000 / 10,000 / 100,000 steps.

The program is ``examples/ode_long.py::pendulum_loss`` (a damped, driven pendulum, explicit midpoint rule). Its
gradient is generated three ways from the same source: taped (the ``# s2sad: checkpoint`` line removed: every
step records what its reverse reads), checkpointed with the default schedule (segments of ``isqrt(steps)``
steps) and checkpointed with 10 snapshots (``# s2sad: checkpoint 10``: 10 segments, each a tenth of the run).
All three must agree to rounding. Time: best of ``--runs`` calls, CPU time of this process, one thread; memory:
the peak of ``tracemalloc`` during one call (Python objects: the stacks, the snapshots).

A second table counts the steps each schedule evaluates, for the choice between the sqrt(n) segmentation and
the binomial schedule (Griewank-Walther "revolve"): with ``s`` snapshots and a one-step tape, revolve's least
number of forward steps for ``n`` steps is ``r * n - C(s + r, r - 1)``, ``r`` the least integer with
``C(s + r, s) >= n`` (Griewank and Walther, "Algorithm 799: revolve", 2000).

Run: python bench/checkpoint.py [--runs N] [--quick]   (--quick: skip 100,000 steps)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from s2sad.api import _generate  # noqa: E402

EXAMPLE = ROOT / "examples" / "ode_long.py"
WRT = ["g_over_l", "c", "amplitude", "omega", "theta0", "w0"]
POINT = (1.0, 0.3, 0.5, 0.7, 0.4, 0.0, 0.2)
DIRECTIVE = "    # s2sad: checkpoint\n"


def gradient(directive: str) -> Callable[..., Any]:
    """The gradient of the example with ``directive`` in place of its checkpoint line."""
    source = EXAMPLE.read_text()
    assert DIRECTIVE in source
    source = source.replace(DIRECTIVE, directive)
    text = _generate(source, str(EXAMPLE), "pendulum_loss", wrt=WRT).text
    namespace: dict[str, Any] = {}
    exec(compile(text, f"<{directive.strip() or 'taped'}>", "exec"), namespace)
    return namespace["grad_pendulum_loss"]


def best_time(fn: Callable[..., Any], args: tuple[Any, ...], runs: int) -> float:
    best = math.inf
    for _ in range(runs):
        start = time.process_time()
        fn(*args)
        best = min(best, time.process_time() - start)
    return best


def peak(fn: Callable[..., Any], args: tuple[Any, ...]) -> int:
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def revolve_steps(n: int, s: int) -> int:
    """The least number of forward steps of the binomial schedule: ``n`` steps, ``s`` snapshots."""
    r = 0
    while math.comb(s + r, s) < n:
        r += 1
    return r * n - math.comb(s + r, r - 1) if r else n


def sqrt_schedule(n: int, snapshots: int | None) -> tuple[int, int, int]:
    """(snapshots, steps taped at once, forward steps) of s2sad's segmentation."""
    length = max(-(-n // snapshots), 1) if snapshots else max(math.isqrt(n), 1)
    return -(-n // length), length, 2 * n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    kinds = {
        "taped": gradient("    # the loop, taped\n"),
        "checkpoint (isqrt(n) segments)": gradient(DIRECTIVE),
        "checkpoint 10": gradient("    # s2sad: checkpoint 10\n"),
    }
    sizes = [1_000, 10_000] + ([] if args.quick else [100_000])
    print("| steps | gradient | segments x steps | CPU time (s) | peak memory | vs taped |")
    print("|---:|---|---|---:|---:|---:|")
    for n in sizes:
        point = (*POINT, n)
        results = {k: fn(*point) for k, fn in kinds.items()}
        taped = results["taped"]
        for name, result in results.items():
            assert all(math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-14) for a, b in zip(result, taped)), name
        base = None
        for name, fn in kinds.items():
            seconds = best_time(fn, point, args.runs)
            memory = peak(fn, point)
            base = base or memory
            if name == "taped":
                shape = f"1 x {n:,}"
            else:
                count, length, _ = sqrt_schedule(n, 10 if name.endswith("10") else None)
                shape = f"{count:,} x {length:,}"
            print(f"| {n:,} | {name} | {shape} | {seconds:.3f} | {memory / 1e6:.2f} MB | {memory / base:.3f} |")
    print()
    print("| steps n | schedule | snapshots | steps taped at once | forward steps (/ n) |")
    print("|---:|---|---:|---:|---:|")
    for n in (1_000, 100_000):
        for snapshots in (None, 10):
            count, length, steps = sqrt_schedule(n, snapshots)
            print(f"| {n:,} | segments (s2sad) | {count:,} | {length:,} | {steps:,} ({steps / n:.2f}) |")
            forward = revolve_steps(n, count)
            print(f"| {n:,} | revolve, same snapshots | {count:,} | 1 | {forward:,} ({forward / n:.2f}) |")
            more = count + length  # the same memory, counted in states: the segment's tape as snapshots
            forward = revolve_steps(n, more)
            print(f"| {n:,} | revolve, same memory | {more:,} | 1 | {forward:,} ({forward / n:.2f}) |")


if __name__ == "__main__":
    main()

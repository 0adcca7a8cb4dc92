"""What every benchmark process shares: one thread, the timing loop, the agreement check, the figures' format.

Import this module before NumPy, JAX or PyTorch: it pins every library to one thread through environment
variables that are read only when those libraries load. It runs under the Tangent interpreter too
(Python 3.7, see ``tangent_cases.py``), so it keeps to what Python 3.7 and NumPy 1.21 offer.
"""

from __future__ import annotations

import os

# One thread everywhere: on a 2-core machine shared with other work, BLAS, XLA and PyTorch threads make timings
# swing between runs and favour whoever grabs the cores.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
os.environ["JAX_PLATFORMS"] = "cpu"
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import sys  # noqa: E402

# One allocator state for every tool: glibc serves blocks above a threshold (a 784x128 array) with mmap, and raises
# the threshold as such blocks are freed, so a fresh block costs page faults or not depending on what ran before.
# Timed side by side, two byte-identical MLP gradients differed by up to 19%. A fixed threshold (the largest glibc accepts)
# and no trimming give every tool the steady state of a long-running program. glibc reads these at start-up:
# the benchmark re-executes itself once with them set.
_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"}
if any(os.environ.get(k) != v for k, v in _MALLOC.items()) and sys.argv and sys.argv[0].endswith(".py"):
    os.environ.update(_MALLOC)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable] + sys.argv)

import math  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402


def calibrated(fn, args, target):
    """A ``timeit.Timer`` calling ``fn(*args)``, how many calls make one measurement of about ``target`` seconds
    (at least one call), and the time of one call."""
    timer = timeit.Timer("fn(*args)", timer=time.process_time, globals={"fn": fn, "args": args})
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= target / 4 or number >= 10**6:
            return timer, max(1, int(number * target / max(elapsed, 1e-9))), elapsed / number
        number *= 4


def best_times(entries, rounds, target):
    """The best time per call of each ``(fn, args)`` entry, in CPU time of this process (``time.process_time``:
    every library runs on one thread, and time spent waiting for a core of a busy machine does not count; wall
    time on this shared 2-core machine swung by 10x between calls). The entries take turns within every round,
    in an order shuffled each round, so a busy moment (caches, frequency) slows all of them alike; the minimum
    over rounds is the least disturbed figure. An
    entry whose single call takes longer than a measurement (eager JAX on a loop: a second) takes part in fewer
    rounds, at most ten measurements' worth of time per run, at least one call."""
    timers = [calibrated(fn, args, target) for fn, args in entries]
    best = [math.inf] * len(entries)
    order = list(range(len(entries)))
    shuffle = random.Random(0).shuffle
    for r in range(rounds):
        shuffle(order)  # no tool always runs right after the same other one
        for k in order:
            timer, number, once = timers[k]
            if r == 0 or number * once * r <= 10 * rounds * target:
                best[k] = min(best[k], timer.timeit(number) / number)
    return best


def as_arrays(value):
    """A gradient as a tuple of NumPy arrays, whatever the tool returned (a number, an array, a tensor, a tuple)."""
    parts = value if isinstance(value, (tuple, list)) else (value,)
    out = []
    for part in parts:
        if hasattr(part, "detach"):  # a PyTorch tensor
            part = part.detach().numpy()
        out.append(np.asarray(part, dtype=float))
    return tuple(out)


class Disagreement(AssertionError):
    """A tool's gradient is not the hand-written one: no figure is printed for a wrong gradient."""


def check(tool, case, got, expected):
    """Fail loudly unless ``got`` equals the hand-written gradient ``expected``, entry by entry (relative
    tolerance 1e-7; absolute 1e-9 of the largest entry, for entries that cancel to nearly zero)."""
    got, expected = as_arrays(got), as_arrays(expected)
    if len(got) != len(expected):
        raise Disagreement("%s on %s: %d gradients, hand-written %d" % (tool, case, len(got), len(expected)))
    for k, (a, b) in enumerate(zip(got, expected)):
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-7, atol=1e-9 * scale):
            worst = float(np.max(np.abs(a - b))) if a.shape == b.shape else float("nan")
            raise Disagreement(
                "%s on %s: gradient %d disagrees with the hand-written one (shapes %s and %s, largest difference %g)"
                % (tool, case, k, a.shape, b.shape, worst)
            )


def figure(x):
    """A ratio as printed: two decimals below 10, one below 100, then whole numbers with thousands separators."""
    if x < 10:
        return "%.2f" % x
    if x < 100:
        return "%.1f" % x
    return "{:,.0f}".format(x)


def span(values):
    """A range over runs: ``1.02–1.10``, or one figure when every run printed the same."""
    lo, hi = figure(min(values)), figure(max(values))
    return lo if lo == hi else "%s–%s" % (lo, hi)

"""time(gradient) / time(f) for scalar programs: s2sad against adjoints written by hand.

Run: python bench/loops.py   (a few seconds; prints a Markdown table for bench/README.md)

Cases (issue 3): a 200-step loop-carried recurrence ``x = sin(x) * y + 0.5 * x``, and a straight-line program
of 1,000 statements. The hand-written adjoints follow the textbook recipe (record what is overwritten, run the
loop backwards); the one for the 1,000-statement program is produced by this file's own 20-line template,
independent of s2sad.
"""

from __future__ import annotations

import math
import random
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import s2sad  # noqa: E402

LOOP_SOURCE = """
from math import sin


def f(x, y):
    for i in range(200):
        x = sin(x) * y + 0.5 * x
    return x
"""


def loop_by_hand(x, y):
    sin = math.sin
    cos = math.cos
    xs = []
    for i in range(200):
        xs.append(x)
        x = sin(x) * y + 0.5 * x
    x_bar = 1.0
    y_bar = 0.0
    for i in range(199, -1, -1):
        x = xs.pop()
        y_bar += x_bar * sin(x)
        x_bar = x_bar * (y * cos(x) + 0.5)
    return x_bar, y_bar


def straight_line(n: int, seed: int = 0) -> tuple[str, str]:
    """A straight-line program of ``n`` statements, each reading the previous value and a random earlier one
    (so every statement matters to the result), and its adjoint by a simple template."""
    rng = random.Random(seed)
    forward = ["    v0 = x", "    v1 = y"]
    reverse: list[str] = []
    for i in range(2, n + 2):
        a, b = i - 1, rng.randrange(i)
        kind = rng.choice(["mul", "add", "sin", "exp_scaled"])
        if kind == "mul":
            forward.append(f"    v{i} = v{a} * v{b}")
            reverse.append(f"    g{a} += g{i} * v{b}\n    g{b} += g{i} * v{a}")
        elif kind == "add":
            forward.append(f"    v{i} = v{a} + 0.5 * v{b}")
            reverse.append(f"    g{a} += g{i}\n    g{b} += 0.5 * g{i}")
        elif kind == "sin":
            forward.append(f"    v{i} = sin(v{a})")
            reverse.append(f"    g{a} += g{i} * cos(v{a})")
        else:
            forward.append(f"    v{i} = exp(0.001 * v{a})")
            reverse.append(f"    g{a} += 0.001 * g{i} * v{i}")
    last = n + 1
    f = "from math import sin, cos, exp\n\n\ndef f(x, y):\n" + "\n".join(forward) + f"\n    return v{last}\n"
    zeros = "\n".join(f"    g{i} = 0.0" for i in range(last))
    adjoint = (
        "from math import sin, cos, exp\n\n\ndef grad_by_hand(x, y):\n"
        + "\n".join(forward)
        + f"\n{zeros}\n    g{last} = 1.0\n"
        + "\n".join(reversed(reverse))
        + "\n    return g0, g1\n"
    )
    return f, adjoint


def _load(source: str, name: str):
    namespace: dict = {}
    exec(compile(source, f"<bench {name}>", "exec"), namespace)
    return namespace[name]


def _times(fns, args, rounds: int = 40, number: int = 100) -> list[float]:
    """Best time per call of each function; the functions take turns, so a busy moment hits all of them."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            best[k] = min(best[k], timeit.timeit(lambda: fn(*args), number=number) / number)
    return best


def measure() -> list[tuple[str, float, float, float]]:
    rows = []
    f = _load(LOOP_SOURCE, "f")
    grad = _load(s2sad.generate(LOOP_SOURCE, "loop.py", "f"), "grad_f")
    args = (0.3, 0.9)
    assert all(math.isclose(a, b) for a, b in zip(grad(*args), loop_by_hand(*args)))
    rows.append(("200-step loop `x = sin(x)*y + 0.5*x`", *_times([f, grad, loop_by_hand], args)))

    f_src, hand_src = straight_line(1000)
    f = _load(f_src, "f")
    grad = _load(s2sad.generate(f_src, "line.py", "f"), "grad_f")
    hand = _load(hand_src, "grad_by_hand")
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(grad(*args), hand(*args)))
    rows.append(("1,000-statement straight line", *_times([f, grad, hand], args)))
    return rows


def main() -> None:
    print("| case | f | s2sad gradient | hand-written | s2sad / f | hand / f | s2sad / hand |")
    print("|---|---|---|---|---|---|---|")
    for name, t_f, t_s, t_h in measure():
        print(
            f"| {name} | {t_f * 1e6:.1f} µs | {t_s * 1e6:.1f} µs | {t_h * 1e6:.1f} µs "
            f"| {t_s / t_f:.2f} | {t_h / t_f:.2f} | {t_s / t_h:.2f} |"
        )


if __name__ == "__main__":
    main()

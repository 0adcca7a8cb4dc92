"""time(gradient) / time(f) for scalar programs in a module that imports NumPy, and the same without the import.

Run: python bench/scalars.py   (about a minute; prints a Markdown table for bench/README.md)

Cases (issue 12): Domke's f (examples/domke.py), the network of examples/network.py (b1 = 2a, b2 = 3a + b1,
c = 4 b1 + 5 b2: the scalar "network" of the background texts), the 200-step loop of examples/loop.py's f, and
issue 3's 1,000-statement straight-line program. Each example's own text with ``import numpy as np`` added
is what s2sad differentiates and what f is; the column "s2sad, no NumPy import" differentiates the example
as committed (no import), timed in the same rounds. The other tools run the same text with ``from math import``
pointed at autograd.numpy, torch or jax.numpy.
"""

from __future__ import annotations

import argparse
import random

import common  # noqa: F401  (one thread, before NumPy)
import harness
from harness import HAND, S2SAD, Case, Workspace

EXAMPLES = harness.ROOT / "examples"
#: (key, label, example file, function)
SCALAR_CASES = [
    ("domke", "Domke's f", "domke.py", "f"),
    ("network", "network `c(a)` (examples/network.py)", "network.py", "c"),
    ("loop", "200-step loop `x = sin(x)*y + 0.5*x`", "loop.py", "f"),
]
VARIANT = "no NumPy import"
KEYS = ["domke", "network", "loop", "line", "mlp", "rosenbrock", "rnn", "gmm"]  #: every case, for --only


def straight_line(n: int, seed: int = 0) -> tuple[str, str]:
    """Issue 3's straight-line program of ``n`` statements (each reads the previous value and a random earlier
    one, so every statement matters), and its adjoint by a 20-line template that knows nothing of s2sad."""
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
    f = '"""Issue 3\'s straight line."""\n\nfrom math import cos, exp, sin\n\n\ndef f(x, y):\n'
    f += "\n".join(forward) + f"\n    return v{last}\n"
    zeros = "\n".join(f"    g{i} = 0.0" for i in range(last))
    adjoint = (
        "from math import sin, cos, exp\n\n\ndef grad_by_hand(x, y):\n"
        + "\n".join(forward)
        + f"\n{zeros}\n    g{last} = 1.0\n"
        + "\n".join(reversed(reverse))
        + "\n    return g0, g1\n"
    )
    return f, adjoint


def build(ws: Workspace, only: list[str] | None = None) -> list[Case]:
    """The cases named in ``only`` (default: all but issue 3's straight line, whose two generations take 30 s of
    CPU today: ``--only line`` or ``--only domke,network,loop,line`` adds it)."""
    built = []
    sources = [(key, label, (EXAMPLES / file).read_text(), name) for key, label, file, name in SCALAR_CASES]
    line_f, line_hand = straight_line(1000)
    sources.append(("line", "1,000-statement straight line (issue 3)", line_f, "f"))
    for key, label, plain, name in sources:
        if (key not in only) if only else key == "line":
            continue
        source = harness.with_numpy_import(plain)
        wrt = harness.cases.WRT.get(key, (0, 1))
        if key == "line":
            args, hand = (0.3, 0.9), getattr(ws.module("line_hand", line_hand), "grad_by_hand")
        else:
            args, hand = harness.cases.inputs(key), harness.cases.HAND[key]
        case = Case(key, label, 1.2, getattr(ws.module(key, source), name), args, VARIANT, tangent=key != "line")
        case.tools[HAND] = (hand, args)
        case.tools[S2SAD] = (ws.s2sad(key, source, name, wrt), args)
        case.tools[f"{S2SAD}, {VARIANT}"] = (ws.s2sad(f"{key}_plain", plain, name, wrt), args)
        on = {
            lib: getattr(ws.module(f"{key}_{lib}", harness.retarget(source, None, module)), name)
            for lib, module in (("autograd", "autograd.numpy"), ("torch", "torch"), ("jax", "jax.numpy"))
            if harness.installed(module.split(".")[0])
        }
        # jax.jit of a 1,000-statement gradient compiles for a long time and measures XLA, not the tools
        harness.add_others(case, wrt, on.get("autograd"), on.get("torch"), on.get("jax") if key != "line" else None)
        built.append(case)
    return built


def options(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=5, help="independent runs; the table gives their range")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per run; each tool's minimum is kept")
    parser.add_argument("--target", type=float, default=0.001, help="seconds per measurement")
    parser.add_argument("--keep", metavar="DIR", help="keep the sources and s2sad's gradient modules in DIR")
    parser.add_argument("--no-tangent", action="store_true", help="skip Tangent even when its interpreter exists")
    parser.add_argument("--s2sad", metavar="DIR", help="measure the s2sad of this checkout (default: this one's)")
    parser.add_argument("--only", metavar="CASES", help=f"comma-separated case keys among {','.join(KEYS)}")
    return parser


def only(opts: argparse.Namespace) -> list[str] | None:
    """The case keys ``--only`` names, or None for the default set."""
    if not opts.only:
        return None
    keys = opts.only.split(",")
    unknown = set(keys) - set(KEYS)
    if unknown:
        raise SystemExit(f"--only: no case {', '.join(sorted(unknown))} (cases: {', '.join(KEYS)})")
    return keys


def report(title: str, built: list[Case], opts: argparse.Namespace, tangent_keys: list[str]) -> str:
    harness.check_all(built)
    times = harness.measure(built, opts.runs, opts.rounds, opts.target)
    tangent = None if opts.no_tangent else harness.measure_tangent(tangent_keys, opts.runs, opts.rounds, opts.target)
    return f"### {title}\n\n{harness.header(tangent)}\n\n{harness.table(built, times, tangent)}\n"


def main() -> None:
    opts = options(__doc__.splitlines()[0]).parse_args()
    harness.jax_setup()
    ws = Workspace(opts.keep)
    try:
        built = build(ws, only(opts))
        print(report("Scalar programs", built, opts, [c.key for c in built if c.tangent]))
    finally:
        ws.close()


if __name__ == "__main__":
    main()

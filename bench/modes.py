"""time(mode) / time(f) for s2sad's other modes (issue 15): JVP, Jacobian and HVP, beside JAX and PyTorch.

Run: python bench/modes.py [--runs 3] [--rounds 15]   (about a minute; prints a Markdown table for bench/README.md)

Cases: Rosenbrock on 1,000 elements (JVP, Jacobian of the scalar: one row, HVP); the MLP of examples/mlp.py
(784-128-10, batch 64; JVP and HVP in W2); an RK4 trajectory of a damped oscillator, 50 steps, returning the
(50, 2) states, with three parameters (JVP and Jacobian: 100 outputs, 3 inputs). s2sad's functions come from its
API (``s2sad.jvp``, ``s2sad.jacobian``, ``s2sad.hvp``), generated when the benchmark starts from this checkout;
JAX runs the same NumPy text with ``jax.numpy``, jit-compiled before
timing (``jax.jvp``; ``jax.jacfwd`` or ``jax.jacrev``, whichever needs fewer sweeps; HVP as ``jvp`` of ``grad``);
PyTorch runs ``torch.func`` (``jvp``, ``jacfwd``/``jacrev``, HVP as ``jvp`` of ``grad``) on the functions below,
written in torch. Every tool's result is compared with JAX's before anything is timed. One thread, CPU time,
interleaved rounds, ranges over runs: the method of bench/README.md.
"""

from __future__ import annotations

import common  # noqa: F401  (one thread, before NumPy)

import argparse
import inspect
from typing import Any, Callable

import numpy as np

import harness
from harness import Workspace

SOURCE = '''"""The cases of bench/modes.py."""

import numpy as np


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def oscillator(y, k, c, f):
    return np.array([y[1], f - k * y[0] - c * y[1]])


def trajectory(k, c, f, y0):
    dt = 0.05
    y = y0
    states = []
    for t in range(50):
        a = oscillator(y, k, c, f)
        b = oscillator(y + 0.5 * dt * a, k, c, f)
        d = oscillator(y + 0.5 * dt * b, k, c, f)
        e = oscillator(y + dt * d, k, c, f)
        y = y + dt / 6.0 * (a + 2.0 * b + 2.0 * d + e)
        states.append(y)
    return np.stack(states)
'''
TORCH_SOURCE = """
import torch


def rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def oscillator(y, k, c, f):
    return torch.stack([y[1], f - k * y[0] - c * y[1]])


def trajectory(k, c, f, y0):
    dt = 0.05
    y = y0
    states = []
    for t in range(50):
        a = oscillator(y, k, c, f)
        b = oscillator(y + 0.5 * dt * a, k, c, f)
        d = oscillator(y + 0.5 * dt * b, k, c, f)
        e = oscillator(y + dt * d, k, c, f)
        y = y + dt / 6.0 * (a + 2.0 * b + 2.0 * d + e)
        states.append(y)
    return torch.stack(states)


def mlp(W1, b1, W2, b2, X, Y):
    h = 1.0 / (1.0 + torch.exp(-(X @ W1 + b1)))
    z = h @ W2 + b2
    e = torch.exp(z - torch.max(z, dim=1, keepdim=True).values)
    p = e / torch.sum(e, dim=1, keepdim=True)
    return -torch.mean(torch.sum(Y * torch.log(p), dim=1))
"""

MODES = ("JVP", "Jacobian", "HVP")
TOOLS = ("s2sad", "JAX jit", "PyTorch")


def inputs(key: str) -> tuple[tuple, int]:
    """The case's arguments and the index of the parameter differentiated."""
    rng = np.random.default_rng(0)
    if key == "rosenbrock":
        return (rng.uniform(-1.0, 1.0, 1000),), 0
    if key == "trajectory":
        return (2.0, 0.3, 0.5, np.array([1.0, 0.0])), 0
    return harness.cases.inputs("mlp"), 2


def _tangent(x: Any) -> Any:
    return np.ones_like(x) * 0.5 if isinstance(x, np.ndarray) else 0.5


def s2sad_modes(fn: Callable[..., Any], args: tuple, wrt: int, scalar: bool) -> dict[str, Callable[[], Any]]:
    """s2sad's function per mode, each a thunk on the case's arguments (the modes s2sad has)."""
    import s2sad

    param = inspect.signature(fn).parameters
    wrt_name = list(param)[wrt]
    v = _tangent(args[wrt])
    out: dict[str, Callable[[], Any]] = {}
    jvp = s2sad.jvp(fn, wrt=[wrt_name])
    out["JVP"] = lambda: jvp(*args, v)[1]
    jac = s2sad.jacobian(fn, wrt=[wrt_name])
    out["Jacobian"] = lambda: jac(*args)
    if scalar:  # the Hessian of a scalar function
        hvp = s2sad.hvp(fn, wrt=[wrt_name])
        out["HVP"] = lambda: hvp(*args, v)
    return out


def jax_modes(fn: Callable[..., Any], args: tuple, wrt: int, scalar: bool, size_in: int, size_out: int):
    """JAX's function per mode, jit-compiled with every argument an argument (not a constant folded in)."""
    import jax

    jargs = harness.jax_args(args)
    v = harness.jax_args((_tangent(args[wrt]),))[0]
    x, rest = jargs[wrt], jargs[:wrt] + jargs[wrt + 1 :]

    def partial(x: Any, rest: tuple) -> Any:
        return fn(*(rest[:wrt] + (x,) + rest[wrt:]))

    jvp = jax.jit(lambda x, t, rest: jax.jvp(lambda y: partial(y, rest), (x,), (t,))[1])
    sweep = jax.jacfwd if size_in < size_out else jax.jacrev
    jac = jax.jit(lambda x, rest: sweep(partial)(x, rest))
    out = {"JVP": lambda: jax.block_until_ready(jvp(x, v, rest))}
    out["Jacobian"] = lambda: jax.block_until_ready(jac(x, rest))
    if scalar:
        grad = jax.grad(partial)
        hvp = jax.jit(lambda x, t, rest: jax.jvp(lambda y: grad(y, rest), (x,), (t,))[1])
        out["HVP"] = lambda: jax.block_until_ready(hvp(x, v, rest))
    return out


def torch_modes(fn: Callable[..., Any], args: tuple, wrt: int, scalar: bool, size_in: int, size_out: int):
    import torch
    from torch import func

    targs = harness.torch_args(args)
    targs = tuple(a.detach() if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64) for a in targs)
    v = torch.as_tensor(_tangent(args[wrt]), dtype=torch.float64)

    def partial(x: Any) -> Any:
        return fn(*(targs[:wrt] + (x,) + targs[wrt + 1 :]))

    jac = func.jacfwd(partial) if size_in < size_out else func.jacrev(partial)
    out = {"JVP": lambda: func.jvp(partial, (targs[wrt],), (v,))[1]}
    out["Jacobian"] = lambda: jac(targs[wrt])
    if scalar:
        out["HVP"] = lambda: func.jvp(func.grad(partial), (targs[wrt],), (v,))[1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--target", type=float, default=0.001)
    opts = parser.parse_args()
    harness.jax_setup()
    ws = Workspace()
    try:
        module = ws.module("modes_cases", SOURCE)
        mlp_module = ws.module("mlp", (harness.ROOT / "examples" / "mlp.py").read_text())
        jmodule = ws.module("modes_jax", harness.retarget(SOURCE, "jax.numpy", None))
        jmlp = ws.module(
            "mlp_jax", harness.retarget((harness.ROOT / "examples" / "mlp.py").read_text(), "jax.numpy", None)
        )
        tmodule = ws.module("modes_torch", TORCH_SOURCE) if harness.installed("torch") else None
        rows = [
            ("rosenbrock", "Rosenbrock, 1,000 elements (x)", module.rosenbrock, jmodule.rosenbrock, "rosenbrock"),
            ("mlp", "MLP 784-128-10, batch 64 (W2)", mlp_module.loss, jmlp.loss, "mlp"),
            (
                "trajectory",
                "RK4 trajectory, 50 steps, (50, 2) states (k)",
                module.trajectory,
                jmodule.trajectory,
                "trajectory",
            ),
        ]
        lines = ["| case | mode | f (µs) | " + " | ".join(TOOLS) + " |", "|" + "---|" * (3 + len(TOOLS))]
        for key, label, fn, jfn, tname in rows:
            args, wrt = inputs(key)
            value = np.asarray(fn(*args))
            scalar = value.ndim == 0
            size_in, size_out = int(np.size(args[wrt])), int(value.size)
            tools = {"s2sad": s2sad_modes(fn, args, wrt, scalar)}
            if harness.installed("jax"):
                tools["JAX jit"] = jax_modes(jfn, args, wrt, scalar, size_in, size_out)
            if tmodule is not None:
                tools["PyTorch"] = torch_modes(getattr(tmodule, tname), args, wrt, scalar, size_in, size_out)
            for mode in MODES:
                present = {t: m[mode] for t, m in tools.items() if mode in m}
                if not present:
                    continue
                if "JAX jit" in present:  # every tool agrees with JAX before anything is timed
                    expected = np.asarray(present["JAX jit"]())
                    for tool, thunk in present.items():
                        got = thunk()
                        got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
                        if not np.allclose(np.reshape(got, expected.shape), expected, rtol=1e-7, atol=1e-9):
                            raise AssertionError(f"{tool} {mode} on {label} disagrees with JAX")
                ratios: dict[str, list[float]] = {t: [] for t in present}
                fs: list[float] = []
                for _ in range(opts.runs):
                    entries = [(fn, args)] + [(thunk, ()) for thunk in present.values()]
                    best = common.best_times(entries, opts.rounds, opts.target)
                    fs.append(best[0])
                    for tool, t in zip(present, best[1:]):
                        ratios[tool].append(t / best[0])
                cells = [common.span(ratios[t]) if t in ratios else "-" for t in TOOLS]
                lines.append(f"| {label} | {mode} | {common.span([f * 1e6 for f in fs])} | " + " | ".join(cells) + " |")
        print(harness.header(None))
        print()
        print("\n".join(lines))
    finally:
        ws.close()


if __name__ == "__main__":
    main()

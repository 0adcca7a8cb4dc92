"""time(gradient) / time(f) for NumPy programs: s2sad, a hand-written NumPy adjoint, and, when installed,
HIPS autograd, JAX (with and without jit) and PyTorch on the CPU.

Run: python bench/arrays.py   (about a minute; prints a Markdown table for bench/README.md). Every library
runs on one thread.

Cases (issue 4): the MLP of examples/mlp.py at batch 64, 784 -> 128 -> 10; Rosenbrock on 1,000 elements; an
RNN with hidden size 64 over 50 steps.
"""

from __future__ import annotations

import importlib.util
import os
import sys

# One thread everywhere: on a 2-core machine, BLAS and PyTorch threads make timings swing between runs and
# favour whoever grabs the cores. Set before NumPy, JAX or PyTorch load.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS"):
    os.environ.setdefault(_variable, "1" if _variable != "XLA_FLAGS" else "--xla_cpu_multi_thread_eigen=false")
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
import s2sad  # noqa: E402
from mlp import loss as mlp_loss  # noqa: E402
from mlp_grad import grad_loss as mlp_s2sad  # noqa: E402

CASES_SOURCE = """
import numpy as np


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rnn(W, U, h0, xs):
    h = h0
    for t in range(50):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)
"""


def _module(source: str):
    namespace: dict = {}
    exec(compile(source, "<bench>", "exec"), namespace)
    return namespace


# ---- adjoints written by hand ----------------------------------------------------------------------------------
def mlp_by_hand(W1, b1, W2, b2, X, Y):
    h = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
    z = h @ W2 + b2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    dz = (p - Y) / X.shape[0]
    da = (dz @ W2.T) * h * (1.0 - h)
    return X.T @ da, da.sum(axis=0), h.T @ dz, dz.sum(axis=0)


def rosenbrock_by_hand(x):
    d = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[1:] += 200.0 * d
    g[:-1] += -400.0 * d * x[:-1] - 2.0 * (1.0 - x[:-1])
    return g


def rnn_by_hand(W, U, h0, xs):
    hs = [h0]
    h = h0
    for t in range(50):
        h = np.tanh(W @ h + U @ xs[t])
        hs.append(h)
    gh = 2.0 * h
    gW = np.zeros_like(W)
    gU = np.zeros_like(U)
    for t in reversed(range(50)):
        da = gh * (1.0 - hs[t + 1] ** 2)
        gW += np.outer(da, hs[t])
        gU += np.outer(da, xs[t])
        gh = W.T @ da
    return gW, gU, gh


# ---- other tools, when installed ----------------------------------------------------------------------------
def _autograd(source: str, name: str, nargs: int):
    if importlib.util.find_spec("autograd") is None:
        return None
    import autograd
    import autograd.numpy as anp

    namespace = _module(source.replace("import numpy as np", "import autograd.numpy as np"))
    fn = namespace[name]
    g = autograd.grad(lambda params, *rest: fn(*params, *rest))
    return lambda *args: g(tuple(args[:nargs]), *args[nargs:])


def _torch(name: str):
    if importlib.util.find_spec("torch") is None:
        return None
    import torch

    torch.set_num_threads(1)

    def mlp(W1, b1, W2, b2, X, Y):
        h = 1.0 / (1.0 + torch.exp(-(X @ W1 + b1)))
        z = h @ W2 + b2
        e = torch.exp(z - torch.max(z, dim=1, keepdim=True).values)
        p = e / torch.sum(e, dim=1, keepdim=True)
        return -torch.mean(torch.sum(Y * torch.log(p), dim=1))

    def rosenbrock(x):
        return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def rnn(W, U, h0, xs):
        h = h0
        for t in range(50):
            h = torch.tanh(W @ h + U @ xs[t])
        return torch.sum(h * h)

    fn, nargs = {"mlp": (mlp, 4), "rosenbrock": (rosenbrock, 1), "rnn": (rnn, 3)}[name]

    def gradient(*tensors):
        params = [t.detach().requires_grad_(True) for t in tensors[:nargs]]
        return torch.autograd.grad(fn(*params, *tensors[nargs:]), params)

    return gradient


def _jax(source: str, name: str, nargs: int, jit: bool):
    if importlib.util.find_spec("jax") is None:
        return None
    import jax

    jax.config.update("jax_enable_x64", True)
    namespace = _module(source.replace("import numpy as np", "import jax.numpy as np"))
    g = jax.grad(lambda params, *rest: namespace[name](*params, *rest))
    if jit:
        g = jax.jit(g)

    def gradient(*args):
        out = g(tuple(args[:nargs]), *args[nargs:])
        jax.block_until_ready(out)
        return out

    return gradient


MLP_SOURCE = (ROOT / "examples" / "mlp.py").read_text()


def _times(fns: list, args, rounds: int = 15, number: int = 5) -> list[float]:
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            best[k] = min(best[k], timeit.timeit(lambda: fn(*args), number=number) / number)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    cases = _module(CASES_SOURCE)
    rosen_s2sad = _module(s2sad.generate(CASES_SOURCE, "bench.py", "rosenbrock"))["grad_rosenbrock"]
    rnn_s2sad = _module(s2sad.generate(CASES_SOURCE, "bench.py", "rnn", wrt=("W", "U", "h0")))["grad_rnn"]
    X = rng.normal(size=(64, 784))
    Y = np.eye(10)[rng.integers(0, 10, 64)]
    mlp_args = (0.05 * rng.normal(size=(784, 128)), np.zeros(128), 0.1 * rng.normal(size=(128, 10)), np.zeros(10), X, Y)
    rnn_args = (
        0.1 * rng.normal(size=(64, 64)),
        0.1 * rng.normal(size=(64, 32)),
        rng.normal(size=64),
        rng.normal(size=(50, 32)),
    )
    rows = [
        ("MLP 784-128-10, batch 64", "mlp", MLP_SOURCE, "loss", 4, mlp_loss, mlp_s2sad, mlp_by_hand, mlp_args),
        ("Rosenbrock, 1,000 elements", "rosenbrock", CASES_SOURCE, "rosenbrock", 1, cases["rosenbrock"],
         rosen_s2sad, rosenbrock_by_hand, (rng.normal(size=1000),)),
        ("RNN, hidden 64, 50 steps", "rnn", CASES_SOURCE, "rnn", 3, cases["rnn"], rnn_s2sad, rnn_by_hand, rnn_args),
    ]  # fmt: skip
    tools = ["s2sad", "hand-written", "autograd", "jax", "jax.jit", "torch"]
    print("time(gradient) / time(f), with f's own time in µs\n")
    print("| case | f (µs) | " + " | ".join(tools) + " | s2sad / hand-written |")
    print("|---|---|" + "---|" * len(tools) + "---|")
    for label, key, source, name, nargs, f, ours, hand, args in rows:
        got, expected = ours(*args), hand(*args)
        for a, b in zip(got if isinstance(got, tuple) else (got,), expected if isinstance(expected, tuple) else (expected,)):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
        others = [_autograd(source, name, nargs), _jax(source, name, nargs, jit=False), _jax(source, name, nargs, jit=True)]
        torch_grad = _torch(key)
        timed = _times([f, ours, hand] + [o for o in others if o], args)
        if torch_grad is not None:
            import torch

            tensors = tuple(torch.from_numpy(np.asarray(a)) for a in args)
            timed.append(_times([torch_grad], tensors)[0])
        present = [True, True] + [o is not None for o in others] + [torch_grad is not None]
        values = iter(timed[1:])
        ratios = [f"{next(values) / timed[0]:.2f}" if here else "-" for here in present]
        print(f"| {label} | {timed[0] * 1e6:.0f} | " + " | ".join(ratios) + f" | {timed[1] / timed[2]:.2f} |")
    missing = [m for m in ("autograd", "jax", "torch") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"\n-: not installed, not measured ({', '.join(missing)})")


if __name__ == "__main__":
    main()

"""time(gradient) / time(f) for NumPy programs: the MLP, Rosenbrock, an RNN and a Gaussian mixture.

Run: python bench/arrays.py   (about a minute; prints a Markdown table for bench/README.md)

Cases (issue 12): the MLP of examples/mlp.py at batch 64, 784 -> 128 -> 10 (its helpers sigmoid, softmax and
cross_entropy included); Rosenbrock on 1,000 elements; an RNN with hidden size 64 over 50 steps, inputs of 32;
(issue 14) a Gaussian mixture's log-likelihood through ``np.einsum`` and ``scipy.special.logsumexp``: 2,000
points in 16 dimensions, 8 unit-variance components, differentiated in the means and the log-weights.
The column "s2sad, annotated" differentiates the same text with its parameters annotated
``Annotated[np.ndarray, "n m"]`` (dimension names as documented for s2sad's value analysis), timed in the same
rounds. autograd and JAX run the same text with ``import numpy as np`` pointed at their NumPy; PyTorch runs the
functions below, written in torch.
"""

from __future__ import annotations

import common  # noqa: F401  (one thread, before NumPy)
import harness
from harness import HAND, S2SAD, Case, Workspace
from scalars import only, options, report

VARIANT = "annotated"
CASES_SOURCE = '''"""Rosenbrock and an RNN."""

import numpy as np


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rnn(W, U, h0, xs):
    h = h0
    for t in range(50):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)
'''
GMM_SOURCE = '''"""A Gaussian mixture's log-likelihood (unit variances) through einsum and logsumexp."""

import numpy as np
from scipy.special import logsumexp


def gmm(means, log_weights, data):
    diff = np.expand_dims(data, 1) - np.expand_dims(means, 0)
    sq = np.einsum("nkd,nkd->nk", diff, diff)
    log_w = log_weights - logsumexp(log_weights)
    return np.sum(logsumexp(log_w - 0.5 * sq, axis=1))
'''
ANNOTATIONS = {
    "def rosenbrock(x):": 'def rosenbrock(x: Annotated[np.ndarray, "n"]):',
    "def rnn(W, U, h0, xs):": (
        'def rnn(W: Annotated[np.ndarray, "h h"], U: Annotated[np.ndarray, "h k"], h0: Annotated[np.ndarray, "h"], '
        'xs: Annotated[np.ndarray, "t k"]):'
    ),
    "def gmm(means, log_weights, data):": (
        'def gmm(means: Annotated[np.ndarray, "k d"], log_weights: Annotated[np.ndarray, "k"], '
        'data: Annotated[np.ndarray, "n d"]):'
    ),
    "def loss(W1, b1, W2, b2, X, Y):": (
        'def loss(W1: Annotated[np.ndarray, "d h"], b1: Annotated[np.ndarray, "h"], W2: Annotated[np.ndarray, "h k"], '
        'b2: Annotated[np.ndarray, "k"], X: Annotated[np.ndarray, "n d"], Y: Annotated[np.ndarray, "n k"]):'
    ),
}
TORCH_SOURCE = """
import torch


def rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rnn(W, U, h0, xs):
    h = h0
    for t in range(50):
        h = torch.tanh(W @ h + U @ xs[t])
    return torch.sum(h * h)


def loss(W1, b1, W2, b2, X, Y):
    h = 1.0 / (1.0 + torch.exp(-(X @ W1 + b1)))
    z = h @ W2 + b2
    e = torch.exp(z - torch.max(z, dim=1, keepdim=True).values)
    p = e / torch.sum(e, dim=1, keepdim=True)
    return -torch.mean(torch.sum(Y * torch.log(p), dim=1))


def gmm(means, log_weights, data):
    diff = data[:, None, :] - means[None, :, :]
    sq = torch.einsum("nkd,nkd->nk", diff, diff)
    log_w = log_weights - torch.logsumexp(log_weights, 0)
    return torch.sum(torch.logsumexp(log_w - 0.5 * sq, 1))
"""


def annotated(source: str) -> str:
    """``source`` with its functions' parameters annotated as arrays of named dimensions."""
    for plain, typed in ANNOTATIONS.items():
        source = source.replace(plain, typed)
    return source.replace("import numpy as np\n", "from typing import Annotated\n\nimport numpy as np\n", 1)


def _scipy_retargeted(source: str, lib: str) -> str:
    """``from scipy.special import`` re-pointed at autograd's or JAX's own."""
    return source.replace("from scipy.special import ", f"from {lib}.scipy.special import ")


def build(ws: Workspace, only: list[str] | None = None) -> list[Case]:
    """The cases named in ``only`` (default: all)."""
    built = []
    mlp_source = (harness.ROOT / "examples" / "mlp.py").read_text()
    rows = [
        ("mlp", "MLP 784-128-10, batch 64", mlp_source, "loss"),
        ("rosenbrock", "Rosenbrock, 1,000 elements", CASES_SOURCE, "rosenbrock"),
        ("rnn", "RNN, hidden 64, 50 steps", CASES_SOURCE, "rnn"),
        ("gmm", "Gaussian mixture, einsum + logsumexp", GMM_SOURCE, "gmm"),
    ]
    torch_module = ws.module("arrays_torch", TORCH_SOURCE) if harness.installed("torch") else None
    for key, label, source, name in rows:
        if only and key not in only:
            continue
        args, wrt = harness.cases.inputs(key), harness.cases.WRT[key]
        stem = "mlp" if key == "mlp" else "arrays"
        case = Case(key, label, 1.3, getattr(ws.module(stem, source), name), args, VARIANT)
        case.tools[HAND] = (harness.cases.HAND[key], args)
        case.tools[S2SAD] = (ws.s2sad(f"{key}_s2sad", source, name, wrt), args)
        case.tools[f"{S2SAD}, {VARIANT}"] = (ws.s2sad(f"{key}_annotated", annotated(source), name, wrt), args)
        on = {
            lib: getattr(
                ws.module(f"{key}_{lib}", _scipy_retargeted(harness.retarget(source, module, None), lib)), name
            )
            for lib, module in (("autograd", "autograd.numpy"), ("jax", "jax.numpy"))
            if harness.installed(lib)
        }
        torch_fn = getattr(torch_module, name) if torch_module is not None else None
        harness.add_others(case, wrt, on.get("autograd"), torch_fn, on.get("jax"))
        built.append(case)
    return built


def main() -> None:
    opts = options(__doc__.splitlines()[0]).parse_args()
    harness.jax_setup()
    ws = Workspace(opts.keep)
    try:
        built = build(ws, only(opts))
        tangent = [c.key for c in built if c.key in harness.cases.ARRAYS]  # Tangent has no einsum, no logsumexp
        print(report("NumPy programs", built, opts, tangent))
    finally:
        ws.close()


if __name__ == "__main__":
    main()

"""Hessian-vector products (issue 15): the cost of s2sad's HVP relative to the function, beside JAX's
forward-over-reverse (``jax.jvp`` of ``jax.grad``, jitted, float64), on two cases: the Rosenbrock function of 1,000 variables and the softmax regression of
examples/ (W 20x5, 500 samples). The cheap-gradient principle predicts a small constant for HVP / f.

Run: python bench/hvp.py   (about a minute; prints a Markdown table)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common  # noqa: E402  (pins every library to one thread before NumPy loads)
import numpy as np  # noqa: E402

import s2sad  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ROSENBROCK = """import numpy as np


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
"""


def _module(text: str, name: str) -> dict:
    namespace: dict = {"__name__": name}
    exec(compile(text, name, "exec"), namespace)
    return namespace


def cases():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, 1000)
    rosen = _module(ROSENBROCK, "rosen")["rosenbrock"]
    rosen_hvp = _module(s2sad.generate(ROSENBROCK, "rosen.py", "rosenbrock", mode="hvp"), "h")["hvp_rosenbrock"]
    yield "rosenbrock (n=1000)", rosen, (x,), rosen_hvp, (x, rng.standard_normal(1000)), [0]
    text = (ROOT / "examples/softmax_regression.py").read_text()
    loss = _module(text, "softmax")["softmax_regression_loss"]
    hvp_text = (ROOT / "examples/softmax_regression_hvp.py").read_text()
    hvp = _module(hvp_text, "softmax_hvp")["hvp_softmax_regression_loss"]
    W, b, X = rng.normal(size=(20, 5)), rng.normal(size=5), rng.normal(size=(500, 20))
    labels, l2 = rng.integers(0, 5, 500), 0.1
    dW, db = rng.normal(size=(20, 5)), rng.normal(size=5)
    yield "softmax regression (20x5, 500)", loss, (W, b, X, labels, l2), hvp, (W, b, X, labels, l2, dW, db), [0, 1]


def _jax(f_text_or_fn, args, index, dots):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    if index == [0]:

        def f(x):
            return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    else:

        def f(W, b):
            X, labels, l2 = args[2], args[3], args[4]
            logits = X @ W + b
            log_probs = logits - logsumexp(logits, axis=1, keepdims=True)
            return -jnp.mean(log_probs[jnp.arange(X.shape[0]), labels]) + 0.5 * l2 * jnp.sum(W**2)

    argnums = tuple(range(len(index)))
    primals = tuple(jnp.asarray(args[i]) for i in index)
    tangents = tuple(jnp.asarray(d) for d in dots)
    fj = jax.jit(f)
    hj = jax.jit(lambda p, t: jax.jvp(jax.grad(f, argnums=argnums), p, t)[1])
    fj(*primals).block_until_ready()
    expected = hj(primals, tangents)
    return expected, (lambda: fj(*primals).block_until_ready()), (lambda: jax.block_until_ready(hj(primals, tangents)))


def main() -> None:
    print("| case | f | s2sad HVP | HVP / f | JAX HVP / JAX f (jit) |")
    print("|---|---|---|---|---|")
    for label, f, fargs, hvp, hargs, index in cases():
        dots = hargs[len(fargs) :]
        tf, th = common.best_times([(f, fargs), (hvp, hargs)], 5, 0.05)
        try:
            expected, jf, jh = _jax(None, fargs, index, dots)
            got = hvp(*hargs)
            for a, e in zip(common.as_arrays(got), common.as_arrays(tuple(np.asarray(x) for x in expected))):
                np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-9)  # no figure for a wrong HVP
            tjf, tjh = common.best_times([(jf, ()), (jh, ())], 5, 0.05)
            jax_ratio = f"{tjh / tjf:.1f}"
        except ImportError:
            jax_ratio = "-"
        print(f"| {label} | {tf * 1e6:.0f} µs | {th * 1e6:.0f} µs | {th / tf:.1f} | {jax_ratio} |")


if __name__ == "__main__":
    main()

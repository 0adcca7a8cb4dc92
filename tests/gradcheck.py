"""Central finite differences, the reference every generated gradient is compared with."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


def numeric_grad(f: Callable[..., float], args: Sequence[Any], index: int, eps: float = 1e-6) -> float:
    """(f(x + h) - f(x - h)) / 2h in argument ``index``, with h scaled to the argument."""
    x = float(args[index])
    h = eps * max(1.0, abs(x))
    up = list(args)
    down = list(args)
    up[index] = x + h
    down[index] = x - h
    return (f(*up) - f(*down)) / (2 * h)


def assert_close(actual: float, expected: float, *, rtol: float = 1e-5, atol: float = 1e-6, label: str = "") -> None:
    if not math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
        raise AssertionError(f"{label}: generated {actual!r} != finite differences {expected!r}")


def check_against_fd(
    f: Callable[..., float],
    grad: Callable[..., Any],
    args: Sequence[Any],
    wrt: Sequence[int],
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """The generated gradient of ``f`` at ``args`` equals central finite differences in every ``wrt`` argument."""
    got = grad(*args)
    values = [got] if len(wrt) == 1 else list(got)
    assert len(values) == len(wrt), f"expected {len(wrt)} gradients, got {got!r}"
    for value, index in zip(values, wrt):
        expected = numeric_grad(f, args, index)
        assert_close(value, expected, rtol=rtol, atol=atol, label=f"{f.__name__} d/d arg{index} at {tuple(args)}")

"""Gradient checking: the generated gradient against central finite differences along random directions.

The standard, cheap test: for a random direction d, ∇f·d should equal (f(x + εd) - f(x - εd)) / 2ε. A few
directions test every parameter at once; one direction per parameter localises a mismatch. Works on floats
and NumPy arrays alike. This runs the user's function: it is the only part of s2sad that does.
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import point
from .diagnostics import Diagnostic, S2sadError

__all__ = ["GradCheck", "gradcheck", "check", "run_gradcheck", "UserCodeError"]


class UserCodeError(Exception):
    """The user's code, run by ``s2sad gradcheck``, raised (or exited): the CLI reports it as the user's
    problem (exit 2), not as a bug of s2sad's."""


@dataclass(frozen=True)
class Comparison:
    label: str  #: ``direction 1`` or a parameter name
    analytic: float  #: ∇f·d from the generated gradient
    numeric: float  #: the central difference
    error: float  #: relative error
    ok: bool


@dataclass
class GradCheck:
    """The result: truthy when every comparison is within tolerance."""

    directions: list[Comparison] = field(default_factory=list)
    parameters: list[Comparison] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.directions + self.parameters)

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        lines = [f"{'':14}{'gradient·d':>16}{'finite diff.':>16}{'rel. error':>12}"]
        for c in self.directions + self.parameters:
            flag = "" if c.ok else "  MISMATCH"
            lines.append(f"{c.label:14}{c.analytic:16.8g}{c.numeric:16.8g}{c.error:12.2e}{flag}")
        lines.append("ok" if self.ok else "gradient check FAILED")
        return "\n".join(lines)


def _flat(value: Any) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)]
    return [float(v) for v in value.ravel()]  # a NumPy array


def _shaped(like: Any, values: list[float]) -> Any:
    if isinstance(like, (int, float)):
        return values[0]
    import numpy as np  # only arrays get here

    return np.asarray(values, dtype=float).reshape(like.shape)


def _move(args: Sequence[Any], index: Sequence[int], direction: list[list[float]], step: float) -> list[Any]:
    moved = list(args)
    for k, i in enumerate(index):
        flat = _flat(args[i])
        moved[i] = _shaped(args[i], [x + step * d for x, d in zip(flat, direction[k])])
    return moved


def check(
    f: Callable[..., Any],
    grad: Callable[..., Any],
    args: Sequence[Any],
    index: Sequence[int],
    names: Sequence[str],
    *,
    directions: int = 3,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    seed: int = 0,
) -> GradCheck:
    """Compare ``grad(*args)`` (gradients of the arguments at ``index``) with finite differences of ``f``."""
    got = grad(*args)
    grads = [got] if len(index) == 1 else list(got)
    flat_grads = [_flat(g) for g in grads]
    rng = random.Random(seed)
    result = GradCheck()

    def compare(label: str, direction: list[list[float]]) -> Comparison:
        analytic = sum(g * d for fg, fd in zip(flat_grads, direction) for g, d in zip(fg, fd))
        up = float(f(*_move(args, index, direction, eps)))
        down = float(f(*_move(args, index, direction, -eps)))
        numeric = (up - down) / (2 * eps)
        scale = max(abs(analytic), abs(numeric))
        error = abs(analytic - numeric) / max(scale, atol / rtol)  # relative, but not for values near zero
        return Comparison(label, analytic, numeric, error, abs(analytic - numeric) <= atol + rtol * scale)

    def direction(only: int | None) -> list[list[float]]:
        """A random unit direction, in every parameter or only in parameter ``only``."""
        d = [[rng.gauss(0.0, 1.0) if only in (None, j) else 0.0 for _ in _flat(args[i])] for j, i in enumerate(index)]
        norm = math.sqrt(sum(x * x for row in d for x in row)) or 1.0
        return [[x / norm for x in row] for row in d]

    for k in range(directions):
        result.directions.append(compare(f"direction {k + 1}", direction(None)))
    for k, name in enumerate(names):
        result.parameters.append(compare(name, direction(k)))
    return result


def gradcheck(
    f: Callable[..., Any],
    *args: Any,
    wrt: Sequence[str] | None = None,
    directions: int = 3,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    seed: int = 0,
) -> GradCheck:
    """Check s2sad's gradient of ``f`` at ``args`` against central finite differences (as PyTorch's
    ``gradcheck``); the result is truthy when it passes, and ``.report()`` shows every comparison."""
    from .api import grad  # the API is built on the pipeline; this check sits on top of it

    params = list(inspect.signature(f).parameters)
    df = grad(f, wrt)
    chosen = _wrt_of(df, params)
    index = [params.index(p) for p in chosen]
    return check(f, df, args, index, chosen, directions=directions, eps=eps, rtol=rtol, atol=atol, seed=seed)


def run_gradcheck(
    source: str,
    path: str,
    name: str,
    at: dict[str, str],
    wrt: Sequence[str] | None,
    seed: int,
    directions: int,
) -> GradCheck:
    """The ``s2sad gradcheck`` command: run the user's file to get the function, then check the gradient."""
    import runpy

    from .api import _compile, _generate

    values = {k: point.parse(k, v) for k, v in at.items()}  # a bad --at is refused before anything runs,
    trial = _point_namespace(seed)
    for k, tree in values.items():  # including one whose value overflows
        point.evaluate(tree, k, at[k], trial)
    text, chosen_wrt, _, _ = _generate(
        source, path, name, wrt=wrt
    )  # first: a file s2sad cannot differentiate is not run
    try:  # the generated module imports what the user's does: that may run the user's modules
        df = _compile(text, f"grad_{name} from {path}", f"grad_{name}")
    except (Exception, SystemExit) as err:
        raise UserCodeError(f"{type(err).__name__}: {err}") from err
    setattr(df, "__s2sad_wrt__", list(chosen_wrt))
    try:
        f = runpy.run_path(path)[name]
    except (Exception, SystemExit) as err:
        raise UserCodeError(f"{type(err).__name__}: {err}") from err
    params = inspect.signature(f).parameters
    unknown = sorted(set(at) - set(params))
    if unknown:
        raise S2sadError([Diagnostic("--at", None, f"'{unknown[0]}' is not a parameter of '{name}'", "bad-point")])
    namespace = _point_namespace(seed)
    rng = random.Random(seed)
    args: list[Any] = []
    for p in params.values():
        if p.name in at:
            args.append(point.evaluate(values[p.name], p.name, at[p.name], namespace))  # never eval
        elif p.default is not inspect.Parameter.empty:
            args.append(p.default)
        else:
            args.append(rng.uniform(0.5, 1.5))
    chosen = _wrt_of(df, list(params))
    index = [list(params).index(p) for p in chosen]
    keywords = [p.name for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    if keywords:  # keyword-only parameters (last, as Python orders them) are passed by name
        f, df = _spread(f, keywords, len(args)), _spread(df, keywords, len(args))
    try:  # the function and the gradient run here, on the user's values
        return check(f, df, args, index, chosen, directions=directions, seed=seed)
    except (Exception, SystemExit) as err:
        raise UserCodeError(f"{type(err).__name__}: {err}") from err


def _spread(fn: Callable[..., Any], keywords: list[str], n: int) -> Callable[..., Any]:
    """``fn`` taking every argument positionally: the last ``len(keywords)`` go by keyword."""
    first = n - len(keywords)
    return lambda *args: fn(*args[:first], **dict(zip(keywords, args[first:])))


def _point_namespace(seed: int) -> dict[str, Any]:
    """The functions a ``--at`` value can call (see :mod:`s2sad.point`), drawing from one seeded generator."""
    names: dict[str, Any] = {"pi": math.pi, "e": math.e}
    try:
        import numpy as np
    except ImportError:  # scalars only
        rng = random.Random(seed)
        names.update(randn=lambda: rng.gauss(0.0, 1.0), rand=rng.random, zeros=lambda: 0.0, ones=lambda: 1.0)
        return names
    generator = np.random.default_rng(seed)
    names.update(
        randn=lambda *shape: generator.standard_normal(shape) if shape else float(generator.standard_normal()),
        rand=lambda *shape: generator.random(shape) if shape else float(generator.random()),
        zeros=lambda *shape: np.zeros(shape) if shape else 0.0,
        ones=lambda *shape: np.ones(shape) if shape else 1.0,
    )
    return names


def _wrt_of(df: Callable[..., Any], params: list[str]) -> list[str]:
    """The parameters a generated gradient differentiates, in the order it returns their gradients."""
    names: list[str] = getattr(df, "__s2sad_wrt__", [])
    return [p for p in names if p in params]

"""Gradient checking: the generated gradient against central finite differences along random directions.

The standard, cheap test: for a random direction d, ∇f·d should equal (f(x + εd) - f(x - εd)) / 2ε. A few
directions test every parameter at once; one direction per parameter localises a mismatch. Works on floats
and NumPy arrays alike. This runs the user's function: it is the only part of s2sad that does.

Every mode of :data:`s2sad.modes.MODES` names its check here: ``check`` (the gradient), ``check_jvp`` (the
tangent along d against the central difference of f along d, both weighted by a random u of the result's
shape), ``check_vjp`` (the dot-product test ⟨Jᵀu, d⟩ = ⟨u, J d⟩, J d from central differences and, when
given, from the JVP), ``check_jacobian`` (each column J[..., j] against the central difference along entry j,
weighted by u, and J d along random directions), ``check_hvp`` (H d against the central difference of the
generated gradient along d, weighted by u, and the symmetry test u·(H v) = v·(H u)). A tuple result counts as
its values one after the other.
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

__all__ = [
    "GradCheck",
    "gradcheck",
    "check",
    "check_jvp",
    "check_vjp",
    "check_jacobian",
    "check_hvp",
    "run_gradcheck",
    "UserCodeError",
]


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
    compared: str = "gradient·d"  #: what the analytic column shows
    #: the HVP's symmetry test: u·(H v) (``analytic``) against v·(H u) (``numeric``), no finite differences
    symmetry: list[Comparison] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.directions + self.parameters + self.symmetry)

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        width = max([14] + [len(c.label) + 1 for c in self.directions + self.parameters + self.symmetry])
        tables = [(self.compared, "finite diff.", self.directions + self.parameters)]
        if self.symmetry:  # columns of their own: both sides are the HVP's
            tables.append(("u·(H v)", "v·(H u)", self.symmetry))
        lines = []
        for analytic, numeric, rows in tables:
            lines.append(f"{'':{width}}{analytic:>16}{numeric:>16}{'rel. error':>12}")
            for c in rows:
                flag = "" if c.ok else "  MISMATCH"
                lines.append(f"{c.label:{width}}{c.analytic:16.8g}{c.numeric:16.8g}{c.error:12.2e}{flag}")
        lines.append("ok" if self.ok else "gradient check FAILED")
        return "\n".join(lines)


def _flat(value: Any) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, tuple):  # a tuple result: its values one after the other
        return [x for v in value for x in _flat(v)]
    import numpy as np  # only arrays (and NumPy scalars) get here

    return [float(v) for v in np.ravel(value)]


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
    c = _Checker(f, args, index, eps=eps, rtol=rtol, atol=atol, seed=seed, weights=False)
    grads = _parts(grad(*args), len(index))
    result = GradCheck()
    for label, only in c.labels(names, directions):
        d = c.direction(only)
        found = result.directions if only is None else result.parameters
        found.append(c.compare(label, _dot(grads, d), c.weighted(c.difference(d))))
    return result


def _parts(got: Any, n: int) -> list[list[float]]:
    """The gradients of ``n`` parameters (one value, or a tuple of them), each flat."""
    return [_flat(g) for g in ([got] if n == 1 else list(got))]


def _dot(grads: list[list[float]], d: list[list[float]]) -> float:
    return sum(g * x for fg, fd in zip(grads, d) for g, x in zip(fg, fd))


def _shaped_as(like: Any, values: list[float]) -> Any:
    """``values`` (flat) in the structure of ``like``: a number, an array's shape, a tuple of those."""
    if isinstance(like, tuple):
        out, at = [], 0
        for v in like:
            n = len(_flat(v))
            out.append(_shaped_as(v, values[at : at + n]))
            at += n
        return tuple(out)
    if isinstance(like, (int, float)):
        return values[0]
    import numpy as np

    return np.asarray(values, dtype=float).reshape(np.shape(like))


def _call(fn: Callable[..., Any], values: Sequence[Any]) -> Any:
    """``fn`` called with ``values`` in the order of its parameters, keyword-only ones by keyword."""
    params = list(inspect.signature(fn).parameters.values())
    keyword = inspect.Parameter.KEYWORD_ONLY
    positional = [v for p, v in zip(params, values) if p.kind is not keyword]
    return fn(*positional, **{p.name: v for p, v in zip(params, values) if p.kind is keyword})


class _Checker:
    """What every mode's check shares: the point, the random directions, the central differences of f."""

    def __init__(
        self, f: Callable[..., Any], args: Sequence[Any], index: Sequence[int], weights: bool = True, **options: Any
    ) -> None:
        self.f, self.args, self.index = f, list(args), list(index)
        self.eps, self.rtol, self.atol = options["eps"], options["rtol"], options["atol"]
        self.rng = random.Random(options["seed"])
        self.value = f(*args) if weights else None
        #: weights of the result's entries; without ``weights``, the gradient's check: one number, weighed 1
        self.u = [self.rng.gauss(0.0, 1.0) for _ in _flat(self.value)] if weights else [1.0]

    def direction(self, only: int | None = None, entry: int | None = None) -> list[list[float]]:
        """A random unit direction (in every parameter, or in parameter ``only``), or a basis vector."""
        d = []
        for j, i in enumerate(self.index):
            size = len(_flat(self.args[i]))
            if entry is not None:
                d.append([1.0 if (j == only and k == entry) else 0.0 for k in range(size)])
            else:
                d.append([self.rng.gauss(0.0, 1.0) if only in (None, j) else 0.0 for _ in range(size)])
        norm = math.sqrt(sum(x * x for row in d for x in row)) or 1.0
        return [[x / norm for x in row] for row in d]

    def difference(self, d: list[list[float]]) -> list[float]:
        """J d by central differences of f, flat."""
        up = _flat(self.f(*_move(self.args, self.index, d, self.eps)))
        down = _flat(self.f(*_move(self.args, self.index, d, -self.eps)))
        return [(a - b) / (2 * self.eps) for a, b in zip(up, down)]

    def weighted(self, values: list[float]) -> float:
        return sum(w * v for w, v in zip(self.u, values))

    def tangents(self, d: list[list[float]]) -> list[Any]:
        return [_shaped(self.args[i], row) for i, row in zip(self.index, d)]

    def compare(self, label: str, analytic: float, numeric: float) -> Comparison:
        scale = max(abs(analytic), abs(numeric))
        error = abs(analytic - numeric) / max(scale, self.atol / self.rtol)
        return Comparison(label, analytic, numeric, error, abs(analytic - numeric) <= self.atol + self.rtol * scale)

    def labels(self, names: Sequence[str], directions: int) -> list[tuple[str, int | None]]:
        return [(f"direction {k + 1}", None) for k in range(directions)] + [(n, j) for j, n in enumerate(names)]


_DEFAULTS: dict[str, Any] = {"directions": 3, "eps": 1e-6, "rtol": 1e-4, "atol": 1e-7, "seed": 0}


def check_jvp(
    f: Callable[..., Any],
    jvp: Callable[..., Any],
    args: Sequence[Any],
    index: Sequence[int],
    names: Sequence[str],
    **options: Any,
) -> GradCheck:
    """``jvp(*args, *tangents)[1]`` along random directions (and each parameter alone) against central
    differences of ``f``, both weighted by a random ``u`` shaped like the result."""
    options = {**_DEFAULTS, **options}
    c = _Checker(f, args, index, **options)
    result = GradCheck(compared="u·(J d)")
    for label, only in c.labels(names, options["directions"]):
        d = c.direction(only)
        analytic = c.weighted(_flat(_call(jvp, [*args, *c.tangents(d)])[1]))
        (result.directions if only is None else result.parameters).append(
            c.compare(label, analytic, c.weighted(c.difference(d)))
        )
    return result


def check_vjp(
    f: Callable[..., Any],
    vjp: Callable[..., Any],
    args: Sequence[Any],
    index: Sequence[int],
    names: Sequence[str],
    *,
    jvp: Callable[..., Any] | None = None,
    **options: Any,
) -> GradCheck:
    """The dot-product test: ⟨vjp(*args, u), d⟩ against ⟨u, J d⟩, J d by central differences of ``f`` (and,
    with ``jvp``, also by the JVP: labelled ``jvp ...``), for a random ``u`` shaped like the result."""
    options = {**_DEFAULTS, **options}
    c = _Checker(f, args, index, **options)
    grads = _parts(_call(vjp, [*args, _shaped_as(c.value, c.u)]), len(index))
    result = GradCheck(compared="(Jᵀu)·d")
    for label, only in c.labels(names, options["directions"]):
        d = c.direction(only)
        analytic = _dot(grads, d)
        found = result.directions if only is None else result.parameters
        found.append(c.compare(label, analytic, c.weighted(c.difference(d))))
        if jvp is not None:
            tangent = _flat(_call(jvp, [*args, *c.tangents(d)])[1])
            found.append(c.compare(f"jvp {label}", analytic, c.weighted(tangent)))
    return result


def check_hvp(
    f: Callable[..., Any],
    hvp: Callable[..., Any],
    args: Sequence[Any],
    index: Sequence[int],
    names: Sequence[str],
    *,
    gradient: Callable[..., Any],
    **options: Any,
) -> GradCheck:
    """``hvp(*args, *tangents)`` (H d) along random directions (and each parameter alone) against central
    differences of the generated ``gradient`` along d, both weighted by a random ``u``: the JVP's check, with
    the gradient as the function (H d is the derivative of the gradient along d). Then the Hessian's symmetry,
    u·(H v) against v·(H u) for random directions u and v (``symmetry k``): a wrong second derivative that the
    gradient shares (a wrong rule) passes the first test, not this one."""

    def as_jvp(*values: Any, **keywords: Any) -> tuple[None, Any]:
        return None, hvp(*values, **keywords)

    setattr(as_jvp, "__signature__", inspect.signature(hvp))
    options = {**_DEFAULTS, **options}
    result = check_jvp(gradient, as_jvp, args, index, names, **options)
    result.compared = "u·(H d)"
    c = _Checker(gradient, args, index, **{**options, "seed": options["seed"] + 1})  # directions of its own

    def product(d: list[list[float]]) -> list[float]:
        return _flat(_call(hvp, [*args, *c.tangents(d)]))

    def inner(a: list[list[float]], b: list[float]) -> float:
        return sum(x * y for x, y in zip((x for row in a for x in row), b))

    for k in range(options["directions"]):
        u, v = c.direction(), c.direction()
        result.symmetry.append(c.compare(f"symmetry {k + 1}", inner(u, product(v)), inner(v, product(u))))
    return result


def check_jacobian(
    f: Callable[..., Any],
    jac: Callable[..., Any],
    args: Sequence[Any],
    index: Sequence[int],
    names: Sequence[str],
    *,
    columns: int = 16,
    jvp: Callable[..., Any] | None = None,
    **options: Any,
) -> GradCheck:
    """Each column of the Jacobian (the first ``columns`` entries of each parameter) against the central
    difference along that entry, weighted by a random ``u``; then ``u·(J d)`` along random directions, against
    central differences and, with ``jvp``, against the JVP (labelled ``jvp ...``)."""
    import numpy as np

    options = {**_DEFAULTS, **options}
    c = _Checker(f, args, index, **options)
    got = jac(*args)
    several = isinstance(c.value, tuple)
    per_output = list(got) if several else [got]
    blocks = [[b] if len(index) == 1 else list(b) for b in per_output]  # [output][parameter]
    outputs = list(c.value) if several else [c.value]

    def product(d: list[list[float]]) -> list[float]:
        flat: list[float] = []
        for o, row in zip(outputs, blocks):
            total = np.zeros(np.shape(o))
            for k, block in enumerate(row):
                arg = c.args[c.index[k]]
                moved = np.reshape(np.asarray(d[k], dtype=float), np.shape(arg))
                total = total + np.tensordot(np.asarray(block, dtype=float), moved, axes=np.ndim(arg))
            flat += [float(v) for v in np.ravel(total)]
        return flat

    result = GradCheck(compared="u·(J d)")
    for k in range(options["directions"]):
        d = c.direction()
        analytic = c.weighted(product(d))
        result.directions.append(c.compare(f"direction {k + 1}", analytic, c.weighted(c.difference(d))))
        if jvp is not None:
            tangent = _flat(_call(jvp, [*args, *c.tangents(d)])[1])
            result.directions.append(c.compare(f"jvp direction {k + 1}", analytic, c.weighted(tangent)))
    for j, name in enumerate(names):
        size = len(_flat(c.args[c.index[j]]))
        for entry in range(min(size, columns)):
            d = c.direction(j, entry)
            label = name if size == 1 else f"{name}[{entry}]"
            result.parameters.append(c.compare(label, c.weighted(product(d)), c.weighted(c.difference(d))))
    return result


def gradcheck(
    f: Callable[..., Any],
    *args: Any,
    wrt: Sequence[str] | None = None,
    mode: str = "grad",
    directions: int = 3,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    seed: int = 0,
) -> GradCheck:
    """Check s2sad's gradient of ``f`` at ``args`` against central finite differences (as PyTorch's
    ``gradcheck``); the result is truthy when it passes, and ``.report()`` shows every comparison. ``mode``
    checks another module instead (``"jvp"``, ``"vjp"``, ``"jacobian"``: see :mod:`s2sad.modes`)."""
    from . import api, modes  # the API is built on the pipeline; this check sits on top of it

    found = modes.get(mode)
    if found is None:
        raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(modes.MODES)}")
    params = list(inspect.signature(f).parameters)
    df = api._build(f, wrt, with_value=False, mode=mode)[0]
    chosen = _wrt_of(df, params)
    index = [params.index(p) for p in chosen]
    options = dict(directions=directions, eps=eps, rtol=rtol, atol=atol, seed=seed)
    return found.checker()(f, df, args, index, chosen, **options, **_extra(mode, f, wrt))


def _extra(mode: str, f: Callable[..., Any], wrt: Sequence[str] | None) -> dict[str, Any]:
    """The VJP and the Jacobian are also checked against the JVP, where forward mode takes the function; the
    HVP against the generated gradient."""
    from .api import _build
    from .diagnostics import S2sadError

    if mode == "hvp":
        return {"gradient": _build(f, wrt, with_value=False)[0]}
    if mode not in ("vjp", "jacobian"):
        return {}

    try:
        return {"jvp": _build(f, wrt, with_value=False, mode="jvp")[0]}
    except S2sadError:
        return {}


def run_gradcheck(
    source: str,
    path: str,
    name: str,
    at: dict[str, str],
    wrt: Sequence[str] | None,
    seed: int,
    directions: int,
    *,
    mode: str = "grad",
) -> GradCheck:
    """The ``s2sad gradcheck`` command: run the user's file to get the function, then check the gradient
    (``mode``: the module of another mode, see :mod:`s2sad.modes`)."""
    import runpy

    from . import modes
    from .api import _compile, _generate

    values = {k: point.parse(k, v) for k, v in at.items()}  # a bad --at is refused before anything runs,
    trial = _point_namespace(seed)
    for k, tree in values.items():  # including one whose value overflows
        point.evaluate(tree, k, at[k], trial)
    text, chosen_wrt, _, function = _generate(
        source, path, name, wrt=wrt, mode=mode
    )  # first: a file s2sad cannot differentiate is not run
    extra: dict[str, Any] = {}
    jvp_text = None
    if mode in ("vjp", "jacobian"):  # checked against the JVP too, where forward mode takes the function
        try:
            jvp_text, _, _, jvp_name = _generate(source, path, name, wrt=wrt, mode="jvp")
        except S2sadError:
            jvp_text = None
    grad_text = None
    if mode == "hvp":  # H d is checked against differences of the generated gradient
        grad_text, _, _, grad_name = _generate(source, path, name, wrt=wrt)
    try:  # the generated module imports what the user's does: that may run the user's modules
        df = _compile(text, f"{function} from {path}", function)
        if jvp_text is not None:
            extra["jvp"] = _compile(jvp_text, f"{jvp_name} from {path}", jvp_name)
        if grad_text is not None:
            extra["gradient"] = _compile(grad_text, f"{grad_name} from {path}", grad_name)
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
        f = _spread(f, keywords, len(args))
        if mode == "grad":  # the other modes' checks pass keyword-only parameters by keyword (see _call)
            df = _spread(df, keywords, len(args))
        if "gradient" in extra:  # the HVP's check calls the gradient positionally, as f
            extra["gradient"] = _spread(extra["gradient"], keywords, len(args))
    checker = modes.MODES[mode].checker()
    try:  # the function and the gradient run here, on the user's values
        return checker(f, df, args, index, chosen, directions=directions, seed=seed, **extra)
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

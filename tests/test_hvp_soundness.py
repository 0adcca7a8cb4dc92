"""Hessian-vector products over the soundness catalogues: every case s2sad differentiates (``s2sad grad``
exits 0) gets ``s2sad hvp`` too, run in-process like the gradient. Its H·v is checked against central
differences of the generated gradient along v, and for symmetry (<u, H v> = <H u, v>); or it is refused with
a located diagnostic, and then listed in REFUSED with its code (the report counts them).
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from soundness import Case, run_cli, write_project
from test_generated_modules import SOUNDNESS, differentiated, problems

#: Cases whose HVP s2sad refuses, with the diagnostic's code. ``rule-helper-named-unbroadcast``: a rule of
#: the user's gives a vector-Jacobian product, and its Jacobian-vector product on an array cannot be derived
#: from it (on numbers they agree): the module raises ValueError at run time rather than guess.
REFUSED: dict[str, str] = {
    # eigh's adjoint is not linear in the matrix and has no tangent (a located no-forward-rule)
    "eigh-values-and-vectors": "no-forward-rule",
    "user-names-like-support": "no-forward-rule",
}
RAISES_ON_ARRAYS = {"rule-helper-named-unbroadcast"}

_LOCATED = re.compile(r"^[^\s:]+:\d+:\d+: error: .* \[[a-z-]+\]$", re.M)


def _function(text: str, prefix: str) -> Any:
    tree = ast.parse(text)
    names = [s.name for s in tree.body if isinstance(s, ast.FunctionDef) and s.name.startswith(prefix)]
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(text, "<generated>", "exec"), namespace)
    return namespace[names[0] if prefix == "hvp_" else names[-1]]


def _parts(got: Any, n: int) -> list[np.ndarray]:
    return [np.asarray(g, dtype=float) for g in ([got] if n == 1 else got)]


@pytest.mark.parametrize("case", SOUNDNESS, ids=[c.id for c in SOUNDNESS])
def test_hvp_of_every_soundness_case(case: Case, tmp_path: Path) -> None:
    write_project(case, tmp_path)
    wrt = ["--wrt", ",".join(case.wrt)] if case.wrt is not None else []
    g = run_cli(["grad", case.target, *wrt], tmp_path)
    if g.status != 0:
        return  # refused a gradient: no HVP either (the soundness tests say whether that is allowed)
    h = run_cli(["hvp", case.target, *wrt], tmp_path)
    assert h.status in (0, 2), h.stderr
    if h.status == 2:
        assert _LOCATED.search(h.stderr), h.stderr
        assert "Traceback" not in h.stderr
        assert REFUSED.get(case.id) is not None and f"[{REFUSED[case.id]}]" in h.stderr, h.stderr
        return
    assert case.id not in REFUSED, f"{case.id}: no longer refused; remove it from REFUSED"
    assert problems(h.stdout, formatting=False) == []
    grad, hf = _function(g.stdout, "grad_"), _function(h.stdout, "hvp_")
    names = differentiated(g.stdout)
    params = list(inspect.signature(grad).parameters)
    index = [params.index(w) for w in names]
    args = list(case.at)
    rng = np.random.default_rng(0)

    def direction(a: Any) -> Any:
        return rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal())

    v, u = [direction(args[i]) for i in index], [direction(args[i]) for i in index]
    dots = list(inspect.signature(hf).parameters)[-len(index) :]
    if case.id in RAISES_ON_ARRAYS:
        with pytest.raises(ValueError, match="uses your rule"):
            hf(*args, **dict(zip(dots, v)))
        return
    hv = _parts(hf(*args, **dict(zip(dots, v))), len(index))
    hu = _parts(hf(*args, **dict(zip(dots, u))), len(index))
    for got, i in zip(hv, index):
        assert np.shape(got) == np.shape(args[i])
    scale = max([1.0] + [float(np.max(np.abs(args[i]))) for i in index])
    step = 1e-6 * scale
    up, down = list(args), list(args)
    for i, d in zip(index, v):
        up[i], down[i] = args[i] + step * d, args[i] - step * d
    fd = [(a - b) / (2 * step) for a, b in zip(_parts(grad(*up), len(index)), _parts(grad(*down), len(index)))]
    for got, expected, w in zip(hv, fd, names):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f"{case.id}: d/d{w}\n{h.stdout}")
    left = sum(float(np.sum(a * b)) for a, b in zip(u, hv))
    right = sum(float(np.sum(a * b)) for a, b in zip(hu, v))
    assert math.isclose(left, right, rel_tol=1e-7, abs_tol=1e-9), (case.id, left, right)

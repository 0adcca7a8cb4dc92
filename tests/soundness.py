"""The soundness harness: a program is either differentiated correctly or refused with a located diagnostic.

A :class:`Case` is a small project (file name -> text) and a target ``m.py::f``. :func:`verdict` runs
``s2sad grad`` on it in-process, as a user would, and then:

- exit 0: the generated module is compiled and run; its gradient must equal central finite differences of the
  user's own function (imported from the project folder: this is a test, it may run the user's code);
- exit 2: the refusal must be located (``path:line:col: error: ... [code]``) and must not be a crash;
- anything else (exit 1 or 3, a traceback) fails.

``expect`` narrows what is acceptable: ``"correct"`` (must be differentiated), ``"refused"`` (must be refused,
optionally with ``code``) or ``"either"`` (the principle: right or refused, never silently wrong). The gradient
function of a generated module is the last top-level ``def`` whose name starts with ``grad_``.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2sad.cli import main

_LOCATED = re.compile(r"^[^\n]+:\d+:\d+: error: .+ \[[a-z0-9-]+\]$", re.M)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]  #: file name -> source text (or its bytes); the target's is ``target``'s path part
    at: tuple[Any, ...]  #: the point: one value per parameter of the target, in order
    target: str = "m.py::f"
    wrt: Sequence[str] | None = None  #: None: s2sad's default (every parameter the result depends on)
    expect: str = "either"  #: "correct", "refused" or "either"
    code: str | None = None  #: with "refused": the diagnostic code expected
    family: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr: str

    @property
    def refused(self) -> bool:
        return self.status == 2


def run_cli(argv: Sequence[str], cwd: Path) -> Outcome:
    """``s2sad ARGV`` in-process, in folder ``cwd``; a traceback out of ``main`` is a failure of the test."""
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    try:
        import os

        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(list(argv))
            except SystemExit as exc:  # argparse
                status = int(exc.code or 0)
    finally:
        os.chdir(old)
    return Outcome(status, out.getvalue(), err.getvalue())


def write_project(case: Case, root: Path) -> None:
    for name, text in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def gradient_function(module_text: str, filename: str = "<generated>") -> Any:
    tree = ast.parse(module_text)
    names = [s.name for s in tree.body if isinstance(s, ast.FunctionDef) and s.name.startswith("grad_")]
    assert names, f"no grad_ function in the generated module:\n{module_text}"
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(module_text, filename, "exec"), namespace)
    return namespace[names[-1]]


def user_function(root: Path, target: str) -> Any:
    path, _, name = target.partition("::")
    module_name = f"soundness_user_{abs(hash(str(root)))}_{Path(path).stem}"
    spec = importlib.util.spec_from_file_location(module_name, root / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    own = {p.stem for p in root.glob("*.py")} | {p.name for p in root.iterdir() if p.is_dir()}
    for stem in own:  # a module of the same name from another case's folder must not be reused
        sys.modules.pop(stem, None)
    sys.path.insert(0, str(root))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(root))
        for stem in own:
            sys.modules.pop(stem, None)
    return getattr(module, name)


def finite_differences(f: Any, at: Sequence[Any], index: int, eps: float = 1e-6) -> Any:
    """Central differences of scalar ``f`` in argument ``index`` (a float or a NumPy array)."""
    x = at[index]
    if isinstance(x, (int, float)):
        h = eps * max(1.0, abs(x))
        up, down = list(at), list(at)
        up[index], down[index] = x + h, x - h
        return (f(*up) - f(*down)) / (2 * h)
    import numpy as np

    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        h = eps * max(1.0, abs(x[k]))
        up[k] += h
        down[k] -= h
        args_up, args_down = list(at), list(at)
        args_up[index], args_down[index] = up, down
        out[k] = (f(*args_up) - f(*args_down)) / (2 * h)
    return out


def _close(actual: Any, expected: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return math.isclose(actual, expected, rel_tol=1e-5, abs_tol=1e-6)
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    return a.shape == e.shape and bool(np.allclose(a, e, rtol=1e-5, atol=1e-6))


def verdict(case: Case, root: Path) -> Outcome:
    """Run ``case`` in the empty folder ``root``; assert the principle and ``case.expect``."""
    write_project(case, root)
    argv = ["grad", case.target]
    if case.wrt is not None:
        argv += ["--wrt", ",".join(case.wrt)]
    outcome = run_cli(argv, root)
    assert outcome.status in (0, 2), f"{case.id}: exit {outcome.status}\n{outcome.stderr}"
    assert "Traceback" not in outcome.stderr, f"{case.id}: traceback\n{outcome.stderr}"
    if outcome.refused:
        assert case.expect != "correct", f"{case.id}: refused, expected a gradient\n{outcome.stderr}"
        assert _LOCATED.search(outcome.stderr), f"{case.id}: refusal without a location\n{outcome.stderr}"
        if case.code is not None:
            assert f"[{case.code}]" in outcome.stderr, f"{case.id}: expected [{case.code}]\n{outcome.stderr}"
        return outcome
    assert case.expect != "refused", f"{case.id}: expected a refusal, got\n{outcome.stdout}"
    grad = gradient_function(outcome.stdout)
    f = user_function(root, case.target)
    code = getattr(f, "__wrapped__", f).__code__  # functools.cache: the parameters of the function cached
    params = list(code.co_varnames[: code.co_argcount])
    wrt = list(case.wrt) if case.wrt is not None else _default_wrt(outcome.stdout, params)
    got = grad(*case.at)
    values = [got] if len(wrt) == 1 else list(got)
    assert len(values) == len(wrt), f"{case.id}: {len(wrt)} gradients expected, got {got!r}"
    for name, value in zip(wrt, values):
        expected = finite_differences(f, case.at, params.index(name))
        assert _close(
            value, expected
        ), f"{case.id}: d/d{name} generated {value!r} != finite differences {expected!r}\n{outcome.stdout}"
    return outcome


def _default_wrt(module_text: str, params: list[str]) -> list[str]:
    """The parameters the header says the module differentiates (``with respect to x, y``)."""
    match = re.search(r"with respect to ([^.\n]+)\.", module_text)
    assert match, module_text
    return [w.strip() for w in match.group(1).split(",")]

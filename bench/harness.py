"""The harness behind ``scalars.py``, ``arrays.py`` and ``run.py``: build every tool's gradient, check it, time it.

s2sad's gradients are generated when the benchmark starts, from the checkout this file belongs to (``s2sad.generate``
on the case's source, written beside it in a temporary folder and imported from there), so the figures are those
of whatever the code generates now. Every gradient, of every tool, is checked against the hand-written adjoint of
``cases.py`` before anything is timed; a disagreement stops the benchmark (Tangent's, found wrong on a case, is
reported in the table instead: it is Tangent's bug, not the harness's).

Timing: ``runs`` runs; in each, for each case, every tool takes its turn in each of ``rounds`` rounds, and the
minimum per run is kept; the tables give the range over runs of time(gradient) / time(f) and of s2sad / hand-written,
both from the same run. Tangent needs Python 3.7 and runs in a process of its own (``tangent_cases.py``),
which measures f, the hand-written adjoint and Tangent's gradient in that interpreter.
"""

from __future__ import annotations

import common  # noqa: F401  (one thread: before NumPy, JAX and PyTorch load)

import ast
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any, Callable

import numpy as np

import cases


def _checkout() -> Path:
    """The s2sad tree to measure: ``--s2sad DIR`` (another worktree, e.g. a branch before merging), else the one
    this benchmark belongs to. Read before argparse runs, because s2sad is imported here."""
    for k, arg in enumerate(sys.argv):
        if arg == "--s2sad" and k + 1 < len(sys.argv):
            return Path(sys.argv[k + 1]).resolve()
        if arg.startswith("--s2sad="):
            return Path(arg.split("=", 1)[1]).resolve()
    return Path(__file__).resolve().parent.parent


ROOT = _checkout()
sys.path.insert(0, str(ROOT))
import s2sad  # noqa: E402  (the checkout's, not an installed one)

if Path(s2sad.__file__).resolve().parent.parent != ROOT:
    raise SystemExit(f"bench: s2sad imported from {s2sad.__file__}, not from {ROOT}")

HAND, S2SAD = "hand-written", "s2sad"
OTHERS = ("autograd", "PyTorch", "JAX", "JAX jit")
TANGENT = "Tangent"
#: where bench/tangent_venv.sh puts Tangent's interpreter; TANGENT_PYTHON names another
TANGENT_DEFAULT = Path(tempfile.gettempdir()) / "s2sad-tangent" / "bin" / "python"


@dataclass
class Case:
    key: str  #: the name in cases.py (inputs, hand-written adjoint, Tangent's version)
    label: str
    target: float  #: s2sad / hand-written, at most (issue 12)
    f: Callable[..., Any]
    args: tuple
    variant: str  #: the second s2sad column's name ("no NumPy import", "annotated")
    tools: dict[str, tuple[Callable[..., Any], tuple]] = field(default_factory=dict)  #: column -> (gradient, args)
    tangent: bool = True


class Workspace:
    """A temporary folder holding the cases' sources and s2sad's gradient modules, imported from there."""

    def __init__(self, keep: str | None = None) -> None:
        self._tmp = None if keep else tempfile.TemporaryDirectory(prefix="s2sad-bench-")
        self.path = Path(keep) if keep else Path(self._tmp.name)
        self.path.mkdir(parents=True, exist_ok=True)
        sys.path.insert(0, str(self.path))

    def module(self, stem: str, source: str) -> Any:
        path = self.path / f"{stem}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"s2sad_bench_{stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def s2sad(self, stem: str, source: str, name: str, wrt: tuple[int, ...]) -> Callable[..., Any]:
        """s2sad's gradient of ``name``, generated now from ``source`` saved as ``stem.py``, as ``stem_grad.py``."""
        path, out = self.path / f"{stem}.py", self.path / f"{stem}_grad.py"
        path.write_text(source)
        fn = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
        names = [fn.args.args[i].arg for i in wrt]
        text = s2sad.generate(source, str(path), name, wrt=names, output=str(out))
        module = self.module(f"{stem}_grad", text)
        return getattr(module, f"grad_{name}")

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def with_numpy_import(source: str) -> str:
    """``source`` with ``import numpy as np`` after its docstring: the same functions in a module importing NumPy."""
    body = ast.parse(source).body
    after = body[0].end_lineno if body and isinstance(body[0], ast.Expr) else 0
    lines = source.splitlines(keepends=True)
    return "".join(lines[:after]) + "\nimport numpy as np\n" + "".join(lines[after:])


def retarget(source: str, numpy_module: str | None, math_module: str | None) -> str:
    """The same functions over another library: ``import numpy as np`` and ``from math import ...`` re-pointed."""
    out = []
    for line in source.splitlines(keepends=True):
        if numpy_module and line.startswith("import numpy as np"):
            line = f"import {numpy_module} as np\n"
        elif math_module and line.startswith("from math import "):
            line = line.replace("from math import ", f"from {math_module} import ", 1)
        out.append(line)
    return "".join(out)


# ---- the other tools, when installed ---------------------------------------------------------------------------
def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def autograd_gradient(fn: Callable[..., Any], wrt: tuple[int, ...]) -> Callable[..., Any]:
    import autograd

    return autograd.grad(fn, wrt if len(wrt) > 1 else wrt[0])


def torch_gradient(fn: Callable[..., Any], wrt: tuple[int, ...]) -> Callable[..., Any]:
    import torch

    torch.set_num_threads(1)

    def gradient(*args: Any) -> Any:
        params = list(args)
        for i in wrt:
            params[i] = args[i].detach().requires_grad_(True)
        return torch.autograd.grad(fn(*params), [params[i] for i in wrt])

    return gradient


def torch_args(args: tuple) -> tuple:
    import torch

    def convert(a: Any) -> Any:
        if isinstance(a, (int, np.integer)):
            return a
        return torch.tensor(a, dtype=torch.float64) if isinstance(a, float) else torch.from_numpy(np.asarray(a))

    return tuple(convert(a) for a in args)


def jax_gradient(fn: Callable[..., Any], wrt: tuple[int, ...], args: tuple, jit: bool) -> Callable[..., Any]:
    import jax

    g = jax.grad(fn, argnums=wrt if len(wrt) > 1 else wrt[0])
    if jit:
        g = jax.jit(g, static_argnums=tuple(i for i, a in enumerate(args) if isinstance(a, int)))

    def gradient(*args: Any) -> Any:
        return jax.block_until_ready(g(*args))

    return gradient


def jax_args(args: tuple) -> tuple:
    import jax.numpy as jnp

    return tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


def jax_setup() -> None:
    if installed("jax"):
        import jax

        jax.config.update("jax_enable_x64", True)


def add_others(case: Case, wrt: tuple[int, ...], autograd_fn, torch_fn, jax_fn) -> None:
    """The competitors' gradients of the case's function, each written over its own library (None: not run)."""
    if autograd_fn is not None and installed("autograd"):
        case.tools["autograd"] = (autograd_gradient(autograd_fn, wrt), case.args)
    if torch_fn is not None and installed("torch"):
        case.tools["PyTorch"] = (torch_gradient(torch_fn, wrt), torch_args(case.args))
    if jax_fn is not None and installed("jax"):
        case.tools["JAX"] = (jax_gradient(jax_fn, wrt, case.args, jit=False), jax_args(case.args))
        case.tools["JAX jit"] = (jax_gradient(jax_fn, wrt, case.args, jit=True), jax_args(case.args))


# ---- measuring -------------------------------------------------------------------------------------------------
def check_all(all_cases: list[Case]) -> None:
    """Every tool's gradient equals the hand-written one, or the benchmark stops here."""
    for case in all_cases:
        expected = case.tools[HAND][0](*case.args)
        for tool, (fn, args) in case.tools.items():
            common.check(tool, case.label, fn(*args), expected)


def measure(all_cases: list[Case], runs: int, rounds: int, target: float) -> dict[str, list[dict[str, float]]]:
    """Per case, per run: each column's best time per call, ``"f"`` included."""
    times: dict[str, list[dict[str, float]]] = {c.key: [] for c in all_cases}
    for _ in range(runs):
        for case in all_cases:
            columns = ["f", *case.tools]
            entries = [(case.f, case.args)] + list(case.tools.values())
            times[case.key].append(dict(zip(columns, common.best_times(entries, rounds, target))))
    return times


def tangent_python() -> str | None:
    named = os.environ.get("TANGENT_PYTHON")
    if named:
        return named
    return str(TANGENT_DEFAULT) if TANGENT_DEFAULT.exists() else None


def measure_tangent(keys: list[str], runs: int, rounds: int, target: float) -> dict[str, Any] | None:
    """Tangent's figures from its own interpreter, or None when there is none."""
    python = tangent_python()
    if python is None or not keys:  # (no case Tangent can run)
        return None
    script = Path(__file__).with_name("tangent_cases.py")
    done = subprocess.run(
        [python, str(script), str(runs), str(rounds), str(target), ",".join(keys)],
        capture_output=True,
        text=True,
        cwd=script.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Tangent's run failed ({python}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- reporting -------------------------------------------------------------------------------------------------
def table(all_cases: list[Case], times: dict[str, list[dict[str, float]]], tangent: dict[str, Any] | None) -> str:
    variants = list(dict.fromkeys(f"{S2SAD}, {c.variant}" for c in all_cases))
    columns = [HAND, S2SAD, *variants, *OTHERS, TANGENT]
    head = ["case", "f (µs)", *columns, "s2sad / hand", *(f"{v} / hand" for v in variants), "target", "behind"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in all_cases:
        runs = times[case.key]
        tangent_ratios = _tangent_ratios(case, tangent)
        ratio = {c: [r[c] / r["f"] for r in runs] for c in case.tools}
        cells = [case.label, common.span([r["f"] * 1e6 for r in runs])]
        for column in columns:
            if column == TANGENT:
                cells.append(tangent_ratios if isinstance(tangent_ratios, str) else common.span(tangent_ratios))
            else:
                cells.append(common.span(ratio[column]) if column in ratio else "-")
        to_hand = {c: [r[c] / r[HAND] for r in runs] for c in [S2SAD, *variants] if c in case.tools}
        cells += [common.span(to_hand[c]) if c in to_hand else "-" for c in [S2SAD, *variants]]
        # verdicts on the median run: on a shared machine one disturbed run should not decide them
        cells.append(f"≤ {case.target} {'met' if median(to_hand[S2SAD]) <= case.target else 'missed'}")
        behind = [c for c in ("autograd", "PyTorch") if c in ratio and median(ratio[S2SAD]) >= median(ratio[c])]
        if not isinstance(tangent_ratios, str) and median(ratio[S2SAD]) >= median(tangent_ratios):
            behind.append(TANGENT)
        cells.append(", ".join(behind) or "none")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _tangent_ratios(case: Case, tangent: dict[str, Any] | None) -> list[float] | str:
    if tangent is None or not case.tangent:
        return "-"
    if case.key in tangent.get("wrong", {}):
        return "wrong gradient"
    return [t / f for f, _hand, t in tangent["times"][case.key]]


def header(tangent: dict[str, Any] | None) -> str:
    """The machine, the versions and the s2sad commit the figures belong to."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in _cpuinfo() if ln.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    versions = [f"CPython {platform.python_version()}", f"NumPy {np.__version__}"]
    for name in ("autograd", "torch", "jax"):
        if installed(name):
            from importlib.metadata import version

            versions.append(f"{name} {version(name)}")
    if tangent is not None:
        v = tangent["versions"]
        versions.append(f"Tangent {v['tangent']} (CPython {v['python']}, NumPy {v['numpy']})")
    return (
        f"s2sad {s2sad.__version__} at {commit.stdout.strip() or '?'} ({ROOT}); {cpu}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; one thread; " + ", ".join(versions)
    )


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []

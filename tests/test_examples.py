"""The committed generated gradients in examples/ are fresh, correct and run without s2sad."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck import check_against_fd
from s2sad.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [
    ("examples/domke.py::f", "examples/domke_grad.py", (0.3,), (0,)),
    ("examples/network.py::c", "examples/network_grad.py", (1.0,), (0,)),
    ("examples/loop.py::f", "examples/loop_f_grad.py", (0.3, 0.9, 200), (0, 1)),
    ("examples/loop.py::g", "examples/loop_g_grad.py", (0.8, 30), (0,)),
]


def _load(path):
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target, output, args, wrt", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_committed_gradient_is_fresh(target, output, args, wrt, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    status = main(["grad", target, "-o", output, "--check"])
    assert status == 0, f"{output} is stale; run: s2sad grad {target} -o {output}\n{capsys.readouterr().out}"


@pytest.mark.parametrize("target, output, args, wrt", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_committed_gradient_is_correct(target, output, args, wrt):
    path, name = target.split("::")
    f = getattr(_load(path), name)
    grad = getattr(_load(output), f"grad_{name}")
    check_against_fd(f, grad, args, wrt)


def test_network_partial_and_total_derivatives():
    grad_c = _load("examples/network_grad.py").grad_c
    assert grad_c(1.0) == 33.0
    text = (ROOT / "examples/network_grad.py").read_text()
    assert "b1_bar = 4.0" in text  # the partial dc/db1 ...
    assert "b1_bar += b2_bar" in text  # ... becomes the total 9 once b2's use is added


@pytest.mark.parametrize("output", [e[1] for e in EXAMPLES])
def test_generated_module_runs_where_s2sad_cannot_be_imported(output):
    code = (
        "import sys, runpy\n"
        "sys.modules['s2sad'] = None  # any 'import s2sad' now fails\n"
        f"namespace = runpy.run_path({str(ROOT / output)!r})\n"
        "print(sorted(k for k in namespace if k.startswith('grad_')))\n"
    )
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "grad_" in result.stdout

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
    # the partial dc/db1 = 4 becomes the total 9 once b2's use is added, and dc/da = 33: the adjoints are
    # constants, folded as the generator writes them (s2sad.propagation); 's2sad explain' shows the steps
    assert "a_bar = 33.0" in text and "b1_bar" not in text


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


def test_mlp_gradient_matches_finite_differences_and_autograd():
    import numpy as np

    from s2sad.gradcheck import check

    mlp = _load("examples/mlp.py")
    grad = _load("examples/mlp_grad.py").grad_loss
    rng = np.random.default_rng(3)
    X, labels = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    args = (
        rng.normal(size=(5, 4)),
        rng.normal(size=4),
        rng.normal(size=(4, 3)),
        rng.normal(size=3),
        X,
        np.eye(3)[labels],
    )
    result = check(mlp.loss, grad, args, [0, 1, 2, 3], ["W1", "b1", "W2", "b2"], directions=4, rtol=1e-5)
    assert result, result.report()
    text = (ROOT / "examples/mlp_grad.py").read_text()
    for helper in ("sigmoid", "softmax", "cross_entropy"):
        assert text.count(f"def adjoint_{helper}(") == 1
    assert "X_bar" not in text and "Y_bar" not in text  # data and labels get no adjoint computations


def test_training_with_the_generated_gradient_lowers_the_loss(capsys):
    import sys

    sys.path.insert(0, str(ROOT / "examples"))
    try:
        history = _load("examples/train_mlp.py").main(epochs=5)
    finally:
        sys.path.remove(str(ROOT / "examples"))
    assert history[-1] < 0.5 * history[0]
    assert capsys.readouterr().out.count("epoch") == 5

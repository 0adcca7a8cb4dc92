"""The table of modes (s2sad/modes.py) and what reads it: gradcheck for every mode (it passes on real rules and
catches a wrong one), ``[tool.s2sad.targets]`` entries with a ``mode`` (and a located error for an unknown one),
the regenerate command in each mode's header."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import rules
from s2sad.cli import main
from s2sad.modes import MODES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import polar as polar_example  # noqa: E402
import reprojection as reprojection_example  # noqa: E402


def smooth(x, y):
    return math.sin(x) * y + math.exp(x * y)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_every_mode_has_a_row_with_a_pipeline_and_a_check():
    assert {"grad", "jvp", "vjp", "jacobian"} <= set(MODES)
    for mode in MODES.values():
        assert mode.prefix == f"{mode.name}_" and callable(mode.checker())


@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp", "jacobian"])
def test_gradcheck_passes_on_real_rules(mode):
    result = s2sad.gradcheck(smooth, 0.3, 0.7, mode=mode)
    assert result and "ok" in result.report()
    assert [c.label for c in result.parameters if not c.label.startswith("jvp")] == ["x", "y"]


@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp", "jacobian"])
def test_gradcheck_catches_a_wrong_rule_in_every_mode(mode, monkeypatch):
    wrong = rules.vjp("math.sin(x)", x="g * math.sin(x)")  # should be cos (the tangent derives from it too)
    monkeypatch.setitem(rules.RULES, ("math.sin", 1), wrong)
    result = s2sad.gradcheck(smooth, 0.3, 0.7, mode=mode)
    assert not result and "MISMATCH" in result.report()
    assert not next(c for c in result.parameters if c.label == "x").ok  # localised to x
    assert next(c for c in result.parameters if c.label == "y").ok


@pytest.mark.parametrize("mode", ["jvp", "vjp", "jacobian"])
def test_gradcheck_of_vector_and_tuple_results(mode):
    rng = np.random.default_rng(0)
    cam = np.concatenate([0.3 * rng.standard_normal(3), rng.standard_normal(3), [2.0], rng.standard_normal(4) * 0.1])
    args = (cam, rng.standard_normal(3) + [0.0, 0.0, 6.0], 0.8, rng.standard_normal(2))
    assert s2sad.gradcheck(reprojection_example.reprojection, *args, wrt=["cam", "X", "w"], mode=mode)
    assert s2sad.gradcheck(polar_example.polar, 0.3, 0.8, mode=mode)


def test_the_vjp_check_catches_a_wrong_vector_rule(monkeypatch):
    wrong = rules.vjp("numpy.sin(x)", x="g * numpy.sin(x)", shape="elementwise")
    monkeypatch.setitem(rules.RULES, ("numpy.sin", 1), wrong)
    rng = np.random.default_rng(1)
    cam = np.concatenate([0.3 * rng.standard_normal(3), rng.standard_normal(3), [2.0], rng.standard_normal(4) * 0.1])
    args = (cam, rng.standard_normal(3) + [0.0, 0.0, 6.0], 0.8, rng.standard_normal(2))
    for mode in ("vjp", "jacobian"):
        assert not s2sad.gradcheck(reprojection_example.reprojection, *args, wrt=["cam", "X", "w"], mode=mode)


def test_gradcheck_cli_mode(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    for mode in ("jvp", "vjp", "jacobian"):
        status, out, _ = run(capsys, "gradcheck", "examples/polar.py::polar", "--mode", mode)
        assert status == 0 and out.strip().endswith("ok"), out
    monkeypatch.setitem(rules.RULES, ("math.atan2", 2), rules.vjp("math.atan2(y, x)", y="g", x="g"))
    status, out, _ = run(capsys, "gradcheck", "examples/polar.py::polar", "--mode", "vjp")
    assert status == 1 and "FAILED" in out


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown mode"):
        s2sad.gradcheck(smooth, 0.3, 0.7, mode="hessian")
    with pytest.raises(ValueError, match="unknown mode"):
        s2sad.generate("def f(x):\n    return x\n", "m.py", "f", mode="hessian")


# ---- projects ---------------------------------------------------------------------------------------------------
CONFIG = """\
[tool.s2sad.targets]
"src/model.py::loss" = [
    "src/model_grad.py",
    { output = "src/model_jvp.py", mode = "jvp" },
    { output = "src/model_vjp.py", mode = "vjp", wrt = ["y"] },
]
"src/model.py::pair" = { output = "src/pair_jacobian.py", mode = "jacobian" }
"""
MODEL = """\
from math import exp, sin


def loss(x, y):
    return exp(x) * y


def pair(x, y):
    return sin(x) * y, x + y
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text(MODEL)
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_targets_with_modes_are_synced_and_checked(project, capsys):
    assert run(capsys, "check")[0] == 1
    assert run(capsys, "sync")[0] == 0
    status, _, err = run(capsys, "check")
    assert status == 0 and "4 of 4 generated files are up to date" in err
    src = project / "src"
    assert "# Regenerate with: s2sad jvp src/model.py::loss -o src/model_jvp.py" in (src / "model_jvp.py").read_text()
    vjp = (src / "model_vjp.py").read_text()
    assert "# Regenerate with: s2sad vjp src/model.py::loss --wrt y -o src/model_vjp.py" in vjp
    jacobian = (src / "pair_jacobian.py").read_text()
    assert "s2sad jacobian src/model.py::pair -o src/pair_jacobian.py" in jacobian
    assert "def jacobian_pair(x, y):" in jacobian and "def grad_" not in jacobian
    # the committed file is exactly what the single command writes
    assert run(capsys, "vjp", "src/model.py::loss", "--wrt", "y", "-o", "src/model_vjp.py", "--check")[0] == 0
    (src / "model_vjp.py").write_text(vjp.replace("out_bar", "seed"))
    status, out, err = run(capsys, "check")
    assert status == 1 and "src/model_vjp.py: stale" in err


@pytest.mark.parametrize("value", ['"hessian"', "3"])
def test_an_unknown_mode_is_a_located_config_error(project, capsys, value):
    (project / "pyproject.toml").write_text(
        CONFIG + f'"src/model.py::other" = {{ output = "src/other.py", mode = {value} }}\n'
    )
    status, _, err = run(capsys, "check")
    assert status == 2 and "[bad-config]" in err and "unknown mode" in err
    assert "pyproject.toml:8:52:" in err  # the entry's mode key
    assert '"grad", "jvp", "vjp", "jacobian"' in err


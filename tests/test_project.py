"""Projects: [tool.s2sad.targets], `s2sad sync` and `s2sad check`, and the pre-commit hook."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from s2sad.cli import main

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """\
[project]
name = "demo"

[tool.s2sad.targets]
"src/model.py::loss" = "src/model_grad.py"
"src/model.py::energy" = { output = "src/energy_grad.py", wrt = ["y"] }
"""
MODEL = """\
from math import exp, sin


def loss(x, y):
    return exp(x) * y


def energy(x, y):
    return sin(x) * y * y
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    (tmp_path / "src" / "model.py").write_text(MODEL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_sync_writes_every_target_then_check_passes(project, capsys):
    status, _, err = run(capsys, "check")
    assert status == 1 and "src/model_grad.py: missing" in err
    assert not (project / "src" / "model_grad.py").exists()
    assert run(capsys, "sync")[0] == 0
    grad = (project / "src" / "model_grad.py").read_text()
    assert "# Regenerate with: s2sad grad src/model.py::loss -o src/model_grad.py" in grad
    assert "def grad_energy(x, y):" in (project / "src" / "energy_grad.py").read_text()
    assert "--wrt y" in (project / "src" / "energy_grad.py").read_text()
    status, out, err = run(capsys, "check")
    assert status == 0 and out == "" and "2 of 2 generated files are up to date" in err


def test_sync_output_equals_grad_output(project, capsys):
    run(capsys, "sync")
    status, out, _ = run(capsys, "grad", "src/model.py::loss", "-o", "src/model_grad.py", "--check")
    assert status == 0 and out == ""


def test_check_prints_a_diff_for_a_stale_file(project, capsys):
    run(capsys, "sync")
    (project / "src" / "model.py").write_text(MODEL.replace("exp(x) * y", "exp(x) * y * y"))
    status, out, err = run(capsys, "check")
    assert status == 1
    assert out.startswith("--- src/model_grad.py (committed)\n+++ src/model_grad.py (generated)\n")
    assert "src/model_grad.py: stale; run: s2sad sync" in err
    assert "energy_grad.py" not in out  # the fresh one is not reported


def test_a_broken_target_writes_nothing_and_others_still_report(project, capsys):
    run(capsys, "sync")
    before = {p: p.read_text() for p in (project / "src").glob("*_grad.py")}
    (project / "src" / "model.py").write_text(MODEL.replace("return exp(x) * y", "return foo(x) * y"))
    status, _, err = run(capsys, "sync")
    assert status == 2 and "src/model.py:5:12: error: 'foo' is not defined [undefined-name]" in err
    assert "nothing was written" in err
    assert {p: p.read_text() for p in (project / "src").glob("*_grad.py")} == before
    status, _, err = run(capsys, "check")
    assert status == 2 and "1 of 2 generated files are up to date" in err


def test_check_from_a_subfolder_finds_the_config(project, capsys, monkeypatch):
    run(capsys, "sync")
    monkeypatch.chdir(project / "src")
    assert run(capsys, "check")[0] == 0


def test_bad_config_is_a_diagnostic(project, capsys):
    (project / "pyproject.toml").write_text(CONFIG + '"nonsense" = 3\n')
    status, _, err = run(capsys, "check")
    assert status == 2 and "[bad-config]" in err


def test_no_config(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "check")
    assert status == 2 and "[no-config]" in err


def test_processing_order_does_not_matter(project, capsys):
    run(capsys, "sync")
    first = {p.name: p.read_bytes() for p in (project / "src").glob("*_grad.py")}
    reordered = CONFIG.split("[tool.s2sad.targets]\n")
    lines = reordered[1].splitlines()
    (project / "pyproject.toml").write_text(reordered[0] + "[tool.s2sad.targets]\n" + "\n".join(lines[::-1]) + "\n")
    for p in (project / "src").glob("*_grad.py"):
        p.unlink()
    run(capsys, "sync")
    assert {p.name: p.read_bytes() for p in (project / "src").glob("*_grad.py")} == first


def test_pre_commit_hook_runs_check_the_way_pre_commit_does(project, capsys):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "s2sad-check")
    assert hook["pass_filenames"] is False and hook["language"] == "python"
    argv = shlex.split(hook["entry"])
    assert argv[0] == "s2sad"
    command = [sys.executable, "-m", "s2sad", *argv[1:]]  # the console script, without depending on PATH
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    assert subprocess.run(command, cwd=project, env=env, capture_output=True).returncode == 1
    run(capsys, "sync")
    assert subprocess.run(command, cwd=project, env=env, capture_output=True).returncode == 0


def test_this_repository_uses_the_mechanism(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, err = run(capsys, "check")
    assert status == 0, out + err

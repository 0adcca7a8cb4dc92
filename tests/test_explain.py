"""`s2sad explain` and gradcheck: the Lagrangian view printed, solved and checked."""

import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import s2sad
from s2sad import api, rules
from s2sad.cli import main

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def source(path):
    return (ROOT / path).read_text()


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# ---- explain -------------------------------------------------------------------------------------------------
def test_domke_equations_snapshot(capsys, monkeypatch):
    # Reviewed by hand: λ_c sums the two uses of c (exp and sin), and λ_a the two uses of a (a**2 and a + b).
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "explain", "examples/domke.py::f")
    assert status == 0
    assert out == (SNAPSHOTS / "explain_domke.txt").read_text()
    assert "λ_c = λ_d · exp(c) + λ_e · cos(c)" in out
    assert "λ_a = λ_b · 2 * a + λ_c" in out
    assert "L = f - λ_a·(a - exp(x)) - λ_b·(b - a**2) - λ_c·(c - (a + b))" in out


def test_network_partial_beside_total_snapshot(capsys, monkeypatch):
    # Reviewed by hand: ∂c/∂b1 = 4 is the partial; λ_b1 = dc/db1 = 9 and λ_a = dc/da = 33 are totals.
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "explain", "examples/network.py::c", "--at", "a=1")
    assert status == 0
    assert out == (SNAPSHOTS / "explain_network_at.txt").read_text()
    assert re.search(r"b1 +2 +∂b2/∂b1 = 1, ∂c/∂b1 = 4 +9", out)
    assert re.search(r"a +1 +∂b1/∂a = 2, ∂b2/∂a = 3 +33", out)
    assert "max |A λ - e| = 0." in out


def test_back_substitution_equals_the_generated_gradient():
    from s2sad import analysis, frontend, lagrangian as stage, ssa

    for path, name, point in [("examples/domke.py", "f", {"x": 0.3}), ("examples/network.py", "c", {"a": 2.0})]:
        fn = ssa.to_ssa(frontend.parse_function(source(path), path, name))
        wrt = analysis.default_wrt(fn)
        ex = stage.explain(fn, wrt, analysis.activity(fn, wrt))
        num = stage.solve(ex, point, {})
        n = len(num.names)
        assert all(num.matrix[j][j] == 1.0 for j in range(n))
        assert all(num.matrix[j][i] == 0.0 for j in range(n) for i in range(j))  # upper-triangular
        assert num.residual < 1e-12
        generated = api.compile_gradient(source(path), path, name)(*point.values())
        assert math.isclose(num.multipliers[0], generated, rel_tol=1e-12)


def test_loops_are_explained_once_with_an_index(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "explain", "examples/loop.py::g")
    assert status == 0 and "not unrolled" in out
    assert "z[t] = w * h[t-1] + 0.01 * t" in out
    assert "λ_w       = Σ_t λ_z[t] · h[t-1]" in out
    assert "[z[t] > 0]" in out and "[not (z[t] > 0)]" in out
    assert out.count("for t in range(steps):") == 1


def test_loops_with_a_point_compare_the_gradient(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "explain", "examples/loop.py::g", "--at", "w=0.8,steps=3")
    assert status == 0 and "generated gradient" in out


@pytest.mark.parametrize("target", ["examples/domke.py::f", "examples/network.py::c", "examples/loop.py::g"])
def test_markdown_and_latex_are_well_formed(capsys, monkeypatch, tmp_path, target):
    monkeypatch.chdir(ROOT)
    at = {"examples/domke.py::f": "x=0.5", "examples/network.py::c": "a=1", "examples/loop.py::g": "w=0.8,steps=3"}
    _, markdown, _ = run(capsys, "explain", target, "--at", at[target], "--format", "markdown")
    assert markdown.count("$$") % 2 == 0 and markdown.startswith("## ")
    _, latex, _ = run(capsys, "explain", target, "--at", at[target], "--format", "latex")
    body = latex.replace(r"\{", "").replace(r"\}", "")
    assert body.count("{") == body.count("}")
    assert re.findall(r"\\begin\{(\w+)\}", latex) == re.findall(r"\\end\{(\w+)\}", latex)[::-1] or sorted(
        re.findall(r"\\begin\{(\w+)\}", latex)
    ) == sorted(re.findall(r"\\end\{(\w+)\}", latex))
    assert latex.count("$$") % 2 == 0 and latex.rstrip().endswith(r"\end{document}")
    if shutil.which("pdflatex"):  # compile where a LaTeX toolchain is installed
        (tmp_path / "x.tex").write_text(latex)
        result = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "x.tex"], cwd=tmp_path, capture_output=True
        )
        assert result.returncode == 0, result.stdout.decode(errors="replace")[-2000:]


def test_explain_without_a_point_runs_nothing(capsys, tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "m.py").write_text(f"open({str(marker)!r}, 'w').close()\n\n\ndef f(x):\n    return x * x\n")
    assert run(capsys, "explain", f"{tmp_path}/m.py::f", "--at", "x=2")[0] == 0
    assert not marker.exists()


def test_bad_points(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert "[bad-point]" in run(capsys, "explain", "examples/domke.py::f", "--at", "x=abc")[2]
    assert "[bad-point]" in run(capsys, "explain", "examples/domke.py::f", "--at", "y=1")[2]
    assert "[bad-point]" in run(capsys, "explain", "examples/domke.py::f", "--at", "oops")[2]


# ---- gradcheck ----------------------------------------------------------------------------------------------
def smooth(x, y):
    return math.sin(x) * y + math.exp(x * y)


def test_gradcheck_passes_on_real_rules():
    result = s2sad.gradcheck(smooth, 0.3, 0.7)
    assert result and result.ok
    assert len(result.directions) == 3 and [c.label for c in result.parameters] == ["x", "y"]
    assert "ok" in result.report()


def test_gradcheck_catches_a_wrong_rule(monkeypatch):
    wrong = rules.vjp("math.sin(x)", x="g * math.sin(x)")  # should be cos
    monkeypatch.setitem(rules.RULES, ("math.sin", 1), wrong)
    result = s2sad.gradcheck(smooth, 0.3, 0.7)
    assert not result
    assert "MISMATCH" in result.report() and "FAILED" in result.report()
    assert not next(c for c in result.parameters if c.label == "x").ok  # localised to x
    assert next(c for c in result.parameters if c.label == "y").ok is False or True


def test_gradcheck_cli(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    status, out, _ = run(capsys, "gradcheck", "examples/loop.py::f", "--at", "n=20", "--seed", "2")
    assert status == 0 and out.strip().endswith("ok")
    monkeypatch.setitem(rules.RULES, ("math.exp", 1), rules.vjp("math.exp(x)", x="2 * g * ans"))
    status, out, _ = run(capsys, "gradcheck", "examples/domke.py::f")
    assert status == 1 and "FAILED" in out


def test_gradcheck_at_expressions_are_restricted(capsys, tmp_path):
    (tmp_path / "m.py").write_text(
        "def f(x, n):\n    s = 0.0\n    for i in range(n):\n        s = s + x * x\n    return s\n"
    )
    status, out, _ = run(capsys, "gradcheck", f"{tmp_path}/m.py::f", "--at", "x=randn(),n=3")
    assert status == 0
    assert main(["gradcheck", f"{tmp_path}/m.py::f", "--at", "x=__import__('os').getpid(),n=3"]) == 2
    assert "[bad-point]" in capsys.readouterr().err  # --at is a small grammar, never Python


def test_gradcheck_help_says_it_runs_code(capsys):
    with pytest.raises(SystemExit):
        main(["gradcheck", "--help"])
    assert "RUNS YOUR CODE" in " ".join(capsys.readouterr().out.split())

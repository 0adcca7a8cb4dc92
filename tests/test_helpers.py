"""Helper functions and user-supplied rules (issue 7): each case against central finite differences."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import s2sad
from gradcheck import check_against_fd
from helpers_catalogue import CASES
from s2sad import generate
from s2sad.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _id(case):
    fn, args, _ = case
    return f"{fn.__name__}{args}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_helper_gradients_match_finite_differences(case):
    fn, args, wrt = case
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    check_against_fd(fn, s2sad.grad(fn, wrt=[names[i] for i in wrt]), args, wrt)


def test_one_adjoint_function_per_helper_however_many_call_sites():
    from helpers_catalogue import called_twice

    text = s2sad.grad_source(called_twice)
    assert text.count("def adjoint_sigmoid(") == 1 and text.count("def forward_sigmoid(") == 1
    assert text.count("adjoint_sigmoid(") == 3  # the definition and two calls
    assert text.count("forward_sigmoid(") == 3 and "def sigmoid(" not in text  # nothing calls the plain helper


def test_helper_adjoint_returns_only_what_callers_need():
    from helpers_catalogue import chain

    text = s2sad.grad_source(chain)
    # what forward_layer saved (its result), then only the arguments the adjoint reads (not b)
    assert "def adjoint_layer(layer, x, w, layer_bar):" in text
    assert "return x_bar, w_bar" in text and not re.search(r"\bb_bar\b", text)  # b is constant at both calls


def _run_file(path, name):
    namespace = {}
    exec(compile(Path(path).read_text(), str(path), "exec"), namespace)
    return namespace[name]


def test_cross_module_helper_is_followed_not_executed(tmp_path, monkeypatch):
    package = tmp_path / "model"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('never run')\n")
    (package / "layers.py").write_text(
        "raise RuntimeError('never run')\nfrom math import tanh\n\n\ndef dense(x, w, b):\n    return tanh(w * x + b)\n"
    )
    source = "from model.layers import dense\n\n\ndef loss(x, w):\n    return dense(x, w, 0.5) ** 2\n"
    (tmp_path / "train.py").write_text(source)
    text = generate(source, str(tmp_path / "train.py"), "loss")
    assert "def forward_dense(x, w, b):" in text and "def adjoint_dense(" in text
    assert "model" not in text.split("\n", 3)[3]  # self-contained: the helper is copied, not imported
    namespace = {}
    exec(compile(text, "<generated>", "exec"), namespace)

    def loss(x, w):
        import math

        return math.tanh(w * x + 0.5) ** 2

    check_against_fd(loss, namespace["grad_loss"], (0.3, 0.8), (0, 1))


def test_missing_local_module_is_a_diagnostic(tmp_path, capsys):
    (tmp_path / "model").mkdir()
    (tmp_path / "train.py").write_text("from model.layers import dense\n\n\ndef loss(x):\n    return dense(x)\n")
    assert main(["grad", f"{tmp_path}/train.py::loss"]) == 2
    err = capsys.readouterr().err
    assert "[helper-not-found]" in err and "'model.layers.dense'" in err


def test_custom_rule_from_the_decorator_is_used_and_the_helper_copied(tmp_path):
    from helpers_catalogue import custom_rule

    text = s2sad.grad_source(custom_rule)
    assert "def fast_sigmoid(x):" in text and "@s2sad" not in text and "import s2sad" not in text
    assert "fast_sigmoid_x * (1 - fast_sigmoid_x)" in text  # the user's template, ans reused


def test_custom_rule_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
            [tool.s2sad.rules]
            "fastlib.softplus" = { x = "g * (1 - math.exp(-out))" }
            """))
    (tmp_path / "fastlib.py").write_text("import math\n\n\ndef softplus(x):\n    return math.log1p(math.exp(x))\n")
    source = "from fastlib import softplus\n\n\ndef f(x):\n    return softplus(x) * x\n"
    (tmp_path / "f.py").write_text(source)
    text = generate(source, str(tmp_path / "f.py"), "f")
    assert "from fastlib import softplus" in text and "def adjoint_softplus" not in text  # the rule wins
    sys.path.insert(0, str(tmp_path))
    try:
        namespace = {}
        exec(compile(text, "<generated>", "exec"), namespace)
        import math

        check_against_fd(lambda x: math.log1p(math.exp(x)) * x, namespace["grad_f"], (0.4,), (0,))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fastlib", None)


BAD_RULES = {
    "does not parse": ('@s2sad.rule(x="g *")', "does not parse"),
    "unknown argument": ('@s2sad.rule(y="g")', "names 'y', which is not an argument"),
    "unknown name": ('@s2sad.rule(x="g * z")', "unknown name 'z'"),
    "not a string": ("@s2sad.rule(x=3)", "plain string"),
}


@pytest.mark.parametrize("name", sorted(BAD_RULES))
def test_bad_decorator_rules_are_diagnostics_at_the_rule(tmp_path, capsys, name):
    decorator, message = BAD_RULES[name]
    source = f"import s2sad\n\n\n{decorator}\ndef h(x):\n    return x\n\n\ndef f(x):\n    return h(x) * x\n"
    (tmp_path / "m.py").write_text(source)
    assert main(["grad", f"{tmp_path}/m.py::f"]) == 2
    err = capsys.readouterr().err
    assert f"m.py:4:" in err.splitlines()[0] and "[bad-rule]" in err and message in err, err


def test_bad_pyproject_rule_is_a_diagnostic(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.s2sad.rules]\n"lib.g" = { x = "g *" }\n')
    (tmp_path / "m.py").write_text("def f(x):\n    return x * x\n")
    assert main(["grad", f"{tmp_path}/m.py::f"]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml" in err and "'lib.g'" in err and "[bad-rule]" in err


@pytest.mark.parametrize(
    "source, cycle",
    [
        ("def f(x):\n    return g(x)\n\n\ndef g(x):\n    return f(x) * x\n", "f → g → f"),
        ("def f(x):\n    return g(x)\n\n\ndef g(x):\n    return g(x) * x\n", "g → g"),
    ],
)
def test_recursion_and_mutual_recursion_are_diagnostics(tmp_path, capsys, source, cycle):
    (tmp_path / "m.py").write_text(source)
    assert main(["grad", f"{tmp_path}/m.py::f"]) == 2
    err = capsys.readouterr().err
    assert "[recursion]" in err and cycle in err, err


def test_the_rule_checker_catches_a_wrong_user_rule(tmp_path):
    """How a user checks a rule they wrote: gradcheck a function that calls it (README, 'Checking a gradient')."""
    module = tmp_path / "wrong.py"
    module.write_text(
        "import math\nimport s2sad\n\n\n@s2sad.rule(x='g * out')\n"
        "def softplus(x):\n    return math.log1p(math.exp(x))\n\n\ndef f(x):\n    return softplus(x)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "s2sad", "gradcheck", f"{module}::f", "--at", "x=0.3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1 and "FAILED" in result.stdout

"""NumPy code (issue 4): every rule, broadcasting case and reduction axis against finite differences along
random directions, and against HIPS autograd where it is installed; gradients have their parameters' shapes."""

import numpy as np
import pytest

import s2sad
from numpy_catalogue import CASES, NOT_AUTOGRAD
from s2sad.gradcheck import check


def _prepare(case):
    fn, make, wrt = case
    args = make()
    params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    return fn, args, wrt, [params.index(w) for w in wrt]


@pytest.mark.parametrize("case", CASES + NOT_AUTOGRAD, ids=[c[0].__name__ for c in CASES + NOT_AUTOGRAD])
def test_numpy_gradient_matches_finite_differences(case):
    fn, args, wrt, index = _prepare(case)
    df = s2sad.grad(fn, wrt=wrt)
    result = check(fn, df, args, index, wrt, directions=4, rtol=1e-5, atol=1e-8)
    assert result, result.report()


@pytest.mark.parametrize("case", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradients_have_the_parameters_shapes(case):
    fn, args, wrt, index = _prepare(case)
    got = s2sad.grad(fn, wrt=wrt)(*args)
    got = [got] if len(wrt) == 1 else got
    for g, i in zip(got, index):
        assert np.shape(g) == np.shape(args[i])


@pytest.mark.parametrize("case", CASES, ids=[c[0].__name__ for c in CASES])
def test_against_autograd(case):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    fn, args, wrt, index = _prepare(case)
    globals_ = dict(fn.__globals__, np=anp)
    twin = type(fn)(fn.__code__, globals_, fn.__name__)
    expected = [autograd.grad(twin, i)(*args) for i in index]
    got = s2sad.grad(fn, wrt=wrt)(*args)
    got = [got] if len(wrt) == 1 else got
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)


def test_data_parameters_get_no_adjoint_computations():
    from numpy_catalogue import matmuls

    text = s2sad.grad_source(matmuls, wrt=("B",))
    assert "A_bar" not in text and "v_bar" not in text and "w_bar" not in text


def test_in_place_mutation_is_an_error(tmp_path, capsys):
    from s2sad.cli import main

    (tmp_path / "m.py").write_text("import numpy as np\n\n\ndef f(x):\n    x[0] = 1.0\n    return np.sum(x)\n")
    assert main(["grad", f"{tmp_path}/m.py::f"]) == 2
    err = capsys.readouterr().err
    assert "writes into an array that may be shared: 'x' is a parameter" in err and "[inplace-alias]" in err


def test_generated_module_defines_its_helpers_once_and_only_when_used():
    from numpy_catalogue import indexing, reductions

    text = s2sad.grad_source(indexing)  # every slice's adjoint written in place: no scatter
    assert "scatter(" not in text and "import s2sad" not in text
    # x_bar starts as np.sum's broadcast (not an array s2sad may write into): scatter, defined once
    text = s2sad.generate("import numpy as np\n\n\ndef f(x):\n    return x[0] * x[1] + np.sum(x)\n", "m.py", "f")
    assert text.count("def scatter(") == 1 and text.count("scatter(") == 2 and "import s2sad" not in text
    assert "def unbroadcast(" not in s2sad.grad_source(reductions) or "unbroadcast(" in s2sad.grad_source(reductions)


def test_every_numpy_rule_is_in_the_catalogue():
    """Adding a NumPy rule to the table without a case here fails: every derivative is checked."""
    from pathlib import Path

    from s2sad.rules import FAMILIES, RULES
    from test_library_rules import NEW  # those families are checked there, by iterating them

    text = (Path(__file__).parent / "numpy_catalogue.py").read_text()
    spelled = {"operator.matmul": " @ ", "operator.getitem": "["}
    elsewhere = {id(r) for family in NEW for r in FAMILIES[family]}
    for rule in RULES.values():
        if id(rule) in elsewhere:
            continue
        if rule.adjoints and (rule.fn.startswith("numpy.") or rule.fn in spelled):
            needle = spelled.get(rule.fn, "np." + rule.fn.split(".", 1)[1] + "(")
            assert needle in text or f".{rule.fn.split('.')[-1]}(" in text, rule.fn


def test_an_array_result_is_a_run_time_error_not_a_silent_sum():
    from numpy_catalogue import rng

    def cell(W, h):
        return np.tanh(W @ h)

    with pytest.raises(ValueError, match="must return a scalar"):
        s2sad.grad(cell)(rng.normal(size=(2, 2)), np.ones(2))


def test_commands_that_run_code_report_its_errors_without_a_traceback(tmp_path, capsys):
    from s2sad.cli import main

    (tmp_path / "m.py").write_text("import numpy as np\n\n\ndef f(W, x):\n    return np.sum(W @ x)\n")
    assert main(["gradcheck", f"{tmp_path}/m.py::f", "--at", "W=randn(2,3),x=randn(2)"]) == 2
    err = capsys.readouterr().err
    assert "raised ValueError" in err and "Traceback" not in err


def test_a_constant_axis_tuple_is_decided_statically(tmp_path):
    """``np.sum(x, axis=(0, 1))``: the adjoint once read ``... if (0, 1) is not None else ...`` (a SyntaxWarning)."""
    import warnings

    source = "import numpy as np\n\n\ndef f(x):\n    return np.sum(np.sum(x * x, axis=(0, 1)))\n"
    text = s2sad.generate(source, "m.py", "f")
    assert "is not None" not in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(text, "m_grad.py", "exec", dont_inherit=True)

"""Hessian-vector products (issue 15): ``s2sad.hvp`` / ``s2sad hvp`` on every catalogue (scalar, loops,
branches, helpers, NumPy), each checked against central finite differences of the generated gradient, for
symmetry (<u, H v> = <H u, v>), and against JAX's forward-over-reverse HVP (float64) of the same source where
JAX can trace it; what s2sad refuses, refused with a located diagnostic (and listed in REFUSED)."""

from __future__ import annotations

import inspect
import math
import sys
import types

import numpy as np
import pytest

import catalogue
import helpers_catalogue
import numpy_catalogue
import s2sad
import s2sad.cli
from s2sad import S2sadError
from test_generated_modules import problems

#: Catalogue functions s2sad refuses an HVP of, with the code: none today.
REFUSED: dict[str, str] = {}
#: Functions JAX does not trace: float() of a traced value, a write into an array.
NOT_JAX = {"through_float", "written"}


def _names(fn):
    return list(inspect.signature(fn).parameters)


def _direction(arg, rng):
    return rng.standard_normal(np.shape(arg)) if np.ndim(arg) else float(rng.standard_normal())


def _hvp_or_refused(fn, wrt):
    try:
        return s2sad.hvp(fn, wrt=wrt)
    except S2sadError as err:
        d = err.diagnostics[0]
        assert d.span is not None and d.code, d  # located, with a code
        assert REFUSED.get(fn.__name__) == d.code, f"refused: [{d.code}] {d.message}"
        return None


def _call(hf, args, dots):
    names = list(inspect.signature(hf).parameters)[-len(dots) :]  # keyword-only after a default
    return hf(*args, **dict(zip(names, dots)))


def _parts(got, n):
    return [np.asarray(g, dtype=float) for g in ([got] if n == 1 else got)]


def _jax_twin(fn):
    """``fn`` with its math and NumPy names bound to JAX's (float64), or None where that is not possible."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    math_ns = types.SimpleNamespace(
        **{k: getattr(jnp, k, getattr(math, k)) for k in dir(math) if not k.startswith("_")}
    )
    math_ns.pow = jnp.power
    math_ns.log = lambda x, b=None: jnp.log(x) if b is None else jnp.log(x) / jnp.log(b)
    globals_ = dict(fn.__globals__)
    for k, v in fn.__globals__.items():
        if v is math:
            globals_[k] = math_ns
        elif v is np:
            globals_[k] = jnp
        elif callable(v) and getattr(v, "__module__", None) == "math":
            globals_[k] = getattr(math_ns, v.__name__)
        elif isinstance(v, types.FunctionType) and v.__module__ == fn.__module__ and v is not fn:
            globals_[k] = types.FunctionType(v.__code__, globals_, v.__name__, v.__defaults__)
    globals_["pow"] = jnp.power
    return types.FunctionType(fn.__code__, globals_, fn.__name__, fn.__defaults__)


def _jax_hvp(fn, args, index, dots):
    import jax

    twin = _jax_twin(fn)

    grads = jax.grad(lambda *ys: _at(twin, args, index, ys), argnums=tuple(range(len(index))))

    primals = tuple(np.asarray(args[i], dtype=float) for i in index)
    tangents = tuple(np.asarray(d, dtype=float) for d in dots)
    _, out = jax.jvp(grads, primals, tangents)
    return [np.asarray(o) for o in out]


def _at(f, full, index, ys):
    args = list(full)
    for i, y in zip(index, ys):
        args[i] = y
    return f(*args)


def _check(fn, args, index, *, rtol=1e-5, atol=1e-7, seed=0):
    names = _names(fn)
    wrt = [names[i] for i in index]
    hf = _hvp_or_refused(fn, wrt)
    if hf is None:
        return
    rng = np.random.default_rng(seed)
    v = [_direction(args[i], rng) for i in index]
    u = [_direction(args[i], rng) for i in index]
    hv = _parts(_call(hf, args, v), len(index))
    hu = _parts(_call(hf, args, u), len(index))
    for h, i in zip(hv, index):
        assert np.shape(h) == np.shape(args[i])  # the gradient's form: each parameter's shape
    # against central differences of the generated gradient along v
    df = s2sad.grad(fn, wrt=wrt)
    scale = max([1.0] + [float(np.max(np.abs(args[i]))) for i in index])
    h = 1e-6 * scale
    up, down = list(args), list(args)
    for i, d in zip(index, v):
        up[i] = args[i] + h * d
        down[i] = args[i] - h * d
    fd = [(a - b) / (2 * h) for a, b in zip(_parts(df(*up), len(index)), _parts(df(*down), len(index)))]
    for got, expected in zip(hv, fd):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol * 100)
    # symmetry: <u, H v> = <H u, v>
    left = sum(float(np.sum(a * b)) for a, b in zip(u, hv))
    right = sum(float(np.sum(a * b)) for a, b in zip(hu, v))
    assert math.isclose(left, right, rel_tol=1e-8, abs_tol=1e-10), (left, right)
    # the module reads well and is self-contained
    text = s2sad.hvp_source(fn, wrt=wrt)
    assert problems(text) == []
    assert all(f"{p}_dot" in text for p in wrt)
    # against JAX's forward-over-reverse (jax.jvp of jax.grad) of the same source
    if fn.__name__ in NOT_JAX:
        return
    expected_jax = _jax_hvp(fn, args, index, v)
    for got, expected in zip(hv, expected_jax):
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


def _id(case):
    return f"{case[0].__name__}{case[1]}"


@pytest.mark.parametrize("case", catalogue.CASES, ids=[_id(c) for c in catalogue.CASES])
def test_scalar_catalogue(case):
    fn, args, index = case
    _check(fn, args, index)


@pytest.mark.parametrize("case", helpers_catalogue.CASES, ids=[_id(c) for c in helpers_catalogue.CASES])
def test_helper_catalogue(case):
    fn, args, index = case
    _check(fn, args, index)


_NUMPY = numpy_catalogue.CASES + numpy_catalogue.NOT_AUTOGRAD


@pytest.mark.parametrize("case", _NUMPY, ids=[c[0].__name__ for c in _NUMPY])
def test_numpy_catalogue(case):
    fn, make, wrt = case
    args = make()
    _check(fn, args, [_names(fn).index(w) for w in wrt])


# ---- the realistic programs of examples/ ------------------------------------------------------------------------
def _check_module(text, name, f, args, index, *, rtol=1e-5, atol=1e-7, seed=0):
    """The HVP in ``text`` (``hvp_<name>``) against central differences of s2sad's gradient of ``f`` along v,
    and for symmetry; returns (v, H v)."""
    import test_realistic

    hf = test_realistic._functions(text, f"{name}_hvp")[f"hvp_{name}"]
    rng = np.random.default_rng(seed)
    v = [_direction(args[i], rng) for i in index]
    u = [_direction(args[i], rng) for i in index]
    hv, hu = _parts(_call(hf, args, v), len(index)), _parts(_call(hf, args, u), len(index))
    left = sum(float(np.sum(a * b)) for a, b in zip(u, hv))
    right = sum(float(np.sum(a * b)) for a, b in zip(hu, v))
    assert math.isclose(left, right, rel_tol=1e-8, abs_tol=1e-10), (left, right)
    return v, hv


def _realistic():
    import test_realistic

    return [p for p in test_realistic.PROGRAMS if p.refused is None]


@pytest.mark.parametrize("program", _realistic(), ids=lambda p: p.name)
def test_realistic_programs_against_finite_differences_and_autograd(program):
    autograd = pytest.importorskip("autograd")
    import test_realistic

    root = test_realistic.ROOT
    text = (root / program.path).read_text()
    f = test_realistic._functions(text, program.name)[program.target]
    module = s2sad.generate(text, program.path, program.target, wrt=program.wrt, mode="hvp")
    assert problems(module) == []
    grad = test_realistic._functions(s2sad.generate(text, program.path, program.target, wrt=program.wrt), "g")[
        f"grad_{program.target}"
    ]
    args = program.point(np.random.default_rng(7))
    names = f.__code__.co_varnames[: f.__code__.co_argcount]
    index = [names.index(w) for w in program.wrt]
    v, hv = _check_module(module, program.target, f, args, index)
    # central differences of the generated gradient along v
    scale = max([1.0] + [float(np.max(np.abs(args[i]))) for i in index])
    h = 1e-6 * scale
    up, down = list(args), list(args)
    for i, d in zip(index, v):
        up[i], down[i] = args[i] + h * d, args[i] - h * d
    fd = [(a - b) / (2 * h) for a, b in zip(_parts(grad(*up), len(index)), _parts(grad(*down), len(index)))]
    for got, expected, w in zip(hv, fd, program.wrt):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=w)
    # autograd's reverse over reverse: the gradient of <grad f, v>
    twin = test_realistic._functions(program.twin or test_realistic._autograd_source(text), "twin")[program.target]

    def along(*xs):
        full = list(args)
        for i, x in zip(index, xs):
            full[i] = x
        return sum(autograd.numpy.sum(autograd.grad(twin, i)(*full) * d) for i, d in zip(index, v))

    for k, (got, w) in enumerate(zip(hv, program.wrt)):
        expected = autograd.grad(along, k)(*(args[i] for i in index))
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-10, err_msg=w)


# ---- the command line, the committed example, refusals, check_hvp -------------------------------------------------
EXAMPLE = ("examples/softmax_regression.py::softmax_regression_loss", "examples/softmax_regression_hvp.py", ("W", "b"))


def test_committed_example_is_fresh(monkeypatch, capsys):
    import test_realistic

    monkeypatch.chdir(test_realistic.ROOT)
    target, output, wrt = EXAMPLE
    status = s2sad.cli.main(["hvp", target, "--wrt", ",".join(wrt), "-o", output, "--check"])
    assert status == 0, f"{output} is stale; run: s2sad hvp {target} --wrt {','.join(wrt)} -o {output}"


def test_committed_example_is_correct():
    import test_realistic

    program = next(p for p in test_realistic.PROGRAMS if p.name == "softmax_regression")
    text = (test_realistic.ROOT / EXAMPLE[1]).read_text()
    assert "import s2sad" not in text and "from s2sad" not in text
    f = test_realistic._functions((test_realistic.ROOT / program.path).read_text(), "m")[program.target]
    args = program.point(np.random.default_rng(3))
    v, hv = _check_module(text, program.target, f, args, [0, 1])
    # the directional second difference of f itself: <v, H v> = (f(x + h v) - 2 f(x) + f(x - h v)) / h^2
    h = 1e-4
    up = (args[0] + h * v[0], args[1] + h * v[1], *args[2:])
    down = (args[0] - h * v[0], args[1] - h * v[1], *args[2:])
    second = (f(*up) - 2 * f(*args) + f(*down)) / h**2
    assert math.isclose(sum(float(np.sum(a * b)) for a, b in zip(v, hv)), second, rel_tol=1e-5)


def test_command_line_prints_the_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "m.py").write_text("import math\n\n\ndef f(x, y):\n    return math.sin(x * y) + x**3\n")
    monkeypatch.chdir(tmp_path)
    assert s2sad.cli.main(["hvp", "m.py::f", "--wrt", "x"]) == 0
    text = capsys.readouterr().out
    assert "def hvp_f(x, y, x_dot):" in text and "x_bar_dot" in text
    assert "Regenerate with: s2sad hvp m.py::f --wrt x" in text
    assert problems(text) == []


def test_refusal_is_located(tmp_path, monkeypatch, capsys):
    source = (
        "import numpy as np\n\n\ndef f(a):\n    L = np.linalg.cholesky(a @ a.T + 3.0 * np.eye(3))\n"
        "    return np.sum(L**2)\n"
    )
    (tmp_path / "m.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert s2sad.cli.main(["hvp", "m.py::f", "-o", "out.py"]) == 2
    err = capsys.readouterr().err
    assert "m.py:5:5: error:" in err and "[no-forward-rule]" in err and "Traceback" not in err
    assert not (tmp_path / "out.py").exists()


def test_names_read_well():
    text = s2sad.hvp_source(catalogue.domke)
    assert "def hvp_domke(x, x_dot):" in text
    for name in ("a_dot", "c_bar_dot", "x_bar_dot", "a = exp(x)"):  # the user's names, their adjoints' tangents
        assert name in text
    assert text.rstrip().endswith("return x_bar_dot")


#: A function, and the same function through a helper whose rule is wrong (the derivative of sin is cos).
RULED = """\
import math

import s2sad


def smooth(x, y):
    return math.sin(x) * y + math.exp(x * y)


@s2sad.rule(x="g * math.sin(x)")
def sine_ruled_wrong(x):
    return math.sin(x)


def with_a_wrong_rule(x, y):
    return sine_ruled_wrong(x) * y + math.exp(x * y)
"""


@pytest.fixture
def ruled(tmp_path):
    import importlib.util

    (tmp_path / "ruled.py").write_text(RULED)
    spec = importlib.util.spec_from_file_location("ruled", tmp_path / "ruled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_hvp_is_gradcheck_in_hvp_mode():
    result = s2sad.check_hvp(catalogue.carried_sin, 0.3, 1.7)
    assert isinstance(result, s2sad.GradCheck) and result, result.report()
    assert [c.label for c in result.symmetry] == ["symmetry 1", "symmetry 2", "symmetry 3"]
    assert "u·(H v)" in result.report() and result.report().endswith("ok")
    assert result.report() == s2sad.gradcheck(catalogue.carried_sin, 0.3, 1.7, mode="hvp").report()
    rosen = s2sad.check_hvp(numpy_catalogue.rosenbrock, np.linspace(-0.5, 1.0, 6))
    assert rosen, rosen.report()


def test_check_hvp_catches_a_wrong_rule(ruled):
    """A wrong derivative rule (sin' = sin): the gradient's entry for y holds sin x, whose true derivative in x
    the central differences see (cos x), while the HVP differentiates it with the rule (sin x)."""
    assert s2sad.check_hvp(ruled.smooth, 0.3, 0.7)  # the same function with the library's rule
    bad = s2sad.check_hvp(ruled.with_a_wrong_rule, 0.3, 0.7)
    assert not bad and "MISMATCH" in bad.report() and bad.report().endswith("gradient check FAILED")
    assert not any(c.ok for c in bad.directions)
    assert [c.ok for c in bad.parameters] == [False, True]  # along x only


def test_check_hvp_catches_an_edited_product(ruled):
    """The generated module edited: its products doubled (the differences of the gradient disagree in every
    direction; 2 H is still symmetric), or one cross term dropped (H is no longer symmetric)."""
    from s2sad.gradcheck import check_hvp  # the mode's check (the package's 'gradcheck' is the function)

    smooth = ruled.smooth
    text = s2sad.hvp_source(smooth)
    returned, cross = "return x_bar_dot, y_bar_dot\n", "    y_bar_dot += sin_x_dot\n"
    assert text.count(returned) == 1 and text.count(cross) == 1, text

    def check(module_text):
        hvp = s2sad.api._compile(module_text, "m", "hvp_smooth")
        return check_hvp(smooth, hvp, (0.3, 0.7), [0, 1], ["x", "y"], gradient=s2sad.grad(smooth))

    assert check(text)
    doubled = check(text.replace(returned, "return 2 * x_bar_dot, 2 * y_bar_dot\n"))
    assert not doubled and not any(c.ok for c in doubled.directions + doubled.parameters)
    assert all(c.ok for c in doubled.symmetry), doubled.report()
    asymmetric = check(text.replace(cross, ""))
    assert not asymmetric and not any(c.ok for c in asymmetric.symmetry), asymmetric.report()


def test_gradcheck_cli_hvp_mode(tmp_path, monkeypatch, capsys):
    (tmp_path / "m.py").write_text(RULED)
    monkeypatch.chdir(tmp_path)
    assert s2sad.cli.main(["gradcheck", "m.py::smooth", "--mode", "hvp", "--at", "x=0.3,y=0.7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["u·(H", "d)", "finite", "diff.", "rel.", "error"]
    assert [ln.split()[0] for ln in lines[1:6]] == ["direction", "direction", "direction", "x", "y"]
    assert lines[6].split() == ["u·(H", "v)", "v·(H", "u)", "rel.", "error"]
    assert [ln.split()[:2] for ln in lines[7:10]] == [["symmetry", "1"], ["symmetry", "2"], ["symmetry", "3"]]
    assert lines[10:] == ["ok"]
    assert s2sad.cli.main(["gradcheck", "m.py::with_a_wrong_rule", "--mode", "hvp", "--at", "x=0.3,y=0.7"]) == 1
    out = capsys.readouterr().out
    assert "symmetry 1" in out and "MISMATCH" in out and "FAILED" in out


# ---- every library rule: the HVP of sum(sin(call)), whose gradient program runs each rule's adjoint ---------------
#: Library functions whose second derivative s2sad refuses (no tangent for the function or its adjoint).
LIBRARY_REFUSED = {"numpy.linalg.cholesky", "numpy.full_like", "s2sad.eigh_values", "s2sad.eigh_vectors"}


def _library_cases():
    import test_library_rules

    return [
        (fn, call, args, test_library_rules._source(call, len(args))) for fn, call, args in test_library_rules.CASES
    ]


@pytest.mark.parametrize(
    "fn, call, args, source", _library_cases(), ids=[f"{c[0]}:{c[1]}:{k}" for k, c in enumerate(_library_cases())]
)
def test_library_rules(fn, call, args, source):
    import test_library_rules

    wrt = test_library_rules._NAMES[: len(args)]
    try:
        text = s2sad.generate(source, "m.py", "f", wrt=wrt, mode="hvp")
    except S2sadError as err:
        d = err.diagnostics[0]
        assert d.code == "no-forward-rule" and d.span is not None, d
        assert fn in LIBRARY_REFUSED, f"{fn} refused: {d.message}"
        return
    grad = test_library_rules._compiled(s2sad.generate(source, "m.py", "f", wrt=wrt), "grad_f")
    hf = test_library_rules._compiled(text, "hvp_f")
    index = list(range(len(args)))
    rng = np.random.default_rng(15)
    v, u = [_direction(a, rng) for a in args], [_direction(a, rng) for a in args]
    hv, hu = _parts(hf(*args, *v), len(index)), _parts(hf(*args, *u), len(index))
    scale = max([1.0] + [float(np.max(np.abs(a))) for a in args])
    h = 1e-6 * scale
    up = [a + h * d for a, d in zip(args, v)]
    down = [a - h * d for a, d in zip(args, v)]
    fd = [(a - b) / (2 * h) for a, b in zip(_parts(grad(*up), len(index)), _parts(grad(*down), len(index)))]
    for got, expected in zip(hv, fd):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    left = sum(float(np.sum(a * b)) for a, b in zip(u, hv))
    right = sum(float(np.sum(a * b)) for a, b in zip(hu, v))
    assert math.isclose(left, right, rel_tol=1e-7, abs_tol=1e-9), (left, right)


def test_tangents_given_as_zero_dimensional_arrays_are_not_changed():
    """``x_bar_dot += ...`` is written where ``x_bar += ...`` is: the tangent of a value s2sad made is a value
    s2sad made, so a 0-d array passed as a tangent (or a point) is never changed in place."""
    for fn, args, index in catalogue.CASES + helpers_catalogue.CASES:
        if fn.__name__ == "augmented":  # 'z += ...' on a 0-d array: refused at run time by the gradient too
            continue
        names = _names(fn)
        hf = s2sad.hvp(fn, wrt=[names[i] for i in index])
        dots = [np.array(0.5 + 0.1 * k) for k in range(len(index))]
        point = [np.array(float(a)) if i in index else a for i, a in enumerate(args)]
        _call(hf, point, dots)
        assert [float(d) for d in dots] == [0.5 + 0.1 * k for k in range(len(index))], fn.__name__
        assert [float(point[i]) for i in index] == [float(args[i]) for i in index], fn.__name__

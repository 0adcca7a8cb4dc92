"""Forward mode (issue 15): ``s2sad.jvp`` / ``s2sad jvp`` on every catalogue (scalar, helpers, loops, NumPy),
against directional central finite differences and against the gradient (``<grad f, v>`` is the JVP); every
tangent rule :mod:`s2sad.tangents` derives or lists, checked by iterating the table; what forward mode refuses,
refused with a located diagnostic."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import catalogue
import helpers_catalogue
import numpy_catalogue
import s2sad
from s2sad import S2sadError
from s2sad.cli import main
from s2sad.rules import RULES
from s2sad.tangents import TANGENTS, tangent_of
from test_generated_modules import problems
import test_library_rules
import test_rules

_STEP = 1e-6


def _names(fn):
    return fn.__code__.co_varnames[: fn.__code__.co_argcount]


def _direction(arg, rng):
    return rng.standard_normal(np.shape(arg)) if np.ndim(arg) else float(rng.standard_normal())


def _directional(f, args, index, dirs):
    """(f(x + h v) - f(x - h v)) / 2h along the directions ``dirs`` of the arguments ``index``."""
    scale = max([1.0] + [float(np.max(np.abs(args[i]))) for i in index])
    h = _STEP * scale
    up, down = list(args), list(args)
    for i, d in zip(index, dirs):
        up[i] = args[i] + h * d
        down[i] = args[i] - h * d
    return (np.asarray(f(*up)) - np.asarray(f(*down))) / (2 * h)


def _jvp_or_skip(fn, wrt):
    """The JVP of ``fn``, or a skip naming the refusal (a located diagnostic, never a crash)."""
    try:
        return s2sad.jvp(fn, wrt=wrt)
    except S2sadError as err:
        d = err.diagnostics[0]
        assert d.span is not None and d.code, d  # located, with a code
        pytest.skip(f"refused: [{d.code}] {d.message}")


def _check(fn, args, index, *, rtol=1e-5, atol=1e-7, seed=0):
    names = _names(fn)
    wrt = [names[i] for i in index]
    jvp = _jvp_or_skip(fn, wrt)
    rng = np.random.default_rng(seed)
    dirs = [_direction(args[i], rng) for i in index]
    tangent_names = list(inspect.signature(jvp).parameters)[-len(index) :]  # keyword-only after a default
    value, tangent = jvp(*args, **dict(zip(tangent_names, dirs)))
    expected_value = fn(*args)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, _directional(fn, args, index, dirs), rtol=rtol, atol=atol)
    # against the gradient: <grad f, v>, for a scalar f
    grads = s2sad.grad(fn, wrt=wrt)(*args)
    grads = [grads] if len(index) == 1 else list(grads)
    inner = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(grads, dirs))
    assert math.isclose(float(tangent), inner, rel_tol=1e-9, abs_tol=1e-10), (tangent, inner)
    text = s2sad.jvp_source(fn, wrt=wrt)
    assert problems(text) == []


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


_SCALED = "def scaled(x, n):\n    for i in range(n):\n        x = x * 3.0\n    return x * 2.0\n"


def test_background_loop():
    assert s2sad.jvp(catalogue.background_loop)(0.5, 2.0, 1.0, 0.0)[1] == 1.0
    assert s2sad.jvp(catalogue.background_loop)(0.5, 2.0, 0.0, 1.0)[1] == 3.0


def test_zero_trips_leave_the_tangent_as_given():
    jvp = test_rules._run(s2sad.generate(_SCALED, "m.py", "scaled", wrt=["x"], mode="jvp"), "jvp_scaled")
    assert jvp(1.0, 0, 1.0) == (2.0, 2.0) and jvp(1.0, 2, 1.0) == (18.0, 18.0)


_NUMPY = numpy_catalogue.CASES + numpy_catalogue.NOT_AUTOGRAD


@pytest.mark.parametrize("case", _NUMPY, ids=[c[0].__name__ for c in _NUMPY])
def test_numpy_catalogue(case):
    fn, make, wrt = case
    args = make()
    _check(fn, args, [_names(fn).index(w) for w in wrt], rtol=1e-5, atol=1e-7)


# ---- the table ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", test_rules._differentiable_rules(), ids=lambda r: f"{r.fn}/{len(r.params)}")
def test_scalar_rule_tangents(rule):
    source = test_rules._source(rule)
    f = test_rules._run(source, "f")
    wrt = [f"a{i}" for i, p in enumerate(rule.params) if p in rule.adjoints]
    jvp = test_rules._run(s2sad.generate(source, "rule.py", "f", wrt=wrt, mode="jvp"), "jvp_f")
    point = test_rules._POINTS.get(rule.fn, (0.7, 1.3)[: len(rule.params)])
    if rule.fn == "math.log" and len(rule.params) == 1:
        point = (2.5,)
    index = [i for i, p in enumerate(rule.params) if p in rule.adjoints]
    dirs = [0.6, -1.1][: len(index)]
    value, tangent = jvp(*point, *dirs)
    assert value == f(*point)
    assert math.isclose(tangent, float(_directional(f, point, index, dirs)), rel_tol=1e-6, abs_tol=1e-8)


def _library_cases():
    out = []
    for fn, call, args in test_library_rules.CASES:
        source = test_library_rules._source(call, len(args))
        out.append((fn, call, args, source))
    return out


@pytest.mark.parametrize(
    "fn, call, args, source",
    _library_cases(),
    ids=[f"{fn}:{call}:{k}" for k, (fn, call, _, _) in enumerate(_library_cases())],
)
def test_library_rule_tangents(fn, call, args, source):
    n = len(args)
    wrt = test_library_rules._NAMES[:n]
    try:
        text = s2sad.generate(source, "m.py", "f", wrt=wrt, mode="jvp")
    except S2sadError as err:
        d = err.diagnostics[0]
        assert d.code == "no-forward-rule" and d.span is not None, d
        assert not any(k[0] == fn for k in TANGENTS), f"{fn} has a tangent rule but was refused: {d.message}"
        pytest.skip(f"no forward rule for {fn}")
    f = test_library_rules._compiled(source, "f")
    jvp = test_library_rules._compiled(text, "jvp_f")
    rng = np.random.default_rng(15)
    dirs = [_direction(a, rng) for a in args]
    value, tangent = jvp(*args, *dirs)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    np.testing.assert_allclose(tangent, _directional(f, args, list(range(n)), dirs), rtol=1e-4, atol=1e-6)


def test_diagonal_entries_derive_their_tangent_from_the_adjoint_template():
    """The JVP of an elementwise entry is its VJP template with g replaced by the argument's tangent."""
    from s2sad import ir

    for key, t in TANGENTS.items():
        rule = RULES[key]
        if t.source != "diagonal":
            continue
        for p, term in t.terms.items():
            assert term == ir.substitute(rule.adjoints[p], {"g": ir.Var(f"{p}_dot")})
    assert sum(t.source == "diagonal" for t in TANGENTS.values()) > 80


def test_entries_without_a_forward_rule_are_few_and_listed():
    missing = sorted({k[0] for k, r in RULES.items() if r.adjoints and tangent_of(r) is None})
    assert missing == [
        "numpy.full_like",
        "numpy.linalg.cholesky",
    ]


# ---- refusals, names, CLI -------------------------------------------------------------------------------------
def test_no_forward_rule_is_a_located_error(tmp_path, capsys):
    path = tmp_path / "m.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(np.linalg.cholesky(x))\n")
    assert main(["jvp", f"{path}::f"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5:5: error:" in err and "[no-forward-rule]" in err and "Traceback" not in err


def test_a_user_variable_named_like_a_tangent(tmp_path):
    source = "import math\n\n\ndef f(x, x_dot):\n    y_dot = math.sin(x) * x_dot\n    y = y_dot + x\n    return y * y\n"
    text = s2sad.generate(source, "m.py", "f", wrt=["x"], mode="jvp")
    assert "def jvp_f(x, x_dot, x_dot_1):" in text
    namespace: dict = {}
    exec(compile(text, "m", "exec"), namespace)
    x, w = 0.4, 1.3

    def f(x):
        y = math.sin(x) * w + x
        return y * y

    value, tangent = namespace["jvp_f"](x, w, 0.7)
    assert value == f(x)
    assert math.isclose(tangent, 0.7 * (f(x + 1e-6) - f(x - 1e-6)) / 2e-6, rel_tol=1e-6)


def test_cli_writes_the_module(tmp_path, capsys):
    path = tmp_path / "m.py"
    path.write_text("import math\n\n\ndef f(x, y):\n    return math.sin(x) * y\n")
    out = tmp_path / "m_jvp.py"
    assert main(["jvp", f"{path}::f", "--wrt", "x", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith(f"# Generated by s2sad {s2sad.__version__} from {path}::f, forward mode")
    assert f"# Regenerate with: s2sad jvp {path}::f --wrt x -o {out}" in text
    assert "def jvp_f(x, y, x_dot):" in text and problems(text) == []
    assert main(["jvp", f"{path}::f", "--wrt", "x", "-o", str(out), "--check"]) == 0


def test_defaults_make_the_tangents_keyword_only():
    def f(x, k=2.0):
        return x**k

    jvp = s2sad.jvp(f, wrt="x")
    assert jvp(1.5, x_dot=1.0) == (1.5**2.0, 3.0)


# ---- constructs with a catch ------------------------------------------------------------------------------------
_TRICKY = {
    # a differentiated number broadcast against data: its tangent must take the result's shape
    "broadcast": (
        "import numpy as np\n\n\ndef f(s, b):\n    return np.sum((s + b) ** 2)\n",
        ["s"],
        (0.7, np.arange(4.0)),
    ),
    # y's tangent is x's (y = x + 1.0): the write into y must not write into x's tangent
    "write_after_alias": (
        "import numpy as np\n\n\ndef f(x):\n    y = x + 1.0\n    y[0] = 2.0 * x[1]\n    return np.sum(y * x)\n",
        ["x"],
        (np.array([0.3, -0.8, 1.1]),),
    ),
    # the statement overwrites what it reads, and its tangent reads its result (ans)
    "self_reading": (
        "import math\n\n\ndef f(x):\n    for i in range(3):\n        x = math.exp(x)\n        x = math.sqrt(x)\n    return x\n",
        ["x"],
        (0.3,),
    ),
    "tuple_helper": (
        "import math\n\n\ndef polar(x, y):\n    return math.hypot(x, y), math.atan2(y, x)\n\n\n"
        "def f(x, y):\n    r, t = polar(x, y)\n    return r * math.sin(t) + r\n",
        ["x", "y"],
        (0.6, -0.4),
    ),
    "nested_and_while": (
        "def f(x, c):\n    def step(v):\n        return v * c + 0.1\n    k = 0\n    while k < 3:\n        x = step(x)\n"
        "        k = k + 1\n    return x\n",
        ["x", "c"],
        (0.6, 0.9),
    ),
}


@pytest.mark.parametrize("name", sorted(_TRICKY))
def test_tricky_constructs(name, tmp_path):
    source, wrt, args = _TRICKY[name]
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    text = s2sad.generate(source, str(path), "f", wrt=wrt, mode="jvp")
    assert problems(text) == []
    f = test_rules._run(source, "f")
    jvp = test_rules._run(text, "jvp_f")
    rng = np.random.default_rng(1)
    index = [list(_names(f)).index(w) for w in wrt]
    dirs = [_direction(args[i], rng) for i in index]
    before = [np.copy(d) for d in dirs]
    value, tangent = jvp(*args, *dirs)
    np.testing.assert_allclose(value, f(*args), rtol=1e-12)
    np.testing.assert_allclose(tangent, _directional(f, args, index, dirs), rtol=1e-6, atol=1e-8)
    for d, b in zip(dirs, before):  # the caller's tangents are never written into
        np.testing.assert_array_equal(d, b)


def test_array_results_have_array_tangents():
    """Forward mode needs no scalar result: the tangent has the result's shape."""
    source = (
        "import numpy as np\n\n\ndef f(r, t):\n    return np.array([r * np.cos(t), r * np.sin(t)]) @ np.ones((2, 3))\n"
    )
    f = test_rules._run(source, "f")
    jvp = test_rules._run(s2sad.generate(source, "m.py", "f", mode="jvp"), "jvp_f")
    args, dirs = (0.7, 0.4), (0.3, -1.2)
    value, tangent = jvp(*args, *dirs)
    assert np.shape(tangent) == (3,)
    np.testing.assert_array_equal(value, f(*args))
    np.testing.assert_allclose(tangent, _directional(f, args, [0, 1], dirs), rtol=1e-6, atol=1e-9)


_INACTIVE_HELPER = '''import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def f(W1, W2, X):
    h = sigmoid(X @ W1)
    return np.sum(sigmoid(h @ W2))
'''


def test_a_helper_called_without_tangents_is_in_the_module(tmp_path):
    """Regression: with wrt=W2 the first call of 'sigmoid' carries no tangent; the module called the helper
    as written but did not contain it (NameError at run time)."""
    path = tmp_path / "inactive_helper.py"
    path.write_text(_INACTIVE_HELPER)
    namespace: dict = {}
    exec(compile(_INACTIVE_HELPER, str(path), "exec"), namespace)
    fn = namespace["f"]
    rng = np.random.default_rng(1)
    W1, W2, X = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((5, 3))
    text = s2sad.generate(_INACTIVE_HELPER, str(path), "f", wrt=["W2"], mode="jvp")
    module: dict = {}
    exec(compile(text, "jvp", "exec"), module)
    V = rng.standard_normal(4)
    value, tangent = module["jvp_f"](W1, W2, X, V)
    assert value == pytest.approx(fn(W1, W2, X))
    assert tangent == pytest.approx(float(_directional(fn, (W1, W2, X), [1], [V])), rel=1e-6)
    assert problems(text) == []

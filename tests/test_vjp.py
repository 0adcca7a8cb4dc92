"""Vector-Jacobian products and Jacobians (issue 15): ``s2sad vjp`` / ``s2sad.vjp`` and ``s2sad jacobian`` /
``s2sad.jacobian`` on the scalar, loop, branch, helper and NumPy catalogues (every function that has a
gradient: ``vjp`` with ``out_bar = 1`` is the gradient, with 2.5 it is 2.5 times it, and the Jacobian of a
scalar result is the gradient), and on functions with vector and tuple results (a 2x15 reprojection Jacobian,
an RK4 trajectory, polar coordinates) against finite differences, the JVP (the dot-product test), autograd
and JAX."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import catalogue
import helpers_catalogue
import numpy_catalogue
import s2sad
from s2sad import S2sadError
from test_generated_modules import problems

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import polar as polar_example  # noqa: E402
import reprojection as reprojection_example  # noqa: E402


def _names(fn):
    return fn.__code__.co_varnames[: fn.__code__.co_argcount]


def _grad_or_skip(fn, wrt):
    try:
        return s2sad.grad(fn, wrt=wrt)
    except S2sadError as err:
        pytest.skip(f"no gradient: [{err.diagnostics[0].code}]")


def _as_list(value, n):
    return [value] if n == 1 else list(value)


def _check_scalar(fn, args, wrt):
    """vjp(1) == grad, vjp(2.5) == 2.5 grad, jacobian == grad, for a function with a gradient."""
    grad = _grad_or_skip(fn, wrt)
    expected = _as_list(grad(*args), len(wrt))
    vjp = s2sad.vjp(fn, wrt=wrt)
    seed = list(__import__("inspect").signature(vjp).parameters)[-1]
    for scale in (1.0, 2.5):
        got = _as_list(vjp(*args, **{seed: scale}), len(wrt))
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, scale * np.asarray(e), rtol=1e-12, atol=1e-12)
    assert problems(s2sad.vjp_source(fn, wrt=wrt)) == []
    try:
        jacobian = s2sad.jacobian(fn, wrt=wrt)
    except S2sadError as err:
        assert err.diagnostics[0].code == "unsupported-jacobian", err  # keyword-only parameters
        return
    got = _as_list(jacobian(*args), len(wrt))
    for g, e in zip(got, expected):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def _id(case):
    return f"{case[0].__name__}{case[1]}"


@pytest.mark.parametrize("case", catalogue.CASES, ids=[_id(c) for c in catalogue.CASES])
def test_scalar_catalogue(case):
    fn, args, index = case
    _check_scalar(fn, args, [_names(fn)[i] for i in index])


@pytest.mark.parametrize("case", helpers_catalogue.CASES, ids=[_id(c) for c in helpers_catalogue.CASES])
def test_helper_catalogue(case):
    fn, args, index = case
    _check_scalar(fn, args, [_names(fn)[i] for i in index])


_NUMPY = numpy_catalogue.CASES + numpy_catalogue.NOT_AUTOGRAD


@pytest.mark.parametrize("case", _NUMPY, ids=[c[0].__name__ for c in _NUMPY])
def test_numpy_catalogue(case):
    fn, make, wrt = case
    _check_scalar(fn, make(), list(wrt))


# ---- vector and tuple results -------------------------------------------------------------------------------
def _fd_jacobian(f, args, i, eps=1e-6):
    """result.shape + args[i].shape, by central differences."""
    base = np.asarray(args[i], dtype=float)
    columns = []
    for j in range(base.size):
        up, down = [np.array(a, dtype=float) for a in args], [np.array(a, dtype=float) for a in args]
        up[i].flat[j] += eps
        down[i].flat[j] -= eps
        columns.append((np.asarray(f(*up)) - np.asarray(f(*down))) / (2 * eps))
    stacked = np.stack(columns, axis=-1)  # result.shape + (size,)
    return stacked.reshape(np.shape(f(*args)) + base.shape)


def _camera():
    rng = np.random.default_rng(3)
    cam = np.concatenate(
        [0.3 * rng.standard_normal(3), rng.standard_normal(3), [2.0], rng.standard_normal(2), [0.1, 0.01]]
    )
    X = rng.standard_normal(3) + np.array([0.0, 0.0, 6.0])
    return cam, X, 0.8, rng.standard_normal(2)


def test_reprojection_jacobian_is_2_by_15():
    args = _camera()
    jacobian = s2sad.jacobian(reprojection_example.reprojection, wrt=["cam", "X", "w"])
    jac_cam, jac_X, jac_w = jacobian(*args)
    assert (jac_cam.shape, jac_X.shape, jac_w.shape) == ((2, 11), (2, 3), (2,))
    assert np.hstack([jac_cam, jac_X, jac_w[:, None]]).shape == (2, 15)
    for k, got in enumerate([jac_cam, jac_X, jac_w]):
        np.testing.assert_allclose(got, _fd_jacobian(reprojection_example.reprojection, args, k), rtol=1e-6, atol=1e-8)
    # the annotations give the sizes: two reverse sweeps, decided when the module was generated
    text = s2sad.jacobian_source(reprojection_example.reprojection, wrt=["cam", "X", "w"])
    assert "built from 2 reverse sweeps (one per result entry)" in text.splitlines()[0]
    assert "jvp_reprojection" not in text and text.count("for i in range(") == 1  # a loop, not unrolled


def test_reprojection_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def rotate(rot, X):
        theta = jnp.sqrt(jnp.sum(rot * rot))
        w = rot / theta
        c, s = jnp.cos(theta), jnp.sin(theta)
        return X * c + jnp.cross(w, X) * s + w * (jnp.dot(w, X) * (1.0 - c))

    def reprojection(cam, X, w, feat):
        Xcam = rotate(cam[0:3], X - cam[3:6])
        p = Xcam[0:2] / Xcam[2]
        rsq = jnp.sum(p * p)
        p = p * (1.0 + cam[9] * rsq + cam[10] * rsq * rsq)
        return w * (p * cam[6] + cam[7:9] - feat)

    args = _camera()
    expected = jax.jacrev(reprojection, argnums=(0, 1, 2))(*args)
    got = s2sad.jacobian(reprojection_example.reprojection, wrt=["cam", "X", "w"])(*args)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-10, atol=1e-12)


_RK4 = '''\
import numpy as np


def trajectory(y0, k, dt, n):
    """An oscillator y'' = -k y by RK4: the states (n + 1, 2) over time."""
    states = np.zeros((n + 1, 2))
    states[0] = y0
    y = y0
    for i in range(n):
        k1 = np.array([y[1], -k * y[0]])
        m = y + 0.5 * dt * k1
        k2 = np.array([m[1], -k * m[0]])
        m = y + 0.5 * dt * k2
        k3 = np.array([m[1], -k * m[0]])
        m = y + dt * k3
        k4 = np.array([m[1], -k * m[0]])
        y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        states[i + 1] = y
    return states
'''


def _module(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(tmp_path))


def test_rk4_trajectory(tmp_path):
    m = _module(tmp_path, "rk4_states", _RK4)
    args = (np.array([1.0, 0.2]), 2.0, 0.1, 6)
    jac_y0, jac_k, jac_dt = s2sad.jacobian(m.trajectory, wrt=["y0", "k", "dt"])(*args)
    assert jac_y0.shape == (7, 2, 2) and jac_k.shape == (7, 2) and jac_dt.shape == (7, 2)
    f = lambda y0, k, dt: m.trajectory(y0, k, dt, 6)  # noqa: E731
    for k, got in enumerate([jac_y0, jac_k, jac_dt]):
        np.testing.assert_allclose(got, _fd_jacobian(f, args[:3], k), rtol=1e-6, atol=1e-9)
    # the sizes are known only at run time: both sweeps are in the module, the fewer run
    text = s2sad.jacobian_source(m.trajectory, wrt=["y0", "k", "dt"])
    assert "whichever are fewer at run time" in text.splitlines()[0]
    assert "def jvp_trajectory(" in text and "def vjp_trajectory(" in text
    # the VJP: the dot-product test against the JVP
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((7, 2)), rng.standard_normal(2)
    bars = s2sad.vjp(m.trajectory, wrt=["y0"])(*args, u)
    _, tangent = s2sad.jvp(m.trajectory, wrt=["y0"])(*args, v)
    assert math.isclose(float(np.sum(bars * v)), float(np.sum(u * tangent)), rel_tol=1e-10)


def test_rk4_against_autograd(tmp_path):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    def trajectory(y0, k, dt, n):
        states = [y0]
        y = y0
        for _ in range(n):
            f = lambda y: anp.array([y[1], -k * y[0]])  # noqa: E731
            k1 = f(y)
            k2 = f(y + 0.5 * dt * k1)
            k3 = f(y + 0.5 * dt * k2)
            k4 = f(y + dt * k3)
            y = y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            states.append(y)
        return anp.stack(states)

    m = _module(tmp_path, "rk4_autograd", _RK4)
    y0 = np.array([1.0, 0.2])
    expected = autograd.jacobian(trajectory)(y0, 2.0, 0.1, 6)
    np.testing.assert_allclose(s2sad.jacobian(m.trajectory, wrt="y0")(y0, 2.0, 0.1, 6), expected, rtol=1e-12)


def test_polar_tuple_result():
    polar = polar_example.polar
    x, y = 0.3, 0.8
    (drdx, drdy), (dtdx, dtdy) = s2sad.jacobian(polar)(x, y)
    r = math.hypot(x, y)
    expected = [[x / r, y / r], [-y / r**2, x / r**2]]
    np.testing.assert_allclose([[drdx, drdy], [dtdx, dtdy]], expected, rtol=1e-12)
    x_bar, y_bar = s2sad.vjp(polar)(x, y, (2.0, -1.0))
    np.testing.assert_allclose([x_bar, y_bar], [2.0 * x / r + y / r**2, 2.0 * y / r - x / r**2], rtol=1e-12)
    value, tangent = s2sad.jvp(polar)(x, y, 1.0, 0.0)
    assert value == polar(x, y) and np.allclose(tangent, [x / r, -y / r**2])
    text = s2sad.vjp_source(polar)
    assert "def vjp_polar(x, y, out_bar):" in text and "r_bar = out_bar[0]" in text


def test_polar_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    expected = jax.jacfwd(lambda x, y: (jnp.sqrt(x * x + y * y), jnp.arctan2(y, x)), argnums=(0, 1))(0.3, 0.8)
    got = s2sad.jacobian(polar_example.polar)(0.3, 0.8)
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), rtol=1e-12)


def test_a_value_returned_twice_gets_both_adjoints(tmp_path):
    m = _module(tmp_path, "twice", "import math\n\n\ndef f(x):\n    s = math.sin(x)\n    return s, x, s\n")
    assert math.isclose(s2sad.vjp(m.f)(0.3, (1.0, 10.0, 2.0)), 3.0 * math.cos(0.3) + 10.0)
    (a,), (b,), (c,) = [np.atleast_1d(j) for j in s2sad.jacobian(m.f)(0.3)]
    assert np.allclose([a, b, c], [math.cos(0.3), 1.0, math.cos(0.3)])


def test_out_bar_is_keyword_only_after_a_default(tmp_path):
    m = _module(tmp_path, "defaults", "import numpy as np\n\n\ndef f(x, k=2.0):\n    return np.sin(x) * k\n")
    vjp = s2sad.vjp(m.f, wrt="x")
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(vjp(x, 2.0, out_bar=np.ones(2)), 2.0 * np.cos(x))
    np.testing.assert_allclose(s2sad.jacobian(m.f, wrt="x")(x), np.diag(2.0 * np.cos(x)))


def test_a_fresh_out_bar_when_the_user_has_one(tmp_path):
    m = _module(tmp_path, "taken", "import numpy as np\n\n\ndef f(out_bar):\n    return np.exp(out_bar)\n")
    text = s2sad.vjp_source(m.f)
    assert "def vjp_f(out_bar, out_bar_1):" in text
    np.testing.assert_allclose(s2sad.vjp(m.f)(np.zeros(2), np.ones(2)), np.ones(2))


def test_grad_still_refuses_a_tuple_result(tmp_path):
    m = _module(tmp_path, "refused", "def f(x):\n    return x, x\n")
    with pytest.raises(S2sadError) as err:
        s2sad.grad(m.f)
    assert err.value.diagnostics[0].code == "non-scalar-return"


# ---- the decorator, the cache, the command line ---------------------------------------------------------------
def test_decorator_attaches_the_modes(tmp_path):
    text = (
        "import numpy as np\nimport s2sad\n\n\n"
        "@s2sad.gradient(modes=('jvp', 'vjp', 'jacobian'), cache=False)\n"
        "def f(x):\n    return np.sin(x) * 2.0\n"
    )
    m = _module(tmp_path, "decorated", text)
    x = np.array([0.1, 0.2])
    assert not hasattr(m.f, "grad")
    np.testing.assert_allclose(m.f.vjp(x, np.ones(2)), 2.0 * np.cos(x))
    np.testing.assert_allclose(m.f.jvp(x, np.ones(2))[1], 2.0 * np.cos(x))
    np.testing.assert_allclose(m.f.jacobian(x), np.diag(2.0 * np.cos(x)))
    assert "def vjp_f(" in m.f.vjp_source and "def jacobian_f(" in m.f.jacobian_source
    with pytest.raises(ValueError, match="unknown mode"):
        s2sad.gradient(modes=("hessian",))


def test_cache_keys_include_the_mode(tmp_path):
    from s2sad import cache

    args = ("def f(x):\n    return x\n", str(tmp_path / "m.py"), "f", 1, None, False)
    keys = {cache.key(*args), cache.key(*args, "vjp"), cache.key(*args, "jacobian")}
    assert len(keys) == 3 and cache.key(*args) == cache.key(*args, "grad")
    assert cache._places(*args[1:], "grad") != cache._places(*args[1:], "vjp")


def test_cli_vjp_and_jacobian(capsys):
    from s2sad.cli import main

    assert main(["vjp", str(ROOT / "examples/polar.py") + "::polar"]) == 0
    assert "def vjp_polar(x, y, out_bar):" in capsys.readouterr().out
    assert main(["jacobian", str(ROOT / "examples/polar.py") + "::polar", "--wrt", "y"]) == 0
    out = capsys.readouterr().out
    assert "def jacobian_polar(x, y):" in out and "--wrt y" in out.splitlines()[1]


def test_the_modes_table_drives_the_command_line(capsys):
    from s2sad.cli import main
    from s2sad.modes import MODES

    for mode in MODES:
        with pytest.raises(SystemExit):
            main([mode, "--help"])
        assert "PATH::NAME" in capsys.readouterr().out


# ---- tuple results: what is followed, what is refused ----------------------------------------------------------
_TUPLES = '''\
import math


def pair(x, y):
    return x * y, x + y


def tuple_variable(x, y):
    t = (math.sin(x), y * y)
    return t


def helper_tuple(x, y):
    return pair(x, y)


def as_list(x):
    return [x, x]


def early(x):
    if x > 0:
        return x, x
    return -x, x
'''


@pytest.mark.parametrize("name", ["tuple_variable", "helper_tuple"])
def test_tuple_results_through_variables_and_helpers(tmp_path, name):
    m = _module(tmp_path, f"tuples_{name}", _TUPLES)
    fn = getattr(m, name)
    x, y, u = 0.3, 0.8, (1.5, -0.5)
    eps = 1e-6
    expected = [
        sum(w * (a - b) / (2 * eps) for w, a, b in zip(u, fn(x + eps, y), fn(x - eps, y))),
        sum(w * (a - b) / (2 * eps) for w, a, b in zip(u, fn(x, y + eps), fn(x, y - eps))),
    ]
    np.testing.assert_allclose(s2sad.vjp(fn)(x, y, u), expected, rtol=1e-7)
    rows = s2sad.jacobian(fn)(x, y)
    np.testing.assert_allclose(np.einsum("i,ij->j", u, np.asarray(rows, dtype=float)), expected, rtol=1e-7)


@pytest.mark.parametrize(
    "name, message",
    [
        ("as_list", "must return a number, an array or a tuple of them"),
        ("early", "several 'return' statements must return one value from each"),
    ],
)
def test_tuple_results_s2sad_cannot_follow_are_refused(tmp_path, name, message):
    m = _module(tmp_path, f"refused_{name}", _TUPLES)
    for build in (s2sad.vjp, s2sad.jacobian):
        with pytest.raises(S2sadError) as err:
            build(getattr(m, name))
        d = err.value.diagnostics[0]
        assert d.code == "non-scalar-return" and message in d.message and d.span is not None


def test_a_jacobian_falls_back_to_reverse_sweeps_where_forward_mode_refuses(tmp_path):
    m = _module(
        tmp_path,
        "factor",
        "import numpy as np\n\n\ndef f(x):\n    return np.linalg.cholesky(np.outer(x, x) + 3.0 * np.eye(3)) * 2.0\n",
    )
    with pytest.raises(S2sadError) as err:
        s2sad.jvp(m.f)
    assert err.value.diagnostics[0].code == "no-forward-rule"
    text = s2sad.jacobian_source(m.f)
    assert "reverse sweeps" in text.splitlines()[0] and "def jvp_f(" not in text
    x = np.array([0.5, 1.5, 2.0])
    np.testing.assert_allclose(s2sad.jacobian(m.f)(x), _fd_jacobian(m.f, (x,), 0), rtol=1e-7)


def test_the_api_names_stay_functions_once_every_pipeline_is_imported():
    """A pipeline module named like an API function (``s2sad/jacobian.py``) would replace ``s2sad.jacobian``
    with itself when imported (a bug met while building this): every pipeline lives under another name."""
    import importlib
    import types

    from s2sad.modes import MODES

    for mode in MODES.values():
        for spec in (mode.pipeline, mode.check):
            importlib.import_module(spec.partition(":")[0])
    for name in MODES:
        if hasattr(s2sad, name):
            assert not isinstance(getattr(s2sad, name), types.ModuleType), name
    assert callable(s2sad.jacobian) and callable(s2sad.vjp) and callable(s2sad.jvp)

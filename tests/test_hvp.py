"""Hessian-vector products (issue 15): ``s2sad.hvp`` / ``s2sad hvp`` on every catalogue (scalar, loops,
branches, helpers, NumPy), each checked against central finite differences of the generated gradient, for
symmetry (<u, H v> = <H u, v>), and against JAX's forward-over-reverse HVP (float64) of the same source where
JAX can trace it; what s2sad refuses, refused with a located diagnostic (and listed in REFUSED)."""

from __future__ import annotations

import inspect
import math
import types

import numpy as np
import pytest

import catalogue
import helpers_catalogue
import numpy_catalogue
import s2sad
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

    math_ns = types.SimpleNamespace(**{k: getattr(jnp, k, getattr(math, k)) for k in dir(math) if not k.startswith("_")})
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
        return sum(
            autograd.numpy.sum(autograd.grad(twin, i)(*full) * d) for i, d in zip(index, v)
        )

    for k, (got, w) in enumerate(zip(hv, program.wrt)):
        expected = autograd.grad(along, k)(*(args[i] for i in index))
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-10, err_msg=w)

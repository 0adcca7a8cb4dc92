"""Every rule of the NumPy/SciPy families of issue 14, by iterating the table: against central finite
differences along random directions on random shapes, with broadcasting and every ``axis``/``keepdims``
combination the entry accepts, and against HIPS autograd where autograd has the function.

A rule added to one of these families without a way to call it here fails
``test_every_rule_of_the_new_families_is_exercised``: adding a function is its table line plus, when the
defaults below do not fit, one line of :data:`_CALLS`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import s2sad
from s2sad.gradcheck import check
from s2sad.rules import FAMILIES

NEW = ("numpy ufuncs", "numpy reductions", "numpy shapes", "scipy.special", "linear algebra")
_HEADER = "import numpy as np\nimport scipy.linalg\nimport scipy.special\n\n\n"
_AUTOGRAD_HEADER = "import autograd.numpy as np\nimport autograd.scipy.special\n\nscipy = autograd\n\n\n"

# (a name the call is written with, the arguments' positive domain) for the unary and binary elementwise rules
_POSITIVE = {"log2", "log10", "gammaln", "digamma", "reciprocal", "cbrt", "logit", "xlogy"}
_UNIT = {"arcsin", "arccos", "arctanh", "logit"}  # inside (-1, 1), or (0, 1) for logit
_ABOVE_ONE = {"arccosh"}
_DIVIDES = {"divide", "true_divide"}

_SHAPES_1 = [(3,), (2, 3)]
_SHAPES_2 = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (3,)), ((2, 3), ())]
_REDUCE_AXES = [None, 0, 1, -1, (0, 1)]


def _spelled(fn: str) -> str:
    return "np." + fn.split(".", 1)[1] if fn.startswith("numpy.") else fn


def _value(short: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    if short in _ABOVE_ONE:
        return rng.uniform(1.2, 2.0, shape)
    if short == "logit":
        return rng.uniform(0.2, 0.8, shape)
    if short in _UNIT:
        return rng.uniform(-0.8, 0.8, shape)
    if short in _POSITIVE:
        return rng.uniform(0.5, 2.0, shape)
    return rng.uniform(-1.5, 1.5, shape)


def _matrix(n: int, rng: np.random.Generator, condition: float = 1.0) -> np.ndarray:
    """A well-conditioned matrix, or one of about the given condition number (ill-conditioned but valid)."""
    q1, _ = np.linalg.qr(rng.normal(size=(n, n)))
    q2, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return q1 @ np.diag(np.geomspace(1.0, 1.0 / condition, n)) @ q2


def _symmetric(n: int, rng: np.random.Generator, condition: float = 1.0) -> np.ndarray:
    """A symmetric matrix of distinct eigenvalues, spread over the given condition number."""
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return q @ np.diag(np.geomspace(1.0, 1.0 / max(condition, 4.0), n) * np.array([1, -1] * n)[:n]) @ q.T


def _spd(n: int, rng: np.random.Generator) -> np.ndarray:
    m = rng.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


# ---- how each rule is called: (call text over x, y, z; the arguments' values) ------------------------------
def _cases() -> list[tuple[str, str, tuple]]:
    rng = np.random.default_rng(14)
    out: list[tuple[str, str, tuple]] = []

    def add(fn: str, call: str, *args: np.ndarray | float) -> None:
        out.append((fn, call, tuple(args)))

    for family in NEW:
        for rule in FAMILIES[family]:
            if not rule.adjoints:
                continue
            fn, short, name = rule.fn, rule.fn.split(".")[-1], _spelled(rule.fn)
            if fn in _CALLS:
                for call, make in _CALLS[fn]:
                    add(fn, call, *make(rng))
            elif family in ("numpy ufuncs", "scipy.special") and len(rule.params) == 1:
                for shape in _SHAPES_1:
                    add(fn, f"{name}(x)", _value(short, shape, rng))
            elif family in ("numpy ufuncs", "scipy.special") and len(rule.params) == 2:
                for s1, s2 in _SHAPES_2:
                    add(fn, f"{name}(x, y)", _value(short, s1, rng), _value(short, s2, rng) + 2.0 * (short in _DIVIDES))
            elif family == "numpy reductions" and rule.params[1:] == ("axis", "keepdims"):
                for axis, keepdims in itertools.product(_REDUCE_AXES, (False, True)):
                    add(fn, f"{name}(x, axis={axis!r}, keepdims={keepdims})", rng.uniform(0.5, 1.5, (2, 3)))
                add(fn, f"{name}(x)", rng.uniform(0.5, 1.5, (4,)))
    return out


def _reductions_with(name: str, extra: str = "", axes=_REDUCE_AXES, keepdims=(False, True)) -> list:
    return [
        (f"{name}(x, axis={axis!r}{extra}, keepdims={k})", lambda r: (r.normal(size=(3, 4)),))
        for axis, k in itertools.product(axes, keepdims)
    ]


def _normal(*shapes):
    return lambda r: tuple(r.normal(size=s) for s in shapes)


_CALLS: dict[str, list] = {
    "numpy.cumsum": [(f"np.cumsum(x, axis={a!r})", _normal((2, 3))) for a in (None, 0, 1, -1)],
    "numpy.cumprod": [(f"np.cumprod(x, axis={a!r})", lambda r: (r.uniform(0.5, 1.5, (2, 3)),)) for a in (None, 0, 1)],
    "numpy.var": _reductions_with("np.var") + _reductions_with("np.var", ", ddof=1", axes=[None, 0, 1]),
    "numpy.std": _reductions_with("np.std") + _reductions_with("np.std", ", ddof=1", axes=[None, 0, 1]),
    "numpy.linalg.norm": [
        (f"np.linalg.norm(x, axis={a!r}, keepdims={k})", _normal((3, 4)))
        for a, k in itertools.product([None, 0, 1, -1, (0, 1)], (False, True))
    ]
    + [("np.linalg.norm(x)", _normal((5,)))],
    "numpy.average": [
        ("np.average(x)", _normal((3, 4))),
        ("np.average(x, axis=0)", _normal((3, 4))),
        ("np.average(x, axis=1, weights=np.array([1.0, 2.0, 0.5, 3.0]))", _normal((3, 4))),
        ("np.average(x, axis=0, weights=np.array([1.0, 2.0, 0.5]))", _normal((3, 4))),
        ("np.average(x, weights=np.arange(1.0, 13.0).reshape(3, 4))", _normal((3, 4))),
    ],
    "numpy.trace": [
        ("np.trace(x)", _normal((3, 3))),
        ("np.trace(x)", _normal((3, 4))),
        ("np.trace(x)", _normal((3, 3, 2))),
    ],
    "numpy.nansum": [
        (f"np.nansum(np.where(np.arange(6).reshape(2, 3) == 4, np.nan, x), axis={a!r}, keepdims={k})", _normal((2, 3)))
        for a, k in itertools.product([None, 0, 1], (False, True))
    ],
    "numpy.nanmean": [
        (f"np.nanmean(np.where(np.arange(6).reshape(2, 3) == 4, np.nan, x), axis={a!r}, keepdims={k})", _normal((2, 3)))
        for a, k in itertools.product([None, 0, 1], (False, True))
    ],
    "numpy.prod": [
        (f"np.prod(x, axis={a!r}, keepdims={k})", lambda r: (r.uniform(0.5, 1.5, (2, 3)),))
        for a, k in itertools.product(_REDUCE_AXES, (False, True))
    ],
    # shapes
    "numpy.squeeze": [("np.squeeze(x)", _normal((3, 1))), ("np.squeeze(x, axis=0)", _normal((1, 3)))],
    "numpy.expand_dims": [("np.expand_dims(x, 0)", _normal((3,))), ("np.expand_dims(x, axis=(0, 2))", _normal((3,)))],
    "numpy.ravel": [("np.ravel(x) * np.arange(6.0)", _normal((2, 3)))],
    "numpy.atleast_1d": [("np.atleast_1d(x)", _normal(())), ("np.atleast_1d(x)", _normal((2,)))],
    "numpy.atleast_2d": [("np.atleast_2d(x) * np.ones((1, 3))", _normal((3,))), ("np.atleast_2d(x)", _normal((2, 2)))],
    "numpy.swapaxes": [("np.swapaxes(x, 0, 2) * np.arange(24.0).reshape(4, 3, 2)", _normal((2, 3, 4)))],
    "numpy.moveaxis": [("np.moveaxis(x, 0, -1) * np.arange(24.0).reshape(3, 4, 2)", _normal((2, 3, 4)))],
    "numpy.flip": [
        ("np.flip(x) * np.arange(6.0).reshape(2, 3)", _normal((2, 3))),
        ("np.flip(x, 1) * np.arange(6.0).reshape(2, 3)", _normal((2, 3))),
        ("np.flip(x, axis=(0, 1)) * np.arange(6.0).reshape(2, 3)", _normal((2, 3))),
    ],
    "numpy.roll": [
        ("np.roll(x, 1) * np.arange(6.0).reshape(2, 3)", _normal((2, 3))),
        ("np.roll(x, -1, axis=1) * np.arange(6.0).reshape(2, 3)", _normal((2, 3))),
        ("np.roll(x, (1, 2), axis=(0, 1)) * np.arange(6.0).reshape(2, 3)", _normal((2, 3))),
    ],
    "numpy.broadcast_to": [
        ("np.broadcast_to(x, (2, 3)) * np.arange(6.0).reshape(2, 3)", _normal((3,))),
        ("np.broadcast_to(x, (2, 3)) * np.arange(6.0).reshape(2, 3)", _normal((2, 1))),
    ],
    "numpy.full": [
        ("np.full((2, 3), x) * np.arange(6.0).reshape(2, 3)", _normal(())),
        ("np.full((2, 3), x)", _normal((3,))),
    ],
    "numpy.full_like": [("np.full_like(np.ones((2, 3)), x) * np.arange(6.0).reshape(2, 3)", _normal(()))],
    "numpy.diag": [
        ("np.diag(x) * np.arange(9.0).reshape(3, 3)", _normal((3,))),
        ("np.diag(x, 1) * np.arange(16.0).reshape(4, 4)", _normal((3,))),
        ("np.diag(x) * np.arange(3.0)", _normal((3, 4))),
        ("np.diag(x, k=-1) * np.arange(2.0)", _normal((3, 4))),
    ],
    "numpy.diagonal": [
        ("np.diagonal(x) * np.arange(3.0)", _normal((3, 4))),
        ("np.diagonal(x, 1) * np.arange(3.0)", _normal((3, 4))),
        ("np.diagonal(x, 0, 1, 2) * np.arange(6.0).reshape(2, 3)", _normal((2, 3, 3))),
    ],
    "numpy.tril": [
        ("np.tril(x) * np.arange(12.0).reshape(3, 4)", _normal((3, 4))),
        ("np.tril(x, -1)", _normal((3, 3))),
    ],
    "numpy.triu": [
        ("np.triu(x) * np.arange(12.0).reshape(3, 4)", _normal((3, 4))),
        ("np.triu(x, k=1)", _normal((3, 3))),
    ],
    "numpy.repeat": [
        ("np.repeat(x, 2) * np.arange(12.0)", _normal((2, 3))),
        ("np.repeat(x, 2, axis=1) * np.arange(12.0).reshape(2, 6)", _normal((2, 3))),
        ("np.repeat(x, np.array([1, 0, 3]), axis=0) * np.arange(4.0)", _normal((3,))),
    ],
    "numpy.tile": [
        ("np.tile(x, 2) * np.arange(6.0)", _normal((3,))),
        ("np.tile(x, (2, 1, 2)) * np.arange(24.0).reshape(2, 2, 6)", _normal((2, 3))),
    ],
    "numpy.atleast_3d": [
        ("np.atleast_3d(x) * np.ones((1, 1, 3))", _normal(())),
        ("np.atleast_3d(x) * np.arange(3.0).reshape(1, 3, 1)", _normal((3,))),
        ("np.atleast_3d(x) * np.arange(2.0)", _normal((3, 1))),
    ],
    "numpy.asarray": [("np.asarray(x) * np.arange(6.0).reshape(2, 3)", _normal((2, 3)))],
    "numpy.ndarray.flatten": [("x.flatten() * np.arange(6.0)", _normal((2, 3)))],
    "numpy.concatenate": [
        ("np.concatenate([x, y]) * np.arange(5.0)", _normal((3,), (2,))),
        ("np.concatenate((x, y), axis=1) * np.arange(10.0).reshape(2, 5)", _normal((2, 3), (2, 2))),
        ("np.concatenate([x, y, z], -1) * np.arange(6.0)", _normal((1,), (3,), (2,))),
        ("np.concatenate([x, y], axis=None) * np.arange(10.0)", _normal((2, 3), (4,))),
        ("np.concatenate([x]) * np.arange(3.0)", _normal((3,))),
    ],
    "numpy.stack": [
        ("np.stack([x, y]) * np.arange(6.0).reshape(2, 3)", _normal((3,), (3,))),
        ("np.stack((x, y, z), axis=1) * np.arange(6.0).reshape(2, 3)", _normal((2,), (2,), (2,))),
        ("np.stack([x, y], -1) * np.arange(12.0).reshape(3, 2, 2)", _normal((3, 2), (3, 2))),
    ],
    "numpy.hstack": [
        ("np.hstack([x, y]) * np.arange(5.0)", _normal((3,), (2,))),
        ("np.hstack((x, y)) * np.arange(10.0).reshape(2, 5)", _normal((2, 3), (2, 2))),
        ("np.hstack([x, y]) * np.arange(4.0)", _normal((), (3,))),
    ],
    "numpy.vstack": [
        ("np.vstack([x, y]) * np.arange(6.0).reshape(2, 3)", _normal((3,), (3,))),
        ("np.vstack((x, y)) * np.arange(9.0).reshape(3, 3)", _normal((2, 3), (3,))),
    ],
    "numpy.column_stack": [
        ("np.column_stack([x, y]) * np.arange(6.0).reshape(3, 2)", _normal((3,), (3,))),
        ("np.column_stack((x, y)) * np.arange(9.0).reshape(3, 3)", _normal((3, 2), (3,))),
    ],
    # scipy.special
    "scipy.special.logsumexp": [
        (f"scipy.special.logsumexp(x, axis={a!r}, keepdims={k})", _normal((2, 3)))
        for a, k in itertools.product(_REDUCE_AXES, (False, True))
    ]
    + [
        ("scipy.special.logsumexp(x, axis=1, b=y)", lambda r: (r.normal(size=(2, 3)), r.uniform(0.5, 1.5, (2, 3)))),
        ("scipy.special.logsumexp(x, b=y)", lambda r: (r.normal(size=(2, 3)), r.uniform(0.5, 1.5, (3,)))),
    ],
    "scipy.special.softmax": [
        (f"scipy.special.softmax(x, axis={a!r}) * np.arange(6.0).reshape(2, 3)", _normal((2, 3))) for a in (None, 0, 1)
    ],
    "scipy.special.log_softmax": [
        (f"scipy.special.log_softmax(x, axis={a!r}) * np.arange(6.0).reshape(2, 3)", _normal((2, 3)))
        for a in (None, 0, 1)
    ],
    "scipy.special.multigammaln": [
        ("scipy.special.multigammaln(x, 3)", lambda r: (3.7,)),
        ("scipy.special.multigammaln(x, 1)", lambda r: (2.2,)),
    ],
    # linear algebra
    "numpy.linalg.solve": [
        ("np.linalg.solve(x, y)", lambda r: (_matrix(3, r), r.normal(size=3))),
        ("np.linalg.solve(x, y)", lambda r: (_matrix(3, r), r.normal(size=(3, 2)))),
        ("np.linalg.solve(x, y) * 1e-3", lambda r: (_matrix(3, r, condition=1e3), r.normal(size=3))),
    ],
    "numpy.linalg.inv": [
        ("np.linalg.inv(x)", lambda r: (_matrix(3, r),)),
        ("np.linalg.inv(x) * 1e-3", lambda r: (_matrix(3, r, 1e3),)),
    ],
    "numpy.linalg.det": [
        ("np.linalg.det(x)", lambda r: (_matrix(3, r),)),
        ("np.linalg.det(x)", lambda r: (_matrix(4, r, 1e3),)),
    ],
    "numpy.linalg.cholesky": [("np.linalg.cholesky(x)", lambda r: (_spd(3, r),))],
    "numpy.tensordot": [
        ("np.tensordot(x, y)", _normal((2, 3), (2, 3))),
        ("np.tensordot(x, y, axes=1)", _normal((2, 3), (3, 4))),
        ("np.tensordot(x, y, 0)", _normal((2,), (3,))),
        ("np.tensordot(x, y, axes=([1, 0], [0, 1]))", _normal((2, 3, 4), (3, 2))),
        ("np.tensordot(x, y, axes=(2, 0))", _normal((2, 3, 4), (4, 2))),
        ("np.tensordot(x, y, axes=((0,), (1,)))", _normal((3, 2), (4, 3))),
    ],
    "numpy.inner": [
        ("np.inner(x, y)", _normal((3,), (3,))),
        ("np.inner(x, y)", _normal((2, 3), (4, 3))),
        ("np.inner(x, y)", _normal((2, 2, 3), (3,))),
        ("np.inner(x, y)", _normal((), (3,))),
        ("np.inner(x, y)", _normal((2, 3), ())),
    ],
    "numpy.vdot": [("np.vdot(x, y)", _normal((3,), (3,))), ("np.vdot(x, y)", _normal((2, 3), (3, 2)))],
    "numpy.kron": [
        ("np.kron(x, y)", _normal((2,), (3,))),
        ("np.kron(x, y)", _normal((2, 3), (2, 2))),
        ("np.kron(x, y)", _normal((2,), (3, 2))),
        ("np.kron(x, y)", _normal((), (3,))),
    ],
    "numpy.cross": [
        ("np.cross(x, y)", _normal((3,), (3,))),
        ("np.cross(x, y)", _normal((4, 3), (4, 3))),
        ("np.cross(x, y)", _normal((4, 3), (3,))),
        ("np.cross(x, y)", _normal((2, 1, 3), (4, 3))),
    ],
    "scipy.linalg.solve_triangular": [
        ("scipy.linalg.solve_triangular(x, y)", lambda r: (np.triu(_matrix(3, r)) + 2 * np.eye(3), r.normal(size=3))),
        (
            "scipy.linalg.solve_triangular(x, y, lower=True)",
            lambda r: (_matrix(3, r) + 2 * np.eye(3), r.normal(size=3)),
        ),
        (
            "scipy.linalg.solve_triangular(x, y, trans=1)",
            lambda r: (_matrix(3, r) + 2 * np.eye(3), r.normal(size=(3, 2))),
        ),
        (
            "scipy.linalg.solve_triangular(x, y, trans='T', lower=True)",
            lambda r: (_matrix(3, r) + 2 * np.eye(3), r.normal(size=3)),
        ),
        (
            "scipy.linalg.solve_triangular(x, y, 0, True)",
            lambda r: (_matrix(3, r) + 2 * np.eye(3), r.normal(size=(3, 2))),
        ),
        (  # ill-conditioned but valid: a triangular matrix with a small pivot
            "scipy.linalg.solve_triangular(x, y, lower=True) * 1e-3",
            lambda r: (np.tril(r.normal(size=(3, 3))) + np.diag([2.0, 1e-3, 1.5]), r.normal(size=3)),
        ),
    ],
    "s2sad.slogdet_logdet": [
        ("np.linalg.slogdet(x)[1]", lambda r: (_matrix(3, r),)),
        ("np.linalg.slogdet(x)[-1]", lambda r: (_matrix(4, r, 1e3),)),
    ],
    # eigenvectors have an arbitrary sign: the functions of them here do not depend on it
    "s2sad.eigh_values": [
        ("np.linalg.eigh(x)[0]", lambda r: (_symmetric(3, r),)),
        ("np.linalg.eigh(x)[0]", lambda r: (r.normal(size=(3, 3)),)),  # the lower triangle is read
        ("np.linalg.eigh(x)[0] * 1e-3", lambda r: (_symmetric(4, r, 1e3),)),
    ],
    "s2sad.eigh_vectors": [
        ("np.linalg.eigh(x)[1] ** 2", lambda r: (_symmetric(3, r),)),
        ("np.linalg.eigh(x)[1] ** 2", lambda r: (r.normal(size=(3, 3)) + np.diag([0.0, 2.0, 4.0]),)),
        ("np.linalg.eigh(x)[1] ** 2 * 1e-3", lambda r: (_symmetric(4, r, 1e3),)),
    ],
    "numpy.einsum": [
        ('np.einsum("ij->", x)', _normal((2, 3))),
        ('np.einsum("ij->j", x)', _normal((2, 3))),
        ('np.einsum("ij->ji", x) * np.arange(6.0).reshape(3, 2)', _normal((2, 3))),
        ('np.einsum("ij", x) * np.arange(6.0).reshape(2, 3)', _normal((2, 3))),
        ('np.einsum("ij,jk->ik", x, y)', _normal((2, 3), (3, 4))),
        ('np.einsum("ij,jk", x, y)', _normal((2, 3), (3, 4))),
        ('np.einsum("i,i->", x, y)', _normal((3,), (3,))),
        ('np.einsum("i,j->ij", x, y)', _normal((3,), (2,))),
        ('np.einsum("ij,j->i", x, y)', _normal((2, 3), (3,))),
        ('np.einsum("bij,bjk->bik", x, y)', _normal((2, 2, 3), (2, 3, 2))),
        ('np.einsum("ij,k->i", x, y)', _normal((2, 3), (4,))),
        ('np.einsum("ij,jk,kl->il", x, y, z)', _normal((2, 3), (3, 4), (4, 2))),
    ],
}

CASES = _cases()
_NAMES = ("x", "y", "z")


def _source(call: str, n: int, header: str = _HEADER) -> str:
    params = ", ".join(_NAMES[:n])
    return f"{header}def f({params}):\n    return np.sum(np.sin({call}))\n"


def _compiled(text: str, name: str):
    namespace: dict = {}
    exec(compile(text, f"<{name}>", "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("fn, call, args", CASES, ids=[f"{fn}:{call}:{k}" for k, (fn, call, _) in enumerate(CASES)])
def test_rule_against_finite_differences_and_autograd(fn, call, args):
    n = len(args)
    source = _source(call, n)
    f = _compiled(source, "f")
    wrt = _NAMES[:n]
    grad = _compiled(s2sad.generate(source, "m.py", "f", wrt=wrt), "grad_f")
    result = check(f, grad, args, list(range(n)), wrt, directions=3, rtol=1e-4, atol=1e-6)
    assert result, result.report()
    if fn in _NOT_AUTOGRAD:
        return
    autograd = pytest.importorskip("autograd")
    try:
        twin = _compiled(_source(call, n, _AUTOGRAD_HEADER), "f")
        expected = [autograd.grad(twin, i)(*args) for i in range(n)]
    except (AttributeError, AssertionError, NotImplementedError, TypeError, ValueError):
        return  # autograd has no such function, or not for these arguments
    got = grad(*args)
    got = [got] if n == 1 else list(got)
    for g, e in zip(got, expected):
        if np.shape(e) != np.shape(g):
            continue  # autograd's own bugs (norm with keepdims, diag of a matrix, full of an array): FD decided
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-9)


#: NumPy reads the lower triangle only (cholesky, eigh): the adjoint is there, where autograd returns a symmetric one;
#: autograd gives np.full_like's fill value no derivative (finite differences do).
_NOT_AUTOGRAD = {"numpy.linalg.cholesky", "numpy.full_like", "s2sad.eigh_values", "s2sad.eigh_vectors"}


def test_every_rule_of_the_new_families_is_exercised():
    exercised = {fn for fn, _, _ in CASES}
    for family in NEW:
        for rule in FAMILIES[family]:
            assert not rule.adjoints or rule.fn in exercised, rule.fn


def test_zero_derivative_functions_are_marked_and_fine_on_differentiated_values():
    source = _HEADER + "def f(x):\n    return np.sum(x * np.floor(x) + np.ceil(x) + np.trunc(x) * np.rint(x))\n"
    grad = _compiled(s2sad.generate(source, "m.py", "f"), "grad_f")
    x = np.array([0.3, 1.6, -2.2])
    np.testing.assert_allclose(grad(x), np.floor(x))
    assert all(r.note.startswith("zero derivative") for r in FAMILIES["numpy ufuncs"] if r.fn == "numpy.ceil")


def test_an_explicit_inverse_is_never_used_by_solve():
    source = _HEADER + "def f(A, b):\n    return np.sum(np.linalg.solve(A, b))\n"
    text = s2sad.generate(source, "m.py", "f")
    assert "inv(" not in text and text.count("np.linalg.solve(") >= 2


# ---- the examples ------------------------------------------------------------------------------------
_EXAMPLES = '''import numpy as np
from scipy.special import logsumexp, multigammaln, softmax


def mixture(means, log_weights, data):
    """A Gaussian mixture's log-likelihood (unit variances), with a Wishart-like normaliser."""
    d = np.shape(data)[1]
    diff = np.expand_dims(data, 1) - np.expand_dims(means, 0)
    log_density = -0.5 * np.sum(diff**2, axis=2) - 0.5 * d * np.log(2 * np.pi)
    log_w = log_weights - logsumexp(log_weights)
    return np.sum(logsumexp(log_density + log_w, axis=1)) + multigammaln(np.sum(np.exp(log_weights)) + 3.0, 2)


def attention(q, k, v, w):
    """A small einsum-based attention block."""
    scores = np.einsum("id,jd->ij", q @ w, k) / np.sqrt(np.shape(q)[1])
    return np.sum(np.einsum("ij,jd->id", softmax(scores, axis=1), v) ** 2)


def least_squares(A, y, lam):
    """A ridge least-squares fit through np.linalg.solve, and its residual."""
    n = np.shape(A)[1]
    theta = np.linalg.solve(A.T @ A + lam * np.eye(n), A.T @ y)
    return np.sum((A @ theta - y) ** 2) + lam * np.sum(theta**2)
'''


@pytest.mark.parametrize(
    "name, make",
    [
        ("mixture", lambda r: (r.normal(size=(3, 2)), r.normal(size=3), r.normal(size=(5, 2)))),
        (
            "attention",
            lambda r: (r.normal(size=(4, 3)), r.normal(size=(5, 3)), r.normal(size=(5, 2)), r.normal(size=(3, 3))),
        ),
        ("least_squares", lambda r: (r.normal(size=(6, 3)), r.normal(size=6), 0.5)),
    ],
)
def test_examples(name, make):
    args = make(np.random.default_rng(3))
    f = _compiled(_EXAMPLES, name)
    params = f.__code__.co_varnames[: f.__code__.co_argcount]
    grad = _compiled(s2sad.generate(_EXAMPLES, "examples.py", name, wrt=params), f"grad_{name}")
    result = check(f, grad, args, list(range(len(args))), params, directions=3, rtol=1e-4, atol=1e-6)
    assert result, result.report()


# ---- the joins, solve_triangular, and the messages of the new entries (issue 14, item 3) ---------------------
def test_a_tuple_variable_is_joined_element_by_element():
    source = (
        _HEADER
        + "def f(a, b):\n    t = (a, 2.0 * b)\n    return np.sum(np.concatenate(t, 0) ** 2) + np.sum(np.vstack(t)[1] ** 3)\n"
    )
    grad = _compiled(s2sad.generate(source, "m.py", "f"), "grad_f")
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.3, -0.7])
    result = check(_compiled(source, "f"), grad, (a, b), [0, 1], ["a", "b"], directions=3)
    assert result, result.report()
    assert "np.concatenate([t_0, t_1])" in s2sad.generate(source, "m.py", "f")


def test_flatten_is_a_copy_that_a_later_write_does_not_share():
    source = _HEADER + "def f(A):\n    y = A.flatten()\n    y[0] = 2.0\n    return np.sum(y**2) + np.sum(A * A)\n"
    text = s2sad.generate(source, "m.py", "f")
    assert "np.ravel(" not in text.split("# reverse")[0]
    A = np.arange(1.0, 5.0).reshape(2, 2)
    result = check(_compiled(source, "f"), _compiled(text, "grad_f"), (A,), [0], ["A"], directions=3)
    assert result, result.report()


def test_solve_triangular_never_uses_an_explicit_inverse():
    source = _HEADER + "def f(A, b):\n    return np.sum(scipy.linalg.solve_triangular(A, b, lower=True))\n"
    text = s2sad.generate(source, "m.py", "f")
    assert "inv(" not in text and text.count("solve_triangular(") >= 2


@pytest.mark.parametrize(
    "call, keyword, knows",
    [
        ("np.cross(a, b, axisa=0)", "axisa", "(it knows 'a', 'b')"),
        ("np.concatenate([a, b], dtype=float)", "dtype", "(it knows 'axis')"),
        ("np.stack((a, b), out=None, casting='no')", "casting", "(it knows 'axis')"),
        (
            "scipy.linalg.solve_triangular(a, b, unit_diagonal=True)",
            "unit_diagonal",
            "(it knows 'a', 'b', 'trans', 'lower')",
        ),
    ],
)
def test_an_unknown_keyword_names_the_keywords_the_rule_knows(call, keyword, knows):
    source = _HEADER + f"def f(a, b):\n    return np.sum({call})\n"
    with pytest.raises(s2sad.S2sadError) as err:
        s2sad.generate(source, "m.py", "f")
    text = str(err.value)
    assert f"does not know the keyword '{keyword}' {knows}" in text or "writes into an array in place" in text, text
    assert "x15" not in text  # the 16 forms of a join are shown as one


def test_a_join_of_a_list_that_is_not_a_display_is_refused_not_guessed():
    source = _HEADER + "def f(a, xs):\n    return np.sum(np.concatenate(xs) * a)\n"
    with pytest.raises(s2sad.S2sadError) as err:
        s2sad.generate(source, "m.py", "f")
    assert "numpy.concatenate([x0, x1, ...], axis) of a list or tuple display" in str(err.value)


def test_slogdet_and_eigh_unpacked():
    source = _HEADER + (
        "def f(A):\n    sign, logdet = np.linalg.slogdet(A)\n    w, V = np.linalg.eigh(A @ A.T)\n"
        "    return sign * logdet + np.sum(w * np.arange(3.0)) + np.sum(V**2 * np.arange(9.0).reshape(3, 3))\n"
    )
    text = s2sad.generate(source, "m.py", "f")
    A = _matrix(3, np.random.default_rng(5)) + np.diag([0.0, 0.5, 1.0])
    result = check(_compiled(source, "f"), _compiled(text, "grad_f"), (A,), [0], ["A"], directions=3)
    assert result, result.report()


def test_eigenvectors_of_a_repeated_eigenvalue_are_an_error_at_run_time():
    source = _HEADER + "def f(A):\n    w, V = np.linalg.eigh(A)\n    return np.sum(V[:, 0] ** 4)\n"
    grad = _compiled(s2sad.generate(source, "m.py", "f"), "grad_f")
    with pytest.raises(ValueError, match="not distinct"):
        grad(np.diag([1.0, 1.0, 2.0]))


def test_a_tuple_result_kept_in_a_name_is_refused():
    source = _HEADER + "def f(A):\n    t = np.linalg.eigh(A)\n    return np.sum(t[0])\n"
    with pytest.raises(s2sad.S2sadError):
        s2sad.generate(source, "m.py", "f")

"""Per-signature modules (s2sad/dispatch.py, s2sad/signatures.py): ``specialise=True`` on the API and the
decorator generates one module per signature of the arguments, checks the signature on every call, and
agrees with the generic module and with central finite differences."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
import numpy_catalogue
import pytest
from test_random_numpy import NumpyProgram

import s2sad
import s2sad.api
from s2sad import cache
from s2sad.dispatch import kind
from s2sad.shapes import FLOAT, INT, Array, Tuple
from s2sad.gradcheck import check
from s2sad.signatures import describe, giving, values_of

MODULE = '''\
"""Functions called with arguments of several kinds."""

from typing import Annotated

import numpy as np


def f(x, y):
    return np.sum(x * y + np.sin(x))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rnn(W, h0):
    h = h0
    for t in range(3):
        h = np.tanh(W @ h)
    return np.sum(h * h)


def stated(x: float, y):
    return np.sum(x * y)


def named(x: Annotated[np.ndarray, "n"], y):
    return np.sum(x * y)


def pair(p, w):
    a, b = p
    return np.sum(a * w + b * b)


def defaults(x, scale=2.0):
    return np.sum(scale * x * x)


def keyword(x, *, k):
    return np.sum(k * np.exp(x))


def vec(x):
    return x * 2.0 + np.sin(x)
'''

_names = count()


def _import(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"specialised_module_{next(_names)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def m(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("specialise") / "kinds.py"
    path.write_text(MODULE)
    return _import(path)


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call of the generator, recorded."""
    seen: list[str] = []
    generate = s2sad.api._generate

    def counting(source: str, path: str, name: str, **kwargs: Any) -> Any:
        seen.append(name)
        return generate(source, path, name, **kwargs)

    monkeypatch.setattr(s2sad.api, "_generate", counting)
    yield seen


def _numeric(f: Callable[..., Any], args: list[Any], i: int, eps: float = 1e-6) -> Any:
    """Central finite differences of ``f`` in its ``i``-th argument (a number or an array)."""
    x = args[i]
    if np.ndim(x) == 0:
        up, down = list(args), list(args)
        up[i], down[i] = x + eps, x - eps
        return (f(*up) - f(*down)) / (2 * eps)
    out = np.zeros(np.shape(x))
    for index in np.ndindex(np.shape(x)):
        up, down = list(args), list(args)
        up[i], down[i] = np.array(x, dtype=float), np.array(x, dtype=float)
        up[i][index] += eps
        down[i][index] -= eps
        out[index] = (f(*up) - f(*down)) / (2 * eps)
    return out


RNG = np.random.default_rng(0)
POINTS = {
    "rank 0, rank 0": [0.7, -1.3],
    "rank 1, rank 0": [RNG.normal(size=4), 0.5],
    "rank 1, rank 1": [RNG.normal(size=4), RNG.normal(size=4)],
    "rank 2, rank 1": [RNG.normal(size=(2, 4)), RNG.normal(size=4)],
    "rank 1, rank 2": [RNG.normal(size=4), RNG.normal(size=(3, 4))],
    "rank 2, rank 0": [RNG.normal(size=(3, 2)), 2.0],
    "0-d array, numpy scalar": [np.array(0.3), np.float64(1.5)],
}


# ------------------------------------------------------------------------------------------------------------
# Kinds and signatures
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        (1.5, "float"),
        (np.float32(1.5), "float"),
        (3, "int"),
        (np.int64(3), "int"),
        (np.uint8(3), "int"),
        (True, "bool"),
        (np.bool_(True), "bool"),
        (np.zeros(()), None),  # a 0-d array: mutable, unlike the numbers of the analysis
        (np.zeros(3), 1),
        (np.zeros((2, 3), dtype=int), 2),
        ((1.0, np.zeros(2), (3, True)), ("float", 1, ("int", "bool"))),
        ([1.0, 2.0], None),  # a list: no kind (it is mutable, and no value of the analysis)
        (np.asmatrix(np.eye(2)), None),  # a subclass of ndarray: '*' is another product
        (np.ma.masked_array([1.0]), None),
        (1 + 2j, None),
        ("text", None),
        ({"a": 1.0}, None),
    ],
    ids=repr,
)
def test_the_kind_of_an_argument(value: Any, expected: Any) -> None:
    assert kind(value) == expected


def test_kinds_give_ranks_with_dimensions_of_their_own() -> None:
    given = values_of(["x", "y", "p", "u"], [2, "int", (1, "float"), None])
    assert given == {
        "x": Array(2, ("x.shape[0]", "x.shape[1]")),
        "y": INT,
        "p": Tuple((Array(1, ("p[0].shape[0]",)), FLOAT)),
    }  # an unknown kind gives nothing
    assert values_of(["x"], [0]) == {}
    assert describe(given) == "x: an array of rank 2, y: int, p: (an array of rank 1, float)"


# ------------------------------------------------------------------------------------------------------------
# One module per signature, each right
# ------------------------------------------------------------------------------------------------------------
def test_a_scalar_call_and_an_array_call_get_different_modules(m: Any) -> None:
    g = s2sad.grad(m.rosenbrock, specialise=True)
    x = RNG.normal(size=6)
    vector = g.source(x)
    generic = s2sad.grad_source(m.rosenbrock)
    # x[1:] and x[:-1] are alike whatever x's rank (s2sad.shape_keys), so neither module sums anything back;
    # the rank is what the specialised module knows more of (test_known_ranks_give_the_textbook_matmul_adjoints)
    assert "unbroadcast" not in generic and "unbroadcast" not in vector
    assert "# Specialised" not in generic
    assert "# Specialised to calls passing x: an array of rank 1;" in vector
    assert vector != g.source(np.zeros((2, 3)))
    np.testing.assert_allclose(g(x), s2sad.grad(m.rosenbrock)(x))
    np.testing.assert_allclose(g(x), _numeric(m.rosenbrock, [x], 0), rtol=1e-5, atol=1e-6)


def test_known_ranks_give_the_textbook_matmul_adjoints(m: Any) -> None:
    g = s2sad.grad(m.rnn, specialise=True)
    W, h0 = RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=3)
    assert "matmul_adjoint_a" in s2sad.grad_source(m.rnn)
    text = g.source(W, h0)
    assert "matmul_adjoint" not in text and "np.outer(" in text
    for got, generic, i in zip(g(W, h0), s2sad.grad(m.rnn)(W, h0), range(2)):
        np.testing.assert_allclose(got, generic)
        np.testing.assert_allclose(got, _numeric(m.rnn, [W, h0], i), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("point", POINTS.values(), ids=POINTS.keys())
def test_each_signature_agrees_with_the_generic_module_and_finite_differences(m: Any, point: list[Any]) -> None:
    got = s2sad.grad(m.f, specialise=True)(*point)
    generic = s2sad.grad(m.f)(*point)
    for i in range(2):
        assert np.shape(got[i]) == np.shape(point[i])
        np.testing.assert_allclose(got[i], generic[i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got[i], _numeric(m.f, point, i), rtol=1e-5, atol=1e-6)


def test_a_new_signature_generates_again_and_a_known_one_does_not(m: Any, generations: list[str]) -> None:
    g = s2sad.grad(m.f, specialise=True)
    assert generations == []  # nothing before the first call
    g(1.0, 2.0)
    g(3.0, 4.0)
    assert generations == ["f"]
    g(np.ones(3), 2.0)
    g(np.zeros(5), 1.0)  # another size, the same signature
    assert generations == ["f", "f"]
    g(np.ones(3), np.ones(3))
    g(2.0, 1.0)
    assert generations == ["f", "f", "f"]
    assert sorted(g.sources) == sorted(
        ["x: float, y: float", "x: an array of rank 1, y: float", "x: an array of rank 1, y: an array of rank 1"]
    )


def test_the_signature_is_checked_on_every_call(m: Any) -> None:
    """A module specialised to scalars is never called with an array: each call reads the kinds again."""
    g = s2sad.grad(m.f, specialise=True)
    a = g(0.5, 2.0)
    b = g(np.full(3, 0.5), 2.0)
    assert np.shape(a[0]) == () and np.shape(b[0]) == (3,)
    np.testing.assert_allclose(b[1], 3 * a[1])


class Sub(np.ndarray):
    """An ndarray of another type: it could change any operator."""


def test_arguments_without_a_kind_get_the_generic_module(m: Any) -> None:
    g = s2sad.grad(m.f, specialise=True)
    assert g.source([0.5, 1.0], [2.0, 3.0]) == s2sad.grad_source(m.f)  # lists: no kind
    assert list(g.sources) == [""]
    point = [RNG.normal(size=3).view(Sub), 2.0]  # a subclass of ndarray: no kind
    np.testing.assert_allclose(g(*point)[0], s2sad.grad(m.f)(*point)[0])
    assert sorted(g.sources) == ["", "y: float"]
    x = np.asmatrix([[0.5, 1.0]])  # np.matrix: the generic module too
    assert g.source(x, 2.0) != g.source(np.array([[0.5, 1.0]]), 2.0)
    assert "x: an array" not in g.source(x, 2.0)


def test_tuples(m: Any) -> None:
    g = s2sad.grad(m.pair, specialise=True)
    w = RNG.normal(size=3)
    for p in [(RNG.normal(size=3), RNG.normal(size=3)), (0.5, -1.5)]:
        got, generic = g(p, w), s2sad.grad(m.pair)(p, w)
        for a, b in zip(got, generic):
            np.testing.assert_allclose(a, b)
        scalar = lambda p0, p1, w: m.pair((p0, p1), w)  # noqa: E731
        np.testing.assert_allclose(got[0][0], _numeric(scalar, [p[0], p[1], w], 0), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(got[1], _numeric(scalar, [p[0], p[1], w], 2), rtol=1e-5, atol=1e-7)
    assert sorted(g.sources) == [
        "p: (an array of rank 1, an array of rank 1), w: an array of rank 1",
        "p: (float, float), w: an array of rank 1",
    ]


def test_keywords_and_defaults(m: Any) -> None:
    g = s2sad.grad(m.defaults, specialise=True)
    x = RNG.normal(size=3)
    np.testing.assert_allclose(g(x)[0], 4.0 * x)
    np.testing.assert_allclose(g(x=x)[0], 4.0 * x)
    np.testing.assert_allclose(g(x, scale=3.0)[0], 6.0 * x)
    assert "x: an array of rank 1" in g.sources  # scale left to its default: unknown
    k = s2sad.grad(m.keyword, specialise=True)
    np.testing.assert_allclose(k(x, k=2.0), 2.0 * np.exp(x))  # k is keyword-only: not differentiated
    assert "x: an array of rank 1, k: float" in k.sources


# ------------------------------------------------------------------------------------------------------------
# Annotations and signatures
# ------------------------------------------------------------------------------------------------------------
def test_a_contradicting_annotation_is_refused_where_it_is(m: Any) -> None:
    g = s2sad.grad(m.stated, specialise=True)
    np.testing.assert_allclose(g(2.0, np.ones(3))[1], np.full(3, 2.0))  # agreeing: fine
    with pytest.raises(s2sad.S2sadError) as raised:
        g(np.ones(3), 2.0)
    (d,) = raised.value.diagnostics
    assert d.code == "annotation-contradicted"
    assert (
        d.path.endswith("kinds.py")
        and d.span is not None
        and d.span.line == MODULE.splitlines().index("def stated(x: float, y):") + 1
    )
    assert "'x' is annotated as float, but this call passes an array of rank 1" in d.message
    with pytest.raises(s2sad.S2sadError):
        s2sad.grad(m.named, specialise=True)(np.ones((2, 2)), 1.0)  # rank 1 annotated, rank 2 passed


def test_an_annotation_s_dimension_names_win_over_a_rank(m: Any) -> None:
    g = s2sad.grad(m.named, specialise=True)
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    text = g.source(x, y)
    assert "x: an array of rank 1, y: an array of rank 1" in text
    np.testing.assert_allclose(g(x, y)[0], y)
    np.testing.assert_allclose(g(x, y)[1], x)


# ------------------------------------------------------------------------------------------------------------
# Every mode
# ------------------------------------------------------------------------------------------------------------
def test_every_mode_accepts_specialise(m: Any) -> None:
    x, v = RNG.normal(size=3), RNG.normal(size=3)
    value, tangent = s2sad.jvp(m.vec, specialise=True)(x, v)
    generic = s2sad.jvp(m.vec)(x, v)
    np.testing.assert_allclose(value, generic[0])
    np.testing.assert_allclose(tangent, generic[1])
    np.testing.assert_allclose(s2sad.vjp(m.vec, specialise=True)(x, v), s2sad.vjp(m.vec)(x, v))
    np.testing.assert_allclose(s2sad.jacobian(m.vec, specialise=True)(x), s2sad.jacobian(m.vec)(x))
    np.testing.assert_allclose(s2sad.hvp(m.rosenbrock, specialise=True)(x, v), s2sad.hvp(m.rosenbrock)(x, v))
    np.testing.assert_allclose(s2sad.grad(m.rosenbrock, specialise=True)(x), s2sad.grad(m.rosenbrock)(x))
    value, gradient = s2sad.value_and_grad(m.rosenbrock, specialise=True)(x)
    assert value == pytest.approx(m.rosenbrock(x))
    np.testing.assert_allclose(gradient, s2sad.grad(m.rosenbrock)(x))
    for mode in s2sad.modes.MODES:
        assert getattr(s2sad, mode)(m.rosenbrock, specialise=True).__name__ == f"{mode}_rosenbrock"


# ------------------------------------------------------------------------------------------------------------
# The decorator and the on-disk cache
# ------------------------------------------------------------------------------------------------------------
DECORATED = """\
import numpy as np
import s2sad


@s2sad.gradient(specialise=True, modes=("grad", "jvp"))
def f(x, y):
    return np.sum(x * y + np.sin(x))
"""


@pytest.fixture
def on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generations: list[str]) -> Iterator[list[str]]:
    """The cache on, in a user folder of its own (as tests/test_cache.py sets it up)."""
    monkeypatch.setenv("S2SAD_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache._secret.cache_clear()
    yield generations
    cache._secret.cache_clear()
    cache._toolchain.cache_clear()


def _decorated(tmp_path: Path) -> Path:
    (tmp_path / "proj").mkdir(exist_ok=True)
    path = tmp_path / "proj" / "mod.py"
    path.write_text(DECORATED)
    return path


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "proj" / "__pycache__").glob("mod.f.s2sad-*.json"))


def test_the_decorator_generates_per_signature_and_caches_each_on_disk(tmp_path: Path, on_disk: list[str]) -> None:
    path = _decorated(tmp_path)
    first = _import(path)
    assert on_disk == [] and _entries(tmp_path) == []  # nothing generated at import
    x = RNG.normal(size=3)
    np.testing.assert_allclose(first.f.grad(x, 2.0)[0], 2.0 + np.cos(x))
    first.f.grad(0.5, 2.0)
    first.f.jvp(x, 2.0, x_dot=x, y_dot=1.0)
    assert on_disk == ["f", "f", "f"] and len(_entries(tmp_path)) == 3  # one entry per signature and mode
    texts = {json.loads(e.read_text())["text"] for e in _entries(tmp_path)}
    assert any("Specialised to calls passing x: float, y: float" in t for t in texts)
    second = _import(path)  # a fresh import: every signature seen before is a hit
    second.f.grad(x, 3.0)
    second.f.grad(0.25, 1.0)
    second.f.jvp(x, 2.0, x_dot=x, y_dot=1.0)
    assert on_disk == ["f", "f", "f"]
    assert second.f.grad.source(x, 3.0) == first.f.grad.source(x, 2.0)
    second.f.grad(np.ones((2, 3)), 1.0)  # a new signature
    assert on_disk == ["f", "f", "f", "f"] and len(_entries(tmp_path)) == 4


def test_a_second_process_reuses_the_entries(tmp_path: Path, on_disk: list[str]) -> None:
    path = _decorated(tmp_path)
    script = f"""
import importlib.util, sys
import numpy as np
import s2sad.api, s2sad.cache
spec = importlib.util.spec_from_file_location("mod", {str(path)!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(list(module.f.grad(np.ones(3), 2.0)[0]), module.f.grad(0.5, 2.0)[1])
print(s2sad.cache.stats["hits"], s2sad.cache.stats["misses"])
"""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"), S2SAD_CACHE="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True) for _ in "ab"]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout.splitlines()[1] == "0 2"  # two signatures generated
    assert runs[1].stdout.splitlines()[1] == "2 0"  # and both found by the next process
    assert runs[0].stdout.splitlines()[0] == runs[1].stdout.splitlines()[0]
    assert len(_entries(tmp_path)) == 2


# ------------------------------------------------------------------------------------------------------------
# Sweeps: the NumPy catalogue and random NumPy programs, specialised to their points' signatures
# ------------------------------------------------------------------------------------------------------------
_CATALOGUE = numpy_catalogue.CASES + numpy_catalogue.NOT_AUTOGRAD


@pytest.mark.parametrize("case", _CATALOGUE, ids=[c[0].__name__ for c in _CATALOGUE])
def test_the_numpy_catalogue_specialised(case: Any) -> None:
    fn, make, wrt = case
    args = make()
    got = s2sad.grad(fn, wrt=wrt, specialise=True)(*args)
    generic = s2sad.grad(fn, wrt=wrt)(*args)
    for a, b in zip(got if len(wrt) > 1 else (got,), generic if len(wrt) > 1 else (generic,)):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(0, 80, 2))
def test_random_numpy_programs_specialised(seed: int) -> None:
    """As tests/test_random_numpy.py, with the module specialised to the point's signature: ``c`` of shape
    (3, 1) broadcasts against ``A``, which its rank alone must not hide."""
    source = NumpyProgram(seed).source()
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<numpy program {seed}>", "exec"), namespace)
    rng = np.random.default_rng(seed)
    args = (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(3, 1)), float(rng.normal()))
    given = values_of(["A", "v", "c", "s"], [kind(a) for a in args])
    with giving("f", given):
        text = s2sad.generate(source, f"np_{seed}.py", "f", wrt=("A", "v", "c", "s"))
    generated: dict[str, Any] = {}
    exec(compile(text, "<grad>", "exec"), generated)
    grads = generated["grad_f"](*args)
    for g, a in zip(grads, args):
        assert np.shape(g) == np.shape(a), source
    result = check(namespace["f"], generated["grad_f"], args, [0, 1, 2, 3], ["A", "v", "c", "s"], rtol=1e-5, atol=1e-7)
    assert result, result.report() + "\n" + source

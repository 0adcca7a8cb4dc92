"""A tuple parameter whose items differ in shape (an array and a number): its adjoint is a tuple with one
entry per item (an array's for an array, a number's for a number), as autograd and JAX give, in grad, vjp and
hvp; jvp takes its tangent as such a tuple. Checked against autograd's gradient and central differences."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pytest

from s2sad import modes

autograd = pytest.importorskip("autograd")
import autograd.numpy as anp  # noqa: E402

PROGRAMS = {
    "array-number-unpacked": (
        """
        def f(p, w):
            a, b = p
            return np.sum(a * w) + b * w[0]
        """,
        ((np.array([1.0, 2.0]), 3.0), np.array([0.5, 0.25])),
    ),
    "array-number-indexed": (
        """
        def f(p, w):
            return np.sum(p[0] * w) + p[1] * w[0]
        """,
        ((np.array([1.0, 2.0]), 3.0), np.array([0.5, 0.25])),
    ),
    "number-array": (
        """
        def f(w, p):
            b, a = p
            return np.sum(np.sin(a) * w) + b ** 2 * w[1]
        """,
        (np.array([0.5, 0.25]), (3.0, np.array([1.0, 2.0]))),
    ),
    "nested": (
        """
        def f(p, w):
            ab, c = p
            a, b = ab
            return np.sum(a * w) + b * c * w[1]
        """,
        (((np.array([1.0, 2.0]), 3.0), 0.7), np.array([0.5, 0.25])),
    ),
    "items-in-a-loop": (
        """
        def f(p, w):
            s = 0.0
            for i in range(len(p)):
                s = s + np.sum(p[i] * w)
            return s
        """,
        ((np.array([1.0, 2.0]), np.array([3.0, 1.0]), 2.0), np.array([0.5, 0.25])),
    ),
    "in-a-branch": (
        """
        def f(p, w):
            if w[0] > 0:
                a = p[0]
            else:
                a = p[1]
            return np.sum(a * w) * p[1]
        """,
        ((np.array([1.0, 2.0]), 3.0), np.array([0.5, 0.25])),
    ),
    "unpacked-in-a-loop": (
        """
        def f(p, w):
            s = 0.0
            for k in range(3):
                a, b = p
                s = s + np.sum(a * w) * b * k
            return s
        """,
        ((np.array([1.0, 2.0]), 3.0), np.array([0.5, 0.25])),
    ),
    "through-a-helper": (
        """
        def h(q):
            a, b = q
            return np.sum(a ** 2) * b
        def f(p, w):
            return h(p) + np.sum(w * p[0])
        """,
        ((np.array([1.0, 2.0]), 3.0), np.array([0.5, 0.25])),
    ),
    "only-a-helper-reads-it": (
        """
        def h(q):
            a, b = q
            return np.sum(np.cos(a)) * b
        def f(p, w):
            return h(p) * np.sum(w)
        """,
        ((np.array([1.0, 2.0]), 3.0), np.array([0.5, 0.25])),
    ),
}


def _source(name: str, numpy: str = "numpy") -> str:
    return f"import {numpy} as np\n" + textwrap.dedent(PROGRAMS[name][0])


def _generated(name: str, mode: str) -> Any:
    text = modes.get(mode).generate(_source(name), "m.py", "f", None, None, None).text
    space: dict[str, Any] = {}
    exec(compile(text, "<generated>", "exec"), space)
    return space[f"{modes.get(mode).prefix}f"]


def _user(name: str) -> Any:
    space: dict[str, Any] = {}
    exec(compile(_source(name, "autograd.numpy"), "m.py", "exec"), space)
    return space["f"]


def _leaves(t: Any) -> list[np.ndarray]:
    if isinstance(t, (tuple, list)):
        return [x for item in t for x in _leaves(item)]
    return [np.asarray(t, dtype=float)]


def _kinds(t: Any) -> Any:
    """The structure of a value: tuples as tuples, an array as its shape, a number (or a 0-d array, as
    autograd gives for one) as 'number'."""
    if isinstance(t, (tuple, list)):
        return tuple(_kinds(item) for item in t)
    return np.shape(t) if np.ndim(t) else "number"


def _same(got: Any, expected: Any) -> None:
    assert _kinds(got) == _kinds(expected), (got, expected)
    for a, b in zip(_leaves(got), _leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _moved(t: Any, d: Any, h: float) -> Any:
    if isinstance(t, tuple):
        return tuple(_moved(a, b, h) for a, b in zip(t, d))
    return t + h * d


def _direction(t: Any, rng: np.random.Generator) -> Any:
    if isinstance(t, tuple):
        return tuple(_direction(item, rng) for item in t)
    return rng.standard_normal(np.shape(t)) if isinstance(t, np.ndarray) else float(rng.standard_normal())


def _expected(name: str) -> tuple[Any, ...]:
    f, at = _user(name), PROGRAMS[name][1]
    return tuple(autograd.grad(f, i)(*at) for i in range(len(at)))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_is_a_tuple_like_autograds(name: str) -> None:
    _same(_generated(name, "grad")(*PROGRAMS[name][1]), _expected(name))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_grad_agrees_with_central_differences(name: str) -> None:
    f, at = _user(name), PROGRAMS[name][1]
    got = _generated(name, "grad")(*at)
    rng = np.random.default_rng(1)
    for _ in range(3):
        d = tuple(_direction(x, rng) for x in at)
        h = 1e-6
        slope = (f(*_moved(at, d, h)) - f(*_moved(at, d, -h))) / (2 * h)
        dot = sum(float(np.sum(a * b)) for a, b in zip(_leaves(got), _leaves(d)))
        assert np.isclose(dot, slope, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_vjp_is_a_tuple_like_autograds(name: str) -> None:
    got = _generated(name, "vjp")(*PROGRAMS[name][1], 2.0)
    _same(got, tuple(_scaled(e, 2.0) for e in _expected(name)))


def _scaled(t: Any, c: float) -> Any:
    return tuple(_scaled(x, c) for x in t) if isinstance(t, tuple) else t * c


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_jvp_takes_a_tuple_tangent(name: str) -> None:
    at = PROGRAMS[name][1]
    d = tuple(_direction(x, np.random.default_rng(2)) for x in at)
    _, tangent = _generated(name, "jvp")(*at, *d)
    expected = sum(float(np.sum(a * b)) for a, b in zip(_leaves(_expected(name)), _leaves(d)))
    assert np.isclose(tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_hvp_is_a_tuple_of_central_differences_of_the_gradient(name: str) -> None:
    f, at = _user(name), PROGRAMS[name][1]
    d = tuple(_direction(x, np.random.default_rng(3)) for x in at)
    got = _generated(name, "hvp")(*at, *d)

    def gradient(*args: Any) -> tuple[Any, ...]:
        return tuple(autograd.grad(f, i)(*args) for i in range(len(args)))

    h = 1e-5
    up, down = gradient(*_moved(at, d, h)), gradient(*_moved(at, d, -h))
    expected = tuple(_scaled(_moved(u, v, -1.0), 1 / (2 * h)) for u, v in zip(up, down))
    assert _kinds(got) == _kinds(expected)
    for a, b in zip(_leaves(got), _leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_an_array_of_rows_still_gets_an_array() -> None:
    """A 2-D array read row by row: zeros_of is np.zeros of its shape, the gradient an array."""
    source = "import numpy as np\ndef f(p, w):\n    return np.sum(p[0] * w) + np.sum(p[1] ** 2)\n"
    text = modes.get("grad").generate(source, "m.py", "f", None, None, None).text
    space: dict[str, Any] = {}
    exec(compile(text, "<generated>", "exec"), space)
    p, w = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, 0.25])
    p_bar, _ = space["grad_f"](p, w)
    assert isinstance(p_bar, np.ndarray) and p_bar.dtype == float
    np.testing.assert_allclose(p_bar, [[0.5, 0.25], [6.0, 8.0]])


def test_a_list_gets_a_list() -> None:
    source = "def f(xs):\n    s = 0.0\n    for i in range(len(xs)):\n        s = s + xs[i] ** 3\n    return s\n"
    text = modes.get("grad").generate(source, "m.py", "f", None, None, None).text
    space: dict[str, Any] = {}
    exec(compile(text, "<generated>", "exec"), space)
    got = space["grad_f"]([1.0, 2.0])
    assert isinstance(got, list) and np.allclose(got, [3.0, 12.0])
    np.testing.assert_allclose(space["grad_f"](np.array([1.0, 2.0])), [3.0, 12.0])

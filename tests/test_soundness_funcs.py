"""Soundness of helpers and calls as numerical code writes them (issue 13, items 2, 4, 6, 7, 8): helpers that
return several values, unpacking, keyword-only parameters, keyword arguments and defaults, ``is None``, nested
functions and lambdas, dictionaries of parameters, decorators.

Every row is differentiated correctly (against central finite differences of the user's own function) or
refused with a located diagnostic: never a silently wrong gradient.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from soundness import Case, verdict

_HEADER = "import math\nimport numpy as np\n\n\n"


def case(
    id: str,
    body: str,
    at: tuple,
    expect: str = "correct",
    code: str | None = None,
    family: str = "",
    wrt: tuple[str, ...] | None = None,
    target: str = "m.py::f",
) -> Case:
    files = {"m.py": _HEADER + textwrap.dedent(body)}
    return Case(id, files, at, target=target, expect=expect, code=code, family=family, wrt=wrt)


TUPLES = [
    case(
        "helper-two-values-unpacked",
        """
        def moments(x, y):
            s = x + y
            return s * s, math.sin(x) * y

        def f(x, y):
            a, b = moments(x, y)
            return a * b
        """,
        (0.3, 0.7),
    ),
    case(
        "helper-values-into-a-tuple-variable",
        """
        def moments(x, y):
            return x * y, x - y, math.exp(y)

        def f(x, y):
            t = moments(x, y)
            return t[0] * t[2] - t[1]
        """,
        (0.3, 0.7),
    ),
    case(
        "helper-value-indexed-directly",
        """
        def moments(x, y):
            return x * y, math.cos(x)

        def f(x, y):
            return moments(x, y)[1] * moments(y, x)[0]
        """,
        (0.3, 0.7),
    ),
    case(
        "helper-one-value-unused",
        """
        def split(x):
            return x * x, 3.0

        def f(x):
            a, b = split(x)
            return a
        """,
        (1.3,),
    ),
    case(
        "helper-values-swap-arguments",
        """
        def step(x, y):
            return y, x * y + 0.5

        def f(x, y):
            for i in range(3):
                x, y = step(x, y)
            return x + y * y
        """,
        (0.3, 0.7),
    ),
    case(
        "helper-returns-a-tuple-variable",
        """
        def pair(x):
            t = (x * 2.0, x + 1.0)
            return t

        def f(x):
            a, b = pair(x)
            return a * b
        """,
        (0.4,),
    ),
    case(
        "helper-passes-on-another-helpers-values",
        """
        def inner(x):
            return math.sin(x), math.cos(x)

        def outer(x):
            return inner(x * 2.0)

        def f(x):
            s, c = outer(x)
            return s * c
        """,
        (0.4,),
    ),
    case(
        "helper-values-numpy",
        """
        def affine(W, x, b):
            z = W @ x + b
            return np.tanh(z), np.sum(z * z)

        def f(W, x, b):
            h, r = affine(W, x, b)
            return np.sum(h) + 0.1 * r
        """,
        (np.array([[0.1, 0.2], [0.3, -0.4]]), np.array([0.5, -0.2]), np.array([0.1, 0.3])),
    ),
    case(
        "helper-state-tuple-rk4",
        """
        def deriv(p, v, k):
            return v, -k * p

        def f(p, v, k):
            h = 0.1
            for i in range(4):
                a1, b1 = deriv(p, v, k)
                a2, b2 = deriv(p + 0.5 * h * a1, v + 0.5 * h * b1, k)
                a3, b3 = deriv(p + 0.5 * h * a2, v + 0.5 * h * b2, k)
                a4, b4 = deriv(p + h * a3, v + h * b3, k)
                p = p + h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
                v = v + h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
            return p * p + v
        """,
        (1.0, 0.2, 2.0),
    ),
    case(
        "unpack-a-parameter",
        """
        def f(abc, x):
            a, b, c = abc
            return a * x * x + b * x + c
        """,
        (np.array([0.5, -1.0, 2.0]), 0.7),
    ),
    case(
        "unpack-a-parameter-rows",
        """
        def f(pts):
            p, q = pts
            return np.sum((p - q) ** 2)
        """,
        (np.array([[0.5, -1.0], [2.0, 0.3]]),),
    ),
    case(
        "unpack-a-parameter-tuple-no-numpy",
        """
        def f(ab, x):
            a, b = ab
            return a * x + b * b
        """,
        ((0.5, -1.0), 0.7),
    ),
    # hostile: a value that is itself a tuple, the tuple result used as one value, a length mismatch
    case(
        "helper-value-is-a-tuple",
        """
        def nested(x):
            return (x, x * x), 2.0 * x

        def f(x):
            p, c = nested(x)
            return p[0] * c + p[1]
        """,
        (0.4,),
        expect="refused",
    ),
    case(
        "helper-values-from-another-file-into-a-name",
        """
        from lib import pair

        def f(x):
            t = pair(x)
            return t[0] * t[1]
        """,
        (0.4,),
        expect="refused",
    ),
    case(
        "helper-values-used-as-one-value",
        """
        def pair(x):
            return x, x * x

        def f(x):
            return pair(x) * 2.0
        """,
        (0.4,),
        expect="refused",
        code="unsupported-syntax",
    ),
    case(
        "helper-values-wrong-count",
        """
        def pair(x):
            return x, x * x

        def f(x):
            a, b, c = pair(x)
            return a
        """,
        (0.4,),
        expect="refused",
        code="unsupported-syntax",
    ),
    case(
        "target-returns-a-tuple",
        """
        def f(x):
            return x, x * x
        """,
        (0.4,),
        expect="refused",
        code="non-scalar-return",
    ),
]

CALLS = [
    case(
        "keyword-only-parameter-on-the-target",
        """
        def f(x, *, k=2.0):
            return k * x * x
        """,
        (0.7,),
    ),
    case(
        "keyword-only-parameter-asked-for",
        """
        def f(x, y, *, k=2.0):
            return k * x * y
        """,
        (0.7, 1.1),
        wrt=("y", "x"),
    ),
    case(
        "helper-keyword-arguments-and-defaults",
        """
        def scale(x, w=1.0, *, p=2.0):
            return w * x ** p

        def f(x, y):
            return scale(x) + scale(x, y, p=3.0) * scale(w=y, x=x)
        """,
        (0.5, 1.3),
    ),
    case(
        "helper-none-default-decided-at-each-call",
        """
        def scale(x, w=None):
            if w is None:
                w = 1.0
            return w * x * x

        def f(x, y):
            return scale(x) + scale(x, y) * scale(x, w=None)
        """,
        (0.5, 1.3),
    ),
    case(
        "target-none-default",
        """
        def f(x, w=None):
            if w is not None:
                x = x * w
            return math.sin(x)
        """,
        (0.5,),
        wrt=("x",),
    ),
    case(
        "is-none-on-a-differentiated-value",
        """
        def f(x):
            y = x * x
            if x is None:
                y = 0.0 * x
            return y
        """,
        (0.5,),
    ),
    case(
        "is-none-on-a-differentiated-value-in-a-helper",
        """
        def h(x, y):
            if y is None:
                y = x
            return x * y

        def f(x):
            return h(x, None) + h(x, x)
        """,
        (0.5,),
    ),
    # hostile: identity with something else than None, defaults that are objects
    case(
        "is-with-a-number",
        """
        def f(x):
            y = x
            if y is x:
                y = 2.0 * x
            return y
        """,
        (0.5,),
        expect="refused",
        code="unsupported-syntax",
    ),
    case(
        "mutable-default",
        """
        def h(x, acc=[]):
            return x * 2.0

        def f(x):
            return h(x)
        """,
        (0.5,),
        expect="refused",
    ),
    case(
        "array-default",
        """
        def h(x, w=np.ones(3)):
            return np.sum(w * x)

        def f(x):
            return h(x)
        """,
        (0.5,),
        expect="refused",
    ),
    case(
        "none-default-used-in-arithmetic-refused-at-run-time",
        """
        def f(x, w=None):
            return x * 2.0
        """,
        (0.5,),
    ),
]

NESTED = [
    case(
        "nested-def-closure-kmeans",
        """
        def cost(X, C):
            def dist(a, b):
                d = a - b
                return np.sum(d * d)
            total = 0.0
            for i in range(3):
                total = total + dist(X[i], C[i % 2])
            return total
        """,
        (np.array([[0.1, 0.2], [0.3, -0.4], [1.0, 0.5]]), np.array([[0.0, 0.1], [0.5, 0.5]])),
        target="m.py::cost",
    ),
    case(
        "nested-def-free-variable",
        """
        def f(x, w):
            s = w * 2.0
            def g(a):
                return math.sin(a) * s + w
            return g(x) * g(x * x)
        """,
        (0.3, 0.7),
    ),
    case(
        "lambda-bound-to-a-name",
        """
        def f(x, w):
            sq = lambda a, b: a * a * b + w
            return sq(x, 2.0) + sq(w, x)
        """,
        (0.3, 0.7),
    ),
    case(
        "lambda-parameter-named-like-a-tuple",
        """
        def f(x, y):
            t = (x, y)
            g = lambda t: t * 2.0
            return g(x) + t[1] * t[0]
        """,
        (0.3, 0.7),
    ),
    case(
        "nested-def-closure-over-a-variable-reassigned-later",
        """
        def f(x):
            k = 2.0
            def g(a):
                return a * k
            y = g(x)
            k = x * x
            return y + g(x)
        """,
        (0.3,),
    ),
    case(
        "nested-def-in-a-loop-variable",
        """
        def f(x):
            total = 0.0
            def g(a):
                return a * i
            for i in range(3):
                total = total + g(x)
            return total
        """,
        (0.3,),
    ),
    case(
        "lifted-name-collides-with-a-top-level-function",
        """
        def g(a):
            return a * a * a

        def h(x):
            return g(x) + 1.0

        def f(x):
            def g(a):
                return 2.0 * a
            return g(x) * h(x)
        """,
        (0.3,),
    ),
    case(
        "lifted-name-collides-with-a-variable",
        """
        def f(x):
            def g(a):
                return 2.0 * a
            g_2 = g(x)
            return g_2 * x
        """,
        (0.3,),
    ),
    case(
        "nested-def-in-nested-def",
        """
        def f(x, w):
            def outer(a):
                def inner(b):
                    return b * w
                return inner(a) + a
            return outer(x) * x
        """,
        (0.3, 0.7),
    ),
    # hostile: nonlocal, used as a value, defined in a branch, before its definition, recursion, rebinding
    case(
        "nested-def-nonlocal",
        """
        def f(x):
            k = 1.0
            def g(a):
                nonlocal k
                k = a
                return a * 2.0
            y = g(x)
            return y * k
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "nested-def-used-as-a-value",
        """
        def f(x):
            def g(a):
                return a * 2.0
            h = g
            return h(x)
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "nested-def-in-a-branch",
        """
        def f(x):
            if x > 0:
                def g(a):
                    return a * 2.0
            else:
                def g(a):
                    return a * 3.0
            return g(x)
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "nested-def-called-before-definition",
        """
        def f(x):
            y = g(x)
            def g(a):
                return a * 2.0
            return y
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "nested-def-recursive",
        """
        def f(x):
            def g(a):
                return g(a - 1.0) if a > 0 else a
            return g(x)
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "lambda-recursive",
        """
        def f(x):
            g = lambda a: g(a) * 2.0
            return g(x)
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "nested-def-rebound",
        """
        def f(x):
            def g(a):
                return a * 2.0
            y = g(x)
            g = 3.0
            return y * g
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "nested-def-calls-a-sibling",
        """
        def f(x):
            def g(a):
                return a * 2.0
            def h(a):
                return g(a) + 1.0
            return h(x)
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "nested-def-free-variable-assigned-after-the-call",
        """
        def f(x):
            def g(a):
                return a * k
            y = g(x)
            k = 2.0
            return y
        """,
        (0.3,),
        expect="refused",
    ),
    case(
        "lambda-passed-on",
        """
        def f(x):
            return max(x, x * 2.0, key=lambda v: -v)
        """,
        (0.3,),
        expect="refused",
    ),
]

DICTS = [  # the correct ones are below (the harness's finite differences take arrays, not dictionaries)
    case(
        "dict-key-not-a-literal",
        """
        def f(params, x):
            k = "w"
            return params[k] * x
        """,
        ({"w": 2.0}, 0.5),
        expect="refused",
    ),
    case(
        "dict-written-into",
        """
        def f(params, x):
            params["w"] = x
            return params["w"] * x
        """,
        ({"w": 2.0}, 0.5),
        expect="refused",
    ),
    case(
        "dict-passed-to-a-helper",
        """
        def h(p, x):
            return p["w"] * x

        def f(params, x):
            return h(params, x) + params["w"]
        """,
        ({"w": 2.0}, 0.5),
        expect="refused",
    ),
    case(
        "dict-iterated",
        """
        def f(params, x):
            total = x
            for k in params:
                total = total * params["w"]
            return total
        """,
        ({"w": 2.0}, 0.5),
        expect="refused",
    ),
]

DECORATORS = [
    case(
        "cache-on-a-helper",
        """
        import functools

        @functools.cache
        def h(x):
            return math.sin(x) * x

        def f(x, y):
            return h(x) * y
        """,
        (0.3, 0.7),
    ),
    case(
        "lru-cache-on-the-target",
        """
        from functools import lru_cache

        @lru_cache(maxsize=None)
        def f(x, y):
            return math.exp(x) * y
        """,
        (0.3, 0.7),
    ),
    # hostile: a decorator that changes the result, wraps, an option that may change the result
    case(
        "decorator-doubling-the-result",
        """
        def double(fn):
            return lambda *a: 2.0 * fn(*a)

        @double
        def h(x):
            return x * x

        def f(x):
            return h(x)
        """,
        (0.3,),
        expect="refused",
        code="unsupported-decorator",
    ),
    case(
        "decorator-with-wraps",
        """
        import functools

        def logged(fn):
            @functools.wraps(fn)
            def inner(*a):
                return fn(*a) + 1.0
            return inner

        @logged
        def f(x):
            return x * x
        """,
        (0.3,),
        expect="refused",
        code="unsupported-decorator",
    ),
    case(
        "numba-fastmath",
        """
        import numba

        @numba.njit(fastmath=True)
        def f(x):
            return x * x
        """,
        (0.3,),
        expect="refused",
        code="unsupported-decorator",
    ),
    case(
        "numba-signature",
        """
        from numba import njit

        @njit("f8(f8)")
        def h(x):
            return x * x

        def f(x):
            return h(x)
        """,
        (0.3,),
        expect="refused",
        code="unsupported-decorator",
    ),
    case(
        "cache-rebound-name",
        """
        import functools

        cache = lambda fn: fn

        @cache
        def f(x):
            return x * x
        """,
        (0.3,),
        expect="refused",
    ),
]

for _row, _c in enumerate(TUPLES):
    if _c.id == "helper-values-from-another-file-into-a-name":
        TUPLES[_row] = Case(
            _c.id, {**_c.files, "lib.py": "def pair(x):\n    return x, x * x\n"}, _c.at, expect="refused"
        )

CASES = TUPLES + CALLS + NESTED + DICTS + DECORATORS


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_soundness_funcs(case: Case, tmp_path) -> None:
    verdict(case, tmp_path)


def test_unpacking_a_parameter_of_another_length_raises_as_python_does(tmp_path) -> None:
    import s2sad

    (tmp_path / "m.py").write_text("def f(abc):\n    a, b = abc\n    return a * b\n")
    grad = s2sad.api.compile_gradient((tmp_path / "m.py").read_text(), str(tmp_path / "m.py"), "f")
    with pytest.raises(ValueError, match="cannot unpack 'abc' into 2 names"):
        grad(np.array([0.5, -1.0, 2.0]))
    assert np.allclose(grad(np.array([0.5, -1.0])), [-1.0, 0.5])


_MLP = """
import numpy as np


def loss(params, x, y):
    h = np.tanh(params["W1"] @ x + params["b1"])
    out = params["W2"] @ h + params["b2"]
    return np.sum((out - y) ** 2) * params["scale"]
"""


def _dict_fd(f, params, *rest, eps=1e-6):
    out = {}
    for key, value in params.items():
        value = np.asarray(value, dtype=float)
        grad = np.zeros_like(value)
        for k in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[k] += eps
            down[k] -= eps
            grad[k] = (f({**params, key: up}, *rest) - f({**params, key: down}, *rest)) / (2 * eps)
        out[key] = grad
    return out


def test_dict_parameter_gradient_is_a_dict_with_the_same_keys(tmp_path) -> None:
    import autograd
    import autograd.numpy as anp

    import s2sad

    (tmp_path / "m.py").write_text(_MLP)
    grad = s2sad.api.compile_gradient(_MLP, str(tmp_path / "m.py"), "loss", wrt=["params"])
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.normal(size=(3, 2)),
        "b1": rng.normal(size=3),
        "W2": rng.normal(size=(1, 3)),
        "b2": rng.normal(size=1),
        "scale": 0.7,
        "unused": np.ones(2),
    }
    x, y = rng.normal(size=2), rng.normal(size=1)
    got = grad(params, x, y)
    namespace: dict = {}
    exec(_MLP, namespace)
    expected = _dict_fd(namespace["loss"], params, x, y)

    def same(p, x, y):
        h = anp.tanh(p["W1"] @ x + p["b1"])
        return anp.sum((p["W2"] @ h + p["b2"] - y) ** 2) * p["scale"]

    reference = autograd.grad(same)(params, x, y)
    assert set(got) == set(params)
    for key in params:
        assert np.allclose(got[key], expected[key], rtol=1e-5, atol=1e-6), key
        assert np.allclose(got[key], reference[key]), key
        assert np.shape(got[key]) == np.shape(params[key])


def test_dict_parameter_by_default_and_with_other_parameters(tmp_path) -> None:
    import s2sad

    source = _MLP.replace('params["scale"]', 'params["scale"] * s').replace("(params, x, y)", "(params, x, y, s)")
    grad = s2sad.api.compile_gradient(source, str(tmp_path / "m.py"), "loss")
    assert grad.__s2sad_wrt__ == ["params", "x", "y", "s"]
    params = {"W1": np.eye(2), "b1": np.zeros(2), "W2": np.ones((1, 2)), "b2": np.zeros(1), "scale": 2.0}
    g_params, g_x, g_y, g_s = grad(params, np.array([0.1, 0.2]), np.array([0.3]), 1.5)
    namespace: dict = {}
    exec(source, namespace)
    expected = _dict_fd(namespace["loss"], params, np.array([0.1, 0.2]), np.array([0.3]), 1.5)
    assert all(np.allclose(g_params[k], expected[k], atol=1e-6) for k in params)


# ------------------------------------------------------------------------------------------------------------
# Diagnostics: what the messages say, and every problem in one run
# ------------------------------------------------------------------------------------------------------------
def _refusal(tmp_path, files: dict[str, str], target: str = "m.py::f") -> str:
    from soundness import run_cli, write_project

    write_project(Case("diagnostics", files, ()), tmp_path)
    outcome = run_cli(["grad", target], tmp_path)
    assert outcome.status == 2, outcome.stderr
    assert "Traceback" not in outcome.stderr
    return outcome.stderr


def test_a_keyword_call_to_a_function_without_a_rule_says_no_rule(tmp_path) -> None:
    stderr = _refusal(tmp_path, {"m.py": "import numpy as np\n\n\ndef f(x):\n    return np.sinc(x, k=2)\n"})
    assert "[no-rule]" in stderr and "keyword" not in stderr.split("help:")[0], stderr
    assert "numpy ufuncs" in stderr and "math module" not in stderr, stderr


def test_a_keyword_the_rule_does_not_take_is_no_rule_naming_it(tmp_path) -> None:
    stderr = _refusal(tmp_path, {"m.py": "import numpy as np\n\n\ndef f(x):\n    return np.sum(x, dtype=float)\n"})
    assert "does not know the keyword 'dtype'" in stderr, stderr


def test_unpacking_a_call_without_several_values_names_the_call(tmp_path) -> None:
    stderr = _refusal(tmp_path, {"m.py": "import math\n\n\ndef f(x):\n    a, b = math.sin(x)\n    return a * b\n"})
    assert "unpacking the result of a call" in stderr, stderr


def test_every_problem_of_the_target_and_its_helpers_in_one_run(tmp_path) -> None:
    main = """
import math
from lib import outer


def h1(x):
    return math.frob(x) + 1.0


def h2(x):
    return x * h3(x)


def h3(x):
    return math.gamma2(x)


def f(x):
    return h1(x) + h2(x) + outer(x) + math.nope(math.zap(x))
"""
    lib = (
        "import math\n\n\ndef inner(x):\n    return math.zzz(x)\n\n\ndef outer(x):\n    return inner(x) * math.yyy(x)\n"
    )
    stderr = _refusal(tmp_path, {"m.py": main, "lib.py": lib})
    for name in ("frob", "gamma2", "nope", "zap", "zzz", "yyy"):
        assert f"'math.{name}'" in stderr, stderr
    assert "found 6 errors" in stderr, stderr


def test_every_helper_checked_in_one_run(tmp_path) -> None:
    main = """
import math


def g(x):
    return math.floor(x) * x


def h(x):
    return math.ceil(x) * x


def f(x):
    return g(x) * h(x)
"""
    stderr = _refusal(tmp_path, {"m.py": main})
    assert "'floor'" in stderr and "'ceil'" in stderr, stderr


_RNN = """import functools
import numpy as np


@functools.lru_cache(maxsize=None)
def scale_of(k):
    return 1.0 / k


def gates(W, b, x, h):
    z = W[:, :2] @ x + W[:, 2:] @ h + b
    return 1.0 / (1.0 + np.exp(-z[:2])), np.tanh(z[2:])


def loss(params, xs, *, reg=None):
    h = np.zeros(2)
    W = params["W"]
    b = params["b"]
    act = lambda v: np.tanh(v) * scale_of(2.0)
    def cell(x, h):
        i, g = gates(W, b, x, h)
        return i * g + h
    total = 0.0
    for t in range(3):
        h = act(cell(xs[t], h))
        total = total + np.sum(h * h)
    if reg is not None:
        total = total + reg * np.sum(params["W"] ** 2)
    return total
"""


@pytest.mark.parametrize("reg", [0.1, None])
def test_a_recurrent_cell_with_every_construct_at_once(tmp_path, reg) -> None:
    """A dictionary of parameters, a keyword-only None default, a lambda, a nested function closing over
    entries, a helper returning two gates, a cached helper: against finite differences."""
    import s2sad

    grad = s2sad.api.compile_gradient(_RNN, str(tmp_path / "model.py"), "loss", wrt=["params"])
    namespace: dict = {}
    exec(_RNN, namespace)
    rng = np.random.default_rng(1)
    params = {"W": rng.normal(size=(4, 4)) * 0.5, "b": rng.normal(size=4)}
    xs = rng.normal(size=(3, 2))
    got = grad(params, xs, reg=reg)
    expected = _dict_fd(lambda p: namespace["loss"](p, xs, reg=reg), params)
    assert set(got) == {"W", "b"}
    for key in params:
        assert np.allclose(got[key], expected[key], rtol=1e-5, atol=1e-6), key

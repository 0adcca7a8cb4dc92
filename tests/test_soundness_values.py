"""Soundness of values: containers (tuples), aliasing and in-place updates, NumPy semantics at the edges.

Every row is a program that s2sad must differentiate correctly (against central finite differences of the
user's own function) or refuse with a located diagnostic: never a silently wrong gradient (issue 10, families
5 to 7). The sweep at the end calls every builtin and every rule of the table with a differentiated argument
in every position.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from soundness import Case, finite_differences, gradient_function, run_cli, verdict, write_project

_HEADER = "import math\nimport numpy as np\n\n\n"


def case(
    id: str,
    body: str,
    at: tuple,
    expect: str = "correct",
    code: str | None = None,
    family: str = "",
    wrt: tuple[str, ...] | None = None,
    header: str = _HEADER,
) -> Case:
    return Case(id, {"m.py": header + textwrap.dedent(body)}, at, wrt=wrt, expect=expect, code=code, family=family)


def vec(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


_rng = np.random.default_rng(10)


def randn(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape)


# ------------------------------------------------------------------------------------------------------------
# Family 5: values that are containers
# ------------------------------------------------------------------------------------------------------------
_SCALAR = "import math\n\n\n"
CONTAINERS = [
    case("issue-index", "def f(x):\n    t = (x, 2.0 * x)\n    return t[1] * x\n", (0.3,), header=_SCALAR),
    case("issue-max", "def f(x):\n    t = (3.0 * x, x * x)\n    return max(t[0], t[1]) + x\n", (0.3,), header=_SCALAR),
    case("negative-index", "def f(x):\n    t = (x, 2.0 * x, x * x)\n    return t[-1] * t[-3]\n", (0.3,)),
    case("unpack", "def f(x):\n    t = (math.sin(x), x * x)\n    a, b = t\n    return a * b\n", (0.3,)),
    case("unpack-display", "def f(x, y):\n    a, b = x * y, x + y\n    return a * b\n", (0.3, 0.7)),
    case(
        "swap-in-loop",
        "def f(x):\n    t = (x, 2.0 * x)\n    for i in range(3):\n        t = (t[1], t[0] * x)\n    return t[0] + t[1]\n",
        (0.3,),
    ),
    case(
        "tuple-in-branch",
        "def f(x):\n    if x > 0:\n        t = (x, x * x)\n    else:\n        t = (x * x, x)\n    return t[0] * 3.0 + t[1]\n",
        (0.3,),
    ),
    case("copy-of-tuple", "def f(x):\n    t = (x, 2.0 * x)\n    u = t\n    return u[0] * u[1]\n", (0.3,)),
    case(
        "slice", "def f(x):\n    t = (x, 2.0 * x, 3.0 * x)\n    u = t[1:]\n    return u[0] * u[-1] + len(u)\n", (0.3,)
    ),
    case("max-of-tuple", "def f(x):\n    t = (3.0 * x, x * x)\n    return max(t) + x\n", (0.3,)),
    case("min-of-tuple", "def f(x):\n    t = (3.0 * x, x * x)\n    return min(t) + x\n", (0.3,)),
    case("max-of-three", "def f(x, y):\n    return max(x, y * y, 0.5 * x)\n", (0.3, 0.4)),
    case("min-of-display", "def f(x, y):\n    return min((x, y * y, 0.5 * x))\n", (0.3, 0.4)),
    case("sum-of-tuple", "def f(x):\n    t = (x, x * x, math.exp(x))\n    return sum(t)\n", (0.3,)),
    case("sum-with-start", "def f(x):\n    t = (x, x * x)\n    return sum(t, x)\n", (0.3,)),
    case("np-sum-of-tuple", "def f(x):\n    t = (x, x * x)\n    return np.sum(t)\n", (0.3,)),
    case("np-sum-of-display", "def f(x):\n    return np.sum((x, x * x))\n", (0.3,)),
    case("np-sum-of-list", "def f(x):\n    return np.sum([x, 3.0 * x])\n", (0.3,)),
    case("np-array-of-tuple", "def f(x):\n    t = (x, x * x)\n    return np.sum(np.array(t) ** 2)\n", (0.3,)),
    case(
        "np-array-nested",
        "def f(x):\n    t = (x, x * x)\n    return np.sum(np.array([t, t]) * np.array([[1.0, 2.0], [3.0, 4.0]]))\n",
        (0.3,),
    ),
    case("np-mean-of-tuple", "def f(x):\n    t = (x, x * x)\n    return np.mean(t)\n", (0.3,)),
    case("tuple-of-arrays", "def f(x):\n    t = (x, 2.0 * x)\n    return np.sum(t[1] * x)\n", (vec(0.3, 0.4, 0.5),)),
    case("np-sum-tuple-of-arrays", "def f(x):\n    t = (x, x * x)\n    return np.sum(t)\n", (vec(0.3, 0.4),)),
    case(
        "element-reassigned-later",
        "def f(x):\n    y = x * x\n    t = (y, x)\n    y = 5.0\n    return t[0] * y\n",
        (0.3,),
    ),
    case("name-collision", "def f(x):\n    t_0 = 3.0\n    t = (x, 2.0 * x)\n    return t[0] * t_0 + t[1]\n", (0.3,)),
    # refused: the tuple would be lost, or indexed at run time
    case(
        "runtime-index",
        "def f(x, i):\n    t = (x, 2.0 * x, x * x)\n    return t[i] * x + t[-i]\n",
        (0.3, 1),
        wrt=("x",),
    ),
    case(
        "runtime-index-in-loop",
        "def f(x):\n    t = (x, 2.0, x * x)\n    s = 0.0\n    for k in range(3):\n        s = s + np.sum(t[k] * x)\n"
        "    return s\n",
        (vec(0.3, 0.6),),
    ),
    case(
        "runtime-index-differentiated",
        "def f(x):\n    t = (x, 2.0 * x)\n    return t[int(x)]\n",
        (0.3,),
        "refused",
        "discrete-on-differentiated",
    ),
    case("index-out-of-range", "def f(x):\n    t = (x, 2.0 * x)\n    return t[2]\n", (0.3,), "refused", "tuple-index"),
    case("unpack-length", "def f(x):\n    t = (x, 2.0 * x)\n    a, b, c = t\n    return a\n", (0.3,), "refused"),
    case(
        "rebound-to-other-length",
        "def f(x):\n    t = (x, 2.0 * x)\n    s = t[1]\n    t = (x, x, s * x)\n    return t[0] * t[2] + len(t)\n",
        (0.3,),
    ),
    case(
        "length-depends-on-branch",
        "def f(x):\n    t = (x, 2.0 * x)\n    if x > 0.5:\n        t = (x, x, x)\n    return t[0] * x\n",
        (0.3,),
        "refused",
        "tuple-length",
    ),
    case(
        "length-grows-in-loop",
        "def f(x):\n    t = (x,)\n    for i in range(2):\n        t = (t[0], x)\n    return t[0] * x\n",
        (0.3,),
        "refused",
        "tuple-length",
    ),
    case(
        "same-length-on-both-paths",
        "def f(x):\n    t = (x,)\n    if x > 0.5:\n        t = (x, 2.0 * x)\n    else:\n        t = (x * x, x)\n"
        "    return t[0] * t[1]\n",
        (0.3,),
    ),
    case("tuple-augmented", "def f(x):\n    t = (x,)\n    t += (x * x,)\n    return t[1]\n", (0.3,), "refused"),
    case("tuple-repeated", "def f(x):\n    t = (x, 2.0 * x)\n    u = t * 2\n    return u[3]\n", (0.3,), "refused"),
    case("return-tuple", "def f(x):\n    t = (x, 2.0 * x)\n    return t\n", (0.3,), "refused"),
    case(
        "nested-tuple",
        "def f(x):\n    t = ((x, 2.0 * x), x)\n    return t[0][1]\n",
        (0.3,),
        "refused",
        "no-rule",
    ),
    case(
        "helper-gets-tuple",
        "def h(t):\n    return t[0] * t[1]\n\n\ndef f(x):\n    t = (x, 2.0 * x)\n    return h(t)\n",
        (0.3,),
        "correct",  # h gets a version taking the tuple's elements (frontend/callsites.py)
    ),
    case(
        "tuple-concatenated-to-numpy",
        "def f(x):\n    t = (x, x)\n    u = t + t\n    return np.sum(u)\n",
        (0.3,),
        "refused",
        "no-rule",
    ),
    case(
        "helper-loses-it-in-a-tuple",
        "def h(a, b):\n    t = (a, b)\n    u = t + (1.0,)\n    return u[0] * 2.0\n\n\n"
        "def f(x):\n    return h(x, 1.0) + x\n",
        (0.3,),
        "refused",
        "no-rule",
    ),
    case(
        "helper-uses-and-loses-it",
        "def h(a):\n    t = (a, 1.0)\n    u = t + (2.0,)\n    return a * u[0]\n\n\n" "def f(x):\n    return h(x) + x\n",
        (0.3,),
        "refused",
        "no-rule",
    ),
    case(
        "clip-bound-differentiated",
        "def f(x, a):\n    return np.sum(np.clip(a, x, 2.0))\n",
        (0.3, vec(0.1, 0.5, 3.0)),
        "refused",
        "no-rule",
    ),
    case(
        "reshape-shape-differentiated",
        "def f(x):\n    n = x * 0.0 + 2.0\n    return np.sum(np.reshape(np.ones(4), (n, 2)) * x)\n",
        (0.3,),
        "refused",
    ),
]


# ------------------------------------------------------------------------------------------------------------
# Family 6: aliasing and in-place updates on arrays
# ------------------------------------------------------------------------------------------------------------
_V = (vec(0.3, 0.5, 0.7),)
ALIASING = [
    case(
        "issue-copy", "def f(x):\n    y = x\n    y += 1.0\n    return np.sum(x * y)\n", _V, "refused", "inplace-alias"
    ),
    case(
        "slice-view",
        "def f(x):\n    y = x[0:2]\n    y += 1.0\n    return np.sum(x * x)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "full-slice-view",
        "def f(x):\n    y = x[:]\n    y *= 2.0\n    return np.sum(x * y)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "transpose-view",
        "def f(x):\n    y = x.T\n    y -= 1.0\n    return np.sum(x * y)\n",
        (randn(2, 3),),
        "refused",
        "inplace-alias",
    ),
    case(
        "reshape-method-view",
        "def f(x):\n    y = x.reshape(3, 2)\n    y += 1.0\n    return np.sum(x * x)\n",
        (randn(2, 3),),
        "refused",
        "inplace-alias",
    ),
    case(
        "np-reshape-view",
        "def f(x):\n    y = np.reshape(x, (3, 2))\n    y += 1.0\n    return np.sum(x * x)\n",
        (randn(2, 3),),
        "refused",
        "inplace-alias",
    ),
    case(
        "tuple-target",
        "def f(x):\n    a, b = x, x\n    a += 1.0\n    return np.sum(a * b)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "conditional-expression",
        "def f(x):\n    y = x if np.sum(x) > 0 else 2.0 * x\n    y += 1.0\n    return np.sum(x * y)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case("parameter", "def f(x):\n    x += 1.0\n    return np.sum(x * x)\n", _V, "refused", "inplace-alias"),
    case(
        "alias-made-later",
        "def f(x):\n    y = x * 2.0\n    z = y\n    y += 1.0\n    return np.sum(z * y)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "alias-in-tuple",
        "def f(x):\n    y = x * 2.0\n    t = (y, x)\n    y += 1.0\n    return np.sum(t[0] * y)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "alias-in-loop",
        "def f(x):\n    y = x * 1.0\n    z = x\n    for i in range(2):\n        z = y\n        y += x\n    return np.sum(z * y)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "helper-may-return-it",
        "def h(a):\n    return a\n\n\ndef f(x):\n    y = x * 2.0\n    z = h(y)\n    y += 1.0\n    return np.sum(z * y)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "max-returns-argument",
        "def f(x):\n    y = max(x[0], x[1])\n    y += 1.0\n    return y * x[2]\n",
        (randn(3, 2),),
        "refused",
        "inplace-alias",
    ),
    # fresh arrays: updating them in place is a rebinding, and is differentiated
    case(
        "tuple-target-fresh-element",
        "def f(x):\n    a, b = x, x * 2.0\n    b += 1.0\n    return np.sum(a * b)\n",
        _V,
    ),
    case(
        "fresh-from-helper",
        "def dense(x, w):\n    return x * w\n\n\ndef f(x):\n    h = dense(x, 2.0)\n    h += 1.0\n    return np.sum(x * h)\n",
        _V,
    ),
    case(
        "helper-returns-a-name",
        "def same(a):\n    b = a\n    return b\n\n\ndef f(x):\n    h = same(x)\n    h += 1.0\n    return np.sum(x * h)\n",
        _V,
        "refused",
        "inplace-alias",
    ),
    case(
        "fresh-from-helper-numpy-call",
        "def act(z):\n    return np.tanh(z)\n\n\ndef f(x):\n    h = act(x)\n    h *= 2.0\n    return np.sum(x * h)\n",
        _V,
    ),
    case(
        "helper-shadowing-a-builtin",
        "def abs(a):\n    return a\n\n\ndef twice(a):\n    return abs(a)\n\n\n"
        "def f(x):\n    h = twice(x)\n    h += 1.0\n    return np.sum(x * h)\n",
        _V,
        "refused",
    ),
    case("fresh-product", "def f(x):\n    y = 2.0 * x\n    y += 1.0\n    return np.sum(x * y)\n", _V),
    case("fresh-copy-by-arithmetic", "def f(x):\n    y = x + 0.0\n    y *= x\n    return np.sum(y)\n", _V),
    case(
        "accumulator-loop",
        "def f(x, w):\n    s = np.zeros(3)\n    for i in range(2):\n        s += x * w[i]\n    return np.sum(s * s)\n",
        (vec(0.3, 0.5, 0.7), vec(1.5, -0.5)),
    ),
    case(
        "scalar-accumulator",
        "def f(x):\n    acc = 0.0\n    for i in range(3):\n        acc += x[i] * x[i]\n    return acc\n",
        _V,
    ),
    case(
        "read-after-last-update",
        "def f(x):\n    y = x * 2.0\n    y += x\n    z = y\n    return np.sum(z * x)\n",
        _V,
    ),
    case(
        "reduction-of-it", "def f(x):\n    y = x * 2.0\n    s = np.sum(y)\n    y += 1.0\n    return s * np.sum(y)\n", _V
    ),
    case(
        "view-read-as-operand",
        "def f(x):\n    y = x * 2.0\n    s = y[0:2] * 3.0\n    y += 1.0\n    return np.sum(s) + np.sum(y)\n",
        _V,
    ),
    case("scalar-module-copy", "def f(x):\n    y = x\n    y += 1.0\n    return x * y\n", (0.3,), header=_SCALAR),
]


# ------------------------------------------------------------------------------------------------------------
# Family 7: NumPy semantics at the edges
# ------------------------------------------------------------------------------------------------------------
def _pair(body: str, a: tuple[int, ...], b: tuple[int, ...], id: str) -> Case:
    A = randn(*a) if a else 0.7
    B = randn(*b) if b else -1.3
    return case(id, f"def f(A, B):\n    return np.sum(np.sin({body}))\n", (A, B), wrt=("A", "B"))


NUMPY_EDGES = [
    _pair("A @ B", (2, 3, 4), (2, 4, 2), "issue-matmul-3d"),
    _pair("A @ B", (2, 3, 4), (4, 2), "matmul-3d-2d"),
    _pair("A @ B", (3, 4), (2, 4, 2), "matmul-2d-3d"),
    _pair("A @ B", (1, 3, 4), (2, 4, 2), "matmul-batch-broadcast-1"),
    _pair("A @ B", (2, 1, 3, 4), (3, 4, 2), "matmul-4d-batch-broadcast"),
    _pair("A @ B", (4,), (2, 4, 3), "matmul-1d-3d"),
    _pair("A @ B", (2, 3, 4), (4,), "matmul-3d-1d"),
    _pair("A @ B", (4,), (4,), "matmul-1d-1d"),
    _pair("A @ B", (4,), (4, 3), "matmul-1d-2d"),
    _pair("A @ B", (3, 4), (4,), "matmul-2d-1d"),
    _pair("np.matmul(A, B)", (2, 3, 4), (1, 4, 2), "np-matmul-3d"),
    _pair("np.dot(A, B)", (), (3, 2), "dot-scalar-left"),
    _pair("np.dot(A, B)", (3, 2), (), "dot-scalar-right"),
    _pair("np.dot(A, B)", (), (), "dot-scalars"),
    _pair("np.dot(A, B)", (2, 3, 4), (4,), "dot-3d-1d"),
    _pair("np.dot(A, B)", (4,), (2, 4, 3), "dot-1d-3d"),
    _pair("np.dot(A, B)", (2, 3, 4), (2, 4, 5), "dot-3d-3d"),
    _pair("np.dot(A, B)", (3, 4), (2, 4, 5), "dot-2d-3d"),
    _pair("np.dot(A, B)", (3, 4), (4, 2), "dot-2d-2d"),
    _pair("np.dot(A, B)", (4,), (4,), "dot-1d-1d"),
    _pair("A.dot(B)", (2, 3, 4), (4, 2), "dot-method-3d"),
    _pair("A.transpose() @ B", (4, 3), (4, 2), "transpose-method"),
    _pair("np.outer(A, B)", (2, 3), (4,), "outer-flattens"),
    _pair("np.outer(A, B)", (), (3,), "outer-scalar"),
]

# Found by tests/sweep_values.py (not a family of its own): regressions
FOUND = [
    case(
        "loop-overwrites-value-read-before",
        "def f(x, y):\n    c = -1.5\n    s1 = (x + c) * c\n    for i in range(2):\n        c = c * 0.9\n"
        "    return s1 + y + c\n",
        (0.3, 0.2),
        header=_SCALAR,
    ),
    case(
        "branch-in-loop-overwrites-value-read-before",
        "def f(x):\n    c = -1.5\n    s1 = x * c\n    for i in range(3):\n        if i > 0:\n            c = c * 0.9\n"
        "    return s1 + c\n",
        (0.3,),
        header=_SCALAR,
    ),
]

# Found by an adversarial tester: silently wrong gradients or crashing generated code (regressions)
_LIB_H = "def h(a, b):\n    a += b\n    return b * 1.0\n"
ADVERSARIAL = [
    # a list as an index is fancy indexing along the first axis, not a tuple index
    case("list-index-3d", "def f(a):\n    return np.sum(np.sin(a[[0, 1, 2]]))\n", (randn(3, 3, 3),)),
    case("list-index-name", "def f(a):\n    i = [2, 0, 1]\n    return np.sum(np.sin(a[i]))\n", (randn(3, 3),)),
    case("list-index-2d", "def f(a):\n    return np.sum(np.sin(a[[1, 0]]))\n", (randn(2, 3),)),
    case("list-index-repeated", "def f(a):\n    return np.sum(np.sin(a[[0, 0, 1]]))\n", (vec(0.3, -0.7, 1.1),)),
    # reshape's keywords
    case(
        "reshape-order-f",
        "def f(x):\n    return np.sum(np.sin(x.reshape(9, order='F')) * np.arange(9.0))\n",
        (randn(3, 3),),
        "refused",
    ),
    case(
        "reshape-order-a",
        "def f(x):\n    return np.sum(np.sin(x.T.reshape(9, order='A')) * np.arange(9.0))\n",
        (randn(3, 3),),
        "refused",
    ),
    case(
        "reshape-shape-keyword",
        "def f(x):\n    return np.sum(np.sin(x.reshape(shape=(9,))))\n",
        (randn(3, 3),),
        "refused",
    ),
    # a reduction's third positional argument is 'out' or 'dtype', never 'keepdims'
    case(
        "max-third-positional",
        "def f(x):\n    return np.sum(np.max(x, 1, None) * np.arange(3.0))\n",
        (randn(3, 3),),
        "either",
    ),
    case(
        "mean-third-positional",
        "def f(x):\n    return np.sum(np.mean(x, 1, None) * np.arange(3.0))\n",
        (randn(3, 3),),
        "either",
    ),
    case(
        "sum-third-positional",
        "def f(x):\n    return np.sum(np.sum(x, 1, None) * np.arange(3.0))\n",
        (randn(3, 3),),
        "either",
    ),
    case(
        "max-keepdims-keyword",
        "def f(x):\n    return np.sum(np.max(x, 1, keepdims=True) * np.arange(3.0))\n",
        (randn(3, 3),),
    ),
    # np.clip with a None bound
    case("clip-none-low", "def f(x):\n    return np.sum(np.clip(x, None, 0.5))\n", (vec(0.3, -0.7, 1.1),), "either"),
    case("clip-none-high", "def f(x):\n    return np.sum(np.clip(x, -0.5, None))\n", (vec(0.3, -0.7, 1.1),), "either"),
]

# In-place updates in a module that does not import NumPy: a number is rebound, an array changed in place.
# Only run time can tell, so the gradient checks that the value is a number: right for numbers, a ValueError
# (never a wrong gradient) for arrays.
_INPLACE_ALIAS = "def f(x):\n    y = x\n    y += x\n    return x[0] * y[0]\n"
_INPLACE_ALIAS_NUMBERS = "def f(x):\n    y = x\n    y += x\n    return x * y\n"
_INPLACE_HELPER = {
    "lib.py": "def h(a, b):\n    a += b\n    return b * 1.0\n",
    "m.py": "import numpy as np\nfrom lib import h\n\n\ndef f(x):\n    y = np.zeros(3) + x\n    z = h(y, x)\n"
    "    return np.sum(y * z)\n",
}
_INPLACE_HELPER_NUMBERS = {
    "lib.py": _INPLACE_HELPER["lib.py"],
    "m.py": "from lib import h\n\n\ndef f(x):\n    y = 0.5 + x\n    z = h(y, x)\n    return y * z\n",
}
INPLACE_CHECKED = [
    (Case("alias-no-numpy", {"m.py": _SCALAR + _INPLACE_ALIAS}, (vec(0.3, -0.7, 1.1),)), "'y += ...'"),
    (Case("parameter-of-helper-no-numpy", _INPLACE_HELPER, (vec(0.3, -0.7, 1.1),)), "'a += ...'"),
]
INPLACE_NUMBERS = [
    case("alias-no-numpy-numbers", _INPLACE_ALIAS_NUMBERS, (0.3,), header=_SCALAR),
    Case("parameter-of-helper-no-numpy-numbers", _INPLACE_HELPER_NUMBERS, (0.3,), expect="correct"),
]


@pytest.mark.parametrize("c, shown", INPLACE_CHECKED, ids=[c.id for c, _ in INPLACE_CHECKED])
def test_inplace_on_an_array_is_checked(c: Case, shown: str, tmp_path) -> None:
    write_project(c, tmp_path)
    outcome = run_cli(["grad", c.target], tmp_path)
    assert outcome.status == 0, outcome.stderr
    grad = gradient_function(outcome.stdout)
    with pytest.raises(ValueError, match=f"{re.escape(shown)} is differentiated for a number only"):
        grad(*c.at)


ALL = [(c, "containers") for c in CONTAINERS] + [(c, "aliasing") for c in ALIASING]
ALL += [(c, "numpy-edges") for c in NUMPY_EDGES] + [(c, "found") for c in FOUND]
ALL += [(c, "adversarial") for c in ADVERSARIAL + INPLACE_NUMBERS]


@pytest.mark.parametrize("c", [c for c, _ in ALL], ids=[f"{fam}/{c.id}" for c, fam in ALL])
def test_case(c: Case, tmp_path) -> None:
    verdict(c, tmp_path)


# ------------------------------------------------------------------------------------------------------------
# matmul / dot / outer on random shapes, against autograd (seeded; tests/sweep_values.py sweeps more offline)
# ------------------------------------------------------------------------------------------------------------
_LINALG = """import numpy as np


def mm(A, B):
    return np.sum(np.sin(A @ B))


def dot(A, B):
    return np.sum(np.sin(np.dot(A, B)))


def outer(A, B):
    return np.sum(np.sin(np.outer(A, B)))
"""


def random_operands(kind: str, rng: np.random.Generator) -> tuple:
    """Operands NumPy accepts for ``kind``: matmul with 1-D promotion and broadcast batch dimensions (some of
    size 1), dot with scalars and N-D operands, outer of anything."""
    n, m, p = (int(k) for k in rng.integers(1, 4, 3))
    if kind == "mm":
        batch = [int(k) for k in rng.integers(1, 4, 2)]

        def stack(k: int) -> tuple[int, ...]:
            return tuple(d if rng.random() < 0.7 else 1 for d in batch[2 - k :])

        na, nb = (int(k) for k in rng.integers(1, 5, 2))
        sa = (n,) if na == 1 else stack(na - 2) + (m, n)
        sb = (n,) if nb == 1 else stack(nb - 2) + (n, p)
    elif kind == "dot":
        na, nb = (int(k) for k in rng.integers(0, 4, 2))
        sa = () if na == 0 else tuple(int(k) for k in rng.integers(1, 4, na - 1)) + (n,)
        sb = () if nb == 0 else (n,) if nb == 1 else tuple(int(k) for k in rng.integers(1, 4, nb - 2)) + (n, p)
    else:
        sa = tuple(int(k) for k in rng.integers(1, 4, int(rng.integers(1, 3))))
        sb = tuple(int(k) for k in rng.integers(1, 4, int(rng.integers(1, 3))))
    A = rng.standard_normal(sa) if sa else float(rng.standard_normal())
    B = rng.standard_normal(sb) if sb else float(rng.standard_normal())
    return A, B


def linalg_mismatches(seed: int, trials: int) -> tuple[int, list[str]]:
    """(programs checked, descriptions of mismatches) for ``trials`` random operand shapes."""
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    from s2sad.api import compile_gradient

    reference = {
        "mm": lambda A, B: anp.sum(anp.sin(A @ B)),
        "dot": lambda A, B: anp.sum(anp.sin(anp.dot(A, B))),
        "outer": lambda A, B: anp.sum(anp.sin(anp.outer(A, B))),
    }
    generated = {k: compile_gradient(_LINALG, "m.py", k, ["A", "B"]) for k in reference}
    rng = np.random.default_rng(seed)
    bad: list[str] = []
    for t in range(trials):
        kind = list(reference)[t % 3]
        A, B = random_operands(kind, rng)
        try:
            expected = [autograd.grad(reference[kind], k)(A, B) for k in (0, 1)]
        except ValueError:  # autograd's own np.dot adjoint fails on some N-D operands: finite differences
            expected = [finite_differences(reference[kind], (A, B), k) for k in (0, 1)]
        got = generated[kind](A, B)
        for x, e, g in zip((A, B), expected, got):
            # the adjoint has the operand's shape (autograd's np.outer one does not: compare the values)
            same = np.shape(g) == np.shape(x) and np.size(e) == np.size(g)
            if not same or not np.allclose(np.reshape(e, np.shape(g)), g):
                bad.append(f"{kind} {np.shape(A)} {np.shape(B)}")
                break
    return trials, bad


def test_linalg_against_autograd() -> None:
    checked, bad = linalg_mismatches(seed=7, trials=90)
    assert checked == 90 and not bad, bad


# ------------------------------------------------------------------------------------------------------------
# The sweep: every builtin that accepts a float, and every rule of the table, with a differentiated argument
# in every position: right against finite differences, or refused with a located diagnostic
# ------------------------------------------------------------------------------------------------------------
_NOT_CALLED = {  # builtins with effects outside the function (or that stop the interpreter): never called
    "breakpoint", "compile", "copyright", "credits", "delattr", "dir", "eval", "exec", "exit", "globals", "help",
    "input", "license", "locals", "open", "print", "quit", "setattr", "vars",
}  # fmt: skip
_SCALAR_POINTS = (0.3, 1.7, -0.6)
_ARRAY_POINTS = (vec(0.3, 0.5, 0.7), vec(1.3, 1.5, 1.7), vec(-0.6, -0.4, -0.2))
_OPERATORS = {
    "operator.add": "{} + {}", "operator.sub": "{} - {}", "operator.mul": "{} * {}", "operator.truediv": "{} / {}",
    "operator.floordiv": "{} // {}", "operator.mod": "{} % {}", "operator.pow": "{} ** {}",
    "operator.matmul": "{} @ {}", "operator.neg": "-{}", "operator.pos": "+{}", "operator.not_": "not {}",
    "operator.lt": "{} < {}", "operator.le": "{} <= {}", "operator.gt": "{} > {}", "operator.ge": "{} >= {}",
    "operator.eq": "{} == {}", "operator.ne": "{} != {}", "operator.getitem": "{}[{}]",
    "operator.is_": "{} is {}", "operator.is_not": "{} is not {}",
}  # fmt: skip
_OTHER_ARGUMENTS = {  # a value for each parameter that is not the differentiated one
    "base": "2.0", "a_min": "-0.45", "a_max": "0.45", "axis": "None", "keepdims": "False", "shape": "(3,)",
    "index": "1", "n": "3", "stop": "3", "ndigits": "1",
}  # fmt: skip


def _user_value(source: str, at: tuple) -> bool:
    """Whether the user's function runs at ``at`` and returns a finite real number (it is a test: it may)."""
    namespace: dict = {}
    try:
        exec(compile(source, "<sweep>", "exec"), namespace)
        value = namespace["f"](*at)
        return (
            isinstance(value, (int, float, np.number)) and not isinstance(value, complex) and bool(np.isfinite(value))
        )
    except Exception:  # noqa: BLE001 - the builtin does not accept these arguments: not a case
        return False


def _applicable(id: str, body: str, points: tuple, others: tuple = ()) -> Case | None:
    source = _HEADER + body
    for p in points:
        at = (p, *others)
        if _user_value(source, at):
            return case(id, body, at, "either", wrt=("x",))
    return None


def builtin_cases() -> list[Case]:
    import builtins

    out: list[Case] = []
    for name in sorted(dir(builtins)):
        if name.startswith("_") or name in _NOT_CALLED or not callable(getattr(builtins, name)):
            continue
        for body, others in (
            (f"def f(x):\n    return {name}(x)\n", ()),
            (f"def f(x, y):\n    return {name}(x, y) * x\n", (0.7,)),
            (f"def f(x, y):\n    return {name}(y, x) * y\n", (0.7,)),
            (f"def f(x, y):\n    return {name}(x, y)[0] * x\n", (0.7,)),  # divmod: a tuple
        ):
            arity = body.count(",") + 1
            found = _applicable(f"builtin-{name}-{arity}-{len(out)}", body, _SCALAR_POINTS, others)
            if found is not None:
                out.append(found)
    return out


def rule_cases() -> list[Case]:
    from s2sad.rules import RULES

    out: list[Case] = []
    for (fn, n), rule in sorted(RULES.items()):
        if fn in ("numpy.array", "s2sad.select") and n not in (1, 2, 3, 16, 17):
            continue
        if rule.note.startswith("zero derivative"):  # np.rint: at a jump (0.5) finite differences diverge;
            continue  # tests/test_library_rules.py checks these away from their jumps
        arrays = fn.startswith("numpy.") or fn in (
            "operator.matmul",
            "operator.getitem",
            "s2sad.setitem",
            "s2sad.append",
        )
        constant = "np.array([0.4, 0.6, 0.9])" if arrays else "0.4"
        for k, p in enumerate(rule.params):
            if fn in ("numpy.array", "s2sad.select") and k not in (0, 1, n - 1):
                continue
            args = ["x" if i == k else _OTHER_ARGUMENTS.get(q, constant) for i, q in enumerate(rule.params)]
            if rule.positional is not None:  # keyword-only parameters (keepdims) are passed by keyword
                args[rule.positional :] = [
                    f"{q}={a}" for q, a in zip(rule.params[rule.positional :], args[rule.positional :])
                ]
            if fn == "s2sad.select":  # t[i], i known at run time only
                index = "x" if k == 0 else f"int(0.5 + 0.5) % {n - 1}"
                call = f"({', '.join(args[1:])},)[{index}]"
            elif fn in _OPERATORS:
                call = _OPERATORS[fn].format(*args)
            elif fn == "numpy.array":
                call = f"np.array([{', '.join(args)}])"
            elif fn in ("s2sad.setitem", "s2sad.append"):
                call = ""  # a statement: the body below
            else:
                module, _, short = fn.rpartition(".")
                prefix = {"numpy": "np.", "math": "math.", "builtins": ""}.get(module, module + ".")
                call = f"{prefix.replace('numpy.', 'np.')}{short}({', '.join(args)})"
            body = f"def f(x):\n    return np.sum({call})\n"
            if fn.startswith("scipy."):
                body = f"import {fn.rpartition('.')[0]}\n\n\n{body}"
            if fn == "s2sad.append":  # xs.append(v) (see tests/test_lists.py)
                body = {
                    "xs": "def f(x):\n    xs = [x[0]]\n    xs.append(2.0)\n    return np.sum(np.array(xs) ** 2)\n",
                    "v": "def f(x):\n    xs = []\n    xs.append(x * x)\n    return np.sum(np.stack(xs))\n",
                }[p]
            if fn == "s2sad.setitem":  # y[index] = v, a write (see tests/test_writes.py)
                body = {
                    "x": "def f(x):\n    y = x * 1.0\n    y[1] = 0.5\n    return np.sum(y * y)\n",
                    "index": "def f(x):\n    y = np.zeros(3)\n    y[int(x[0])] = x[1]\n    return np.sum(y * y)\n",
                    "v": "def f(x):\n    y = np.zeros(3)\n    y[1:] = x[1:] * 2.0\n    return np.sum(y * y)\n",
                }[p]
            found = _applicable(f"rule-{fn}-{n}-{p}", body, _ARRAY_POINTS if arrays else _SCALAR_POINTS)
            if found is not None:
                out.append(found)
    return out


SWEEP = builtin_cases() + rule_cases()


@pytest.mark.parametrize("c", SWEEP, ids=[c.id for c in SWEEP])
def test_sweep(c: Case, tmp_path) -> None:
    verdict(c, tmp_path)


def test_sweep_covers_the_table() -> None:
    """Most rules take a differentiated argument somewhere, and the common builtins are in the sweep."""
    ids = {c.id for c in SWEEP}
    for name in ("abs", "float", "max", "min", "pow", "round", "int", "bool", "divmod", "hash", "id"):
        assert any(i.startswith(f"builtin-{name}-") for i in ids), name
    assert len([i for i in ids if i.startswith("rule-")]) >= 100

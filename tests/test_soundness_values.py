"""Soundness of values: containers (tuples), aliasing and in-place updates, NumPy semantics at the edges.

Every row is a program that s2sad must differentiate correctly (against central finite differences of the
user's own function) or refuse with a located diagnostic: never a silently wrong gradient (issue 10, families
5 to 7). The sweep at the end calls every builtin and every rule of the table with a differentiated argument
in every position.
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
    case("slice", "def f(x):\n    t = (x, 2.0 * x, 3.0 * x)\n    u = t[1:]\n    return u[0] * u[-1] + len(u)\n", (0.3,)),
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
    case("np-array-nested", "def f(x):\n    t = (x, x * x)\n    return np.sum(np.array([t, t]) * np.array([[1.0, 2.0], [3.0, 4.0]]))\n", (0.3,)),
    case("np-mean-of-tuple", "def f(x):\n    t = (x, x * x)\n    return np.mean(t)\n", (0.3,)),
    case("tuple-of-arrays", "def f(x):\n    t = (x, 2.0 * x)\n    return np.sum(t[1] * x)\n", (vec(0.3, 0.4, 0.5),)),
    case("np-sum-tuple-of-arrays", "def f(x):\n    t = (x, x * x)\n    return np.sum(t)\n", (vec(0.3, 0.4),)),
    case("element-reassigned-later", "def f(x):\n    y = x * x\n    t = (y, x)\n    y = 5.0\n    return t[0] * y\n", (0.3,)),
    case("name-collision", "def f(x):\n    t_0 = 3.0\n    t = (x, 2.0 * x)\n    return t[0] * t_0 + t[1]\n", (0.3,)),
    # refused: the tuple would be lost, or indexed at run time
    case("runtime-index", "def f(x, i):\n    t = (x, 2.0 * x)\n    return t[i]\n", (0.3, 1), "refused", "tuple-index", wrt=("x",)),
    case("index-out-of-range", "def f(x):\n    t = (x, 2.0 * x)\n    return t[2]\n", (0.3,), "refused", "tuple-index"),
    case("unpack-length", "def f(x):\n    t = (x, 2.0 * x)\n    a, b, c = t\n    return a\n", (0.3,), "refused"),
    case(
        "rebound-to-other-length",
        "def f(x):\n    t = (x, 2.0 * x)\n    t = (x, x, x)\n    return t[0] * t[1]\n",
        (0.3,),
        "refused",
        "no-rule",
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
        "refused",
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
    case("issue-copy", "def f(x):\n    y = x\n    y += 1.0\n    return np.sum(x * y)\n", _V, "refused", "inplace-alias"),
    case("slice-view", "def f(x):\n    y = x[0:2]\n    y += 1.0\n    return np.sum(x * x)\n", _V, "refused", "inplace-alias"),
    case("full-slice-view", "def f(x):\n    y = x[:]\n    y *= 2.0\n    return np.sum(x * y)\n", _V, "refused", "inplace-alias"),
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
    case("reduction-of-it", "def f(x):\n    y = x * 2.0\n    s = np.sum(y)\n    y += 1.0\n    return s * np.sum(y)\n", _V),
    case("view-read-as-operand", "def f(x):\n    y = x * 2.0\n    s = y[0:2] * 3.0\n    y += 1.0\n    return np.sum(s) + np.sum(y)\n", _V),
    case("scalar-module-copy", "def f(x):\n    y = x\n    y += 1.0\n    return x * y\n", (0.3,), header=_SCALAR),
]


ALL = [(c, "containers") for c in CONTAINERS] + [(c, "aliasing") for c in ALIASING]


@pytest.mark.parametrize("c", [c for c, _ in ALL], ids=[f"{fam}/{c.id}" for c, fam in ALL])
def test_case(c: Case, tmp_path) -> None:
    verdict(c, tmp_path)

"""Soundness of the speed work of issue 12: adjoint constants and copies propagated (s2sad.propagation), loop
records read by iteration (s2sad.records), negations folded into sums (s2sad.algebra), numbers broadcast kept
as numbers, and the support functions' fast paths for matrices.

Every row is differentiated correctly (against central finite differences of the user's own function): each
transformation must give the gradient the statements it replaces give.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from soundness import Case, verdict


def case(id: str, body: str, at: tuple, family: str, header: str = "import math\n\n\n") -> Case:
    return Case(id, {"m.py": header + textwrap.dedent(body)}, at, expect="correct", family=family)


NUMPY = "import math\n\nimport numpy as np\n\n\n"
RNG = np.random.default_rng(12)

CASES = [
    # ----- constants and copies of adjoints --------------------------------------------------------------------
    case(
        "linear_constants",
        "def f(a):\n    b = 2 * a\n    c = 3 * a + b\n    return 4 * b + 5 * c\n",
        (0.7,),
        "propagation",
    ),
    case(
        "seed_into_two_terms",
        "def f(x):\n    c = x + x * x\n    return math.exp(c) + math.sin(c)\n",
        (0.3,),
        "propagation",
    ),
    case("copy_then_increment", "def f(x):\n    a = x\n    b = a * a\n    return a + b\n", (0.4,), "propagation"),
    case(
        "constant_adjoint_in_loop",
        "def f(x, n):\n    s = 0.0\n    for i in range(n):\n        s = s + x * i\n    return s\n",
        (0.5, 4),
        "propagation",
    ),
    case("integer_constants", "def f(x):\n    y = 3 * x\n    return 2 * y + y\n", (2.0,), "propagation"),
    case(
        "branch_after_constant",
        "def f(x):\n    y = 2.0 * x\n    if x > 0:\n        y = y * x\n    else:\n        y = y - x\n    return y\n",
        (0.3,),
        "propagation",
    ),
    # ----- a carried name's copy read after its new value: the copy disappears ------------------------------
    case(
        "carried_sum",
        "def f(x, y, n):\n    for i in range(n):\n        x = math.sin(x) * y + 0.5 * x\n    return x\n",
        (0.3, 0.9, 5),
        "carried",
    ),
    case(
        "carried_three_terms",
        "def f(x, n):\n    for i in range(n):\n        x = x * x + 0.5 * x - math.cos(x)\n    return x\n",
        (0.2, 3),
        "carried",
    ),
    case(
        "carried_two_names",
        "def f(x, y, n):\n    for i in range(n):\n        x = x + 0.1 * y\n        y = y * x\n    return x + y\n",
        (0.3, 0.4, 3),
        "carried",
    ),
    # ----- records read by iteration ---------------------------------------------------------------------------
    case(
        "records_index_read",
        "def f(x, n):\n    for i in range(n):\n        x = math.sin(x) * i + x\n    return x\n",
        (0.3, 4),
        "records",
    ),
    case(
        "records_zero_trips",
        "def f(x, n):\n    for i in range(n):\n        x = math.sin(x) * x\n    return x + x\n",
        (0.3, 0),
        "records",
    ),
    case(
        "records_two_loops_one_name",
        "def f(x, n):\n    for i in range(n):\n        x = math.sin(x) * x\n    for j in range(n + 1):\n        x = math.cos(x) * x\n    return x\n",
        (0.3, 3),
        "records",
    ),
    case(
        "records_nested_loops",
        "def f(x, n):\n    for i in range(n):\n        for j in range(i + 1):\n            x = math.sin(x) * x + 0.1\n    return x\n",
        (0.3, 3),
        "records",
    ),
    case(
        "records_in_branch",
        "def f(x, n):\n    for i in range(n):\n        z = x * 0.5 + 0.1 * i\n        if z > 0.2:\n            x = math.tanh(z)\n        else:\n            x = 0.1 * z\n    return x * x\n",
        (0.9, 5),
        "records",
    ),
    case(
        "records_while",
        "def f(x):\n    k = 0\n    while k < 4:\n        x = math.sin(x) * x + 0.3\n        k = k + 1\n    return x\n",
        (0.4,),
        "records",
    ),
    case(
        "records_many_stacks",
        "def f(x, y, n):\n    for i in range(n):\n        a = math.sin(x)\n        b = math.cos(y)\n        c = a * b\n        x = c * x + a\n        y = y * b + c\n    return x + y\n",
        (0.3, 0.5, 3),
        "records",
    ),
    # ----- negations folded, numbers broadcast kept as numbers -------------------------------------------------
    case(
        "rosenbrock",
        "def f(x):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)\n",
        (RNG.normal(size=6),),
        "negation",
        NUMPY,
    ),
    case(
        "rosenbrock_annotated",
        "from typing import Annotated\n\n\ndef f(x: Annotated[np.ndarray, 'n']):\n"
        "    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)\n",
        (RNG.normal(size=6),),
        "negation",
        NUMPY,
    ),
    case(
        "negated_twice",
        "from typing import Annotated\n\n\ndef f(x: Annotated[np.ndarray, 'n']):\n    return np.sum(-(3.0 * x) - (1.0 - x) ** 2)\n",
        (RNG.normal(size=4),),
        "negation",
        NUMPY,
    ),
    case(
        "mean_scaled",
        "from typing import Annotated\n\n\ndef f(x: Annotated[np.ndarray, 'n']):\n    return 7.0 * np.mean(x * x) - np.sum(2.0 * x)\n",
        (RNG.normal(size=5),),
        "negation",
        NUMPY,
    ),
    # ----- matrix products with ranks known only at run time (the support functions' fast paths) -------------
    case(
        "matvec_unannotated",
        "def f(W, h):\n    return np.sum(np.tanh(W @ h) ** 2)\n",
        (RNG.normal(size=(3, 4)), RNG.normal(size=4)),
        "matmul",
        NUMPY,
    ),
    case(
        "matmat_unannotated",
        "def f(A, B):\n    return np.sum((A @ B) ** 2)\n",
        (RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))),
        "matmul",
        NUMPY,
    ),
    case(
        "vecmat_unannotated",
        "def f(v, B):\n    return np.sum((v @ B) ** 3)\n",
        (RNG.normal(size=3), RNG.normal(size=(3, 2))),
        "matmul",
        NUMPY,
    ),
    case(
        "batched_unannotated",
        "def f(A, B):\n    return np.sum((A @ B) ** 2)\n",
        (RNG.normal(size=(3, 2)), RNG.normal(size=(4, 2, 3))),
        "matmul",
        NUMPY,
    ),
    case(
        "rnn_unannotated",
        "def f(W, U, h, xs):\n    for t in range(3):\n        h = np.tanh(W @ h + U @ xs[t])\n    return np.sum(h * h)\n",
        (0.3 * RNG.normal(size=(4, 4)), 0.3 * RNG.normal(size=(4, 2)), RNG.normal(size=4), RNG.normal(size=(3, 2))),
        "matmul",
        NUMPY,
    ),
    case(
        "broadcast_row",
        "def f(x, b):\n    return np.sum((x + b) ** 2)\n",
        (RNG.normal(size=(3, 2)), RNG.normal(size=2)),
        "matmul",
        NUMPY,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_speed_soundness(case, tmp_path):
    verdict(case, tmp_path)

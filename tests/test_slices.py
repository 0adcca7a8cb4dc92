"""Slices read in loops, added into their adjoint in place (issue 12 item 3): soundness rows for the hostile
cases (an adjoint that shares its array, an index that repeats, negative and fancy indices, a slice of a
slice, a slice read twice, an array argument returned ...), and the output a person writes for the RNN."""

from __future__ import annotations

import numpy as np
import pytest
from soundness import Case, verdict

from s2sad import generate

X = np.array([0.3, -0.5, 0.7, 1.1, -0.2])
M = np.array([[0.3, -0.5, 0.7], [1.1, -0.2, 0.4], [0.9, 0.1, -0.6]])


def _case(id: str, body: str, at: tuple[object, ...] = (X,), family: str = "", **kw: object) -> Case:
    head = (
        "from typing import Annotated\n\nimport numpy as np\n\n\n"
        if "Annotated" in body
        else "import numpy as np\n\n\n"
    )
    return Case(id, {"m.py": head + body}, at, expect="correct", family=family, **kw)  # type: ignore[arg-type]


CASES = [
    # ----- in a loop: the adjoint is a fresh zero array, written in place ------------------------------------
    _case(
        "rnn",
        "def f(W, U, h0, xs):\n    h = h0\n    for t in range(3):\n        h = np.tanh(W @ h + U @ xs[t])\n"
        "    return np.sum(h * h)\n",
        (M * 0.5, M[:, :2], X[:3], M[:, :2] * 2.0),
        "loop",
    ),
    _case(
        "read-twice",
        "def f(x):\n    s = 0.0\n    for t in range(4):\n        s = s + x[t] * x[t] + np.sin(x[t])\n    return s\n",
    ),
    _case(
        "read-twice-two-statements",
        "def f(x):\n    s = 0.0\n    for t in range(4):\n        a = x[t]\n        s = s * 0.5 + a * x[t + 1]\n"
        "        s = s + x[t] ** 3\n    return s\n",
    ),
    _case(
        "negative-indices",
        "def f(x):\n    s = 0.0\n    for t in range(1, 4):\n        s = s + x[-t] * x[-1] + x[t - 5]\n    return s\n",
    ),
    _case(
        "same-entry-every-iteration",
        "def f(x):\n    s = 0.0\n    for t in range(4):\n        s = s * x[0] + x[0]\n    return s\n",
    ),
    _case(
        "slice-in-loop",
        "def f(x):\n    s = 0.0\n    for t in range(3):\n        s = s + np.sum(x[t : t + 2] ** 2) * x[t + 2]\n    return s\n",
    ),
    _case(
        "slice-of-a-slice",
        "def f(x):\n    y = x[1:]\n    s = 0.0\n    for t in range(2):\n        z = y[t:]\n        s = s + np.sum(z[1:] * z[:-1])\n"
        "    return s\n",
    ),
    _case(
        "rows-and-columns",
        "def f(A):\n    s = 0.0\n    for t in range(3):\n        s = s + np.sum(A[t, :] * A[:, t]) + A[t, t] * A[t][0]\n    return s\n",
        (M,),
    ),
    _case(
        "nested-loops",
        "def f(A):\n    s = 0.0\n    for i in range(3):\n        for j in range(2):\n            s = s + A[i, j] * A[j, i] + s * 0.1\n"
        "    return s\n",
        (M,),
    ),
    _case(
        "read-in-a-branch",
        "def f(x):\n    s = 0.0\n    for t in range(5):\n        if x[t] > 0:\n            s = s + x[t] ** 2\n        else:\n"
        "            s = s - x[t]\n    return s\n",
    ),
    _case(
        "while-loop-index",
        "def f(x):\n    s = 0.0\n    i = 0\n    while i < 4:\n        s = s + x[i] * x[i + 1]\n        i = i + 1\n    return s\n",
    ),
    _case(
        "carried-array-read-in-loop",
        "def f(x):\n    s = 0.0\n    for t in range(3):\n        x = x * 1.5\n        s = s + x[t] * x[t + 1]\n    return s\n",
    ),
    _case(
        "carried-array-sliced-in-loop",
        "def f(x):\n    s = 0.0\n    for t in range(2):\n        x = x[1:] * 2.0\n        s = s + x[0] * x[-1]\n    return s + np.sum(x)\n",
    ),
    # ----- adjoints that share an array: written as new arrays ---------------------------------------------------
    _case(
        "alias-copy-read-in-loop",
        "def f(x):\n    s = 0.0\n    for t in range(2):\n        s = s + x[t] ** 2\n    y = x\n    for t in range(3):\n"
        "        s = s + y[t] * x[t + 1]\n    return s + np.sum(y * x)\n",
        family="alias",
    ),
    _case(
        "alias-whole-array-after-loop",
        "def f(x):\n    y = x\n    s = np.sum(y)\n    for t in range(3):\n        s = s * x[t]\n    return s + np.sum(x ** 2)\n",
        family="alias",
    ),
    _case(
        "alias-sum-then-loop",
        "def f(x):\n    s = np.sum(x)\n    for t in range(3):\n        s = s + x[t] * s\n    return s\n",
        family="alias",
    ),
    _case(
        "helper-returns-its-argument",
        "def h(xs):\n    return xs\n\n\ndef f(xs):\n    ys = h(xs)\n    s = 0.0\n    for t in range(3):\n"
        "        s = s + ys[t] * xs[t]\n    return s + np.sum(ys)\n",
        family="alias",
    ),
    _case(
        "helper-reads-slices-in-loop",
        "def h(xs):\n    s = 0.0\n    for t in range(3):\n        s = s + xs[t] * xs[t + 1]\n    return s\n\n\n"
        "def f(xs):\n    return h(xs) * h(xs * 2.0) + h(xs)\n",
        family="alias",
    ),
    _case(
        "helper-array-result-read-in-loop",
        "def h(xs):\n    s = xs * 1.0\n    for t in range(3):\n        s = s + xs[t]\n    return s\n\n\n"
        "def f(xs):\n    y = h(xs)\n    return np.sum(y * y)\n",
        family="alias",
    ),
    _case(  # a helper's split adjoint (s2sad.saving) with a slice's first contribution written as two statements
        "helper-slices-split",
        "def gates(z):\n    return np.tanh(z[2:]) * (1.0 / (1.0 + np.exp(-z[:2])))\n\n\n"
        "def f(x):\n    return np.sum(gates(x[:4]) * gates(x[1:]))\n",
        family="alias",
    ),
    # ----- fancy indices: duplicates add up ---------------------------------------------------------------------
    _case(
        "fancy-duplicates",
        "def f(x, idx):\n    s = 0.0\n    for t in range(2):\n        s = s + np.sum(x[idx] ** 2) * x[t]\n    return s\n",
        (X, np.array([0, 0, 2, -1, 2])),
        "fancy",
        wrt=("x",),
    ),
    _case(
        "index-parameter-int",
        "def f(x, k):\n    s = 0.0\n    for t in range(2):\n        s = s + x[k] * x[t]\n    return s\n",
        (X, 1),
        "fancy",
        wrt=("x",),
    ),
    _case(
        "mask",
        "def f(x, m):\n    s = 0.0\n    for t in range(2):\n        s = s + np.sum(x[m] ** 2) * x[t]\n    return s\n",
        (X, X > 0),
        "fancy",
        wrt=("x",),
    ),
    # ----- a shape read from a value of the same shape (issue 12: np.mean(r * r)) ---------------------------------
    _case("mean-of-square", "def f(r):\n    return np.mean(r * r)\n", family="shape"),
    _case("mean-of-chain", "def f(r):\n    return np.mean(np.sin(r * 2.0) ** 2 + 1.0)\n", family="shape"),
    _case(
        "mean-broadcast-operands",
        "def f(a, b):\n    return np.mean(a * b) + np.sum(a * b) / np.size(b)\n",
        (X[:3], M[:2]),
        "shape",
    ),
    _case(
        "mean-annotated-broadcast",
        "def f(a: Annotated[np.ndarray, 'n'], b: Annotated[np.ndarray, 'm n']):\n    return np.mean(a * b + a)\n",
        (X[:3], M[:2]),
        "shape",
    ),
    _case(
        "mean-of-reassigned",
        "def f(r):\n    t = r * r\n    for k in range(2):\n        r = r[1:] * 2.0\n    return np.mean(t) + np.mean(r)\n",
        family="shape",
    ),
    _case(
        "mean-in-helper",
        "def h(r):\n    return np.mean(r * r)\n\n\ndef f(x):\n    return h(x) * h(x[1:]) + h(2.0 * x)\n",
        family="shape",
    ),
    # ----- slices of a named dimension: x[1:] and x[:-1] are both n-1 long --------------------------------------
    _case(
        "rosenbrock-annotated",
        "def f(x: Annotated[np.ndarray, 'n']):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)\n",
        family="slice-dims",
    ),
    _case(
        "slices-of-slices-annotated",
        "def f(x: Annotated[np.ndarray, 'n']):\n    y = x[1:]\n    return np.sum(y[1:] * x[2:] + y[:-1] * x[:-2] + x[1:-1])\n",
        family="slice-dims",
    ),
    _case(
        "slice-broadcast-against-length-one",
        "def f(x: Annotated[np.ndarray, 'n'], y: Annotated[np.ndarray, 'm']):\n    return np.sum(x[1:] * y[:-1])\n",
        (X, X[:2]),
        family="slice-dims",
    ),
    _case(
        "slice-rows-annotated",
        "def f(A: Annotated[np.ndarray, 'n 3']):\n    return np.mean(A[1:, :] * A[:-1, 1:2] + A[:2] ** 2)\n",
        (M,),
        family="slice-dims",
    ),
    _case(
        "slice-known-size",
        "def f(x: Annotated[np.ndarray, '5']):\n    return np.sum(x[1:4] * x[:-2] + x[::2] * x[1::2][0])\n",
        family="slice-dims",
    ),
    _case(
        "fancy-list-index",
        "def f(x, idx):\n    s = 0.0\n    for t in range(2):\n        s = s + np.sum(x[idx] * x[t])\n    return s\n",
        (X, [0, 0, 2]),
        "fancy",
        wrt=("x",),
    ),
    _case(
        "argmax-index",
        "def f(x):\n    k = np.argmax(x)\n    s = 0.0\n    for t in range(2):\n        s = s + x[k] * x[t] + x[k - 1]\n    return s\n",
        family="fancy",
    ),
    _case(
        "list-argument",
        "def f(xs):\n    s = 0.0\n    for t in range(3):\n        s = s + np.sin(xs[t]) * xs[t + 1]\n    return s\n",
        ([0.3, -0.5, 0.7, 1.1],),
        "dtype",
    ),
    _case(
        "value-and-slices-in-nested-loops",
        "def f(A):\n    s = 0.0\n    for i in range(3):\n        r = A[i]\n        for j in range(3):\n"
        "            s = s + r[j] * A[j, i] + np.sum(A[:, j]) * 0.1\n    return s\n",
        (M,),
        "loop",
    ),
    # ----- the argument's dtype: an integer array's adjoint is still float ----------------------------------------
    _case(
        "integer-argument",
        "def f(x):\n    s = 0.0\n    for t in range(3):\n        s = s + x[t] * 0.25\n    return s\n",
        (np.array([1, 2, 3, 4]),),
        "dtype",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_slices(case: Case, tmp_path: object) -> None:
    verdict(case, tmp_path)  # type: ignore[arg-type]


RNN = """import numpy as np


def rnn(W, U, h0, xs):
    h = h0
    for t in range(50):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h * h)
"""


def test_rnn_adds_into_the_row_read() -> None:
    text = generate(RNN, "rnn.py", "rnn")
    # xs is read row by row only: a list of arrays gets a list of adjoints (s2sad.inplace.records)
    assert "xs_bar[t] += xs_at_t_bar" in text and "xs_bar = zeros_of(xs)" in text
    assert "scatter" not in text


def _generated(id: str) -> str:
    case = next(c for c in CASES if c.id == id)
    return generate(str(case.files["m.py"]), "m.py", "f", wrt=case.wrt)


def test_fancy_index_adds_at() -> None:
    assert "np.add.at(x_bar, idx, x_at_idx_bar)" in _generated("fancy-duplicates")
    assert "np.add.at(x_bar, m, " in _generated("mask")
    assert "np.add.at(x_bar, k, " in _generated("index-parameter-int")  # an int at run time, unknown here


def test_shared_adjoint_is_not_written_in_place() -> None:
    # x_bar starts as unbroadcast(...), which may be another adjoint's array: a new array each time
    text = _generated("alias-whole-array-after-loop")
    assert "x_bar = x_bar + scatter(x_at_t_bar, x, t)" in text and "x_bar[t] +=" not in text
    text = _generated("alias-copy-read-in-loop")
    assert "+= " not in text


def test_slices_in_straight_code_add_into_the_first() -> None:
    source = "import numpy as np\n\n\ndef f(x):\n    return np.sum(x[1:] * x[:-1])\n"
    text = generate(source, "m.py", "f")
    assert "x_bar[1:] += " in text or "x_bar[:-1] += " in text


def test_mean_of_square_reads_the_size_of_r() -> None:
    text = generate("import numpy as np\n\n\ndef f(r):\n    return np.mean(r * r)\n", "m.py", "f")
    assert "r_bar = 2.0 / np.size(r) * r" in text
    assert "r_times_r" not in text and "# forward" not in text  # computed for its size only: not at all


def test_shape_not_read_from_an_operand_broadcast() -> None:
    text = _generated("mean-broadcast-operands")
    assert "np.size(a)" not in text and "np.shape(a)" not in text


def test_annotated_rosenbrock_needs_no_unbroadcast() -> None:
    case = next(c for c in CASES if c.id == "rosenbrock-annotated")
    text = generate(str(case.files["m.py"]), "m.py", "f")
    assert "unbroadcast" not in text and "x_bar[1:] += " in text


# ----- random loops reading slices, aliases and whole arrays: right against finite differences ------------------
def _random_program(seed: int) -> str:
    import random

    rng = random.Random(seed)
    alias = rng.choice(["y = x", "y = x * 2.0", "y = x[1:]", "y = np.sin(x)", None])
    pre = ([alias] if alias else []) + [rng.choice(["r = x[1:] * 0.5", "r = x"])]
    reads = ["x[t]", "x[t + 1]", "x[-t - 1]", "np.sum(x[t : t + 2])", "A[t, 1]", "np.sum(A[t, :])", "np.sum(A[:, t])"]
    reads += ["A[t][2]", "x[0]", "np.sum(x * 0.1)", "r[t]"] + (["y[t]", "y[t + 1]", "np.sum(y) * 0.1"] if alias else [])
    body = []
    for _ in range(rng.randint(1, 3)):
        a, b = rng.choice(reads), rng.choice(reads)
        line = rng.choice(["s = s * 0.5 + {a} * {b}", "s = s + np.sin({a}) * {b}", "s = s + {a} ** 2 - {b}"])
        line = line.format(a=a, b=b)
        if rng.random() < 0.3:
            body += [f"if {rng.choice(reads)} > 0:", f"    {line}", "else:", f"    s = s - {b}"]
        else:
            body.append(line)
    post = ["s = s + np.sum(x * x)", "s = s + np.sum(r)", "s = s * np.sum(A)"] + (
        ["s = s + np.sum(y * y)"] if alias else []
    )
    lines = ["def f(x, A):", "    s = 0.0"] + [f"    {p}" for p in pre]
    if rng.random() < 0.3:
        lines += ["    for k in range(2):", "        for t in range(3):"] + [f"            {b}" for b in body]
    else:
        lines += ["    for t in range(3):"] + [f"        {b}" for b in body]
    lines += [f"    {rng.choice(post)}", "    return s"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_random_loops_reading_slices(seed: int, tmp_path: object) -> None:
    # no entry of A is 0: a branch test A[t, 1] > 0 stays on one side under finite differences
    A = np.arange(12.0).reshape(3, 4) * 0.1 - 0.45
    x = np.array([0.3, -0.5, 0.7, 1.1, -0.2, 0.4])
    case = Case(
        f"random-{seed}", {"m.py": "import numpy as np\n\n\n" + _random_program(seed)}, (x, A), expect="correct"
    )
    verdict(case, tmp_path)  # type: ignore[arg-type]

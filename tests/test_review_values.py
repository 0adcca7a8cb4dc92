"""An adversarial review of the value analysis (s2sad.values, s2sad.shapes), the rank-specialised adjoints
(s2sad.specialise), the simplifier's like terms (s2sad.algebra), library calls on data and the new rules of
the table: every row is a program on which a wrong assumption would give a silently wrong gradient. Each is
differentiated correctly (against central finite differences of the user's own function) or refused with a
located diagnostic. Rows that found a bug say so (``found:``) and failed before its fix.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from soundness import Case, gradient_function, run_cli, verdict, write_project

_HEADER = "import math\nfrom typing import Annotated\n\nimport numpy as np\nimport scipy.special\n\n\n"
_SCALAR = "import math\n\n\n"


def case(
    id: str,
    body: str,
    at: tuple,
    expect: str = "correct",
    code: str | None = None,
    wrt: tuple[str, ...] | None = None,
    header: str = _HEADER,
) -> Case:
    return Case(id, {"m.py": header + textwrap.dedent(body)}, at, wrt=wrt, expect=expect, code=code)


_rng = np.random.default_rng(14)


def randn(*shape: int) -> np.ndarray:
    return _rng.uniform(0.2, 0.9, shape)


_r = np.random.default_rng(3)


def normal(*shape: int) -> np.ndarray:
    return _r.standard_normal(shape)


def spd(n: int, shift: float = 0.0) -> np.ndarray:
    a = _rng.standard_normal((n, n))
    return a @ a.T + (3.0 + shift) * np.eye(n)


def A(dims: str) -> str:
    return f'Annotated[np.ndarray, "{dims}"]'


# ------------------------------------------------------------------------------------------------------------
# Dimension symbols belong to the function whose annotations name them
# ------------------------------------------------------------------------------------------------------------
SYMBOLS = [
    # found: the helper's "n" (bound to a's length) was taken for the caller's "n" (x's length): a * b was
    # thought to need no unbroadcast, and y's adjoint came back with x's shape
    case(
        "helper-symbol-is-not-the-callers",
        f"""
        def h(a: {A('n')}, b):
            return np.sum(a * b)

        def f(x: {A('n')}, y: {A('k')}):
            return h(y, x)
        """,
        (randn(3), randn(1)),
    ),
    # found: h's result ("n", h's own) was taken to have the shape of the caller's x ("n", f's own)
    case(
        "helper-result-symbol-is-not-the-callers",
        f"""
        def h(a: {A('n')}):
            return a * 2.0

        def f(x: {A('n')}, y: {A('m')}):
            return np.sum(h(y) * x)
        """,
        (randn(3), randn(1)),
    ),
    # two calls of one annotated helper bind its "n" twice, to different lengths
    case(
        "two-calls-of-an-annotated-helper",
        f"""
        def h(a: {A('n')}):
            return a * 2.0

        def f(x, y):
            return np.sum(h(x) * h(y))
        """,
        (randn(3), randn(1)),
    ),
    case(
        "helper-symbols-agree-with-the-callers",
        f"""
        def h(a: {A('n')}, b: {A('n')}):
            return np.sum(a * b)

        def f(x: {A('n')}, y: {A('n')}):
            return h(x, y) + h(y, x)
        """,
        (randn(3), randn(3)),
    ),
]

# ------------------------------------------------------------------------------------------------------------
# Scalar code: += on an adjoint that may be a 0-d array shared with another name
# ------------------------------------------------------------------------------------------------------------
ALIASES = [
    # found: x_bar = y; y_bar = x; y_bar += 2 * y changed the caller's 0-d array x (and x_bar's value)
    case(
        "zero-d-arguments-in-scalar-code",
        "def f(x, y):\n    return y * y + x * y\n",
        (np.array(0.3), np.array(0.5)),
        header=_SCALAR,
    ),
    case(
        "zero-d-arguments-numpy-module",
        "def f(x, y):\n    return y * y + x * y\n",
        (np.array(0.3), np.array(0.5)),
    ),
    # a library call's 0-d array, copied into two adjoints
    case(
        "zero-d-library-value-in-scalar-code",
        "def f(x, y):\n    c = np.asarray(0.5)\n    return y * y + c * y + x * c\n",
        (0.3, 0.5),
    ),
    # found: np.where's adjoint is a 0-d array; the scalar helper's a_bar and b_bar both were that array, and
    # b_bar += ... changed a_bar too
    case(
        "zero-d-adjoint-into-a-scalar-helper",
        """
        def h(a, b):
            t = b * b
            s = a + b
            return t + s

        def f(x: float, y: float):
            r = h(x, y)
            return np.where(x > 0, r, 0.0)
        """,
        (0.3, 0.5),
    ),
    case(
        "zero-d-adjoint-into-a-scalar-helper-in-a-loop",
        """
        def h(a, b):
            return a * b + a + b

        def f(x: float, y: float):
            s = 0.0
            for i in range(3):
                s = s + np.where(x > 0, h(x, y), 0.0)
            return s
        """,
        (0.3, 0.5),
    ),
]

# ------------------------------------------------------------------------------------------------------------
# Library calls on data make arrays too: a function that calls one is not scalar code
# ------------------------------------------------------------------------------------------------------------
LIBRARY = [
    # found: np.linspace (no rule: a library call on data) was not counted as an array operation, so h was
    # scalar code: its adjoint was not summed back to a's shape, and f's np.sum passed 1.0 for an array
    case(
        "library-array-in-a-scalar-helper",
        """
        def h(a):
            c = np.linspace(1.0, 2.0, 3)
            return a * c

        def f(x: float):
            return np.sum(h(x))
        """,
        (0.3,),
    ),
    # found: w is passed to len(), so it is no number, yet its zero gradient was 0.0 (not w's shape)
    case("len-of-an-array-parameter", "def f(x, w):\n    return x * len(w)\n", (0.3, randn(3)), wrt=("x", "w")),
    # math.fsum (a library call on data) takes an array: it proves nothing of w
    case(
        "fsum-of-data-proves-nothing",
        "def f(x, w):\n    s = math.fsum(w)\n    return np.sum(x * w) * s\n",
        (0.3, randn(3)),
        wrt=("x",),
    ),
    case(
        "math-of-a-number-then-array",
        "def f(x, w):\n    s = math.exp(x)\n    return np.sum(x * w) * s\n",
        (0.3, randn(3)),
    ),
]

# ------------------------------------------------------------------------------------------------------------
# Constants that are not numbers; negated booleans
# ------------------------------------------------------------------------------------------------------------
CONSTANTS = [
    # found: a tuple constant was taken for a number: x's adjoint was not summed back to x's length 1
    case("tuple-constant-times-array", "def f(x):\n    return np.sum(x * (1.0, 2.0, 3.0))\n", (randn(1),)),
    case("tuple-constant-plus-array", "def f(x):\n    return np.sum(np.sin(x + (1.0, 2.0, 3.0)))\n", (randn(1),)),
    case("number-constant-times-array", "def f(x):\n    return np.sum(x * 2.0 + 1)\n", (randn(3),)),
    # found: -1 * (x >= y) simplified to -(x >= y): NumPy refuses to negate its booleans (TypeError)
    case("negated-max-of-numpy-numbers", "def f(x, y):\n    return -max(x, y)\n", (np.float64(0.3), np.float64(0.2))),
    case(
        "negated-maximum-of-numpy-numbers",
        "def f(x: float, y: float):\n    return -np.maximum(x, y)\n",
        (np.float64(0.3), np.float64(0.2)),
    ),
    case("negated-fmin", "def f(x, y):\n    return -np.fmin(x, y)\n", (np.float64(0.3), np.float64(0.2))),
    case("negated-clip", "def f(x):\n    return -np.clip(x, 0.0, 1.0)\n", (np.float64(0.3),)),
    case("negated-abs", "def f(x):\n    return -abs(x)\n", (np.float64(0.3),)),
]

# ------------------------------------------------------------------------------------------------------------
# Linear algebra on stacks that broadcast
# ------------------------------------------------------------------------------------------------------------
_S = spd(3)
_STACK = np.stack([spd(3), spd(3, 1.0), spd(3, 2.0)])
_SOLVE = "def f(a, b, w):\n    return np.sum(np.linalg.solve(a, b) * w)\n"
LINALG = [
    case("solve-vector", _SOLVE, (_S, randn(3), randn(3)), wrt=("a", "b")),
    case("solve-matrix", _SOLVE, (_S, randn(3, 2), randn(3, 2)), wrt=("a", "b")),
    # found: a stack of matrices and one vector: g (a stack of vectors) was solved as one matrix
    case("solve-stack-and-vector", _SOLVE, (_STACK, randn(3), randn(3, 3)), wrt=("a", "b")),
    # found: b broadcast against a's stack: its adjoint kept the stack's axis
    case("solve-b-broadcast", _SOLVE, (_STACK, randn(3, 2), randn(3, 3, 2)), wrt=("a", "b")),
    # found: a broadcast against b's stack: its adjoint kept the stack's axis
    case("solve-a-broadcast", _SOLVE, (_S, randn(2, 3, 2), randn(2, 3, 2)), wrt=("a", "b")),
    case("solve-a-broadcast-ones", _SOLVE, (_S[None], randn(2, 3, 2), randn(2, 3, 2)), wrt=("a", "b")),
]

# ------------------------------------------------------------------------------------------------------------
# Rules on operands NumPy broadcasts
# ------------------------------------------------------------------------------------------------------------
BROADCAST_RULES = [
    # found: b's adjoint had a's shape, which the generic unbroadcast cannot stretch to b's (ValueError)
    case(
        "logsumexp-a-broadcast-against-b",
        "def f(a, b):\n    return scipy.special.logsumexp(a, b=b)\n",
        (normal(3), randn(2, 3)),
    ),
    case(
        "logsumexp-both-broadcast",
        "def f(a, b, w):\n    return np.sum(scipy.special.logsumexp(a, axis=1, b=b) * w)\n",
        (normal(1, 3), randn(2, 1), normal(2)),
        wrt=("a", "b"),
    ),
    # found: operator.mod, np.clip and builtins.pow broadcast their operands but their rules did not say so:
    # the adjoint of an operand of length 1 kept the result's length
    case("mod-first-operand-broadcast", "def f(x, y):\n    return np.sum(np.sin(x % y))\n", (randn(1) + 1.0, randn(3))),
    case(
        "mod-second-operand-broadcast", "def f(x, y):\n    return np.sum(np.sin(x % y))\n", (randn(3) + 1.0, randn(1))
    ),
    case(
        "clip-against-array-bounds",
        "def f(x, lo):\n    return np.sum(np.sin(np.clip(x, lo, 1.0)))\n",
        (randn(1), 0.5 * randn(3)),
        wrt=("x",),
    ),
    case("clip-with-no-lower-bound", "def f(x):\n    return np.sum(np.sin(np.clip(x, None, 0.5)))\n", (randn(3),)),
    case("builtin-pow-broadcast", "def f(x, y):\n    return np.sum(pow(x, y))\n", (randn(1), randn(3)), wrt=("x",)),
    # found: the exponent's adjoint called math.log on an array base (TypeError)
    case("power-of-arrays", "def f(x, y):\n    return np.sum(x ** y)\n", (randn(3), randn(3))),
    case("builtin-pow-of-arrays", "def f(x, y):\n    return np.sum(pow(x, y))\n", (randn(3), randn(3))),
    case("power-number-base-array-exponent", "def f(x: float, y):\n    return np.sum(x ** y)\n", (0.5, randn(3))),
    case("power-of-numbers-in-a-numpy-module", "def f(x, y):\n    return x ** y\n", (0.5, 0.7)),
    # found: an index of length 1 in one operand, broadcast against the other's (ValueError in einsum_adjoint)
    case(
        "einsum-length-one-index",
        "def f(a, b):\n    return np.sum(np.sin(np.einsum('ij,ij->i', a, b)))\n",
        (normal(1, 3), normal(2, 3)),
    ),
    case(
        "einsum-length-one-contracted",
        "def f(a, b):\n    return np.sum(np.sin(np.einsum('ij,jk->ik', a, b)))\n",
        (normal(2, 1), normal(3, 4)),
    ),
]

# ------------------------------------------------------------------------------------------------------------
# What held (kept as rows so that it keeps holding)
# ------------------------------------------------------------------------------------------------------------
HELD = [
    case(
        "helper-array-and-number",
        "def h(a):\n    return a * a\n\ndef f(x, y):\n    return np.sum(h(x)) + h(y)\n",
        (randn(3), 0.4),
    ),
    case("transpose-3d", "def f(x, w):\n    return np.sum((x.T * w) ** 2)\n", (normal(2, 3, 4), normal(4, 3, 2))),
    case(
        "annotated-transpose-3d-matmul",
        f"def f(x: {A('a b c')}, w):\n    return np.sum((x.T @ w) ** 2)\n",
        (normal(2, 3, 4), normal(2, 5)),
    ),
    *(
        case(f"matmul-{sa}-{sb}", "def f(a, b):\n    return np.sum(np.sin(a @ b))\n", (normal(*sa), normal(*sb)))
        for sa, sb in [
            ((3,), (3,)),
            ((4, 2, 3), (3, 5)),
            ((2, 3), (4, 3, 5)),
            ((3,), (4, 3, 2)),
            ((1, 2, 3), (4, 3, 2)),
        ]
    ),
    *(
        case(
            f"annotated-matmul-{da}-{db}".replace(" ", ""),
            f"def f(a: {A(da)}, b: {A(db)}):\n    return np.sum(np.sin(a @ b))\n",
            (normal(*sa), normal(*sb)),
        )
        for sa, sb, da, db in [
            ((3,), (3,), "n", "n"),
            ((2, 3), (3,), "m n", "n"),
            ((3,), (3, 2), "n", "n k"),
            ((4, 2, 3), (3, 5), "b m n", "n k"),
            ((2, 3), (4, 3, 5), "m n", "b n k"),
        ]
    ),
    case(
        "helper-numbers-and-arrays-through-a-helper",
        """
        def g(a, b):
            return a * b + a

        def h(a, b):
            return g(b, a) * 2.0

        def f(x: float, w):
            return h(0.5, x) + np.sum(h(w, x))
        """,
        (0.4, randn(3)),
    ),
    case(
        "helper-loop-carried-becomes-array",
        """
        def h(a, b):
            return a * b + b

        def f(x: float, w):
            s = x
            for i in range(3):
                s = h(x, s)
                s = s * w
            return np.sum(s)
        """,
        (0.4, randn(3)),
    ),
    case(
        "parameter-reassigned-before-math",
        "def f(x, y):\n    x = np.sum(x * y)\n    return math.sin(x)\n",
        (randn(3), randn(3)),
    ),
    case(
        "annotated-through-an-alias",
        "from typing import Annotated as Ann\n\ndef f(x: Ann[np.ndarray, 'n'], y: Ann[np.ndarray, 'n']):\n"
        "    return np.sum(x * y)\n",
        (randn(3), randn(3)),
    ),
    case("string-annotation-says-nothing", "def f(x: 'float', w):\n    return np.sum(x * w)\n", (randn(1), randn(3))),
    case(
        "float-rebound", "float = np.ndarray\n\ndef f(x: float, w):\n    return np.sum(x * w)\n", (randn(1), randn(3))
    ),
    case("square-matmul-itself", f"def f(x: {A('n n')}):\n    return np.sum(np.sin(x @ x))\n", (normal(3, 3),)),
    case("vector-matmul-itself", f"def f(x: {A('n')}):\n    return x @ x\n", (normal(3),)),
    case(
        "dot-with-own-transpose", f"def f(x: {A('n m')}):\n    return np.sum(np.sin(np.dot(x, x.T)))\n", (normal(3, 2),)
    ),
    case("dot-scalar-vector", f"def f(a: float, b: {A('n')}):\n    return np.sum(np.dot(a, b))\n", (0.5, normal(3))),
    case(
        "asarray-of-differentiated",  # np.asarray has a rule since issue 14's last rules
        "def f(x):\n    return np.sum(np.asarray(x) ** 2)\n",
        (randn(3),),
    ),
    case(
        "copy-of-differentiated",
        "def f(x):\n    return np.sum(np.copy(x) ** 2)\n",
        (randn(3),),
        expect="correct",  # np.copy has a rule since array writes (s2sad/writes.py): its adjoint is g
    ),
    case(
        "linspace-to-differentiated",
        "def f(x):\n    return np.sum(np.linspace(0, x, 5) ** 2)\n",
        (0.7,),
        expect="refused",
        code="no-rule",
    ),
    case(
        "sum-where",
        "def f(x):\n    return np.sum(x * x, where=x > 0.4)\n",
        (randn(3),),
        expect="refused",
        code="no-rule",
    ),
    case(
        "sum-initial",
        "def f(x):\n    return np.sum(x * x, initial=x[0])\n",
        (randn(3),),
        expect="refused",
        code="no-rule",
    ),
    case(
        "sum-dtype-int",
        "def f(x):\n    return np.sum(x * x, dtype=int)\n",
        (3 * randn(3),),
        expect="refused",
        code="no-rule",
    ),
    case("len-and-shape", "def f(x):\n    return np.sum(x) / len(x) + np.sum(x) / x.shape[0]\n", (randn(3),)),
    case(
        "std-ddof-axes",
        "def f(x, w):\n    return np.sum(np.std(x, axis=(0, 2), ddof=1) * w)\n",
        (normal(2, 3, 4), normal(3)),
        wrt=("x",),
    ),
    case(
        "var-ddof-keepdims",
        "def f(x, w):\n    return np.sum(np.var(x, axis=(0, 2), ddof=2, keepdims=True) * w)\n",
        (normal(2, 3, 4), normal(1, 3, 1)),
        wrt=("x",),
    ),
    case(
        "norm-axes",
        "def f(x, w):\n    return np.sum(np.linalg.norm(x, axis=(1, 2)) * w)\n",
        (normal(2, 3, 4), normal(2)),
        wrt=("x",),
    ),
    case(
        "cholesky-stack",
        "def f(x, w):\n    return np.sum(np.linalg.cholesky(x) * w)\n",
        (_STACK, normal(3, 3, 3)),
        wrt=("x",),
    ),
    case(
        "logsumexp-b-broadcast",
        "def f(a, b, w):\n    return np.sum(scipy.special.logsumexp(a, axis=0, b=b, keepdims=True) * w)\n",
        (normal(2, 3), randn(2, 1), normal(1, 3)),
        wrt=("a", "b"),
    ),
    case(
        "einsum-implicit-output",
        "def f(a, b):\n    return np.sum(np.sin(np.einsum('ba,ac', a, b)))\n",
        (normal(2, 3), normal(3, 4)),
    ),
    case(
        "repeat-list-axis",
        "def f(x, w):\n    return np.sum(np.repeat(x, [1, 2], axis=0) * w)\n",
        (normal(2, 3), normal(3, 3)),
        wrt=("x",),
    ),
    case(
        "tile-tuple",
        "def f(x, w):\n    return np.sum(np.tile(x, (2, 1, 2)) * w)\n",
        (normal(2, 3), normal(2, 2, 6)),
        wrt=("x",),
    ),
    case(
        "roll-tuple",
        "def f(x, w):\n    return np.sum(np.roll(x, (1, 2), axis=(0, 1)) * w)\n",
        (normal(2, 3), normal(2, 3)),
        wrt=("x",),
    ),
    case(
        "diagonal-offset",
        "def f(x, w):\n    return np.sum(np.diagonal(x, -1) * w)\n",
        (normal(3, 4), normal(2)),
        wrt=("x",),
    ),
    case(
        "diagonal-axes",
        "def f(x, w):\n    return np.sum(np.diagonal(x, 0, 1, 2) * w)\n",
        (normal(2, 3, 4), normal(2, 3)),
        wrt=("x",),
    ),
    case("trace-3d", "def f(x, w):\n    return np.sum(np.trace(x) * w)\n", (normal(2, 3, 4), normal(4)), wrt=("x",)),
]

CASES = SYMBOLS + ALIASES + LIBRARY + CONSTANTS + LINALG + BROADCAST_RULES + HELD


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_case(c: Case, tmp_path) -> None:
    verdict(c, tmp_path)


@pytest.mark.parametrize("draw", ["np.random.normal()", "np.sum(np.random.uniform(size=2))"])
def test_random_draws_in_a_loop_are_recorded(draw: str, tmp_path) -> None:
    """found: a random draw in a loop, from values no iteration changes, was taken for a loop invariant: the
    reverse pass read the last iteration's draw for every iteration (a silently wrong gradient). Finite
    differences cannot check a random function: the draws are replayed from the same seed instead."""
    body = f"def f(x):\n    s = 0.0\n    for i in range(3):\n        n = {draw}\n        s = s + np.sin(x * n)\n    return s\n"
    write_project(Case("random-in-loop", {"m.py": _HEADER + body}, (0.4,)), tmp_path)
    outcome = run_cli(["grad", "m.py::f"], tmp_path)
    assert outcome.status == 0, outcome.stderr
    grad = gradient_function(outcome.stdout)
    np.random.seed(5)
    got = grad(0.4)
    np.random.seed(5)
    draws = [eval(draw, {"np": np}) for _ in range(3)]
    assert math.isclose(got, sum(math.cos(0.4 * n) * n for n in draws), rel_tol=1e-12)


def test_a_library_array_result_is_checked(tmp_path) -> None:
    """found: a function that makes an array by a library call on data was scalar code: no run-time check that
    it returns a number, and a 'gradient' for a function that returns an array."""
    body = "def f(x):\n    c = np.linspace(1.0, 2.0, 3)\n    return x * c\n"
    write_project(Case("library-array-result", {"m.py": _HEADER + body}, (0.3,)), tmp_path)
    outcome = run_cli(["grad", "m.py::f"], tmp_path)
    assert outcome.status == 0, outcome.stderr
    with pytest.raises(ValueError, match="must return a scalar"):
        gradient_function(outcome.stdout)(0.3)

"""Programs whose helpers save their forward intermediates for their adjoints (s2sad/saving.py): helpers
called in loops, in branches, twice, nested three deep, with several adjoints, with data arguments, whose
result is overwritten, and helpers with branches and loops of their own: soundness cases (tests/soundness.py)
that must be differentiated correctly."""

from __future__ import annotations

import textwrap

import numpy as np

from soundness import Case

_MATH = "import math\n\n\n"
_NUMPY = "import math\n\nimport numpy as np\n\n\n"

NESTED = """
def inner(a, b):
    return math.sin(a) * b + math.exp(a * b)


def middle(x, y):
    u = inner(x, y)
    return u * u + inner(y, u)


def outer(x, y):
    v = middle(x, y)
    return math.log(1.0 + v * v) * middle(v, x)


def f(x, y):
    return outer(x, y) + x
"""


def _case(id: str, body: str, at: tuple, wrt: tuple[str, ...] | None = None, numpy: bool = False, name: str = "f"):
    source = (_NUMPY if numpy else _MATH) + textwrap.dedent(body)
    return Case(id, {"m.py": source}, at, target=f"m.py::{name}", wrt=wrt, expect="correct", family="saving")


CASES = [
    # ----- nesting: the inner helper's saved values travel inside the outer's ----------------------------------
    _case("nested_three_deep", NESTED, (0.3, 0.7)),
    _case(
        "nested_in_loop",
        NESTED + """

def g(x, y):
    s = 0.0
    for i in range(3):
        s = s + outer(x * (i + 1) * 0.1, y) * 0.1
    return s
""",
        (0.3, 0.7),
        name="g",
    ),
    # ----- helpers in loops: what a call saved is recorded per iteration --------------------------------------
    _case(
        "carried_through_helper",
        """
        def cell(h, x, w):
            a = w * h + x
            return math.tanh(a) * math.exp(-0.1 * a)


        def f(x, w):
            h = 0.1
            for i in range(5):
                h = cell(h, x * i, w)
            return h
        """,
        (0.4, 0.9),
    ),
    _case(
        "helper_in_nested_loops",
        """
        def bump(x, c):
            d = x - c
            return math.exp(-d * d)


        def f(x, y):
            s = 0.0
            for i in range(3):
                for j in range(2):
                    s = s + bump(x * y, 0.3 * i - 0.2 * j) * y
            return s
        """,
        (0.4, 0.9),
    ),
    _case(
        "helper_in_while",
        """
        def damp(x, k):
            t = math.sin(x) * k
            return x - 0.1 * t * t


        def f(x):
            k = 0
            while k < 4:
                x = damp(x, k + 1.0)
                k = k + 1
            return x
        """,
        (0.6,),
    ),
    _case(
        "result_overwritten_in_loop",
        """
        def sq(x):
            s = math.sin(x)
            return s * s


        def f(x, y):
            total = 0.0
            for i in range(4):
                t = sq(x * i + y)
                t = t * y
                total = total + t
            return total
        """,
        (0.3, 0.8),
    ),
    _case(
        "result_overwritten",
        """
        def sq(x):
            s = math.sin(x)
            return s * s + x


        def f(x):
            y = sq(x)
            y = y * 2.0
            y = sq(y)
            return y
        """,
        (0.3,),
    ),
    _case(
        "argument_is_result",
        """
        def sq(x):
            s = math.sin(x)
            return s * s + x


        def f(x):
            x = sq(x)
            x = sq(x)
            return x
        """,
        (0.3,),
    ),
    # ----- branches -----------------------------------------------------------------------------------------
    _case(
        "helper_in_branch",
        """
        def soft(x):
            e = math.exp(x)
            return math.log(1.0 + e)


        def f(x, y):
            if x > 0:
                z = soft(x * y)
            else:
                z = soft(y) * x
            return z * z
        """,
        (0.3, 0.8),
    ),
    _case(
        "helper_in_branch_other_side",
        """
        def soft(x):
            e = math.exp(x)
            return math.log(1.0 + e)


        def f(x, y):
            if x > 0:
                z = soft(x * y)
            else:
                z = soft(y) * x
            return z * z
        """,
        (-0.3, 0.8),
    ),
    _case(
        "helper_with_branch_not_taken",
        """
        def clip(x):
            if x > 0:
                t = math.sin(x)
                y = t * t
            else:
                y = x
            return y


        def f(x, y):
            return clip(x * y) + clip(x - y)
        """,
        (0.5, 0.8),
    ),
    # ----- helpers with loops of their own: their stacks are saved ------------------------------------------
    _case(
        "helper_with_loop",
        """
        def poly(x, n):
            s = 1.0
            for i in range(n):
                t = math.sin(x * (i + 1))
                s = s * t + x
            return s


        def f(x, y):
            s = 0.0
            for k in range(3):
                s = s + poly(x + y * k, 3)
            return s
        """,
        (0.4, 0.3),
    ),
    _case(
        "helper_with_loop_run_zero_times",
        """
        def poly(x, n):
            s = x
            for i in range(n):
                t = math.sin(x * (i + 1))
                s = s * t
            return s


        def f(x):
            return poly(x, 0) + poly(x, 2)
        """,
        (0.4,),
    ),
    _case(
        "helper_reassigns_parameter",
        """
        def spin(x, n):
            for i in range(n):
                x = x * math.cos(x)
            return x


        def f(x):
            return spin(x, 3) * spin(x * x, 2)
        """,
        (0.4,),
    ),
    _case(
        "helper_with_while_and_reassigned_parameters",
        """
        def sq(x):
            return math.sin(x) * x


        def walk(x, y):
            k = 0
            while k < 3 and x < 10.0:
                x = sq(x) + y
                k = k + 1
            for i in range(2):
                for j in range(2):
                    y = y * sq(x + j)
            return x * y


        def f(x, y):
            s = 0.0
            for i in range(2):
                s = s + walk(x, y * i)
            return s
        """,
        (0.3, 0.7),
    ),
    # ----- several adjoints, data arguments, no saved values ------------------------------------------------
    _case(
        "several_adjoints",
        """
        def form(a, b, c):
            u = a * b
            return math.exp(u) * c + math.sin(c * a)


        def f(x, y, z):
            return form(x, y, z) * form(z, x, y)
        """,
        (0.3, 0.5, 0.7),
    ),
    _case(
        "data_arguments",
        """
        def scaled(x, k, m):
            return math.sin(x) * k + x**m


        def f(x, n):
            s = 0.0
            for i in range(n):
                s = s + scaled(x, i, n - i)
            return s
        """,
        (0.4, 3),
        ("x",),
    ),
    _case(
        "linear_helper_saves_nothing",
        """
        def lin(x, y):
            return 2.0 * x - 3.0 * y


        def f(x, y):
            return math.sin(lin(x, y)) * lin(y, x)
        """,
        (0.4, 0.3),
    ),
    _case(
        "helper_returns_parameter",
        """
        def ident(x, y):
            t = y * y
            return x


        def f(x, y):
            return ident(x * y, x) * math.sin(x)
        """,
        (0.4, 0.3),
    ),
    # ----- NumPy: an RNN-like cell in a loop -----------------------------------------------------------------
    _case(
        "numpy_cell_in_loop",
        """
        def cell(h, x, W):
            a = W @ h + x
            return np.tanh(a) * 0.5


        def f(W, xs):
            h = np.zeros(3)
            for t in range(4):
                h = cell(h, xs[t], W)
            return np.sum(h * h)
        """,
        (np.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.2], [0.3, 0.1, 0.2]]), np.array([[0.5, -0.2, 0.1]] * 4)),
        ("W",),
        numpy=True,
    ),
]

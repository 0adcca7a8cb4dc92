"""What loops record (s2sad/recording.py, s2sad/sharing.py): a value every iteration computes alike is not
pushed; a repeated index expression is computed once; a cheap operation on values the reverse pass restores
anyway is recomputed instead of pushed. Each program is differentiated correctly (tests/soundness.py) and
its module shows the saving."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import s2sad
from soundness import Case, verdict

_HEADER = "import math\n\nimport numpy as np\n\n\n"


def case(id: str, body: str, at: tuple, wrt: tuple[str, ...] | None = None, family: str = "") -> Case:
    header = _HEADER if "np." in body else "import math\n\n\n"
    return Case(id, {"m.py": header + textwrap.dedent(body)}, at, wrt=wrt, expect="correct", family=family)


INVARIANT = """
def f(x, y, n):
    s = x
    for i in range(n):
        a = math.sin(y) * 2.0
        s = s * math.cos(a * s) + a
    return s
"""

CASES = [
    # ----- loop-invariant values: computed from values no iteration changes ---------------------------------
    case("invariant", INVARIANT, (0.3, 0.7, 4), family="invariant"),
    case("invariant_zero_trips", INVARIANT, (0.3, 0.7, 0), ("x", "y"), family="invariant"),
    case(
        "invariant_in_nested_loops",
        """
        def f(x, y):
            s = x
            for i in range(3):
                for j in range(2):
                    a = math.exp(y) + y
                    s = s * a - 0.1 * s * s
            return s
        """,
        (0.3, 0.4),
        family="invariant",
    ),
    case(
        "changes_per_outer_iteration",
        """
        def f(x, y):
            s = x
            for i in range(3):
                b = y * i
                for j in range(2):
                    a = math.sin(b)
                    s = s * a + b
            return s
        """,
        (0.3, 0.4),
        family="invariant",
    ),
    case(
        "invariant_in_branch",
        """
        def f(x, y):
            s = x
            for i in range(4):
                if i % 2 == 0:
                    a = math.sin(y)
                    s = s * a
                else:
                    s = s + y
            return s
        """,
        (0.3, 0.4),
        family="invariant",
    ),
    case(
        "invariant_in_while",
        """
        def f(x, y):
            k = 0
            while k < 3:
                a = math.cos(y) * y
                x = math.sin(x * a)
                k = k + 1
            return x
        """,
        (0.3, 0.4),
        family="invariant",
    ),
    case(
        "invariant_array",
        """
        def f(W, h):
            for t in range(3):
                A = np.tanh(W) * 0.5
                h = np.sin(A @ h)
            return np.sum(h)
        """,
        (np.array([[0.1, 0.2], [0.3, -0.4]]), np.array([0.5, -0.2])),
        family="invariant",
    ),
    case(
        "carried_is_not_invariant",
        """
        def f(x, y):
            a = y
            for i in range(3):
                a = math.sin(a) + y
                x = x * a
            return x
        """,
        (0.3, 0.4),
        family="invariant",
    ),
    # ----- repeated index expressions -----------------------------------------------------------------------
    case(
        "index_read_twice",
        """
        def f(x, xs):
            s = 0.0
            for i in range(len(xs) - 1):
                s = s + xs[i] * xs[i] * x + xs[i + 1] * math.sin(x * xs[i + 1])
            return s
        """,
        (0.3, np.array([0.5, -0.2, 0.7, 0.1])),
        family="sharing",
    ),
    case(
        "index_of_parameter_read_twice",
        """
        def f(xs):
            s = 0.0
            for i in range(3):
                s = s + xs[i] * xs[i] + xs[i + 1] / (1.0 + xs[i + 1] ** 2)
            return s
        """,
        (np.array([0.5, -0.2, 0.7, 0.1]),),
        family="sharing",
    ),
    case(
        "index_in_branches",
        """
        def f(x, xs):
            s = 0.0
            for i in range(3):
                if xs[i] > 0:
                    s = s + xs[i] * x
                else:
                    s = s - xs[i] * x * x
            return s
        """,
        (0.3, np.array([0.5, -0.2, 0.7])),
        family="sharing",
    ),
    # ----- cheap operations on restored values --------------------------------------------------------------
    case(
        "recompute_from_restored",
        """
        def f(x, y):
            for i in range(4):
                b = math.sin(x)
                c = b * y
                x = x + c * c
            return x
        """,
        (0.3, 0.4),
        family="recompute",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_loop_costs(case: Case, tmp_path: Path) -> None:
    verdict(case, tmp_path)


def _gradient(case_id: str) -> str:
    """The generated module without its comments (which echo the source)."""
    (c,) = [c for c in CASES if c.id == case_id]
    text = s2sad.generate(c.files["m.py"], "m.py", "f")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("# ") or "# reverse" in line)


def test_an_invariant_value_is_not_pushed() -> None:
    text = _gradient("invariant")
    assert "a_stack" not in text and "a = math.sin(y) * 2.0" in text
    assert text.count("math.sin(y)") == 1  # the forward pass computes it; the reverse reads what it left


def test_a_value_the_outer_loop_changes_is_recorded() -> None:
    text = _gradient("changes_per_outer_iteration")
    assert re.search(r"\ba = \w+_stack\.pop\(\)|\ba = math\.sin\(b\)", text.split("# reverse")[1])


def test_a_repeated_index_is_read_once() -> None:
    text = _gradient("index_of_parameter_read_twice")
    for part in text.split("# reverse"):  # the forward pass, then the reverse pass
        assert part.count("xs[i]") <= 1 and part.count("i + 1") <= 1 and part.count("xs[i_plus_1]") <= 1
    assert "xs[i_plus_1]" in text


def test_a_cheap_operation_on_restored_values_is_recomputed() -> None:
    text = _gradient("recompute_from_restored")
    assert "c_stack" not in text and "b_stack" in text
    assert "c = b * y" in text.split("# reverse")[1]

"""Soundness of loops, SSA and the reverse pass: nested loops, loop indices, names reused across loops, and
short-circuit tests.

Every row must be differentiated correctly (against central finite differences of the user's own function) or
refused with a located diagnostic: never a silently wrong gradient, never a crashing generated module.
"""

from __future__ import annotations

import textwrap

import pytest

from soundness import Case, verdict

_HEADER = "import math\n\n\n"


def case(id: str, body: str, at: tuple, expect: str = "correct", code: str | None = None, family: str = "") -> Case:
    return Case(id, {"m.py": _HEADER + textwrap.dedent(body)}, at, expect=expect, code=code, family=family)


CASES = [
    # ----- a while nested in a loop: one trip count per outer iteration --------------------------------------
    case(
        "while_in_for_shrinking",
        """
        def f(x):
            for i in range(3):
                j = 0
                while j < 2 - i:
                    x = x * x + 0.1
                    j = j + 1
            return x
        """,
        (0.3,),
        family="nested-while",
    ),
    case(
        "while_in_for_growing",
        """
        def f(x):
            for i in range(3):
                j = 0
                while j < i:
                    x = x * x + 0.1
                    j = j + 1
            return x
        """,
        (0.3,),
        family="nested-while",
    ),
    case(
        "while_in_while",
        """
        def f(x):
            k = 0
            while k < 3:
                j = 0
                while j < k + 1:
                    x = math.sin(x) * 1.5
                    j = j + 1
                k = k + 1
            return x
        """,
        (0.3,),
        family="nested-while",
    ),
    case(
        "while_in_two_loops",
        """
        def f(x):
            for i in range(3):
                for k in range(2):
                    j = 0
                    while j < i + k:
                        x = x * 0.9 + 0.1 * x * x
                        j = j + 1
            return x
        """,
        (0.3,),
        family="nested-while",
    ),
    case(
        "while_in_branch_in_loop",
        """
        def f(x):
            for i in range(4):
                if x > 0.2:
                    j = 0
                    while j < i:
                        x = math.sin(x) + 0.5 * x
                        j = j + 1
            return x
        """,
        (0.3,),
        family="nested-while",
    ),
    # ----- a loop index read after its loop -----------------------------------------------------------------
    case(
        "inner_index_after_loop",
        """
        def f(y):
            i = 0
            for w in range(1):
                for i in range(3):
                    y = y * 1.5
            return y * i
        """,
        (0.77,),
        expect="refused",
        code="loop-index-after-loop",
        family="loop-index",
    ),
    case(
        "inner_index_read_next_iteration",
        """
        def f(y):
            i = 7
            for w in range(2):
                y = y * i
                for i in range(2):
                    y = y * 1.5
            return y
        """,
        (0.77,),
        expect="refused",
        code="loop-index-after-loop",
        family="loop-index",
    ),
    case(
        "inner_index_after_loop_in_if",
        """
        def f(y):
            i = 0
            if y > 0:
                for w in range(1):
                    for i in range(3):
                        y = y * 1.5
            return y * i
        """,
        (0.77,),
        expect="refused",
        code="loop-index-after-loop",
        family="loop-index",
    ),
    case(
        "inner_index_reassigned",
        """
        def f(y):
            for i in range(3):
                j = 5
                for j in range(i):
                    y = y * 1.5
                y = y + j * y
            return y
        """,
        (0.77,),
        expect="refused",
        code="loop-index-after-loop",
        family="loop-index",
    ),
    case(
        "index_reused_by_next_loop",
        """
        def f(y):
            for i in range(3):
                y = y * 1.5 + i
            for i in range(2):
                y = y * y * i
            return y
        """,
        (0.77,),
        family="loop-index",
    ),
    # ----- a temporary name reused across sequential loops --------------------------------------------------
    case(
        "name_reused_across_loops",
        """
        def f(x, y):
            for i in range(2):
                a = y
                y = a * y
            for j in range(2):
                a = x
                x = a * x
            return x * y
        """,
        (0.7, 1.3),
        family="reuse",
    ),
    case(
        "name_reused_across_loops_calls",
        """
        def f(x, y):
            for i in range(2):
                a = math.sin(y)
                y = a * y
            for j in range(3):
                a = math.cos(x)
                x = a * x
            return x * y
        """,
        (0.7, 1.3),
        family="reuse",
    ),
    case(
        "names_reused_across_nested_loops",
        """
        def f(x, y):
            for i in range(2):
                a = math.sin(y)
                for k in range(2):
                    b = a * y
                    y = b + a
            for j in range(2):
                b = x
                a = b * x
                x = a * b
            return x * y
        """,
        (0.7, 1.3),
        family="reuse",
    ),
    # ----- 'and' / 'or' short-circuit ------------------------------------------------------------------------
    case(
        "and_guards_division",
        """
        def f(x, y):
            r = x * 3.0
            if y != 0.0 and x / y > 1.0:
                r = x * x
            return r
        """,
        (2.0, 0.0),
        family="short-circuit",
    ),
    case(
        "and_guards_division_taken",
        """
        def f(x, y):
            r = x * 3.0
            if y != 0.0 and x / y > 1.0:
                r = x * x * y
            return r
        """,
        (2.0, 1.5),
        family="short-circuit",
    ),
    case(
        "and_guards_log",
        """
        def f(x, y):
            r = x * 3.0
            if y > 0 and math.log(y) > 0.5:
                r = x * y
            return r
        """,
        (2.0, -1.0),
        family="short-circuit",
    ),
    case(
        "or_guards_log",
        """
        def f(x, y):
            r = x * y
            if y <= 0 or math.log(y) < 0.5:
                r = x * 3.0
            return r
        """,
        (2.0, -1.0),
        family="short-circuit",
    ),
    case(
        "chained_comparison_guards_log",
        """
        def f(x, y):
            r = x * 3.0
            if 0 < y < math.log(y) + 3.0:
                r = x * y
            return r
        """,
        (2.0, -1.0),
        family="short-circuit",
    ),
    case(
        "chained_comparison_taken",
        """
        def f(x, y):
            r = x * 3.0
            if 0 < y < math.log(y) + 3.0 < x * 4.0:
                r = x * y
            return r
        """,
        (2.0, 1.5),
        family="short-circuit",
    ),
    case(
        "and_in_while",
        """
        def f(x, y):
            k = 0
            while k < 3 and x / (k - 5) < 1.0:
                x = x * 1.1 + y
                k = k + 1
            return x
        """,
        (0.4, 0.2),
        family="short-circuit",
    ),
    case(
        "or_in_while_guards_log",
        """
        def f(x, y):
            k = 0
            while k < 4 and (y <= 0 or math.log(y) < 2.0):
                x = x * 1.1 + y
                y = y + 1.0
                k = k + 1
            return x * y
        """,
        (0.4, 0.5),
        family="short-circuit",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_soundness_loops(case: Case, tmp_path) -> None:
    verdict(case, tmp_path)

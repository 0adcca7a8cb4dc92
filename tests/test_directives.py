"""Loop directives (``# s2sad: fixed-point``, ``# s2sad: checkpoint [N]``): where they may stand, what the
frontend records on the loop, and the located errors for every other use."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from s2sad import ir
from s2sad.pipeline import _lowered
from soundness import run_cli

_HEADER = "import math\n\n\n"


def _loops(body: tuple[ir.Stmt, ...]) -> list[ir.For | ir.While]:
    found: list[ir.For | ir.While] = []
    for s in body:
        if isinstance(s, (ir.For, ir.While)):
            found.append(s)
            found += _loops(s.body)
        elif isinstance(s, ir.If):
            found += _loops(s.body) + _loops(s.orelse)
    return found


def _lower(tmp_path: Path, text: str) -> ir.Function:
    path = tmp_path / "f.py"
    path.write_text(_HEADER + textwrap.dedent(text))
    return _lowered(path.read_text(), str(path), "f", None)[2]


def test_marks_reach_the_ir(tmp_path: Path) -> None:
    fn = _lower(
        tmp_path,
        """
        def f(a):
            x = 1.0
            # Babylonian square root
            # s2sad: fixed-point
            while abs(x * x - a) > 1e-12:
                x = 0.5 * (x + a / x)
            s = 0.0
            # s2sad: checkpoint 10
            for i in range(100):
                s = s + math.sin(s + x)
            # s2sad: checkpoint
            for i in range(3):
                s = s * x
            for i in range(3):
                s = s * x
            return s
        """,
    )
    loops = _loops(fn.body)
    assert [type(s).__name__ for s in loops] == ["While", "For", "For", "For"]
    assert loops[0].fixed_point  # type: ignore[union-attr]
    assert [s.checkpoint for s in loops[1:]] == [10, 0, None]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body, code, line",
    [
        ("# s2sad: checkpoint\n    while a > 1.0:\n        a = a / 2\n", "misplaced-directive", 5),
        ("# s2sad: fixed-point\n    for i in range(3):\n        a = a * 2\n", "misplaced-directive", 5),
        ("# s2sad: fixed-pint\n    for i in range(3):\n        a = a * 2\n", "unknown-directive", 5),
        ("# s2sad: fixed-point 3\n    while a > 1.0:\n        a = a / 2\n", "bad-directive", 5),
        ("# s2sad: checkpoint 0\n    for i in range(3):\n        a = a * 2\n", "bad-directive", 5),
        ("a = a * 2  # s2sad: checkpoint\n", "misplaced-directive", 5),
        ("# s2sad: checkpoint\n\n    for i in range(3):\n        a = a * 2\n", "misplaced-directive", 5),
        ("# s2sad: checkpoint\n    for v in (a, a):\n        a = a * v\n", "unsupported-directive", 5),
    ],
)
def test_refused_where_it_cannot_take_effect(tmp_path: Path, body: str, code: str, line: int) -> None:
    (tmp_path / "f.py").write_text(_HEADER + "def f(a):\n    " + body + "    return a\n")
    outcome = run_cli(["grad", "f.py::f"], tmp_path)
    assert outcome.status == 2, outcome.stderr
    assert f"f.py:{line}:" in outcome.stderr and f"[{code}]" in outcome.stderr
    assert "Traceback" not in outcome.stderr

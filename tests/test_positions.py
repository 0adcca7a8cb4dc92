"""s2sad.frontend.positions gives every node the position LibCST's PositionProvider gives it."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from s2sad.frontend import positions

ROOT = Path(__file__).resolve().parent.parent
#: s2sad's frontend, the examples and the test programs: every construct the frontend reads, and then some
FILES = sorted(str(p.relative_to(ROOT)) for d in ("s2sad/frontend", "examples") for p in (ROOT / d).glob("*.py"))
FILES += sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("*catalogue*.py"))

#: Text LibCST reads with other line endings, form feeds, continuation lines, strings over several lines
ODD = [
    "x = 1\r\ny = (2 +\r\n     3)\r\n",
    "x = 1\ry = 2\r",
    "def f(x):\n    \x0c\n    y = x \\\n        + 1\n    return '''a\nb''' + y\n",
    "def f(x):\n\treturn [x,\n\t\tx]  # two\n",
    "",
    "x = 1",
    # non-ASCII names and strings, semicolons, decorators, nested functions, parentheses, comments
    "import math\n\n\n@functools.cache\ndef f(θ, x):  # é\n    s = 'ü→' ; y = ((θ * x)) ; z = y\n"
    "    def g(ω=1.0):\n        return ω * y\n    return (g(z)\n            + math.sin(θ))\n",
    "class C:\n    @staticmethod\n    def h(a): a = a  ;  return [a, *a]\n\n\nlambda: (yield)\n",
]


def _same(module: cst.Module) -> None:
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = positions.of(module)
    assert len(ours) == len(theirs)
    for node, where in theirs.items():
        assert node in ours
        assert ours[node] == where, type(node).__name__


@pytest.mark.parametrize("path", FILES)
def test_positions_are_libcsts(path: str) -> None:
    _same(cst.parse_module((ROOT / path).read_text()))


@pytest.mark.parametrize("text", ODD)
def test_positions_of_odd_text_are_libcsts(text: str) -> None:
    _same(cst.parse_module(text))

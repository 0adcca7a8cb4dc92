"""Lines held out of black (s2sad/formatting.py) are lines black prints unchanged, and a module formatted with
them held out is byte-identical to black's formatting of the whole text.

(The whole suite checks the second for every module it generates: tests/conftest.py sets ``VERIFY``.)
"""

from __future__ import annotations

import random
from pathlib import Path

import black
import pytest

import catalogue
import numpy_catalogue
from s2sad import formatting, generate

ROOT = Path(__file__).resolve().parent.parent


def _black(line: str) -> str:
    """Black's formatting of ``line`` inside a function body, at its indentation (under ``if`` lines)."""
    depth = (len(line) - len(line.lstrip(" "))) // 4
    head = "def f():\n" + "".join(f"{'    ' * (k + 1)}if c{k}:\n" for k in range(depth - 1))
    return black.format_str(f"{head}{line}\n", mode=black.Mode()).split("\n", depth)[depth].rstrip("\n")


#: lines black changes or may change, or that are not assignments: none is held out
CHANGED = [
    "    y = x ** 2",
    "    y = x**2",
    "    y = 1e+16 * x",
    "    y = 1E5 * x",
    "    y = 0XFF",
    "    y = 1j * x",
    "    y = 'a'",
    "    y = (a, b,)",
    "    y = a[i,]",
    "    y = f(*a)",
    "    y = (x)",
    "    y = x[1:2]",
    "    y = x[a + 1:]",
    "    y = lambda q: q",
    "    y = {1: 2}",
    "    y = x  # note",
    "    y = " + " + ".join(f"x{k}" for k in range(30)),
    "    y = a \\\n        + b",
    "    import x",
    "    return x",
    "    y = --x",
    "    y = ~x",
    "    y = x;z = 1",
    "    y = x ",
    "    y = .5",
    "    y = 5.",
]
#: lines as s2sad writes them: black leaves each as it is
KEPT = [
    "    a_1 = d * b",
    "    b_1 = c + 0.5 * c",
    "    c_1 = sin(b_1)",
    "    d_1 = exp(0.001 * a_1)",
    "    a_bar += d_bar * 0.5",
    "    a_bar -= d_bar * 1e-05",
    "    x_stack.append(x)",
    "    x = x_stack.pop()",
    "    h_bar = g @ W2.T",
    "    b2_bar = np.sum(g, axis=0)",
    "        r_bar = 2 * r / r.size",
    "    a, b = h(x, -y)",
    "    y = a[i, j] * -b",
    "    y = a[-1] - b",
    "    y = not a == b",
    "    y = a if b < c else -d",
]


@pytest.mark.parametrize("line", CHANGED)
def test_lines_black_may_change_are_not_held_out(line: str) -> None:
    assert not formatting.stable(line)


@pytest.mark.parametrize("line", KEPT)
def test_lines_as_s2sad_writes_them_are_held_out_and_black_keeps_them(line: str) -> None:
    assert formatting.stable(line)
    assert _black(line) == line


def _random_line(rng: random.Random) -> str:
    atoms = ["x", "y_1", "0.5", "2", "1e-05", "1e+16", "np.sum(a)", "a[i]", "a[i, j]", "f(x, y)", "-x", "(a + b)"]
    ops = [" + ", " - ", " * ", " / ", " @ ", " ** ", "**", " % ", " < ", " == ", ", "]
    parts = [rng.choice(atoms)]
    for _ in range(rng.randrange(0, 12)):
        parts += [rng.choice(ops), rng.choice(atoms)]
    target, operator = rng.choice(["z", "z_bar", "p, q"]), rng.choice(["=", "+=", "-="])
    return f"{'    ' * rng.randrange(1, 4)}{target} {operator} {''.join(parts)}"


@pytest.mark.parametrize("seed", range(5))
def test_random_lines_held_out_are_unchanged_by_black(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        line = _random_line(rng)
        try:
            compile(line.lstrip(" "), "<line>", "exec")
        except SyntaxError:
            continue
        if formatting.stable(line):
            assert _black(line) == line, line


CASES = [("catalogue.py", case[0].__name__) for case in catalogue.CASES]
CASES += [("numpy_catalogue.py", case[0].__name__) for case in numpy_catalogue.CASES]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_catalogue_modules_are_black_byte_for_byte(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatting, "VERIFY", True)  # format_module asserts the two are the same
    file, name = CASES[index]
    text = generate((ROOT / "tests" / file).read_text(), f"tests/{file}", name)
    assert black.format_str(text, mode=black.Mode()) == text


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*_grad.py")))
def test_examples_regenerate_the_same_with_lines_held_out(example: str) -> None:
    text = (ROOT / "examples" / example).read_text()
    assert black.format_str(text, mode=black.Mode()) == text


def test_held_runs_go_back_where_black_left_their_placeholders() -> None:
    body = ["    # forward", "    a = x * y", "    # a = x * y", "    b = sin(a)", "    for i in range(3):"]
    body += ["        c = a + b", "        d = c * 2", "        # d = c * 2", "    return d"]
    held: list[list[str]] = []  # a comment starts no run and ends none (black places it by what follows)
    out = formatting.hold_out(body, held, "_p")
    assert out == ["    # forward", "    _p0 = 0", "    for i in range(3):", "        _p1 = 0", body[7], body[8]]
    assert held == [body[1:4], body[5:7]]
    text = "def f(x, y):\n" + "\n".join(out) + "\n"
    whole = "def f(x, y):\n" + "\n".join(body) + "\n"
    assert formatting.format_module(text, held, "_p") == black.format_str(whole, mode=black.Mode())


def test_the_line_length_is_blacks() -> None:
    assert formatting._LINE_LENGTH == black.Mode().line_length


@pytest.mark.parametrize("seed", range(4))
def test_the_quick_avoid_test_is_the_avoid_pattern(seed: int) -> None:
    """``_avoided`` (plain-text tests first) finds something exactly where ``_AVOID.search`` does."""
    rng = random.Random(seed)
    alphabet = "ab1_.,()[] +-*/@%<>=!eE"
    texts = ["a = b ** 2", "a = f(b,)", "a = (*b)", "a = b - -c", "a = b --c", "a = b  + c", "a = b ", "a = f (b)"]
    texts += ["a = b . c", "a = b. c", "a = ( b)", "a = [b ]", "a = b , c", "a = -b", "a = b - c", "a = f(b)[c]"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20000)]
    for text in texts:
        assert formatting._avoided(text) == (formatting._AVOID.search(text) is not None), text

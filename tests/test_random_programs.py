"""Random programs, differentiated and compared with central finite differences (a seeded differential test).

Each program mixes reassignment, tuple swaps, augmented assignment, loops (nested, reversed, carried state),
branches on data, conditional expressions and a helper; values stay bounded (tanh, sin, small factors) so
finite differences are accurate.
"""

import math
import random

import pytest

from gradcheck import check_against_fd, numeric_grad
from s2sad import generate

UNARY = ["math.sin({})", "math.cos({})", "math.tanh({})", "({}) ** 2", "math.exp(0.3 * math.tanh({}))", "-({})"]
BINARY = ["{} + {}", "{} - {}", "0.5 * {} * {}", "{} * math.cos({})"]
# the second generation adds piecewise functions and helpers
UNARY_2 = UNARY + ["abs({})", "math.sqrt(1.0 + ({}) ** 2)"]
BINARY_2 = BINARY + ["max({}, {})", "min({}, {})", "squash({}, {})", "mix({}, {}, 2)"]


class Program:
    unary, binary, extended = UNARY, BINARY, False
    jumps = False  #: break, continue, early return, loops over tuples and enumerate (see Jumps)

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.lines = []
        self.names = ["x", "y"]
        self.counter = 0
        self.indices: list[str] = []
        self.loops: list[str] = []  #: the kinds of the loops around the statement being generated

    def expr(self, depth=0):
        r = self.rng
        if depth > 1 or r.random() < 0.3:
            return r.choice(self.names) if r.random() < 0.85 else repr(round(r.uniform(-1, 1), 2))
        if self.extended and self.indices and r.random() < 0.1:
            return f"{self.expr(depth + 1)} * {r.choice(['float', ''])}({r.choice(self.indices)}) * 0.1"
        if r.random() < 0.4:
            return r.choice(self.unary).format(self.expr(depth + 1))
        return r.choice(self.binary).format(self.expr(depth + 1), self.expr(depth + 1))

    def statement(self, indent, depth):
        r = self.rng
        pad = "    " * indent
        if self.jumps and self.jump(pad, indent, depth):
            return
        kind = r.random()
        if depth < 2 and kind < 0.15:
            index = f"i{depth}"
            choices = [f"range({r.randint(0, 3)})", f"reversed(range({r.randint(1, 3)}))"]
            if self.extended and self.indices:
                choices.append(f"range({self.indices[-1]} + 1)")
            self.lines.append(f"{pad}for {index} in {r.choice(choices)}:")
            self.indices.append(index)
            self.loops.append("for")
            for _ in range(r.randint(1, 3)):
                self.statement(indent + 1, depth + 1)
            self.loops.pop()
            self.indices.pop()
            return
        if self.extended and depth < 2 and kind < 0.2:
            counter = f"k{depth}"
            self.lines.append(f"{pad}{counter} = 0")
            self.lines.append(f"{pad}while {counter} < {r.randint(0, 3)} and {r.choice(self.names)} < 5.0:")
            self.loops.append("while")
            self.statement(indent + 1, depth + 1)
            self.loops.pop()
            self.lines.append(f"{pad}    {counter} = {counter} + 1")
            return
        if self.extended and depth < 2 and kind < 0.25:
            a = r.choice(self.names)
            self.lines.append(f"{pad}if {a} > 0.3:")
            self.statement(indent + 1, depth + 1)
            self.lines.append(f"{pad}elif {a} < -0.3:")
            self.statement(indent + 1, depth + 1)
            self.lines.append(f"{pad}else:")
            self.statement(indent + 1, depth + 1)
            return
        if depth < 2 and kind < 0.3:
            self.lines.append(f"{pad}if {r.choice(self.names)} > {round(r.uniform(-0.5, 0.5), 2)}:")
            for _ in range(r.randint(1, 2)):
                self.statement(indent + 1, depth + 1)
            self.lines.append(f"{pad}else:")
            self.statement(indent + 1, depth + 1)
            return
        if kind < 0.4 and len(self.names) >= 2:
            a, b = r.sample(self.names, 2)
            self.lines.append(f"{pad}{a}, {b} = {b}, math.tanh({self.expr()})")
            return
        if kind < 0.5:
            self.lines.append(f"{pad}{r.choice(self.names)} += 0.3 * math.tanh({self.expr()})")
            return
        if kind < 0.6:
            self.lines.append(f"{pad}{r.choice(self.names)} = squash({self.expr()}, {r.choice(self.names)})")
            return
        if kind < 0.7:
            self.lines.append(
                f"{pad}{r.choice(self.names)} = {self.expr()} if {r.choice(self.names)} > 0 else {self.expr()}"
            )
            return
        if indent == 1 and r.random() < 0.5:  # a new variable, defined on every path
            name = f"v{self.counter}"
            self.counter += 1
            self.lines.append(f"{pad}{name} = math.tanh({self.expr()})")
            self.names.append(name)
            return
        self.lines.append(f"{pad}{r.choice(self.names)} = math.tanh({self.expr()})")

    def source(self):
        for _ in range(self.rng.randint(3, 7)):
            self.statement(1, 0)
        body = "\n".join(self.lines)
        result = " + ".join(self.rng.sample(self.names, min(3, len(self.names))))
        return (
            "import math\n\n\ndef squash(a, b):\n    return math.tanh(a * b + 0.1)\n\n\n"
            "def mix(a, b, n):\n    s = a\n    for i in range(n):\n        s = math.tanh(s * b + 0.2 * i)\n"
            "    if s > 0:\n        s = s * a\n    return s\n\n\n"
            f"def f(x, y):\n{body}\n    return {result} + 0.01 * x * y\n"
        )


class Extended(Program):
    unary, binary, extended = UNARY_2, BINARY_2, True


class Jumps(Extended):
    """Adds break and continue at data-dependent points, early returns (in branches, inside loops), and loops
    over tuple displays and enumerate of them."""

    jumps = True

    def jump(self, pad, indent, depth):
        r = self.rng
        kind = r.random()
        cond = f"{r.choice(self.names)} > {round(r.uniform(-0.6, 0.9), 2)}"
        if kind < 0.12:
            value = f"{self.expr()} + 0.01 * x * y"
            self.lines += [f"{pad}if {cond}:", f"{pad}    return {value}"]
            return True
        if kind < 0.3 and self.loops:
            # continue in a while loop would skip its counter: only break there
            what = r.choice(["break", "continue"]) if self.loops[-1] == "for" else "break"
            self.lines += [f"{pad}if {cond}:", f"{pad}    {what}"]
            return True
        if kind < 0.38 and depth < 2:
            item = f"t{depth}"
            items = ", ".join(self.expr(1) for _ in range(r.randint(1, 3)))
            header = f"for {item} in ({items},):"
            if r.random() < 0.5:
                header = f"for e{depth}, {item} in enumerate(({items},)):"
            self.lines.append(pad + header)
            self.names.append(item)
            self.loops.append("for")
            for _ in range(r.randint(1, 2)):
                self.statement(indent + 1, depth + 1)
            self.loops.pop()
            self.names.remove(item)
            return True
        return False


@pytest.mark.parametrize("seed", range(150))
def test_random_program(seed):
    check_program(Program(seed).source(), seed)


@pytest.mark.parametrize("seed", range(100))
def test_random_program_with_while_helpers_and_kinks(seed):
    check_program(Extended(seed).source(), seed)


@pytest.mark.parametrize("seed", range(100))
def test_random_program_with_jumps(seed):
    check_program(Jumps(seed).source(), seed)


def check_program(source, seed):
    namespace = {}
    exec(compile(source, f"<program {seed}>", "exec"), namespace)
    generated = {}
    exec(compile(generate(source, f"random_{seed}.py", "f", wrt=("x", "y")), "<grad>", "exec"), generated)
    point = (0.37, -0.61)
    for i in (0, 1):  # near a branch's threshold, finite differences straddle a jump: no reference there
        coarse, fine = numeric_grad(namespace["f"], point, i, 1e-5), numeric_grad(namespace["f"], point, i, 1e-7)
        if not math.isclose(coarse, fine, rel_tol=1e-3, abs_tol=1e-5):
            pytest.skip("the point is at a kink of this program")
    try:
        check_against_fd(namespace["f"], generated["grad_f"], point, (0, 1), rtol=1e-5, atol=1e-7)
    except AssertionError as err:
        raise AssertionError(f"{err}\n{source}") from None

"""Random NumPy programs that attack the value analysis and the speed paths (issue 12); run by
``tests/sweep_values.py`` offline and as a seeded slice in ``tests/test_soundness_hunt.py``.

Each program is a function ``f(x, M, s)`` of a vector x (n,), a matrix M (m, n) and a number s. Its body builds
values of nine shapes from them (numbers, (n,), (n, 1), (1, n), (m, n), (m,), (n, n), (n - 1,) and (1, 1)) with
broadcasting among all of them, 0-d arrays, NumPy scalars and Python floats; slices and negative indices;
reductions with axis and keepdims; matmul and dot of 1-D and 2-D operands; helpers called with values of
different kinds at different call sites (some with no array operation of their own); loops that change a
value's shape between iterations (``acc = np.concatenate([acc, ...])``, ``z = z[1:]``); branches that join an
array and a number; writes into arrays (``w[0] += ...``) read afterwards; ``np.mean(r * r)`` patterns. Half the
programs annotate their parameters (rightly); s is passed as a float, an ``np.float64`` or a 0-d array.

One module is generated per mode and checked at several shapes (n, m), among them 1s, where broadcasting
differs: the generated code must hold for every shape the program accepts. The verdict per program (see
:func:`check`): right to tolerance, refused with a located diagnostic (exit 2), or f itself fails on the
inputs (skip). Anything else is a bug.
"""

from __future__ import annotations

import ast
import inspect
import random
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from soundness import _LOCATED, finite_differences, run_cli, user_function, write_project

#: the shapes of each kind, given (n, m)
KINDS = {
    "S": lambda n, m: (),
    "V": lambda n, m: (n,),
    "C": lambda n, m: (n, 1),
    "R": lambda n, m: (1, n),
    "M": lambda n, m: (m, n),
    "K": lambda n, m: (m,),
    "Q": lambda n, m: (n, n),
    "D": lambda n, m: (n - 1,),
    "P": lambda n, m: (1, 1),
}
#: kind -> pairs of operand kinds whose broadcast is that kind
PAIRS = {
    "S": [("S", "S")],
    "V": [("V", "V"), ("V", "S"), ("S", "V")],
    "C": [("C", "C"), ("C", "S"), ("S", "C")],
    "R": [("R", "R"), ("R", "S"), ("S", "R"), ("R", "V"), ("V", "R"), ("P", "V"), ("V", "P"), ("P", "R")],
    "M": [("M", "M"), ("M", "S"), ("M", "V"), ("V", "M"), ("M", "R"), ("R", "M")],
    "K": [("K", "K"), ("K", "S"), ("S", "K")],
    "Q": [("Q", "Q"), ("C", "R"), ("R", "C"), ("C", "V"), ("V", "C"), ("Q", "S"), ("Q", "V"), ("Q", "C")],
    "D": [("D", "D"), ("D", "S")],
    "P": [("P", "P"), ("P", "S"), ("S", "P")],
}
#: kind -> expressions of that kind built from others ({V} stands for an expression of kind V)
FORMS = {
    "S": [
        "s", "x[0]", "x[-1]", "M[0, -1]", "M[-1][0]", "0.5", "np.float64(0.7)", "np.array(0.3)",
        "np.sum({V})", "np.mean({M})", "np.sum({C})", "np.mean({R})", "np.sum({Q})", "np.sum({D})",
        "{V} @ {V}", "np.dot({V}, {V})", "np.mean({V} * {V})", "np.sum({K} * {K})", "np.sum({M}, keepdims=True)[0, 0]",
        "np.max({V})", "({R} @ {C})[0, 0]", "np.sum({P})", "np.mean({M} * {M})", "np.sum({V} ** 2)",
    ],
    "V": [
        "x", "np.sum({M}, axis=0)", "np.mean({M}, axis=0)", "{C}[:, 0]", "{R}[0]", "np.ravel({C})",
        "np.reshape({C}, (-1,))", "{R}.reshape(-1)", "{V}[::-1]", "np.concatenate([{V}[1:], {V}[:1]])",
        "{M}.T @ {K}", "np.dot({K}, {M})", "np.sum({Q}, axis=1)", "np.sum({C} * {R}, axis=0)",
        "np.where({V} > 0, {V}, 0.5 * {V})", "np.cumsum({V})", "np.flip({V})", "{M}[0]", "{M}[-1, :]",
        "np.mean({Q}, axis=-1)", "{Q} @ {V}", "{V} @ {Q}", "np.sum({M}, axis=-2)",
    ],
    "C": [
        "x[:, None]", "np.reshape({V}, (-1, 1))", "{V}.reshape(-1, 1)", "np.expand_dims({V}, 1)", "{R}.T",
        "np.sum({Q}, axis=1, keepdims=True)", "np.transpose({R})", "{V}[:, np.newaxis]", "{M}.T @ {K}[:, None]",
        "{Q} @ {C}", "np.mean({Q}, axis=-1, keepdims=True)",
    ],
    "R": [
        "x[None, :]", "{V}[None]", "np.reshape({V}, (1, -1))", "{C}.T", "np.sum({M}, axis=0, keepdims=True)",
        "np.mean({M}, axis=-2, keepdims=True)", "np.atleast_2d({V})", "{K}[None, :] @ {M}", "{R} @ {Q}",
        "{M}[:1]", "{M}[-1:, :]",
    ],
    "M": ["M", "np.outer({K}, {V})", "{K}[:, None] * {V}", "{M}[:, ::-1]", "{M} @ {Q}", "np.dot({M}, {Q})"],
    "K": [
        "M @ x", "np.dot({M}, {V})", "np.sum({M}, axis=1)", "np.mean({M}, axis=-1)", "{M}[:, 0]", "{M}[:, -1]",
        "({M} @ {C})[:, 0]", "np.squeeze({M} @ {C}, axis=1)", "np.sum({M} * {R}, axis=1)",
    ],
    "Q": ["np.outer({V}, {V})", "{C} @ {R}", "{M}.T @ {M}", "np.dot({M}.T, {M})", "{C} * {R}"],
    "D": ["x[1:]", "x[:-1]", "{V}[1:] - {V}[:-1]", "{V}[1:] * {V}[:-1]", "{V}[:-1]"],
    "P": ["{R} @ {C}", "np.sum({M}, keepdims=True)", "{C}.T @ {C}", "np.mean({Q}, keepdims=True)"],
}  # fmt: skip
UNARY = [
    "np.tanh({})", "np.sin({})", "np.cos({})", "np.exp(np.tanh({}))", "np.square({})", "({}) ** 2",
    "np.sqrt(1.0 + {0} * {0})", "np.log1p({0} * {0})", "-({})", "0.5 * ({})",
]  # fmt: skip

#: helpers of the module: (source, {argument kinds: result kind}); some perform no array operation
HELPERS = {
    "act": ("def act(a, b):\n    return np.tanh(a) * b + 0.5 * a * a\n", "broadcast"),
    "sq": ("def sq(a):\n    return a * a\n", "same"),  # no array operation: a number, says the contract
    "lin": ("def lin(a, b=1.5):\n    return a * b - a\n", "broadcast"),
    "msq": ("def msq(a):\n    return np.mean(a * a)\n", "S"),
    "ssum": ("def ssum(a, b):\n    t = a * b\n    return np.sum(t * t) + np.sum(a)\n", "S"),
    "head": ("def head(a):\n    return a[0]\n", "head"),
    "tail": ("def tail(a):\n    return a[1:] * 2.0\n", "D"),
    "scal": ("def scal(a: float, b: float) -> float:\n    return a * math.sin(b) + b\n", "S"),
    "mix": ("def mix(a, b):\n    if np.sum(b) > 0.0:\n        return a * b\n    return a + 0.0\n", "broadcast"),
    "comb": ("def comb(items):\n    return items[0] * items[-1] + items[0]\n", "list"),
}
_HEAD = {"V": "S", "M": "V", "R": "V", "Q": "V", "K": "S", "D": "S"}


def broadcast_kind(a: str, b: str) -> str | None:
    for kind, pairs in PAIRS.items():
        if (a, b) in pairs:
            return kind
    return None


@dataclass
class Program:
    source: str
    annotated: bool
    s_forms: tuple[str, ...]  #: how s is passed: "float", "float64", "0d"
    uses_math: bool = False
    notes: list[str] = field(default_factory=list)


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.temps: dict[str, str] = {}  #: name -> kind ("VS": an array (n,) or a number; "A": any array)
        self.lines: list[str] = []
        self.helpers: set[str] = set()
        self.counter = 0
        self.math = False

    def fresh(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def leaf(self, kind: str) -> str:
        names = [n for n, k in self.temps.items() if k == kind]
        if names and self.rng.random() < 0.5:
            return self.rng.choice(names)
        base = {"S": "s", "V": "x", "M": "M"}.get(kind)
        if base and self.rng.random() < 0.6:
            return base
        return self.expr(kind, 3)

    def expr(self, kind: str, depth: int = 0) -> str:
        rng = self.rng
        if depth >= 3:
            return self.leaf_only(kind)
        r = rng.random()
        if r < 0.35:
            form = rng.choice(FORMS[kind])
            return re.sub(r"\{([A-Z])\}", lambda mt: self.wrap(self.expr(mt.group(1), depth + 1)), form)
        if r < 0.65:
            a, b = rng.choice(PAIRS[kind])
            op = rng.choice(["+", "-", "*", "*", "/"])
            left, right = self.expr(a, depth + 1), self.expr(b, depth + 1)
            if op == "/":
                return f"({left} / (2.0 + np.sin({right})))"
            return f"({left} {op} {right})"
        if r < 0.8:
            u = rng.choice(UNARY)
            if kind == "S" and rng.random() < 0.3:
                u, self.math = rng.choice(["math.tanh({})", "math.sin({})"]), True
            return u.format(self.expr(kind, depth + 1))
        if r < 0.9 and kind in ("V", "S") and any(k == "VS" for k in self.temps.values()):
            joined = rng.choice([n for n, k in self.temps.items() if k == "VS"])
            return f"({joined} * {self.expr('V', depth + 1)})" if kind == "V" else f"np.sum({joined})"
        if r < 0.95:
            return self.call(kind, depth)
        return self.leaf(kind)

    def leaf_only(self, kind: str) -> str:
        names = [n for n, k in self.temps.items() if k == kind]
        if names and self.rng.random() < 0.6:
            return self.rng.choice(names)
        return {
            "S": self.rng.choice(["s", "x[0]", "0.5", "np.float64(0.7)", "np.array(0.3)", "x[-1]"]),
            "V": "x", "C": "x[:, None]", "R": "x[None, :]", "M": "M", "K": "(M @ x)", "Q": "np.outer(x, x)",
            "D": self.rng.choice(["x[1:]", "x[:-1]"]), "P": "np.sum(M, keepdims=True)",
        }[kind]  # fmt: skip

    @staticmethod
    def wrap(e: str) -> str:
        return e if re.fullmatch(r"[\w.]+|\(.*\)", e) and not e[0].isdigit() else f"({e})"

    def call(self, kind: str, depth: int) -> str:
        rng = self.rng
        name = rng.choice(sorted(HELPERS))
        result = HELPERS[name][1]
        if result == "broadcast":
            a, b = rng.choice(PAIRS[kind])
            self.helpers.add(name)
            second = "" if name == "lin" and rng.random() < 0.3 else f", {self.expr(b, depth + 1)}"
            return f"{name}({self.expr(a, depth + 1)}{second})"
        if result == "same":
            self.helpers.add(name)
            return f"{name}({self.expr(kind, depth + 1)})"
        if result == "head" and kind in _HEAD.values():
            arg = rng.choice([k for k, v in _HEAD.items() if v == kind])
            self.helpers.add(name)
            return f"head({self.expr(arg, depth + 1)})"
        if result == kind == "S":
            self.helpers.add(name)
            if name == "msq":
                return f"msq({self.expr(rng.choice(list(KINDS)), depth + 1)})"
            if name == "ssum":
                a, b = rng.choice([p for k in PAIRS for p in PAIRS[k]])
                return f"ssum({self.expr(a, depth + 1)}, {self.expr(b, depth + 1)})"
            self.math = True
            return f"scal({self.expr('S', depth + 1)}, s)"
        if result == "list":
            self.helpers.add(name)
            a, b = rng.choice(PAIRS[kind])
            items = f"{self.expr(a, depth + 1)}, {self.expr(b, depth + 1)}"
            return f"comb([{items}])" if rng.random() < 0.3 else f"comb(({items}))"
        if result == kind == "D":
            self.helpers.add(name)
            return f"tail({self.expr('V', depth + 1)})"
        return self.expr(kind, depth + 1)

    # statements --------------------------------------------------------------------------------------------
    def statement(self) -> None:
        rng = self.rng
        kind = rng.choice(
            ["assign"] * 4
            + ["rebind", "augment", "write", "loop", "grow", "shrink", "branch", "square", "alias"]
            + ["while", "loopbranch", "stack", "variance"]
        )
        if kind == "rebind" and self.temps:
            name = rng.choice(sorted(n for n, k in self.temps.items() if k in KINDS) or ["x"])
            k = self.temps.get(name, "V")
            self.lines.append(f"{name} = {self.wrap(name)} * {self.wrap(self.expr(k, 1))}")
            self.temps[name] = k
        elif kind == "augment" and self.temps:
            name = rng.choice(sorted(n for n, k in self.temps.items() if k in KINDS) or ["x"])
            k = self.temps.get(name, "V")
            op = rng.choice(["+=", "-=", "*="])
            self.lines.append(f"{name} {op} {self.expr(rng.choice([k, 'S']), 1)}")
            self.temps[name] = k
        elif kind == "write":
            name = self.fresh()
            target = rng.choice(["V", "M"])
            make = {"V": ["np.zeros_like(x)", "x.copy()", "np.zeros(len(x))", "x * 1.0"],
                    "M": ["np.zeros(np.shape(M))", "M.copy()", "np.ones_like(M) * s"]}[target]  # fmt: skip
            self.lines.append(f"{name} = {rng.choice(make)}")
            for _ in range(rng.randint(1, 3)):
                if target == "V":
                    where, what = rng.choice([("0", "S"), ("-1", "S"), ("1:", "D"), (":-1", "D"), (":", "V")])
                else:
                    where, what = rng.choice([("0", "V"), ("-1, 0", "S"), (":, 0", "K"), (":, -1", "K"), ("0, :", "V")])
                op = rng.choice(["=", "+=", "*="])
                self.lines.append(f"{name}[{where}] {op} {self.expr(what, 1)}")
            self.temps[name] = target
        elif kind == "loop":
            name = rng.choice(sorted(n for n, k in self.temps.items() if k in KINDS) or ["x"])
            k = self.temps.get(name, "V")
            self.lines.append(f"for i in range({rng.randint(0, 3)}):")
            inner = self.expr("S", 2).replace("x[0]", "x[i % len(x)]")
            self.lines.append(f"    {name} = np.tanh({name}) * {self.wrap(inner)} + {self.wrap(self.expr(k, 2))}")
            self.temps[name] = k
        elif kind == "grow":
            name = self.fresh()
            self.lines.append(f"{name} = {rng.choice(['x[:1]', 'np.zeros(1)', 'x * 0.5'])}")
            self.lines.append(f"for i in range({rng.randint(0, 3)}):")
            self.lines.append(f"    {name} = np.concatenate([{name}, {self.expr('V', 2)} * {name}[-1]])")
            self.temps[name] = "A"
        elif kind == "shrink":
            name = self.fresh()
            self.lines.append(f"{name} = {self.expr('V', 1)}")
            self.lines.append(f"for i in range({rng.randint(0, 2)}):")
            step = rng.choice([f"{name}[1:]", f"{name}[:-1] * 0.9", f"np.sin({name}[1:]) + {name}[:-1]"])
            self.lines.append(f"    {name} = {step}")
            self.temps[name] = "A"
        elif kind == "branch":
            name = self.fresh()
            self.lines.append(f"if {self.expr('S', 2)} > 0.1:")
            self.lines.append(f"    {name} = {self.expr('V', 2)}")
            self.lines.append("else:")
            self.lines.append(f"    {name} = {self.expr('S', 2)}")
            self.temps[name] = "VS"
        elif kind == "square":
            name = self.fresh()
            k = rng.choice(list(KINDS))
            self.lines.append(f"{name} = {self.expr(k, 1)}")
            self.lines.append(f"{self.fresh()} = {rng.choice(['np.mean', 'np.sum'])}({name} * {name})")
            self.temps[name] = k
            self.temps[f"t{self.counter}"] = "S"
        elif kind == "while" and self.temps:
            name = rng.choice(sorted(n for n, k in self.temps.items() if k in KINDS) or ["x"])
            k = self.temps.get(name, "V")
            self.lines += ["k = 0", f"while k < {rng.randint(0, 3)}:"]
            self.lines.append(
                f"    {name} = {self.wrap(name)} * 0.8 + {self.wrap(self.expr(k, 2))} * {self.expr('S', 2)}"
            )
            self.lines.append("    k += 1")
            self.temps[name] = k
        elif kind == "loopbranch" and self.temps:
            name = rng.choice(sorted(n for n, k in self.temps.items() if k in KINDS) or ["x"])
            k = self.temps.get(name, "V")
            self.lines.append(f"for i in range({rng.randint(1, 3)}):")
            self.lines.append(f"    if x[i % len(x)] > {rng.choice(['0.0', '-0.3', '0.4'])}:")
            self.lines.append(f"        {name} = {self.wrap(name)} * {self.wrap(self.expr('S', 2))}")
            self.lines.append("    else:")
            self.lines.append(f"        {name} = np.sin({name}) + {self.wrap(self.expr(k, 2))}")
            self.temps[name] = k
        elif kind == "stack":
            name = self.fresh()
            self.lines.append(f"{name}_list = []")
            self.lines.append(f"for i in range({rng.randint(1, 3)}):")
            self.lines.append(f"    {name}_list.append({self.expr('V', 2)} * (i + 1.0))")
            how = rng.choice([f"np.sum(np.stack({name}_list), axis=0)", f"np.mean(np.array({name}_list), axis=0)",
                              f"{name}_list[-1] * {name}_list[0]"])  # fmt: skip
            self.lines.append(f"{name} = {how}")
            self.temps[name] = "V"
        elif kind == "variance":
            name = self.fresh()
            v = self.expr("V", 2)
            self.lines.append(f"{name}_r = {v} - np.mean({v})")
            self.lines.append(f"{name} = np.mean({name}_r * {name}_r) + np.sum({name}_r * {name}_r) * 0.1")
            self.temps[name] = "S"
        elif kind == "alias":
            name = self.fresh()
            k = rng.choice(["V", "M", "S"])
            self.lines.append(f"{name} = {dict(V='x', M='M', S='s')[k]}")
            self.temps[name] = k
        else:
            name = self.fresh()
            k = rng.choice(list(KINDS))
            self.lines.append(f"{name} = {self.expr(k)}")
            self.temps[name] = k

    def result(self) -> str:
        terms = []
        for name, kind in list(self.temps.items())[-4:]:
            terms.append(name if kind == "S" else f"np.sum({name})")
        terms.append(f"np.sum({self.expr(self.rng.choice(list(KINDS)))})")
        return " + ".join(terms)


def program(seed: int) -> Program:
    rng = random.Random(seed)
    gen = _Gen(rng)
    for _ in range(rng.randint(2, 6)):
        gen.statement()
    ret = gen.result()
    if rng.random() < 0.25:  # the parameter itself rebound to shorter slices in a loop, last
        gen.lines.append(f"r = {ret}")
        gen.lines.append(f"for i in range({rng.randint(0, 2)}):")
        gen.lines.append(f"    x = {rng.choice(['x[1:] * s', 'x[:-1] + x[1:]', 'np.tanh(x[1:]) - x[:-1] * 0.5'])}")
        ret = "r + np.sum(x ** 2)"
    annotated = rng.random() < 0.5
    if annotated:
        style = rng.choice(["plain", "symbols"])
        if style == "plain":
            params = "x: np.ndarray, M: np.ndarray, s: float"
        else:
            params = 'x: Annotated[np.ndarray, "n"], M: Annotated[np.ndarray, "m n"], s: float'
        s_forms: tuple[str, ...] = ("float", "float64")
    else:
        params = "x, M, s"
        s_forms = ("float", "float64", "0d")
    body = "\n".join("    " + line for line in gen.lines + [f"return {ret}"])
    helpers = "".join("\n\n" + HELPERS[h][0] for h in sorted(gen.helpers))
    header = "import math\n\nimport numpy as np\n" if gen.math or "scal" in gen.helpers else "import numpy as np\n"
    if "Annotated" in params:
        header = "from typing import Annotated\n\n" + header
    source = f"{header}{helpers}\n\ndef f({params}):\n{body}\n"
    return Program(source, annotated, s_forms, gen.math)


#: the shapes (n, m) every program is checked at
SHAPES = [(3, 2), (1, 2), (2, 1), (1, 1), (4, 4), (2, 3)]


def points(prog: Program, seed: int) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    out = []
    for k, (n, m) in enumerate(SHAPES):
        x = rng.uniform(-1.2, 1.2, n)
        M = rng.uniform(-0.8, 0.8, (m, n))
        v = float(rng.uniform(0.3, 1.1))
        form = prog.s_forms[k % len(prog.s_forms)]
        s = {"float": v, "float64": np.float64(v), "0d": np.array(v)}[form]
        out.append((x, M, s))
    return out


def _copy(at: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in at)


def _function(text: str, prefix: str) -> Any:
    tree = ast.parse(text)
    names = [s.name for s in tree.body if isinstance(s, ast.FunctionDef) and s.name.startswith(prefix)]
    # the entry point, not a helper of the user's named like one (a helper 'grad_f' makes it 'grad_f_1')
    entry = [s.name for s in tree.body if isinstance(s, ast.FunctionDef) and s.name in names and _entry(s)]
    names = entry or names
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(text, "<generated>", "exec"), namespace)
    return namespace[names[0]]


def _entry(fn: ast.FunctionDef) -> bool:
    doc = ast.get_docstring(fn) or ""
    return doc.startswith("Return")


def _runs(f: Any, at: tuple[Any, ...]) -> bool:
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mean of an empty slice: nan, so not a point
        try:
            value = f(*_copy(at))
        except Exception:  # noqa: BLE001 - f does not accept these inputs: not a point
            return False
    return np.ndim(value) == 0 and bool(np.isfinite(value)) and abs(float(value)) < 1e6


def _close(got: Any, expected: Any, rtol: float = 1e-4) -> bool:
    g, e = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if g.shape != e.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(e))) if e.size else 1.0)
    return bool(np.allclose(g, e, rtol=rtol, atol=1e-5 * scale))


def _fd_agrees(f: Any, at: tuple[Any, ...], index: int, got: Any) -> tuple[bool, Any]:
    expected = None
    for eps in (1e-6, 1e-5, 1e-7):
        expected = finite_differences(lambda *a: f(*_copy(a)), at, index, eps)
        if _close(got, expected):
            return True, expected
    return False, expected


@dataclass
class Result:
    verdict: str  #: "right", "refused: code", "skip", "BUG: ..."
    detail: str = ""


def _refusal(outcome: Any) -> Result | None:
    if outcome.status == 2 and _LOCATED.search(outcome.stderr) and "Traceback" not in outcome.stderr:
        codes = sorted(set(re.findall(r"error: .* \[([a-z0-9-]+)\]$", outcome.stderr, re.M)))
        return Result("refused: " + ", ".join(codes))
    if outcome.status != 0 or "Traceback" in outcome.stderr:
        return Result(f"BUG: exit {outcome.status}", outcome.stderr[-3000:])
    return None


def check(
    source: str, at_all: list[tuple[Any, ...]], modes: tuple[str, ...] = ("grad",), wrt: tuple[str, ...] = ()
) -> Result:
    """Generate ``f``'s gradient (and the other ``modes``) with respect to ``wrt`` (default: every parameter),
    once; check each at every point where f runs."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_project_text(source, root)
        f = user_function(root, "m.py::f")
        params = list(inspect.signature(f).parameters)
        names = list(wrt) or params
        good = [at for at in at_all if _runs(f, at)]
        if not good:
            return Result("skip")
        wrt = ["--wrt", ",".join(names)]
        g = run_cli(["grad", "m.py::f", *wrt], root)
        refused = _refusal(g)
        if refused is not None:
            return refused
        grad = _function(g.stdout, "grad_")
        for at in good:
            try:
                with np.errstate(all="ignore"):
                    got = grad(*_copy(at))
                got = (got,) if len(names) == 1 else got
            except (ValueError, TypeError) as err:
                if "is differentiated for a number only" in str(err):  # s2sad's run-time check of a kind
                    return Result("refused at run time")
                if "must be a NumPy array, not a list or tuple" in str(err):  # s2sad.list_guards
                    return Result("refused at run time")
                if isinstance(err, TypeError):
                    return _bug(at, "grad raises TypeError", f"{err}\nat {_shapes(at)}\n{g.stdout}")
                return _bug(at, "grad raises ValueError", f"{err}\nat {_shapes(at)}\n{g.stdout}")
            except Exception as err:  # noqa: BLE001 - a generated module that raises where f does not
                return _bug(at, f"grad raises {type(err).__name__}", f"{err}\nat {_shapes(at)}\n{g.stdout}")
            for k, name in enumerate(names):
                ok, expected = _fd_agrees(f, at, params.index(name), got[k])
                if not ok and max(np.max(np.abs(expected), initial=0), np.max(np.abs(got[k]), initial=0)) > 1e5:
                    continue  # ill-conditioned (a value grown without bound): finite differences say nothing
                if not ok:
                    return _bug(
                        at, f"wrong d/d{name}", f"at {_shapes(at)}: got {got[k]!r}, fd {expected!r}\n{g.stdout}"
                    )
        for mode in modes:
            if mode == "grad":
                continue
            out = run_cli([mode, "m.py::f", *wrt], root)
            refused = _refusal(out)
            if refused is not None:
                if refused.verdict.startswith("BUG"):
                    return Result(f"BUG: {mode} " + refused.verdict[5:], refused.detail)
                continue  # a located refusal of one mode
            fn = _function(out.stdout, f"{mode}_")
            for at in good:
                bad = _check_mode(mode, fn, grad, at, names, params)
                if bad:
                    return _bug(at, f"{mode} {bad}", f"at {_shapes(at)}\n{out.stdout}")
    return Result("right")


def _bug(at: tuple[Any, ...], what: str, detail: str) -> Result:
    """A bug, unless the point passes a list: ``+`` and ``*`` of lists concatenate and repeat, outside s2sad's
    contract for arithmetic (``tests/test_soundness_hunt.py`` keeps the known case as a strict xfail)."""
    if any(isinstance(a, list) for a in at):
        return Result("list arithmetic (outside the contract)", what + "\n" + detail)
    return Result("BUG: " + what, detail)


def write_project_text(source: str, root: Path) -> None:
    from soundness import Case

    write_project(Case("hunt", {"m.py": source}, ()), root)


def _shapes(at: tuple[Any, ...]) -> str:
    return ", ".join(f"{type(a).__name__}{np.shape(a)}" for a in at)


def _check_mode(mode: str, fn: Any, grad: Any, at: tuple[Any, ...], names: list[str], params: list[str]) -> str:
    rng = np.random.default_rng(1)
    index = [params.index(n) for n in names]
    v = tuple(rng.standard_normal(np.shape(at[i])) if np.ndim(at[i]) else float(rng.standard_normal()) for i in index)
    try:
        with np.errstate(all="ignore"):
            extra = {"vjp": (0.7,), "jacobian": ()}.get(mode, v)  # vjp: out_bar; jvp, hvp: the tangents
            out = fn(*_copy(at), *extra)
            g = grad(*_copy(at))
            g = (g,) if len(names) == 1 else g
    except Exception as err:  # noqa: BLE001
        return f"raises {type(err).__name__}: {err}"
    if mode == "jvp":
        expected = sum(float(np.sum(np.asarray(gi) * vi)) for gi, vi in zip(g, v))
        return "" if _close(out[1], expected) else f"tangent {out[1]!r} != <grad, v> {expected!r}"
    if mode in ("vjp", "jacobian"):  # of a scalar f: out_bar times the gradient; the gradient itself
        c = 0.7 if mode == "vjp" else 1.0
        out = (out,) if len(names) == 1 else out
        for got, e, name in zip(out, g, names):
            if not _close(got, c * np.asarray(e)):
                return f"d/d{name} {got!r} != {c} * the gradient {e!r}"
        return ""
    step = 1e-6
    up, down = list(at), list(at)
    for i, d in zip(index, v):
        up[i], down[i] = at[i] + step * d, at[i] - step * d
    with np.errstate(all="ignore"):
        ups, downs = grad(*up), grad(*down)
        ups, downs = ((ups,), (downs,)) if len(names) == 1 else (ups, downs)
        fd = [(np.asarray(p) - np.asarray(q)) / (2 * step) for p, q in zip(ups, downs)]
    out = (out,) if len(names) == 1 else out
    for got, e, name in zip(out, fd, names):
        if max(np.max(np.abs(e), initial=0), np.max(np.abs(got), initial=0)) > 1e5:
            continue  # ill-conditioned (a value grown without bound): finite differences say nothing
        if not _close(got, e, rtol=1e-3):
            return f"d/d{name} {got!r} != fd of the gradient {e!r}"
    return ""
